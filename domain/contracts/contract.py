"""The Contract: one provider's agreement for one lot of a framework, for the years after an award.

Signed, mobilised, homes added and removed, varied (each variation with its legal ground,
`modifications.py`, cumulative change tracked against the original value), change of
control notified, novated, extended within the framework's bounds (`framework.py`),
referrals suspended and resumed, escalated one stage at a time with improvement action
plans, and terminated or expired. A service contract's milestones, highlight reports,
payments and risks are its delivery plan (`delivery.py`); what a contract shows is in
`views.py`.
"""

from __future__ import annotations

import copy
import re
from datetime import date
from typing import Any

from domain.contracts.delivery import DeliveryPlan
from domain.contracts.framework import Framework
from domain.contracts.modifications import check_modification
from domain.kernel.errors import RuleBroken, ValidationFailed
from domain.kernel.metadata import LedgerAggregate, current_context
from domain.kernel.topics import stored_as
from domain.procurement.notices import (
    CONTRACT_NOTICE_TYPES,
    change_notice_required,
    contract_details_due,
    termination_notice_due,
    uk_code,
)

TERMINATION_REASONS = ("home_closure", "default", "expiry", "mutual_agreement", "novation")
#: escalation stages that suspend new referrals and placements while they stand (seed 004)
SUSPENDING_STAGES = ("contract_suspension",)
#: the ground only a light-touch contract may rely on (s.74(2))
LIGHT_TOUCH_GROUND = "pa2023_s74_2_light_touch"
#: escalation stages that are notices of a fixed length: termination may not take effect before they run out
NOTICE_DAYS = {"final_notice_90_day": 90}
SHA256 = re.compile(r"^[0-9a-f]{64}$")
AWARDED, SIGNED, MOBILISED, TERMINATED, EXPIRED = "awarded", "signed", "mobilised", "terminated", "expired"


def _refuse(code: str, message: str, field: str | None = None) -> RuleBroken:
    return RuleBroken(message, code=code, field=field)


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
class Contract(DeliveryPlan, LedgerAggregate):
    """One provider's agreement for one lot of a framework, from award to its end."""

    KIND = "contract"

    # The delivery plan's events (delivery.py), named here so that each is nested in the
    # Contract, as `Contract.MilestoneAdded`, and keeps its pinned topic.
    MilestoneAdded = DeliveryPlan.MilestoneAdded
    DeliverableSubmitted = DeliveryPlan.DeliverableSubmitted
    MilestoneAccepted = DeliveryPlan.MilestoneAccepted
    DeliverableReturned = DeliveryPlan.DeliverableReturned
    HighlightReported = DeliveryPlan.HighlightReported
    PaymentRecorded = DeliveryPlan.PaymentRecorded
    RiskRaised = DeliveryPlan.RiskRaised
    RiskUpdated = DeliveryPlan.RiskUpdated
    RiskClosed = DeliveryPlan.RiskClosed

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
        #: the notices of its life as published (Procurement Act 2023 ss.53, 75, 80), in order
        self.notices: list[dict[str, Any]] = []

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

    def vary(
        self,
        *,
        kind: str,
        ground: str,
        value_change: int,
        effective_from: date,
        rationale: str,
        change_notice: str | None = None,
        light_touch: bool = False,
    ) -> None:
        """`change_notice` names the contract change notice published for it (s.75); `light_touch`:
        the contract is for light-touch services (its competition's procedure), which need none."""
        self._check_live()
        if ground == LIGHT_TOUCH_GROUND and not light_touch:
            # s.74(2) is a light-touch contract's ground: naming it does not make a contract one.
            raise ValidationFailed(
                f"The light-touch ground (Procurement Act 2023 s.74(2)) is for light-touch contracts; {self.reference} was not "
                "awarded off a light-touch procurement the ledger holds, so it needs another ground (and, over 10%, its "
                "contract change notice, s.75).",
                code="ground_not_available", field="ground",
            )
        check_modification(
            regime=self.regime,
            ground_code=ground,
            original_value=self.original_value,
            cumulative_before=self.cumulative_change,
            change=value_change,
            rationale=rationale,
        )
        needed = change_notice_required(
            regime=self.regime,
            light_touch=light_touch,
            value_before=self.value,
            value_change=value_change,
        )
        self._check_change_notice(needed, change_notice, effective_from, f"A change of {value_change} pence to a value of {self.value}")
        self.trigger_event(
            self.Varied,
            number=len(self.variations) + 1,
            kind=kind,
            ground=ground,
            value_change=value_change,
            effective_from=effective_from.isoformat(),
            rationale=rationale,
            change_notice=change_notice,
        )

    class Varied(LedgerAggregate.Event):
        number: int
        kind: str
        ground: str
        value_change: int
        effective_from: str
        rationale: str
        #: the contract change notice it was published under (s.75), if any
        change_notice: str | None = None

        def apply(self, k: Contract) -> None:
            variation = {
                "number": self.number,
                "kind": self.kind,
                "ground": self.ground,
                "value_change": self.value_change,
                "effective_from": self.effective_from,
                "rationale": self.rationale,
            }
            if getattr(self, "change_notice", None):
                variation["change_notice"] = self.change_notice
            k.variations.append(variation)
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

    def novate(self, *, to_provider: str, effective_from: date, change_notice: str | None = None, light_touch: bool = False) -> None:
        self._check_live()
        if to_provider == self.provider:
            raise ValidationFailed("A novation transfers the contract to another provider.", code="same_provider", field="to_provider")
        # A novation on a corporate restructuring (Sch 8 para 9) needs its change notice however small.
        needed = change_notice_required(regime=self.regime, light_touch=light_touch, value_before=self.value, value_change=0, restructuring=True)
        self._check_change_notice(needed, change_notice, effective_from, f"A novation to {to_provider}")
        self.trigger_event(
            self.Novated,
            from_provider=self.provider,
            to_provider=to_provider,
            effective_from=effective_from.isoformat(),
            change_notice=change_notice,
        )

    class Novated(LedgerAggregate.Event):
        from_provider: str
        to_provider: str
        effective_from: str
        change_notice: str | None = None

        def apply(self, k: Contract) -> None:
            novation = {"from": self.from_provider, "to": self.to_provider, "effective_from": self.effective_from}
            if getattr(self, "change_notice", None):
                novation["change_notice"] = self.change_notice
            k.novations.append(novation)
            k.provider = self.to_provider

    def extend(
        self,
        *,
        framework: Framework,
        months: int,
        value_change: int,
        rationale: str,
        today: date | None = None,
        change_notice: str | None = None,
        light_touch: bool = False,
    ) -> None:
        """`today` is the day the extension is agreed: a change notice it needs must be published by then."""
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
        assert self.starts_on
        needed = change_notice_required(
            regime=self.regime,
            light_touch=light_touch,
            value_before=self.value,
            value_change=value_change,
            term_days_at_award=(self.original_ends_on - self.starts_on).days,
            term_change_days=(new_end - self.ends_on).days,
        )
        self._check_change_notice(needed, change_notice, today or current_context().at.date(), f"An extension of {months} month(s)")
        self.trigger_event(
            self.Extended,
            months=months,
            new_end=new_end.isoformat(),
            value_change=value_change,
            rationale=rationale,
            change_notice=change_notice,
        )

    class Extended(LedgerAggregate.Event):
        months: int
        new_end: str
        value_change: int
        rationale: str
        change_notice: str | None = None

        def apply(self, k: Contract) -> None:
            extension = {"months": self.months, "new_end": self.new_end, "value_change": self.value_change, "rationale": self.rationale}
            if getattr(self, "change_notice", None):
                extension["change_notice"] = self.change_notice
            k.extensions.append(extension)
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

    # ------------------------------------------------------------------ notices

    def publish_notice(
        self,
        *,
        notice_type: str,
        notice_reference: str,
        published_on: date,
        today: date,
        modification: str | None = None,
        payload_sha256: str | None = None,
    ) -> None:
        """Record a notice of the contract's life as published (`domain/procurement/notices.py`).

        A contract details notice follows entering into the contract (s.53: its signing); a
        change notice names the modification it announces, before it takes effect (s.75); a
        termination notice follows the contract's end (s.80).
        """
        if notice_type not in CONTRACT_NOTICE_TYPES:
            raise ValidationFailed(
                f"A contract's notice type is one of {', '.join(CONTRACT_NOTICE_TYPES)}.", code="unknown_notice_type", field="notice_type"
            )
        if published_on > today:
            raise ValidationFailed(
                f"A notice is recorded once published; {published_on} is after today ({today}).",
                code="published_on_in_future",
                field="published_on",
            )
        if any(n["notice_reference"] == notice_reference for n in self.notices):
            return  # a retried publication records nothing new
        if notice_type == "contract_details_notice":
            if self.signed_on is None:
                raise _refuse(
                    "contract_not_entered",
                    f"A contract details notice follows entering into the contract (Procurement Act 2023 s.53); "
                    f"{self.reference} is not signed.",
                    field="notice_type",
                )
            if published_on.isoformat() < self.signed_on:
                raise ValidationFailed(
                    f"The contract was entered into on {self.signed_on}; its details notice cannot be published before, on {published_on}.",
                    code="notice_before_contract",
                    field="published_on",
                )
        elif notice_type == "contract_change_notice":
            self._check_live()
            if not modification:
                raise ValidationFailed(
                    "A contract change notice names the modification it announces (s.75(3)).", code="modification_required", field="modification"
                )
            if any(n.get("modification") == modification for n in self.notices):
                raise _refuse(
                    "modification_already_noticed",
                    f"Modification {modification} of {self.reference} already has its change notice.",
                    field="modification",
                )
        else:
            ended_on = self.ended_on()
            if ended_on is None:
                raise _refuse(
                    "contract_not_ended",
                    f"A contract termination notice follows the contract's end (Procurement Act 2023 s.80); {self.reference} is {self.status}.",
                    field="notice_type",
                )
            if published_on < ended_on:
                raise ValidationFailed(
                    f"The contract ended on {ended_on}; its termination notice cannot be published before, on {published_on}.",
                    code="notice_before_termination",
                    field="published_on",
                )
        if payload_sha256 is not None and not SHA256.match(payload_sha256):
            raise ValidationFailed("payload_sha256 must be 64 lower-case hexadecimal characters.", code="invalid_sha256", field="payload_sha256")
        self.trigger_event(
            self.NoticePublished,
            notice_type=notice_type,
            notice_code=uk_code(notice_type, self.regime),
            notice_reference=notice_reference,
            published_on=published_on.isoformat(),
            modification=modification,
            payload_sha256=payload_sha256,
        )

    class NoticePublished(LedgerAggregate.Event):
        notice_type: str
        #: Find a Tender's notice type under the Procurement Act 2023 ("UK7", "UK10", "UK11"), else None
        notice_code: str | None
        notice_reference: str
        published_on: str
        #: the modification a change notice announces (the reference a variation then names)
        modification: str | None
        #: SHA-256 of the payload as published (the OCDS release generated for it), where there is one
        payload_sha256: str | None

        def apply(self, k: Contract) -> None:
            k.notices.append(
                {
                    "notice_type": self.notice_type,
                    "notice_code": self.notice_code,
                    "notice_reference": self.notice_reference,
                    "published_on": self.published_on,
                    "modification": self.modification,
                    "payload_sha256": self.payload_sha256,
                }
            )

    def _check_change_notice(self, needed: bool, change_notice: str | None, takes_effect: date, what: str) -> None:
        """s.75(1): a modification that needs a change notice names one published, on or before it takes effect, for it alone."""
        if change_notice is None:
            if needed:
                raise _refuse(
                    "change_notice_required",
                    f"{what} of contract {self.reference} needs a contract change notice published before it takes effect "
                    "(Procurement Act 2023 s.75: it changes the value or the term by more than 10%, or novates the contract); "
                    "publish it (contract.publish_notice) and name it in change_notice.",
                    field="change_notice",
                )
            return
        notice = next(
            (n for n in self.notices if n["notice_type"] == "contract_change_notice" and n["notice_reference"] == change_notice), None
        )
        if notice is None:
            raise _refuse(
                "change_notice_not_published",
                f"No contract change notice {change_notice} is recorded on contract {self.reference}.",
                field="change_notice",
            )
        if notice["published_on"] > takes_effect.isoformat():
            raise _refuse(
                "change_notice_after_modification",
                f"Change notice {change_notice} was published on {notice['published_on']}, after the modification takes "
                f"effect ({takes_effect}); s.75(1) requires it before.",
                field="change_notice",
            )
        used = [v for v in (*self.variations, *self.extensions, *self.novations) if v.get("change_notice") == change_notice]
        if used:
            raise _refuse(
                "change_notice_already_used",
                f"Change notice {change_notice} announced one modification, already made.",
                field="change_notice",
            )

    def ended_on(self) -> date | None:
        """The day the contract ended (terminated or expired), or None while it runs."""
        if self.status == TERMINATED and self.termination:
            return date.fromisoformat(self.termination["effective_on"])
        if self.status == EXPIRED and self.ends_on:
            return self.ends_on
        return None

    def notices_overdue(self, *, today: date, light_touch: bool) -> list[dict[str, Any]]:
        """The notices the Procurement Act 2023 required by now that are not recorded (ss.53, 80)."""
        if self.regime != "pa2023":
            return []
        published = {n["notice_type"] for n in self.notices}
        overdue = []
        if self.signed_on and "contract_details_notice" not in published:
            due = contract_details_due(date.fromisoformat(self.signed_on), light_touch=light_touch)
            if today > due:
                overdue.append({"contract": self.reference, "notice_type": "contract_details_notice", "notice_code": "UK7",
                                "due": due.isoformat(), "rule": "Procurement Act 2023 s.53(1)"})
        ended_on = self.ended_on()
        if ended_on and "contract_termination_notice" not in published:
            due = termination_notice_due(ended_on)
            if today > due:
                overdue.append({"contract": self.reference, "notice_type": "contract_termination_notice", "notice_code": "UK11",
                                "due": due.isoformat(), "rule": "Procurement Act 2023 s.80(1)"})
        return overdue

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
