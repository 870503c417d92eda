"""The Framework: what every contract called off it shares.

Lots (with any value cap), participating commissioners, term and maximum extension, the
modification regime, dated price schedules (weekly rates by bed type, or hourly rates by
home-care tier) and the escalation ladder its contracts climb.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from domain.kernel.errors import RuleBroken, ValidationFailed
from domain.kernel.metadata import LedgerAggregate
from domain.kernel.topics import stored_as

BED_TYPES = ("nursing", "nursing_dementia", "residential", "residential_dementia")
CARE_TIERS = ("tier_1", "tier_2", "tier_3", "registered_nursing")
#: escalation ladders that ship as configuration (seeds 004 and 003)
LADDERS = {
    "nottingham": ["requirement_to_improve", "contract_suspension", "final_notice_90_day", "termination"],
    "cheshire_east": ["improvement_notice", "default_notice", "termination"],
}


@stored_as("domain.contracts")
class Framework(LedgerAggregate):
    """A framework agreement: what every contract called off it shares."""

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
        kpi_sets: Any = None,
    ) -> Framework:
        """`monitoring` names what its contracts' homes are monitored by: "returns" (return templates)
        and "kpis" (the KPI sets that judge them; none: not monitored by KPIs), each of `kpi_sets`
        (the KPI sets the ledger knows) where given."""
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
        unknown_sets = sorted(set(monitoring.get("kpis") or ()) - set(kpi_sets)) if kpi_sets is not None else []
        if unknown_sets:
            raise ValidationFailed(
                f"No KPI set is called {', '.join(unknown_sets)}; the KPI sets are {', '.join(sorted(kpi_sets))}.",
                code="unknown_kpi_set",
                field="monitoring.kpis",
            )
        ids = [lot["id"] for lot in lots]
        if not ids or len(set(ids)) != len(ids):
            raise ValidationFailed("A framework needs lots with distinct ids.", code="lots_invalid", field="lots")
        for commissioner in commissioners:
            unknown = sorted(set(commissioner.get("lots") or ()) - set(ids))
            if unknown:
                raise ValidationFailed(
                    f"{commissioner['org']} is named for lots the framework does not have: {', '.join(unknown)}.",
                    code="unknown_lot",
                    field="commissioners",
                )
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
            raise RuleBroken(
                f"A new price schedule must take effect after the latest one ({max(self.price_schedules)}).",
                code="price_schedule_not_later",
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
