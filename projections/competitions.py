"""The competition list: one row per competition, for people scanning what is going on.

    reference, title, authority, acting_for, procedure, standstill_regime, status, lots,
    tender_deadline, tenders, awarded_lots, awarded_bidders, last_event_at, version

`acting_for` is the organisations the authority runs the competition for, as it names them
now, separated by single spaces (references hold none), in order; null when it names none.
With `authority` it says whose the competition is (`domain.access.sees_competition`).

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

from typing import Any

from domain.kernel.metadata import LedgerAggregate
from domain.event_view import SEALED_UNTIL_OPENED
from domain.procurement.competition import Competition
from domain.procurement.vocabulary import AWARDED, CANCELLED, EVALUATION, OPEN, OUTCOME_DECIDED, STANDSTILL
from projections import follow
from projections.handlers import handles
from projections.memo import id_text, utc
from projections.read_model import TableReadModel
from projections.tables import INTEGER, Column, Page, Table
from projections.views import TableView

TABLE = Table(
    "competitions",
    (
        Column("reference"),
        Column("title"),
        Column("authority"),
        Column("acting_for"),
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
#: what would say who tendered, how many did and when, before the opening (the one list)
SEALED_UNTIL_OPENING = SEALED_UNTIL_OPENED


def acting_for_text(named: list[str] | None) -> str | None:
    return " ".join(sorted(named)) if named else None


def acting_for_of(row: dict[str, Any]) -> list[str]:
    """The organisations a row's competition is run for (`acting_for_text` read back)."""
    return (row.get("acting_for") or "").split()


def competition_events() -> list[type]:
    return [v for v in vars(Competition).values() if isinstance(v, type) and issubclass(v, LedgerAggregate.Event)]


class CompetitionList(TableReadModel):
    name = "competitions"
    tables = (TABLE,)
    # It does not even read the tenders: nothing it shows may depend on them (and the domain
    # takes them only before the deadline, so always before the opening).
    followed = tuple(e for e in competition_events() if e not in SEALED_UNTIL_OPENING)

    @handles(Competition.Opened)
    def opened(self, event: Competition.Opened, page: Page) -> None:
        page.put(
            TABLE.name,
            id_text(event.originator_id),
            {
                "version": None,
                "last_event_at": utc(event.timestamp),
                "reference": event.reference,
                "title": event.title,
                "authority": event.authority,
                "acting_for": acting_for_text(getattr(event, "acting_for", None)),
                "procedure": event.procedure,
                "standstill_regime": event.standstill_regime,
                "status": OPEN,
                "lots": len(event.lots),
                "tender_deadline": utc(event.tender_deadline),
            },
        )

    @handles(Competition.ActingForChanged)
    def acting_for_changed(self, event: Competition.ActingForChanged, page: Page) -> None:
        self.moved(event, page, acting_for=acting_for_text(event.acting_for))

    @handles(*SEALED_UNTIL_OPENING)
    def sealed(self, event: Any, page: Page) -> None:
        """Not followed; should one come, it changes nothing (not even the version or time)."""

    @handles(Competition.Event)
    def moved(self, event: Any, page: Page, **values: Any) -> None:
        """Most events (scores, checks, documents, ...) move only the version and time; the
        handlers below change `values` too."""
        key = id_text(event.originator_id)
        row = page.get(TABLE.name, key)
        opened = values.get("tenders") is not None or (row is not None and row["tenders"] is not None)
        version = event.originator_version if opened else None
        if row is None:
            page.put(TABLE.name, key, {"version": version, "last_event_at": utc(event.timestamp), **values})
        else:
            # The row with these columns changed, as put({**row, **values}) would make it.
            page.update(TABLE.name, key, version=version, last_event_at=utc(event.timestamp), **values)

    @handles(Competition.TendersOpened)
    def tenders_opened(self, event: Competition.TendersOpened, page: Page) -> None:
        self.moved(event, page, status=EVALUATION, tenders=len(event.bidders))

    @handles(Competition.OutcomeDecided)
    def outcome_decided(self, event: Competition.OutcomeDecided, page: Page) -> None:
        self.moved(event, page, status=OUTCOME_DECIDED)

    @handles(Competition.OutcomeLettersIssued)
    def letters_issued(self, event: Competition.OutcomeLettersIssued, page: Page) -> None:
        self.moved(event, page, status=STANDSTILL)

    @handles(Competition.ChallengeResolved)
    def challenge_resolved(self, event: Competition.ChallengeResolved, page: Page) -> None:
        # An upheld challenge sets the decision aside: evaluation reopens.
        self.moved(event, page, **({"status": EVALUATION} if event.outcome == "upheld" else {}))

    @handles(Competition.AwardConcluded)
    def award_concluded(self, event: Competition.AwardConcluded, page: Page) -> None:
        awarded = {lot: bidders for lot, bidders in event.awards.items() if bidders}
        self.moved(
            event,
            page,
            status=AWARDED,
            awarded_lots=len(awarded),
            awarded_bidders=len({b for lot_bidders in awarded.values() for b in lot_bidders}),
        )

    @handles(Competition.Cancelled)
    def cancelled(self, event: Competition.Cancelled, page: Page) -> None:
        self.moved(event, page, status=CANCELLED)


def open_view(ledger: Any) -> TableView:
    """The list in the ledger's own database."""
    return follow.live_view(ledger, CompetitionList)


def catch_up(ledger: Any, view: TableView | None = None, *, page_size: int | None = None) -> int:
    """Bring the list up to date with the ledger; returns the number of events applied."""
    return follow.catch_up(ledger, CompetitionList(view or open_view(ledger)), page_size=page_size)


def competition_list(ledger: Any) -> list[dict[str, Any]]:
    """The rows, sorted by reference, as far as the list has caught up."""
    return open_view(ledger).rows()


