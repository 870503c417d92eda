"""The competition list: one row per competition, for people scanning what is going on.

    reference, title, authority, procedure, standstill_regime, status, lots, tender_deadline,
    tenders, awarded_lots, awarded_bidders, last_event_at, version

`tenders` is the number of live tenders once they are opened and null before: tenders are
sealed, and this list never learns how many arrived, nor when. A tender submitted or
withdrawn changes nothing in the row: not `last_event_at` (the time of the latest event
other than a tender's) and not `version`, which is the competition's version from the
opening of its tenders on and null before it (each tender moves the competition's version,
so a version shown before the opening would count them: 2 after the criteria, 5 after the
next document means two tenders arrived in between). `awarded_lots`/`awarded_bidders` are
null until the award. Times are ISO 8601 text in UTC, so rows read the same from both stores
and export to JSON/CSV as they are. Rows are keyed by the competition's id.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from domain.kernel.metadata import LedgerAggregate
from domain.procurement.competition import Competition
from domain.procurement.vocabulary import AWARDED, CANCELLED, EVALUATION, OPEN, OUTCOME_DECIDED, STANDSTILL
from projections import follow
from projections.memo import id_text
from projections.tables import INTEGER, Column, Page, Table, TableReadModel, TableView

TABLE = Table(
    "competitions",
    (
        Column("reference"),
        Column("title"),
        Column("authority"),
        Column("procedure"),
        Column("standstill_regime"),
        Column("status"),
        Column("lots", INTEGER),
        Column("tender_deadline"),
        Column("tenders", INTEGER),
        Column("awarded_lots", INTEGER),
        Column("awarded_bidders", INTEGER),
        Column("last_event_at"),
        Column("version", INTEGER),
    ),
    order_by=("reference",),
)
COLUMNS = TABLE.shown
#: what would say who tendered, how many did and when, before the opening
SEALED_UNTIL_OPENING = (Competition.TenderSubmitted, Competition.TenderWithdrawn)


def _utc(value: datetime) -> str:
    # Already in UTC (as the ledger stamps events), astimezone would give the same datetime back.
    return value.isoformat() if value.tzinfo is timezone.utc else value.astimezone(timezone.utc).isoformat()


def _values(event: Any) -> dict[str, Any]:
    """What an event does to its row; every event moves the version and time, some more."""
    values: dict[str, Any] = {"version": event.originator_version, "last_event_at": _utc(event.timestamp)}
    if isinstance(event, Competition.Opened):
        values.update(
            reference=event.reference,
            title=event.title,
            authority=event.authority,
            procedure=event.procedure,
            standstill_regime=event.standstill_regime,
            status=OPEN,
            lots=len(event.lots),
            tender_deadline=_utc(event.tender_deadline),
        )
    elif isinstance(event, Competition.TendersOpened):
        values.update(status=EVALUATION, tenders=len(event.bidders))
    elif isinstance(event, Competition.OutcomeDecided):
        values.update(status=OUTCOME_DECIDED)
    elif isinstance(event, Competition.OutcomeLettersIssued):
        values.update(status=STANDSTILL)
    elif isinstance(event, Competition.ChallengeResolved):
        # An upheld challenge sets the decision aside: evaluation reopens.
        if event.outcome == "upheld":
            values.update(status=EVALUATION)
    elif isinstance(event, Competition.AwardConcluded):
        awarded = {lot: bidders for lot, bidders in event.awards.items() if bidders}
        values.update(
            status=AWARDED,
            awarded_lots=len(awarded),
            awarded_bidders=len({b for lot_bidders in awarded.values() for b in lot_bidders}),
        )
    elif isinstance(event, Competition.Cancelled):
        values.update(status=CANCELLED)
    return values


def competition_events() -> list[type]:
    return [v for v in vars(Competition).values() if isinstance(v, type) and issubclass(v, LedgerAggregate.Event)]


class CompetitionList(TableReadModel):
    name = "competitions"
    tables = (TABLE,)
    # It does not even read the tenders: nothing it shows may depend on them.
    followed = tuple(e for e in competition_events() if e not in SEALED_UNTIL_OPENING)

    def apply(self, event: Any, page: Page) -> None:
        cls = type(event)
        plain = _PLAIN.get(cls)
        if plain is None:
            plain = _PLAIN[cls] = not issubclass(cls, (*SEALED_UNTIL_OPENING, *_CHANGING))
        if not plain and isinstance(event, SEALED_UNTIL_OPENING):
            return  # the domain takes these only before the deadline, so always before the opening
        key = id_text(event.originator_id)
        # Most events (scores, checks, documents, ...) move only the version and time (`_values`).
        values = (
            {"version": event.originator_version, "last_event_at": _utc(event.timestamp)} if plain else _values(event)
        )
        row = None if isinstance(event, Competition.Opened) else page.get(TABLE.name, key)
        opened = isinstance(event, Competition.TendersOpened) or (row is not None and row["tenders"] is not None)
        if not opened:
            values["version"] = None
        if row is None:
            page.put(TABLE.name, key, values)
        else:
            # The row with these columns changed, as put({**row, **values}) would make it.
            page.update(TABLE.name, key, **values)


#: the events `_values` gives more than the version and time for
_CHANGING = (
    Competition.Opened, Competition.TendersOpened, Competition.OutcomeDecided, Competition.OutcomeLettersIssued,
    Competition.ChallengeResolved, Competition.AwardConcluded, Competition.Cancelled,
)
#: by event class: neither sealed nor one of `_CHANGING`
_PLAIN: dict[type, bool] = {}
def open_view(ledger: Any) -> TableView:
    """The list in the ledger's own database."""
    return follow.live_view(ledger, CompetitionList)


def catch_up(ledger: Any, view: TableView | None = None, *, page_size: int | None = None) -> int:
    """Bring the list up to date with the ledger; returns the number of events applied."""
    return follow.catch_up(ledger, CompetitionList(view or open_view(ledger)), page_size=page_size)


def competition_list(ledger: Any) -> list[dict[str, Any]]:
    """The rows, sorted by reference, as far as the list has caught up."""
    return open_view(ledger).rows()


