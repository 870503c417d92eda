"""The contract register: one row per contract, its current state at a glance.

    reference, framework, lot, provider, status, original_value, current_value,
    cumulative_variation, variations, escalation_stage, referrals_suspended, term_end,
    last_event_at, version

Values are in pence; `cumulative_variation` counts variations only (as `contract_state`'s
`value.cumulative_variation`), while `current_value` also moves with extensions.
`referrals_suspended` is "yes" or "no"; `escalation_stage` is the ladder stage's name, null
when not escalated. Times are ISO 8601 text in UTC, so rows read the same from both stores.

Rows are keyed by the contract's id; the table also keeps each contract's escalation ladder
(a hidden column), so de-escalation can name the stage below. Variations, extensions and
de-escalation derive their values from the row as it stands inside the page's transaction.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from domain.contracts.contract import AWARDED, EXPIRED, MOBILISED, SIGNED, TERMINATED, Contract
from domain.kernel.metadata import LedgerAggregate
from projections import follow
from projections.memo import id_text
from projections.tables import INTEGER, Column, Page, Table, TableReadModel, TableView

TABLE = Table(
    "contract_register",
    (
        Column("ladder", hidden=True),
        Column("reference"),
        Column("framework"),
        Column("lot"),
        Column("provider"),
        Column("status"),
        Column("original_value", INTEGER),
        Column("current_value", INTEGER),
        Column("cumulative_variation", INTEGER),
        Column("variations", INTEGER),
        Column("escalation_stage"),
        Column("referrals_suspended"),
        Column("term_end"),
        Column("last_event_at"),
        Column("version", INTEGER),
    ),
    order_by=("reference",),
)
COLUMNS = TABLE.shown


def _utc(value: datetime) -> str:
    # Already in UTC (as the ledger stamps events), astimezone would give the same datetime back.
    return value.isoformat() if value.tzinfo is timezone.utc else value.astimezone(timezone.utc).isoformat()


def _stage_below(stage: str, ladder: list[str]) -> str | None:
    index = ladder.index(stage) - 1
    return ladder[index] if index >= 0 else None


def register_row(event: Any, row: dict[str, Any] | None) -> dict[str, Any]:
    """The row after `event`, from the row before it (None before the award)."""
    values: dict[str, Any] = dict(row or {})
    values.update(version=event.originator_version, last_event_at=_utc(event.timestamp))
    if isinstance(event, Contract.Awarded):
        values.update(
            ladder=json.dumps(list(event.ladder)),
            reference=event.reference,
            framework=event.framework,
            lot=event.lot,
            provider=event.provider,
            status=AWARDED,
            original_value=event.value,
            current_value=event.value,
            cumulative_variation=0,
            variations=0,
            escalation_stage=None,
            referrals_suspended="no",
            term_end=event.ends_on,
        )
    elif isinstance(event, Contract.Signed):
        values.update(status=SIGNED)
    elif isinstance(event, Contract.Mobilised):
        values.update(status=MOBILISED)
    elif isinstance(event, Contract.Varied):
        values.update(
            current_value=values["current_value"] + event.value_change,
            cumulative_variation=values["cumulative_variation"] + event.value_change,
            variations=values["variations"] + 1,
        )
    elif isinstance(event, Contract.Novated):
        values.update(provider=event.to_provider)
    elif isinstance(event, Contract.Extended):
        values.update(term_end=event.new_end, current_value=values["current_value"] + event.value_change)
    elif isinstance(event, Contract.ReferralsSuspended):
        values.update(referrals_suspended="yes")
    elif isinstance(event, Contract.ReferralsResumed):
        values.update(referrals_suspended="no")
    elif isinstance(event, Contract.Escalated):
        values.update(escalation_stage=event.stage)
    elif isinstance(event, Contract.DeEscalated):
        values.update(escalation_stage=_stage_below(event.from_stage, json.loads(values["ladder"])))
    elif isinstance(event, Contract.Terminated):
        values.update(status=TERMINATED)
    elif isinstance(event, Contract.Expired):
        values.update(status=EXPIRED)
    # Every other contract event (homes, plans, milestones, risks, ...) moves only the version and time.
    return values


def contract_events() -> list[type]:
    return [v for v in vars(Contract).values() if isinstance(v, type) and issubclass(v, LedgerAggregate.Event)]


class ContractRegister(TableReadModel):
    name = "contracts"
    tables = (TABLE,)
    followed = tuple(contract_events())

    def apply(self, event: Any, page: Page) -> None:
        key = id_text(event.originator_id)
        if _moves_only_version(type(event)):
            # Most of a contract's events (homes, plans, milestones, risks, ...): what
            # `register_row` gives for them is the row with these two columns changed.
            page.update(TABLE.name, key, version=event.originator_version, last_event_at=_utc(event.timestamp))
            return
        before = None if isinstance(event, Contract.Awarded) else page.get(TABLE.name, key)
        page.put(TABLE.name, key, register_row(event, before))


#: the events `register_row` changes more than the version and time for
_CHANGING = (
    Contract.Awarded, Contract.Signed, Contract.Mobilised, Contract.Varied, Contract.Novated, Contract.Extended,
    Contract.ReferralsSuspended, Contract.ReferralsResumed, Contract.Escalated, Contract.DeEscalated,
    Contract.Terminated, Contract.Expired,
)
#: by event class: whether it moves only the version and time (see `_CHANGING`)
_ONLY_VERSION: dict[type, bool] = {}


def _moves_only_version(cls: type) -> bool:
    found = _ONLY_VERSION.get(cls)
    if found is None:
        found = _ONLY_VERSION[cls] = not issubclass(cls, _CHANGING)
    return found


def open_view(ledger: Any) -> TableView:
    """The register in the ledger's own database."""
    return follow.live_view(ledger, ContractRegister)


def catch_up(ledger: Any, view: TableView | None = None, *, page_size: int | None = None) -> int:
    """Bring the register up to date with the ledger; returns the number of events applied."""
    return follow.catch_up(ledger, ContractRegister(view or open_view(ledger)), page_size=page_size)


def contract_register(ledger: Any) -> list[dict[str, Any]]:
    """The rows, sorted by reference, as far as the register has caught up."""
    return open_view(ledger).rows()
