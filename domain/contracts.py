"""Frameworks and the contracts called off them, for the years after an award.

A Framework holds what every contract under it shares: lots, participating commissioners,
term and maximum extension, the modification regime, dated price schedules (weekly rates by
bed type, or hourly rates by home-care tier) and the escalation ladder. A Contract is one
provider's agreement for one lot: signed, mobilised, homes added and removed, varied (each
variation with its legal ground, cumulative change tracked against the original value),
change of control notified, novated, extended within the framework's bounds, referrals
suspended and resumed, escalated one stage at a time, and terminated or expired.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from domain.errors import RuleBroken, ValidationFailed
from domain.metadata import LedgerAggregate
from domain.modifications import check_modification

BED_TYPES = ("nursing", "nursing_dementia", "residential", "residential_dementia")
CARE_TIERS = ("tier_1", "tier_2", "tier_3", "registered_nursing")
#: escalation ladders that ship as configuration (seeds 004 and 003)
LADDERS = {
    "nottingham": ["requirement_to_improve", "contract_suspension", "final_notice_90_day", "termination"],
    "cheshire_east": ["improvement_notice", "default_notice", "termination"],
}
TERMINATION_REASONS = ("home_closure", "default", "expiry", "mutual_agreement", "novation")
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

    def escalate(self, *, to_stage: str, due: date, reason: str | None, serious_breach: bool) -> None:
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
        self.trigger_event(self.Escalated, stage=to_stage, due=due.isoformat(), serious_breach=serious_breach)

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
    }
