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
from typing import Any

from domain.contracts.contract import AWARDED, EXPIRED, MOBILISED, SIGNED, TERMINATED, Contract
from domain.kernel.metadata import LedgerAggregate
from projections import follow
from projections.handlers import handles
from projections.memo import id_text, utc
from projections.read_model import TableReadModel
from projections.tables import INTEGER, Column, Page, Table
from projections.views import TableView

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


def _stage_below(stage: str, ladder: list[str]) -> str | None:
    index = ladder.index(stage) - 1
    return ladder[index] if index >= 0 else None


def contract_events() -> list[type]:
    return [v for v in vars(Contract).values() if isinstance(v, type) and issubclass(v, LedgerAggregate.Event)]


class ContractRegister(TableReadModel):
    name = "contracts"
    tables = (TABLE,)
    followed = tuple(contract_events())

    @handles(Contract.Awarded)
    def awarded(self, event: Contract.Awarded, page: Page) -> None:
        page.put(
            TABLE.name,
            id_text(event.originator_id),
            {
                "version": event.originator_version,
                "last_event_at": utc(event.timestamp),
                "ladder": json.dumps(list(event.ladder)),
                "reference": event.reference,
                "framework": event.framework,
                "lot": event.lot,
                "provider": event.provider,
                "status": AWARDED,
                "original_value": event.value,
                "current_value": event.value,
                "cumulative_variation": 0,
                "variations": 0,
                "escalation_stage": None,
                "referrals_suspended": "no",
                "term_end": event.ends_on,
            },
        )

    @handles(Contract.Event)
    def moved(self, event: Any, page: Page, **values: Any) -> None:
        """Most of a contract's events (homes, plans, milestones, risks, ...) move only the
        version and time; the handlers below change `values` too."""
        page.update(
            TABLE.name, id_text(event.originator_id), version=event.originator_version, last_event_at=utc(event.timestamp), **values
        )

    @staticmethod
    def _row(event: Any, page: Page) -> dict[str, Any]:
        """The contract's row as it stands inside the page's transaction."""
        return page.get(TABLE.name, id_text(event.originator_id))  # type: ignore[return-value]  # made at the award

    @handles(Contract.Signed)
    def signed(self, event: Contract.Signed, page: Page) -> None:
        self.moved(event, page, status=SIGNED)

    @handles(Contract.Mobilised)
    def mobilised(self, event: Contract.Mobilised, page: Page) -> None:
        self.moved(event, page, status=MOBILISED)

    @handles(Contract.Varied)
    def varied(self, event: Contract.Varied, page: Page) -> None:
        row = self._row(event, page)
        self.moved(
            event,
            page,
            current_value=row["current_value"] + event.value_change,
            cumulative_variation=row["cumulative_variation"] + event.value_change,
            variations=row["variations"] + 1,
        )

    @handles(Contract.Novated)
    def novated(self, event: Contract.Novated, page: Page) -> None:
        self.moved(event, page, provider=event.to_provider)

    @handles(Contract.Extended)
    def extended(self, event: Contract.Extended, page: Page) -> None:
        row = self._row(event, page)
        self.moved(event, page, term_end=event.new_end, current_value=row["current_value"] + event.value_change)

    @handles(Contract.ReferralsSuspended)
    def referrals_suspended(self, event: Contract.ReferralsSuspended, page: Page) -> None:
        self.moved(event, page, referrals_suspended="yes")

    @handles(Contract.ReferralsResumed)
    def referrals_resumed(self, event: Contract.ReferralsResumed, page: Page) -> None:
        self.moved(event, page, referrals_suspended="no")

    @handles(Contract.Escalated)
    def escalated(self, event: Contract.Escalated, page: Page) -> None:
        self.moved(event, page, escalation_stage=event.stage)

    @handles(Contract.DeEscalated)
    def de_escalated(self, event: Contract.DeEscalated, page: Page) -> None:
        ladder = json.loads(self._row(event, page)["ladder"])
        self.moved(event, page, escalation_stage=_stage_below(event.from_stage, ladder))

    @handles(Contract.Terminated)
    def terminated(self, event: Contract.Terminated, page: Page) -> None:
        self.moved(event, page, status=TERMINATED)

    @handles(Contract.Expired)
    def expired(self, event: Contract.Expired, page: Page) -> None:
        self.moved(event, page, status=EXPIRED)


def open_view(ledger: Any) -> TableView:
    """The register in the ledger's own database."""
    return follow.live_view(ledger, ContractRegister)


def catch_up(ledger: Any, view: TableView | None = None, *, page_size: int | None = None) -> int:
    """Bring the register up to date with the ledger; returns the number of events applied."""
    return follow.catch_up(ledger, ContractRegister(view or open_view(ledger)), page_size=page_size)


def contract_register(ledger: Any) -> list[dict[str, Any]]:
    """The rows, sorted by reference, as far as the register has caught up."""
    return open_view(ledger).rows()
