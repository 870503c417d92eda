"""Frameworks and the contracts called off them, for the years after an award.

A Framework holds what every contract under it shares: lots, participating commissioners,
term and maximum extension, the modification regime, dated price schedules (weekly rates by
bed type, or hourly rates by home-care tier) and the escalation ladder. A Contract is one
provider's agreement for one lot: signed, mobilised, homes added and removed, varied (each
variation with its legal ground, cumulative change tracked against the original value),
change of control notified, novated, extended within the framework's bounds, referrals
suspended and resumed, escalated one stage at a time, and terminated or expired.

Service contracts (seed 002, the NHS England call-off) also carry milestone deliverables
(draft and final due dates, baseline and forecast dates, a payment each), fortnightly
highlight reports rating each open milestone's delivery confidence on the seed's five-point
RAG scale, payments against accepted milestones that never take the total paid above the
contract's value, and a risk register scored impact x likelihood (1-5) on the seed's matrix.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from domain.kernel.errors import RuleBroken, ValidationFailed
from domain.kernel.metadata import LedgerAggregate, current_context
from domain.contracts.modifications import check_modification
from domain.kernel.topics import stored_as

BED_TYPES = ("nursing", "nursing_dementia", "residential", "residential_dementia")
CARE_TIERS = ("tier_1", "tier_2", "tier_3", "registered_nursing")
#: escalation ladders that ship as configuration (seeds 004 and 003)
LADDERS = {
    "nottingham": ["requirement_to_improve", "contract_suspension", "final_notice_90_day", "termination"],
    "cheshire_east": ["improvement_notice", "default_notice", "termination"],
}
TERMINATION_REASONS = ("home_closure", "default", "expiry", "mutual_agreement", "novation")
#: escalation stages that suspend new referrals and placements while they stand (seed 004)
SUSPENDING_STAGES = ("contract_suspension",)
#: escalation stages that are notices of a fixed length: termination may not take effect before they run out
NOTICE_DAYS = {"final_notice_90_day": 90}

#: Delivery confidence, seed 002 ("RAG Status Definitions - for the overall Programme and
#: Local Delivery", NHS England PMO highlight report): code -> (name, definition).
DELIVERY_CONFIDENCE: dict[str, tuple[str, str]] = {
    "G": (
        "Green",
        (
            "Successful delivery of the programme to time, cost and quality seems highly likely and there are no major "
            "outstanding issues that appear to threaten delivery significantly."
        ),
    ),
    "A/G": (
        "Amber/Green",
        (
            "Successful delivery appears probable however constant attention will be needed to ensure risks do not "
            "materialise into issues threatening delivery."
        ),
    ),
    "A": (
        "Amber",
        (
            "Successful delivery appears feasible but significant issues already exist requiring management attention. "
            "These appear resolvable at this stage and if addressed promptly, should not present a cost schedule overrun."
        ),
    ),
    "A/R": (
        "Amber/Red",
        (
            "Successful delivery is in doubt with major risks or issues apparent in a number of key areas. Urgent action "
            "is needed to ensure these are addressed, and whether resolution is feasible."
        ),
    ),
    "R": (
        "Red",
        (
            "Successful delivery appears to be unachievable. There are major issues on programme definition, schedule, "
            "budget required, quality or benefits delivery, which at this stage do not appear to be resolvable."
        ),
    ),
}
#: impact and likelihood are each scored 1-5 with these labels (seed 002, "Control Sheet")
RISK_LEVELS = {1: "Very Low", 2: "Low", 3: "Medium", 4: "High", 5: "Very High"}
#: The seed's risk matrix: impact (rows, 5 down to 1) x likelihood (columns, 1 to 5) -> RAG.
RISK_MATRIX: dict[int, tuple[str, str, str, str, str]] = {
    5: ("A", "A/R", "R", "R", "R"),
    4: ("A", "A", "A/R", "R", "R"),
    3: ("A/G", "A", "A", "A/R", "A/R"),
    2: ("G", "A/G", "A/G", "A", "A"),
    1: ("G", "G", "G", "G", "G"),
}
PLANNED, DRAFT_SUBMITTED, DELIVERED, RETURNED, ACCEPTED = "planned", "draft_submitted", "delivered", "returned", "accepted"
OPEN, CLOSED = "open", "closed"


def risk_rating(impact: int, likelihood: int) -> str:
    """The RAG rating of a risk on the seed's matrix (impact and likelihood 1-5)."""
    for name, score in (("impact", impact), ("likelihood", likelihood)):
        if score not in RISK_LEVELS:
            raise ValidationFailed(f"A risk's {name} is scored 1 to 5; got {score}.", code="score_out_of_range", field=name)
    return RISK_MATRIX[impact][likelihood - 1]


def confidence(code: str | None) -> dict[str, str] | None:
    if code is None:
        return None
    return {"code": code, "name": DELIVERY_CONFIDENCE[code][0]}


def _check_confidence(code: str, field: str) -> None:
    if code not in DELIVERY_CONFIDENCE:
        raise ValidationFailed(
            f"Delivery confidence is one of {', '.join(DELIVERY_CONFIDENCE)} ({', '.join(n for n, _ in DELIVERY_CONFIDENCE.values())}).",
            code="unknown_confidence",
            field=field,
        )
AWARDED, SIGNED, MOBILISED, TERMINATED, EXPIRED = "awarded", "signed", "mobilised", "terminated", "expired"


def _refuse(code: str, message: str) -> RuleBroken:
    return RuleBroken(message, code=code)


def _months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


@stored_as("domain.contracts")
class Framework(LedgerAggregate):
    KIND = "framework"

    def __init__(self) -> None:
        self.reference = ""
        self.title = ""
        self.kind = ""
        self.lots: dict[str, dict[str, Any]] = {}
        self.commissioners: dict[str, dict[str, Any]] = {}
        self.starts_on: date | None = None
        self.ends_on: date | None = None
        self.max_extension_months = 0
        self.max_extension_value_percent: int | None = None
        self.regime = ""
        self.ladder: list[str] = []
        self.monitoring: dict[str, Any] = {}
        #: effective date (ISO) -> rates (pence), oldest first
        self.price_schedules: dict[str, dict[str, int]] = {}
        #: references of the contracts called off this framework
        self.contracts: list[str] = []

    @classmethod
    def establish(
        cls,
        *,
        reference: str,
        title: str,
        kind: str,
        lots: list[dict[str, Any]],
        commissioners: list[dict[str, Any]],
        starts_on: date,
        ends_on: date,
        max_extension_months: int,
        max_extension_value_percent: int | None,
        regime: str,
        ladder: str | list[str],
        monitoring: dict[str, Any],
    ) -> Framework:
        if ends_on <= starts_on:
            raise ValidationFailed("A framework must end after it starts.", code="term_invalid", field="ends_on")
        steps = LADDERS.get(ladder) if isinstance(ladder, str) else list(ladder)
        if not steps:
            raise ValidationFailed(
                f"Escalation ladder must be one of {', '.join(LADDERS)} or a list of stages.",
                code="unknown_ladder",
                field="ladder",
            )
        if len(set(steps)) != len(steps):
            raise ValidationFailed("Escalation stages must be distinct.", code="duplicate_stage", field="ladder")
        ids = [lot["id"] for lot in lots]
        if not ids or len(set(ids)) != len(ids):
            raise ValidationFailed("A framework needs lots with distinct ids.", code="lots_invalid", field="lots")
        return cls._create(
            cls.Established,
            id=cls.id_for(reference),
            reference=reference,
            title=title,
            kind=kind,
            lots=copy.deepcopy(lots),
            commissioners=copy.deepcopy(commissioners),
            starts_on=starts_on.isoformat(),
            ends_on=ends_on.isoformat(),
            max_extension_months=max_extension_months,
            max_extension_value_percent=max_extension_value_percent,
            regime=regime,
            ladder=steps,
            monitoring=copy.deepcopy(monitoring),
        )

    class Established(LedgerAggregate.Created):
        reference: str
        title: str
        kind: str
        lots: list
        commissioners: list
        starts_on: str
        ends_on: str
        max_extension_months: int
        max_extension_value_percent: int | None
        regime: str
        ladder: list
        monitoring: dict

        def apply(self, f: Framework) -> None:
            f.reference, f.title, f.kind, f.regime = self.reference, self.title, self.kind, self.regime
            f.lots = {lot["id"]: dict(lot) for lot in self.lots}
            f.commissioners = {c["org"]: dict(c) for c in self.commissioners}
            f.starts_on, f.ends_on = date.fromisoformat(self.starts_on), date.fromisoformat(self.ends_on)
            f.max_extension_months = self.max_extension_months
            f.max_extension_value_percent = self.max_extension_value_percent
            f.ladder = list(self.ladder)
            f.monitoring = copy.deepcopy(self.monitoring)

    def set_prices(self, *, effective_from: date, rates: dict[str, int]) -> None:
        allowed = BED_TYPES if self.kind == "care_homes" else CARE_TIERS if self.kind == "home_care" else None
        if allowed is not None:
            unknown = sorted(set(rates) - set(allowed))
            if unknown:
                raise ValidationFailed(
                    f"Rates for a {self.kind} framework are by {', '.join(allowed)}; unknown: {', '.join(unknown)}.",
                    code="unknown_rate",
                    field="rates",
                )
        if any(v <= 0 for v in rates.values()):
            raise ValidationFailed("Rates are positive amounts in pence.", code="rate_not_positive", field="rates")
        if self.price_schedules and effective_from.isoformat() <= max(self.price_schedules):
            raise _refuse(
                "price_schedule_not_later",
                f"A new price schedule must take effect after the latest one ({max(self.price_schedules)}).",
            )
        self.trigger_event(self.PricesSet, effective_from=effective_from.isoformat(), rates=dict(sorted(rates.items())))

    class PricesSet(LedgerAggregate.Event):
        effective_from: str
        rates: dict

        def apply(self, f: Framework) -> None:
            f.price_schedules[self.effective_from] = dict(self.rates)

    def register_contract(self, *, reference: str) -> None:
        if reference not in self.contracts:
            self.trigger_event(self.ContractRegistered, contract=reference)

    class ContractRegistered(LedgerAggregate.Event):
        contract: str

        def apply(self, f: Framework) -> None:
            f.contracts.append(self.contract)

    def rate_on(self, day: date, rate: str) -> int | None:
        current = None
        for effective, rates in sorted(self.price_schedules.items()):
            if effective <= day.isoformat():
                current = rates.get(rate)
        return current


@stored_as("domain.contracts")
class Contract(LedgerAggregate):
    KIND = "contract"

    def __init__(self) -> None:
        self.reference = ""
        self.framework = ""
        self.competition = ""
        self.lot = ""
        self.provider = ""
        self.status = AWARDED
        self.regime = ""
        self.original_value = 0
        self.value = 0
        self.cumulative_change = 0
        self.starts_on: date | None = None
        self.ends_on: date | None = None
        self.original_ends_on: date | None = None
        self.signed_on: str | None = None
        self.mobilisation: dict[str, Any] | None = None
        self.homes: dict[str, dict[str, Any]] = {}
        self.variations: list[dict[str, Any]] = []
        self.changes_of_control: list[dict[str, Any]] = []
        self.novations: list[dict[str, Any]] = []
        self.extensions: list[dict[str, Any]] = []
        self.referrals_suspended: dict[str, Any] | None = None
        self.ladder: list[str] = []
        self.stage: int = -1
        self.escalations: list[dict[str, Any]] = []
        self.action_plans: dict[str, dict[str, Any]] = {}
        self.termination: dict[str, Any] | None = None
        #: service contracts (seed 002): milestone id -> deliverable, in the order added
        self.milestones: dict[str, dict[str, Any]] = {}
        self.highlight_reports: list[dict[str, Any]] = []
        self.payments: dict[str, dict[str, Any]] = {}
        self.paid = 0
        self.risks: dict[str, dict[str, Any]] = {}

    # ------------------------------------------------------------------ award

    @classmethod
    def award(
        cls,
        *,
        reference: str,
        framework: Framework,
        competition: str,
        lot: str,
        provider: str,
        value: int,
        starts_on: date,
        ends_on: date,
    ) -> Contract:
        if lot not in framework.lots:
            raise ValidationFailed(f"{framework.reference} has no lot {lot}.", code="unknown_lot", field="lot")
        if value < 0:
            raise ValidationFailed("A contract value is a non-negative amount in pence.", code="value_negative", field="value")
        cap = framework.lots[lot].get("value_cap_pence")
        if cap is not None and value > cap:
            raise _refuse(
                "value_over_lot_cap",
                f"Lot {lot} of {framework.reference} is capped at {cap} pence; a contract of {value} pence exceeds it.",
            )
        assert framework.starts_on and framework.ends_on
        if starts_on < framework.starts_on or ends_on > framework.ends_on or ends_on <= starts_on:
            raise ValidationFailed(
                f"A contract's term must fall within the framework's ({framework.starts_on} to {framework.ends_on}).",
                code="term_outside_framework",
                field="ends_on",
            )
        return cls._create(
            cls.Awarded,
            id=cls.id_for(reference),
            reference=reference,
            framework=framework.reference,
            competition=competition,
            lot=lot,
            provider=provider,
            value=value,
            regime=framework.regime,
            ladder=list(framework.ladder),
            starts_on=starts_on.isoformat(),
            ends_on=ends_on.isoformat(),
        )

    class Awarded(LedgerAggregate.Created):
        reference: str
        framework: str
        competition: str
        lot: str
        provider: str
        value: int
        regime: str
        ladder: list
        starts_on: str
        ends_on: str

        def apply(self, k: Contract) -> None:
            k.reference, k.framework, k.competition, k.lot = self.reference, self.framework, self.competition, self.lot
            k.provider, k.regime, k.ladder = self.provider, self.regime, list(self.ladder)
            k.original_value = k.value = self.value
            k.starts_on = date.fromisoformat(self.starts_on)
            k.ends_on = k.original_ends_on = date.fromisoformat(self.ends_on)

    def _check_live(self) -> None:
        if self.status in (TERMINATED, EXPIRED):
            raise _refuse("contract_ended", f"Contract {self.reference} has {self.status}.")

    def sign(self, *, signed_on: date) -> None:
        self._check_live()
        if self.status != AWARDED:
            raise _refuse("already_signed", f"Contract {self.reference} was signed on {self.signed_on}.")
        self.trigger_event(self.Signed, signed_on=signed_on.isoformat())

    class Signed(LedgerAggregate.Event):
        signed_on: str

        def apply(self, k: Contract) -> None:
            k.signed_on, k.status = self.signed_on, SIGNED

    def mobilise(self, *, contract_manager: str, invoicing_contact_role: str, go_live: date) -> None:
        self._check_live()
        if self.status != SIGNED:
            raise _refuse("not_signed", "A contract is mobilised after it is signed.")
        self.trigger_event(
            self.Mobilised,
            details={"contract_manager": contract_manager, "invoicing_contact_role": invoicing_contact_role},
            go_live=go_live.isoformat(),
        )

    class Mobilised(LedgerAggregate.Event):
        details: dict
        go_live: str

        def apply(self, k: Contract) -> None:
            k.mobilisation = {**self.details, "go_live": self.go_live}
            k.status = MOBILISED

    # -------------------------------------------------------------------- homes

    def add_home(self, *, location: str, effective_from: date) -> None:
        self._check_live()
        if location in self.homes and self.homes[location]["removed_on"] is None:
            return
        self.trigger_event(self.HomeAdded, location=location, effective_from=effective_from.isoformat())

    class HomeAdded(LedgerAggregate.Event):
        location: str
        effective_from: str

        def apply(self, k: Contract) -> None:
            k.homes[self.location] = {"added_on": self.effective_from, "removed_on": None, "removal_reason": None}

    def remove_home(self, *, location: str, effective_from: date, reason: str | None) -> None:
        self._check_live()
        home = self.homes.get(location)
        if home is None or home["removed_on"] is not None:
            raise _refuse("home_not_on_contract", f"{location} is not on contract {self.reference}.")
        if not reason:
            raise ValidationFailed("Removing a home needs a reason.", code="reason_required", field="reason")
        self.trigger_event(self.HomeRemoved, location=location, effective_from=effective_from.isoformat(), reason=reason)

    class HomeRemoved(LedgerAggregate.Event):
        location: str
        effective_from: str
        reason: str

        def apply(self, k: Contract) -> None:
            k.homes[self.location]["removed_on"] = self.effective_from
            k.homes[self.location]["removal_reason"] = self.reason

    # --------------------------------------------------------------- variations

    def vary(self, *, kind: str, ground: str, value_change: int, effective_from: date, rationale: str) -> None:
        self._check_live()
        check_modification(
            regime=self.regime,
            ground_code=ground,
            original_value=self.original_value,
            cumulative_before=self.cumulative_change,
            change=value_change,
            rationale=rationale,
        )
        self.trigger_event(
            self.Varied,
            number=len(self.variations) + 1,
            kind=kind,
            ground=ground,
            value_change=value_change,
            effective_from=effective_from.isoformat(),
            rationale=rationale,
        )

    class Varied(LedgerAggregate.Event):
        number: int
        kind: str
        ground: str
        value_change: int
        effective_from: str
        rationale: str

        def apply(self, k: Contract) -> None:
            k.variations.append(
                {
                    "number": self.number,
                    "kind": self.kind,
                    "ground": self.ground,
                    "value_change": self.value_change,
                    "effective_from": self.effective_from,
                    "rationale": self.rationale,
                }
            )
            k.value += self.value_change
            k.cumulative_change += self.value_change

    # ---------------------------------------------------- control, novation, term

    def notify_change_of_control(self, *, new_controller: str, notified_on: date) -> None:
        self._check_live()
        self.trigger_event(self.ChangeOfControlNotified, new_controller=new_controller, notified_on=notified_on.isoformat())

    class ChangeOfControlNotified(LedgerAggregate.Event):
        new_controller: str
        notified_on: str

        def apply(self, k: Contract) -> None:
            k.changes_of_control.append({"new_controller": self.new_controller, "notified_on": self.notified_on})

    def novate(self, *, to_provider: str, effective_from: date) -> None:
        self._check_live()
        if to_provider == self.provider:
            raise ValidationFailed("A novation transfers the contract to another provider.", code="same_provider", field="to_provider")
        self.trigger_event(self.Novated, from_provider=self.provider, to_provider=to_provider, effective_from=effective_from.isoformat())

    class Novated(LedgerAggregate.Event):
        from_provider: str
        to_provider: str
        effective_from: str

        def apply(self, k: Contract) -> None:
            k.novations.append({"from": self.from_provider, "to": self.to_provider, "effective_from": self.effective_from})
            k.provider = self.to_provider

    def extend(self, *, framework: Framework, months: int, value_change: int, rationale: str) -> None:
        self._check_live()
        if months < 1:
            raise ValidationFailed("An extension is at least one month.", code="extension_too_short", field="months")
        assert self.original_ends_on and self.ends_on
        new_end = _add_months(self.ends_on, months)
        extended_months = _months_between(self.original_ends_on, new_end)
        if extended_months > framework.max_extension_months:
            raise _refuse(
                "extension_too_long",
                f"Extensions may add at most {framework.max_extension_months} months to the original term; "
                f"this one would add {extended_months}.",
            )
        cap = framework.max_extension_value_percent
        extended_value = sum(e["value_change"] for e in self.extensions) + value_change
        if cap is not None and extended_value * 100 > self.original_value * cap:
            raise _refuse(
                "extension_over_value_cap",
                f"Extensions may add at most {cap}% of the original value ({self.original_value * cap // 100} pence); "
                f"this would add {extended_value}.",
            )
        if len(rationale.strip()) < 10:
            raise ValidationFailed("An extension needs its rationale.", code="rationale_required", field="rationale")
        self.trigger_event(self.Extended, months=months, new_end=new_end.isoformat(), value_change=value_change, rationale=rationale)

    class Extended(LedgerAggregate.Event):
        months: int
        new_end: str
        value_change: int
        rationale: str

        def apply(self, k: Contract) -> None:
            k.extensions.append(
                {"months": self.months, "new_end": self.new_end, "value_change": self.value_change, "rationale": self.rationale}
            )
            k.ends_on = date.fromisoformat(self.new_end)
            k.value += self.value_change

    # ---------------------------------------------------- referrals, escalation

    def suspend_referrals(self, *, reason: str | None, from_date: date) -> None:
        self._check_live()
        if self.referrals_suspended is not None:
            raise _refuse("already_suspended", f"Referrals to {self.reference} are already suspended.")
        if not reason:
            raise ValidationFailed("Suspending referrals needs a reason.", code="reason_required", field="reason")
        self.trigger_event(self.ReferralsSuspended, reason=reason, from_date=from_date.isoformat())

    class ReferralsSuspended(LedgerAggregate.Event):
        reason: str
        from_date: str

        def apply(self, k: Contract) -> None:
            k.referrals_suspended = {"reason": self.reason, "from": self.from_date}

    def resume_referrals(self, *, from_date: date, phased: bool) -> None:
        self._check_live()
        if self.referrals_suspended is None:
            raise _refuse("not_suspended", f"Referrals to {self.reference} are not suspended.")
        self.trigger_event(self.ReferralsResumed, from_date=from_date.isoformat(), phased=phased)

    class ReferralsResumed(LedgerAggregate.Event):
        from_date: str
        phased: bool

        def apply(self, k: Contract) -> None:
            k.referrals_suspended = None

    def escalate(
        self, *, to_stage: str, due: date, reason: str | None, serious_breach: bool, issued_on: date | None = None
    ) -> None:
        """Move up the ladder. `issued_on` is the notice's date (default: the day the command is recorded)."""
        self._check_live()
        if to_stage not in self.ladder:
            raise ValidationFailed(
                f"The framework's escalation stages are {', '.join(self.ladder)}.", code="unknown_stage", field="to_stage"
            )
        target = self.ladder.index(to_stage)
        if target <= self.stage:
            raise _refuse("not_an_escalation", f"The contract is already at {self.ladder[self.stage]}.")
        if not reason:
            raise ValidationFailed("An escalation needs its reason.", code="reason_required", field="reason")
        if target != self.stage + 1 and not serious_breach:
            expected = self.ladder[self.stage + 1]
            raise _refuse(
                "stage_skipped",
                f"Escalation moves one stage at a time (next: {expected}) unless a serious breach is recorded.",
            )
        if self.ladder[target] == "termination":
            raise _refuse("terminate_instead", "The last stage is termination: terminate the contract with reason default.")
        notice = NOTICE_DAYS.get(to_stage)
        issued = issued_on or current_context().at.date()
        if notice is not None and (due - issued).days < notice:
            raise _refuse(
                "notice_period_too_short",
                f"A {to_stage.replace('_', ' ')} runs {notice} days: issued on {issued}, it is due no earlier than "
                f"{date.fromordinal(issued.toordinal() + notice)}.",
            )
        self.trigger_event(self.Escalated, stage=to_stage, due=due.isoformat(), serious_breach=serious_breach)
        if to_stage in SUSPENDING_STAGES and self.referrals_suspended is None:
            # A contract suspension stops new referrals while it stands (seed 004).
            self.trigger_event(self.ReferralsSuspended, reason=f"Contract suspension: {reason}", from_date=issued.isoformat())

    class Escalated(LedgerAggregate.Event):
        stage: str
        due: str
        serious_breach: bool

        def apply(self, k: Contract) -> None:
            k.stage = k.ladder.index(self.stage)
            k.escalations.append({"stage": self.stage, "due": self.due, "serious_breach": self.serious_breach, "at": self.timestamp.isoformat()})

    def de_escalate(self, *, reason: str | None) -> None:
        self._check_live()
        if self.stage < 0:
            raise _refuse("not_escalated", f"Contract {self.reference} is not escalated.")
        if not reason:
            raise ValidationFailed("De-escalating needs the reason (improvement evidenced).", code="reason_required", field="reason")
        self.trigger_event(self.DeEscalated, from_stage=self.ladder[self.stage])

    class DeEscalated(LedgerAggregate.Event):
        from_stage: str

        def apply(self, k: Contract) -> None:
            k.stage -= 1
            k.escalations.append({"stage": k.ladder[k.stage] if k.stage >= 0 else None, "de_escalated_from": self.from_stage, "at": self.timestamp.isoformat()})

    # ----------------------------------------------------- improvement action plans

    def open_action_plan(self, *, plan: str, actions: list[dict[str, Any]]) -> None:
        self._check_live()
        if plan in self.action_plans:
            raise _refuse("plan_exists", f"Action plan {plan} already exists.")
        if not actions:
            raise ValidationFailed("An action plan has at least one action.", code="actions_required", field="actions")
        ids = [a["id"] for a in actions]
        if len(set(ids)) != len(ids):
            raise ValidationFailed("Action ids must be distinct.", code="duplicate_action", field="actions")
        self.trigger_event(self.ActionPlanOpened, plan=plan, actions=copy.deepcopy(actions))

    class ActionPlanOpened(LedgerAggregate.Event):
        plan: str
        actions: list

        def apply(self, k: Contract) -> None:
            k.action_plans[self.plan] = {
                "actions": {a["id"]: {**a, "completed_on": None} for a in self.actions},
                "reviews": [],
                "closed_on": None,
            }

    def review_action_plan(self, *, plan: str, completed: list[str], notes: str, reviewed_on: date) -> None:
        record = self._open_plan(plan)
        unknown = sorted(set(completed) - set(record["actions"]))
        if unknown:
            raise ValidationFailed(f"Unknown action(s): {', '.join(unknown)}.", code="unknown_action", field="completed")
        self.trigger_event(self.ActionPlanReviewed, plan=plan, completed=sorted(completed), notes=notes, reviewed_on=reviewed_on.isoformat())

    class ActionPlanReviewed(LedgerAggregate.Event):
        plan: str
        completed: list
        notes: str
        reviewed_on: str

        def apply(self, k: Contract) -> None:
            record = k.action_plans[self.plan]
            for action in self.completed:
                record["actions"][action]["completed_on"] = record["actions"][action]["completed_on"] or self.reviewed_on
            record["reviews"].append({"on": self.reviewed_on, "completed": list(self.completed), "notes": self.notes})

    def close_action_plan(self, *, plan: str, closed_on: date) -> None:
        record = self._open_plan(plan)
        outstanding = sorted(a for a, v in record["actions"].items() if v["completed_on"] is None)
        if outstanding:
            raise _refuse("actions_outstanding", f"Action(s) {', '.join(outstanding)} are not complete.")
        self.trigger_event(self.ActionPlanClosed, plan=plan, closed_on=closed_on.isoformat())

    class ActionPlanClosed(LedgerAggregate.Event):
        plan: str
        closed_on: str

        def apply(self, k: Contract) -> None:
            k.action_plans[self.plan]["closed_on"] = self.closed_on

    def _open_plan(self, plan: str) -> dict[str, Any]:
        self._check_live()
        record = self.action_plans.get(plan)
        if record is None:
            raise _refuse("unknown_plan", f"There is no action plan {plan}.")
        if record["closed_on"] is not None:
            raise _refuse("plan_closed", f"Action plan {plan} is closed.")
        return record

    # ------------------------------------------------ service contracts: milestones

    def add_milestone(
        self, *, milestone: str, title: str, phase: str, draft_due: date | None, final_due: date, payment: int
    ) -> None:
        """A deliverable with its draft and final due dates; the final due date is its baseline."""
        self._check_live()
        if milestone in self.milestones:
            raise _refuse("milestone_exists", f"Contract {self.reference} already has milestone {milestone}.")
        if payment < 0:
            raise ValidationFailed("A milestone payment is a non-negative amount in pence.", code="value_negative", field="payment")
        if draft_due is not None and draft_due > final_due:
            raise ValidationFailed(
                f"The draft of {milestone} is due ({draft_due}) after its final version ({final_due}).",
                code="draft_after_final",
                field="draft_due",
            )
        assert self.starts_on and self.ends_on
        if not self.starts_on <= final_due <= self.ends_on:
            raise _refuse(
                "milestone_outside_term",
                f"{milestone} is due on {final_due}, outside the contract's term ({self.starts_on} to {self.ends_on}).",
            )
        planned = sum(m["payment"] for m in self.milestones.values()) + payment
        if planned > self.value:
            raise _refuse(
                "payment_plan_over_value",
                f"The payment plan would total {planned} pence, more than the contract's value of {self.value} pence.",
            )
        self.trigger_event(
            self.MilestoneAdded,
            milestone=milestone,
            title=title,
            phase=phase,
            draft_due=draft_due.isoformat() if draft_due else None,
            final_due=final_due.isoformat(),
            payment=payment,
        )

    class MilestoneAdded(LedgerAggregate.Event):
        milestone: str
        title: str
        phase: str
        draft_due: str | None
        final_due: str
        payment: int

        def apply(self, k: Contract) -> None:
            k.milestones[self.milestone] = {
                "title": self.title,
                "phase": self.phase,
                "draft_due": self.draft_due,
                "final_due": self.final_due,
                "baseline": self.final_due,
                "forecast": self.final_due,
                "status": PLANNED,
                "confidence": None,
                "payment": self.payment,
                "paid": 0,
                "submissions": [],
                "returns": [],
                "accepted_on": None,
            }

    def _milestone(self, milestone: str) -> dict[str, Any]:
        record = self.milestones.get(milestone)
        if record is None:
            raise _refuse("unknown_milestone", f"Contract {self.reference} has no milestone {milestone}.")
        return record

    def submit_deliverable(self, *, milestone: str, version: str, submitted_on: date, document_sha256: str | None) -> None:
        """The provider submits a deliverable in draft, then final (seed 002: "In draft - N weeks, Finalised by - M weeks")."""
        self._check_live()
        record = self._milestone(milestone)
        if version not in ("draft", "final"):
            raise ValidationFailed("A deliverable is submitted as draft or final.", code="unknown_version", field="version")
        if record["status"] == ACCEPTED:
            raise _refuse("milestone_accepted", f"{milestone} was accepted on {record['accepted_on']}.")
        if record["status"] == DELIVERED:
            raise _refuse("already_delivered", f"The final {milestone} is with the commissioner for review.")
        if version == "final" and record["draft_due"] is not None and record["status"] == PLANNED:
            raise _refuse("draft_required", f"{milestone} is submitted in draft (due {record['draft_due']}) before its final version.")
        due = record["final_due"] if version == "final" else record["draft_due"] or record["final_due"]
        self.trigger_event(
            self.DeliverableSubmitted,
            milestone=milestone,
            version=version,
            submitted_on=submitted_on.isoformat(),
            late=submitted_on.isoformat() > due,
            document_sha256=document_sha256,
        )

    class DeliverableSubmitted(LedgerAggregate.Event):
        milestone: str
        version: str
        submitted_on: str
        late: bool
        document_sha256: str | None

        def apply(self, k: Contract) -> None:
            record = k.milestones[self.milestone]
            record["submissions"].append(
                {"version": self.version, "on": self.submitted_on, "late": self.late, "document_sha256": self.document_sha256}
            )
            record["status"] = DELIVERED if self.version == "final" else DRAFT_SUBMITTED

    def accept_milestone(self, *, milestone: str, accepted_on: date) -> None:
        """Delivered to the commissioner's satisfaction (seed 002 3.8.5): the milestone becomes payable.

        Allowed after the contract ends: work delivered in term is still accepted and paid.
        """
        record = self._milestone(milestone)
        if record["status"] == ACCEPTED:
            raise _refuse("milestone_accepted", f"{milestone} was accepted on {record['accepted_on']}.")
        if record["status"] != DELIVERED:
            raise _refuse("milestone_not_delivered", f"{milestone} has no final version awaiting acceptance ({record['status']}).")
        delivered_on = record["submissions"][-1]["on"]
        if accepted_on.isoformat() < delivered_on:
            raise ValidationFailed(
                f"{milestone} cannot be accepted before it was delivered ({delivered_on}).",
                code="accepted_before_delivery",
                field="accepted_on",
            )
        self.trigger_event(self.MilestoneAccepted, milestone=milestone, accepted_on=accepted_on.isoformat())

    class MilestoneAccepted(LedgerAggregate.Event):
        milestone: str
        accepted_on: str

        def apply(self, k: Contract) -> None:
            record = k.milestones[self.milestone]
            record["status"], record["accepted_on"] = ACCEPTED, self.accepted_on

    def return_deliverable(self, *, milestone: str, returned_on: date, reason: str | None) -> None:
        """The final version is not to the commissioner's satisfaction: returned for rework, with the reason."""
        self._check_live()
        record = self._milestone(milestone)
        if record["status"] != DELIVERED:
            raise _refuse("milestone_not_delivered", f"{milestone} has no final version awaiting review ({record['status']}).")
        if not reason:
            raise ValidationFailed("Returning a deliverable needs the reason.", code="reason_required", field="reason")
        self.trigger_event(self.DeliverableReturned, milestone=milestone, returned_on=returned_on.isoformat(), reason=reason)

    class DeliverableReturned(LedgerAggregate.Event):
        milestone: str
        returned_on: str
        reason: str

        def apply(self, k: Contract) -> None:
            record = k.milestones[self.milestone]
            record["returns"].append({"on": self.returned_on, "reason": self.reason})
            record["status"] = RETURNED

    # ----------------------------------------- service contracts: highlight reports

    def submit_highlight_report(
        self,
        *,
        period_ending: date,
        overall_confidence: str,
        rationale: str,
        items: list[dict[str, Any]],
        summary: str,
    ) -> None:
        """The fortnightly highlight report (seed 002 3.5.2 and appendix 4.4).

        Every milestone not yet accepted is rated for delivery confidence; a rating below Green,
        or a forecast later than the baseline, carries its rationale. Reports are fortnightly,
        for fortnights on the cycle the first report set; a missed fortnight stays visible as a gap.
        """
        self._check_live()
        assert self.starts_on
        _check_confidence(overall_confidence, "overall_confidence")
        if overall_confidence != "G" and not rationale.strip():
            raise ValidationFailed(
                "An overall delivery confidence below Green needs its rationale and the actions in place.",
                code="rationale_required",
                field="rationale",
            )
        if period_ending < self.starts_on:
            raise _refuse("report_before_start", f"Contract {self.reference} starts on {self.starts_on}.")
        if self.highlight_reports:
            first = date.fromisoformat(self.highlight_reports[0]["period_ending"])
            last = date.fromisoformat(self.highlight_reports[-1]["period_ending"])
            if period_ending <= last:
                raise _refuse(
                    "report_not_later",
                    f"The last highlight report covered the fortnight ending {last}; a report covers a later fortnight.",
                )
            if (period_ending - first).days % 14:
                expected = date.fromordinal(last.toordinal() + 14)
                raise _refuse(
                    "not_fortnightly",
                    f"Highlight reports are fortnightly, for fortnights ending on the cycle that began {first} "
                    f"(the next ends {expected}).",
                )
        rated = [
            {
                "milestone": item["milestone"],
                "confidence": item["confidence"],
                "forecast": item["forecast"].isoformat() if isinstance(item.get("forecast"), date) else item.get("forecast"),
                "rationale": item.get("rationale") or "",
            }
            for item in items
        ]
        seen: set[str] = set()
        for item in rated:
            milestone = item["milestone"]
            record = self._milestone(milestone)
            if milestone in seen:
                raise ValidationFailed(f"{milestone} is rated twice.", code="duplicate_milestone", field="items")
            seen.add(milestone)
            _check_confidence(item["confidence"], "items.confidence")
            item["forecast"] = item["forecast"] or record["forecast"]
            slipped = item["forecast"] > record["baseline"]
            if (item["confidence"] != "G" or slipped) and not item["rationale"].strip():
                why = f" and forecast after its baseline ({item['forecast']}, baseline {record['baseline']})" if slipped else ""
                raise ValidationFailed(
                    f"{milestone} is rated {DELIVERY_CONFIDENCE[item['confidence']][0]}{why}: record the rationale.",
                    code="rationale_required",
                    field="items.rationale",
                )
        unrated = [m for m, record in self.milestones.items() if record["status"] != ACCEPTED and m not in seen]
        if unrated:
            raise _refuse(
                "milestone_not_reported",
                f"A highlight report rates every open milestone; missing: {', '.join(unrated)}.",
            )
        self.trigger_event(
            self.HighlightReported,
            period_ending=period_ending.isoformat(),
            overall_confidence=overall_confidence,
            rationale=rationale,
            summary=summary,
            items=rated,
        )

    class HighlightReported(LedgerAggregate.Event):
        period_ending: str
        overall_confidence: str
        rationale: str
        summary: str
        items: list

        def apply(self, k: Contract) -> None:
            k.highlight_reports.append(
                {
                    "period_ending": self.period_ending,
                    "overall_confidence": self.overall_confidence,
                    "rationale": self.rationale,
                    "summary": self.summary,
                    "items": copy.deepcopy(self.items),
                }
            )
            for item in self.items:
                record = k.milestones[item["milestone"]]
                record["confidence"], record["forecast"] = item["confidence"], item["forecast"]

    # ------------------------------------------------- service contracts: payments

    def record_payment(self, *, payment: str, milestone: str, amount: int, paid_on: date) -> None:
        """A payment against an accepted milestone (seed 002 3.8.4-3.8.5).

        The total paid never exceeds the contract's value (its cap, extensions included), and
        no milestone is paid more than its amount in the payment plan. Recording the same
        payment again changes nothing; reusing its id for another payment is refused.
        Allowed after the contract ends, for work accepted.
        """
        existing = self.payments.get(payment)
        if existing is not None:
            if (existing["milestone"], existing["amount"], existing["paid_on"]) == (milestone, amount, paid_on.isoformat()):
                return
            raise _refuse(
                "payment_exists",
                f"Payment {payment} is already recorded, for {existing['amount']} pence against {existing['milestone']}.",
            )
        if amount <= 0:
            raise ValidationFailed("A payment is a positive amount in pence.", code="amount_not_positive", field="amount")
        record = self._milestone(milestone)
        if record["status"] != ACCEPTED:
            raise _refuse(
                "milestone_not_accepted",
                f"Payment is on the achievement of milestones to the commissioner's satisfaction; {milestone} is {record['status']}.",
            )
        if self.paid + amount > self.value:
            raise _refuse(
                "payment_over_cap",
                f"Contract {self.reference} is capped at {self.value} pence and {self.paid} is paid; "
                f"a payment of {amount} would take the total to {self.paid + amount}.",
            )
        if record["paid"] + amount > record["payment"]:
            raise _refuse(
                "payment_over_milestone",
                f"{milestone} is worth {record['payment']} pence and {record['paid']} is paid; {amount} more would exceed it.",
            )
        self.trigger_event(self.PaymentRecorded, payment=payment, milestone=milestone, amount=amount, paid_on=paid_on.isoformat())

    class PaymentRecorded(LedgerAggregate.Event):
        payment: str
        milestone: str
        amount: int
        paid_on: str

        def apply(self, k: Contract) -> None:
            k.payments[self.payment] = {"milestone": self.milestone, "amount": self.amount, "paid_on": self.paid_on}
            k.milestones[self.milestone]["paid"] += self.amount
            k.paid += self.amount

    # ------------------------------------------------ service contracts: risk register

    def raise_risk(
        self, *, risk: str, description: str, impact: int, likelihood: int, owner_role: str, mitigation: str, raised_on: date
    ) -> None:
        self._check_live()
        if risk in self.risks:
            raise _refuse("risk_exists", f"Risk {risk} is already on the register of {self.reference}.")
        rating = risk_rating(impact, likelihood)
        self._check_mitigation(risk, rating, mitigation)
        self.trigger_event(
            self.RiskRaised,
            risk=risk,
            description=description,
            impact=impact,
            likelihood=likelihood,
            rating=rating,
            owner_role=owner_role,
            mitigation=mitigation,
            raised_on=raised_on.isoformat(),
        )

    @staticmethod
    def _check_mitigation(risk: str, rating: str, mitigation: str) -> None:
        if rating != "G" and not mitigation.strip():
            raise ValidationFailed(
                f"Risk {risk} is rated {DELIVERY_CONFIDENCE[rating][0]}: record the mitigating action.",
                code="mitigation_required",
                field="mitigation",
            )

    class RiskRaised(LedgerAggregate.Event):
        risk: str
        description: str
        impact: int
        likelihood: int
        rating: str
        owner_role: str
        mitigation: str
        raised_on: str

        def apply(self, k: Contract) -> None:
            k.risks[self.risk] = {
                "description": self.description,
                "impact": self.impact,
                "likelihood": self.likelihood,
                "rating": self.rating,
                "owner_role": self.owner_role,
                "mitigation": self.mitigation,
                "status": OPEN,
                "raised_on": self.raised_on,
                "updates": [],
                "closed": None,
            }

    def _open_risk(self, risk: str) -> dict[str, Any]:
        record = self.risks.get(risk)
        if record is None:
            raise _refuse("unknown_risk", f"There is no risk {risk} on the register of {self.reference}.")
        if record["status"] == CLOSED:
            raise _refuse("risk_closed", f"Risk {risk} was closed on {record['closed']['on']}.")
        return record

    def update_risk(
        self,
        *,
        risk: str,
        impact: int | None,
        likelihood: int | None,
        owner_role: str | None,
        mitigation: str | None,
        progress: str,
        updated_on: date,
    ) -> None:
        """Re-score a risk, or record the progress of its mitigating action."""
        self._check_live()
        record = self._open_risk(risk)
        impact = record["impact"] if impact is None else impact
        likelihood = record["likelihood"] if likelihood is None else likelihood
        owner_role = owner_role or record["owner_role"]
        mitigation = record["mitigation"] if mitigation is None else mitigation
        rating = risk_rating(impact, likelihood)
        self._check_mitigation(risk, rating, mitigation)
        unchanged = (impact, likelihood, owner_role, mitigation) == (
            record["impact"], record["likelihood"], record["owner_role"], record["mitigation"]
        )
        if unchanged and not progress.strip():
            raise ValidationFailed(
                "A risk update changes the score, owner or mitigation, or records progress.", code="nothing_to_update", field="progress"
            )
        if updated_on.isoformat() < record["raised_on"]:
            raise ValidationFailed(f"Risk {risk} was raised on {record['raised_on']}.", code="date_before_raised", field="updated_on")
        self.trigger_event(
            self.RiskUpdated,
            risk=risk,
            impact=impact,
            likelihood=likelihood,
            rating=rating,
            owner_role=owner_role,
            mitigation=mitigation,
            progress=progress,
            updated_on=updated_on.isoformat(),
        )

    class RiskUpdated(LedgerAggregate.Event):
        risk: str
        impact: int
        likelihood: int
        rating: str
        owner_role: str
        mitigation: str
        progress: str
        updated_on: str

        def apply(self, k: Contract) -> None:
            record = k.risks[self.risk]
            record["updates"].append(
                {"on": self.updated_on, "impact": self.impact, "likelihood": self.likelihood, "rating": self.rating,
                 "progress": self.progress}
            )
            record.update(
                impact=self.impact, likelihood=self.likelihood, rating=self.rating, owner_role=self.owner_role, mitigation=self.mitigation
            )

    def close_risk(self, *, risk: str, closed_on: date, reason: str | None) -> None:
        """Closed when it has passed or been mitigated away; allowed after the contract ends."""
        record = self._open_risk(risk)
        if not reason:
            raise ValidationFailed(
                "Closing a risk needs the reason (passed, mitigated, became an issue...).", code="reason_required", field="reason"
            )
        if closed_on.isoformat() < record["raised_on"]:
            raise ValidationFailed(f"Risk {risk} was raised on {record['raised_on']}.", code="date_before_raised", field="closed_on")
        self.trigger_event(self.RiskClosed, risk=risk, closed_on=closed_on.isoformat(), reason=reason)

    class RiskClosed(LedgerAggregate.Event):
        risk: str
        closed_on: str
        reason: str

        def apply(self, k: Contract) -> None:
            record = k.risks[self.risk]
            record["status"], record["closed"] = CLOSED, {"on": self.closed_on, "reason": self.reason}

    # -------------------------------------------------------------------- ending

    def terminate(self, *, reason_kind: str, effective_on: date, reason: str | None) -> None:
        self._check_live()
        if reason_kind not in TERMINATION_REASONS:
            raise ValidationFailed(
                f"Termination reason must be one of {', '.join(TERMINATION_REASONS)}.", code="unknown_reason", field="reason_kind"
            )
        if not reason:
            raise ValidationFailed("A termination needs its reason recorded.", code="reason_required", field="reason")
        if reason_kind == "default" and "termination" in self.ladder:
            before = self.ladder.index("termination") - 1
            if self.stage < before:
                raise _refuse(
                    "escalation_incomplete",
                    f"Termination for default follows {self.ladder[before]}; the contract is at "
                    f"{self.ladder[self.stage] if self.stage >= 0 else 'no stage'}.",
                )
            notice = next((e for e in reversed(self.escalations) if e.get("stage") in NOTICE_DAYS), None)
            if notice is not None and effective_on.isoformat() < notice["due"]:
                raise _refuse(
                    "final_notice_not_expired",
                    f"The {notice['stage'].replace('_', ' ')} runs until {notice['due']}; termination for default "
                    f"cannot take effect on {effective_on}.",
                )
        self.trigger_event(self.Terminated, reason_kind=reason_kind, effective_on=effective_on.isoformat())

    class Terminated(LedgerAggregate.Event):
        reason_kind: str
        effective_on: str

        def apply(self, k: Contract) -> None:
            k.termination = {"reason": self.reason_kind, "effective_on": self.effective_on}
            k.status = TERMINATED

    def expire(self, *, today: date) -> None:
        self._check_live()
        assert self.ends_on
        if today <= self.ends_on:
            raise _refuse("not_yet_expired", f"Contract {self.reference} runs until {self.ends_on}.")
        self.trigger_event(self.Expired, ended_on=self.ends_on.isoformat())

    class Expired(LedgerAggregate.Event):
        ended_on: str

        def apply(self, k: Contract) -> None:
            k.status = EXPIRED


def framework_state(f: Framework) -> dict[str, Any]:
    return {
        "reference": f.reference,
        "id": str(f.id),
        "version": f.version,
        "title": f.title,
        "kind": f.kind,
        "lots": copy.deepcopy(f.lots),
        "commissioners": copy.deepcopy(f.commissioners),
        "term": {"starts_on": str(f.starts_on), "ends_on": str(f.ends_on), "max_extension_months": f.max_extension_months,
                 "max_extension_value_percent": f.max_extension_value_percent},
        "modification_regime": f.regime,
        "escalation_ladder": list(f.ladder),
        "monitoring": copy.deepcopy(f.monitoring),
        "price_schedules": copy.deepcopy(f.price_schedules),
        "contracts": list(f.contracts),
    }


def contract_state(k: Contract) -> dict[str, Any]:
    return {
        "reference": k.reference,
        "id": str(k.id),
        "version": k.version,
        "framework": k.framework,
        "competition": k.competition,
        "lot": k.lot,
        "provider": k.provider,
        "status": k.status,
        "term": {"starts_on": str(k.starts_on), "ends_on": str(k.ends_on), "original_ends_on": str(k.original_ends_on)},
        "value": {"original": k.original_value, "current": k.value, "cumulative_variation": k.cumulative_change},
        "signed_on": k.signed_on,
        "mobilisation": copy.deepcopy(k.mobilisation),
        "homes": copy.deepcopy(k.homes),
        "variations": copy.deepcopy(k.variations),
        "changes_of_control": copy.deepcopy(k.changes_of_control),
        "novations": copy.deepcopy(k.novations),
        "extensions": copy.deepcopy(k.extensions),
        "referrals_suspended": copy.deepcopy(k.referrals_suspended),
        "escalation": {"ladder": list(k.ladder), "stage": k.ladder[k.stage] if k.stage >= 0 else None,
                       "history": copy.deepcopy(k.escalations)},
        "action_plans": copy.deepcopy(k.action_plans),
        "termination": copy.deepcopy(k.termination),
        "milestones": {
            m: {**copy.deepcopy(record), "confidence": confidence(record["confidence"])} for m, record in k.milestones.items()
        },
        "highlight_reports": [
            {
                **copy.deepcopy(report),
                "overall_confidence": confidence(report["overall_confidence"]),
                "items": [{**item, "confidence": confidence(item["confidence"])} for item in report["items"]],
            }
            for report in k.highlight_reports
        ],
        "payments": {
            "value_cap": k.value,
            "planned": sum(m["payment"] for m in k.milestones.values()),
            "paid": k.paid,
            "remaining": k.value - k.paid,
            "records": copy.deepcopy(k.payments),
        },
        "risks": {
            r: {**copy.deepcopy(record), "rating": confidence(record["rating"])} for r, record in k.risks.items()
        },
    }
