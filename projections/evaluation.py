"""The evaluation trail: everything behind a competition's scores, and the score matrix.

A procurement lead defends an award "challenge free" (seed 000 s.5) by showing who evaluated,
that they were trained and declared their interests, what each of them scored and why, how
the panel moderated, which compliance and financial checks each bidder passed, what was
clarified with a bidder, and that the decided outcome follows from all of it. These tables
say that, one fact per row, from the Competition's events alone. Times are ISO 8601 text in
UTC; money is integer pence; yes/no columns are the text "yes" or "no". Every table has a
`competition` column (the competition's reference), so the API can list one competition.

Tenders are sealed: nothing here comes from a tender before `TendersOpened` (which lots each
bidder entered is kept out of sight, in a hidden column, until then) and nothing at all from
a tender's content. Personal data (an evaluator's name and e-mail, a declaration's note) is
never copied: people appear by their opaque account id.

Tables (rows keyed by text built from the references shown, joined with "|"):

`evaluation_rounds` - one row per competition: `title`, `moderation_spread` (the largest gap
between individual scores the panel may average without moderating), `criteria_version`,
`quality_threshold` (percent), `tenders_opened_at`, `bidders` (live tenders at opening, null
before), `scores_recorded`, `moderations`, `outcome_decided_at` (null again if a challenge
is upheld) and `last_event_at` (of the evaluation events shown here, never of a tender).

`evaluation_evaluators` - one row per evaluator: `organisation`, `panels` (comma-separated:
compliance, technical, financial), `appointed_at` (first appointment), `trained_at`,
`declared_bidders` and `conflicts` (how many bidders they declared on, and were conflicted with).

`evaluation_declarations` - one row per evaluator and bidder declared on: `conflicted`,
`declared_at` (first declaration), `conflict_declared_at` (when it became a conflict; a
conflict can never be withdrawn, so this is the whole history), `note_recorded` (the note is
the evaluator's personal data and stays in the event).

`evaluation_compliance` - one row per ComplianceChecked: `bidder`, `compliance_check` (cqc_registration,
ico_registration, insurance, exclusion_grounds), `passed`, `note`, `checked_by`,
`checked_at`, `revision` (1 for the first record of that check) and `superseded_at` (when a
later record replaced it; null for the one that stands).

`evaluation_scores` - one row per ScoreRecorded: `bidder`, `criterion`, `panel`, `evaluator`,
`lots` (the lots the bidder entered, comma-separated: a score is per bidder and criterion and
counts in every lot the bidder entered), `score`, `max_score`, `justification`, `revision`,
`reason` (given when an evaluator changes a score), `recorded_at`, `superseded_at`,
`counted` ("no" once the evaluator declares a conflict with the bidder: such scores are left
out of the agreed score), and `moderated` with `moderated_score`/`moderated_at`: once the
panel moderates the bidder's criterion, every score row of it says so, with the agreed value
beside the original (which is never overwritten). The API shows an evaluator other
evaluators' scores only where `moderated` is "yes" (and never a conflicted bidder's).

`evaluation_moderations` - one row per ScoreModerated: `bidder`, `criterion`, `round`
(1 for the first moderation), `individual_scores` ("evaluator=score" pairs, comma-separated,
the counted scores the panel saw), `lowest`, `highest`, `previous_score` (the earlier
moderated score when re-moderated, else null), `score` (agreed), `rationale`, `reason` (why
it was re-moderated), `moderator`, `moderated_at`.

`evaluation_finances` - one row per bidder assessed: `evaluator`, `credit_score` (0-100),
`current_ratio`, `gearing`, `operating_margin` (ratios from the accounts, as the Financial
Assessment Tool computes them; null when undefined), `result` ("pass" or "pcg_required"),
`failures` (the thresholds missed, "; "-separated), `over_cap_lots`, `assessed_at`,
`assessments` (how many times assessed), and the parent company guarantee: `guarantor`,
`guarantor_company_number`, `guarantee_offered_at`, `guarantee_executed_at`.

`evaluation_clarifications` - one row per clarification with a bidder during evaluation:
`clarification` (EC001...), `bidder`, `question`, `issued_by`, `issued_at`, `response`,
`responded_at`.

`evaluation_matrix` - the score matrix: one cell per lot, bidder (who entered the lot) and
published criterion, from the opening of the tenders. `panel`, `weight` (percent),
`max_score`; `scores` (individual scores that count: the latest of each evaluator not
conflicted with the bidder), `lowest`, `highest`, `spread` (highest - lowest); `state`:
  - "awaiting_scores": nobody has scored it yet;
  - "agreed": the counted scores are within the moderation spread, so the agreed score is
    their mean (e.g. 3 and 4 with a spread of 1: agreed 3.50);
  - "needs_moderation": they spread wider (e.g. 2 and 5 with a spread of 1): no agreed score
    until the panel moderates;
  - "moderated": the panel's score stands (e.g. 4), whatever the individual scores.
`agreed_score` is that score to two decimal places (half up, as the outcome shows it; null
when there is none), `weighted_points` = agreed / max_score x weight (e.g. 3.50 of 5 at a
weight of 60 is 42.0 points) and `decided_score` the score the OutcomeDecided event gave.
The matrix does not check that every eligible evaluator has scored: the outcome refuses to
be decided until they have, so a decided score always rests on complete scoring.

`evaluation_standings` - one row per lot and bidder who entered it: `compliance` ("passed",
"failed" or "incomplete" until all four checks are recorded), `criteria` and
`criteria_agreed`, `weighted_score` (the sum of the cells' exact agreed scores / max x
weight, to two decimal places, null until every criterion is agreed; e.g. T1 3.50/5 x 60 +
T2 4/5 x 40 = 42 + 32 = 74.00), `financial_result` ("pass", "pcg_required", or
"pass_with_guarantee" once a required guarantee is executed), `offered_price` (pence, for a
capped lot) and `over_cap`; then from the OutcomeDecided event: `decided_at`, `passed`,
`decided_weighted_score`, `rank` (among the bidders that qualified in the lot; equal scores
share a rank), `result` ("successful"/"unsuccessful"), `reasons` ("; "-separated), and
`agrees_with_decision`: "yes" when the decided weighted score and every decided criterion
score equal the trail's own (the check an auditor wants), "no" if not, null when the decision
gave no scores (a bidder failing compliance). An upheld challenge sets the decision aside:
these columns become null until the next one.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from domain.kernel.metadata import LedgerAggregate
from domain.procurement.competition import Competition
from domain.procurement.outcome import agreed_score
from domain.procurement.vocabulary import COMPLIANCE_CHECKS
from projections.memo import id_text, parsed
from projections.tables import INTEGER, REAL, Column, Page, Table, TableReadModel

_C = Column


def _table(name: str, *columns: Column, order_by: tuple[str, ...], indexes: tuple[tuple[str, ...], ...] = ()) -> Table:
    # Every list is of one competition, so every index leads with it.
    return Table(name, (_C("competition"), *columns), order_by=("competition", *order_by), indexes=indexes or (("competition",),))


ROUNDS = Table(
    "evaluation_rounds",
    (
        _C("criteria", hidden=True),  # JSON: the published criteria, by id
        _C("tenders", hidden=True),  # JSON: bidder -> lots entered (sealed until the opening)
        _C("conflicts", hidden=True),  # JSON: bidder -> evaluators who declared a conflict with it
        _C("competition"),
        _C("title"),
        _C("moderation_spread", INTEGER),
        _C("criteria_version", INTEGER),
        _C("quality_threshold", INTEGER),
        _C("tenders_opened_at"),
        _C("bidders", INTEGER),
        _C("scores_recorded", INTEGER),
        _C("moderations", INTEGER),
        _C("outcome_decided_at"),
        _C("last_event_at"),
    ),
    order_by=("competition",),
    indexes=(("competition",),),
)
EVALUATORS = _table(
    "evaluation_evaluators",
    _C("evaluator"),
    _C("organisation"),
    _C("panels"),
    _C("appointed_at"),
    _C("trained_at"),
    _C("declared_bidders", INTEGER),
    _C("conflicts", INTEGER),
    order_by=("evaluator",),
)
DECLARATIONS = _table(
    "evaluation_declarations",
    _C("evaluator"),
    _C("bidder"),
    _C("conflicted"),
    _C("declared_at"),
    _C("conflict_declared_at"),
    _C("note_recorded"),
    order_by=("evaluator", "bidder"),
    indexes=(("competition", "bidder"),),
)
COMPLIANCE = _table(
    "evaluation_compliance",
    _C("bidder"),
    _C("compliance_check"),
    _C("passed"),
    _C("note"),
    _C("checked_by"),
    _C("checked_at"),
    _C("revision", INTEGER),
    _C("superseded_at"),
    order_by=("bidder", "compliance_check", "revision"),
    indexes=(("competition", "bidder"),),
)
SCORES = _table(
    "evaluation_scores",
    _C("bidder"),
    _C("criterion"),
    _C("panel"),
    _C("evaluator"),
    _C("lots"),
    _C("score", INTEGER),
    _C("max_score", INTEGER),
    _C("justification"),
    _C("revision", INTEGER),
    _C("reason"),
    _C("recorded_at"),
    _C("superseded_at"),
    _C("counted"),
    _C("moderated"),
    _C("moderated_score", INTEGER),
    _C("moderated_at"),
    order_by=("bidder", "criterion", "evaluator", "revision"),
    indexes=(("competition", "evaluator"), ("competition", "bidder", "criterion")),
)
MODERATIONS = _table(
    "evaluation_moderations",
    _C("bidder"),
    _C("criterion"),
    _C("round", INTEGER),
    _C("individual_scores"),
    _C("lowest", INTEGER),
    _C("highest", INTEGER),
    _C("previous_score", INTEGER),
    _C("score", INTEGER),
    _C("rationale"),
    _C("reason"),
    _C("moderator"),
    _C("moderated_at"),
    order_by=("bidder", "criterion", "round"),
)
FINANCES = _table(
    "evaluation_finances",
    _C("bidder"),
    _C("evaluator"),
    _C("credit_score", INTEGER),
    _C("current_ratio", REAL),
    _C("gearing", REAL),
    _C("operating_margin", REAL),
    _C("result"),
    _C("failures"),
    _C("over_cap_lots"),
    _C("assessed_at"),
    _C("assessments", INTEGER),
    _C("guarantor"),
    _C("guarantor_company_number"),
    _C("guarantee_offered_at"),
    _C("guarantee_executed_at"),
    order_by=("bidder",),
)
CLARIFICATIONS = _table(
    "evaluation_clarifications",
    _C("clarification"),
    _C("bidder"),
    _C("question"),
    _C("issued_by"),
    _C("issued_at"),
    _C("response"),
    _C("responded_at"),
    order_by=("clarification",),
)
MATRIX = _table(
    "evaluation_matrix",
    _C("individual", hidden=True),  # JSON: evaluator -> [latest score, its revision], conflicted or not
    _C("agreed_exact", hidden=True),  # the agreed score as an exact decimal, for the weighted total
    _C("lot"),
    _C("bidder"),
    _C("criterion"),
    _C("panel"),
    _C("weight", INTEGER),
    _C("max_score", INTEGER),
    _C("scores", INTEGER),
    _C("lowest", INTEGER),
    _C("highest", INTEGER),
    _C("spread", INTEGER),
    _C("state"),
    _C("moderated_score", INTEGER),
    _C("agreed_score", REAL),
    _C("weighted_points", REAL),
    _C("decided_score", REAL),
    order_by=("lot", "bidder", "criterion"),
    indexes=(("competition", "lot"),),
)
STANDINGS = _table(
    "evaluation_standings",
    _C("checks", hidden=True),  # JSON: check -> passed
    _C("lot"),
    _C("bidder"),
    _C("compliance"),
    _C("criteria", INTEGER),
    _C("criteria_agreed", INTEGER),
    _C("weighted_score", REAL),
    _C("financial_result"),
    _C("offered_price", INTEGER),
    _C("over_cap"),
    _C("decided_at"),
    _C("passed"),
    _C("decided_weighted_score", REAL),
    _C("rank", INTEGER),
    _C("result"),
    _C("reasons"),
    _C("agrees_with_decision"),
    order_by=("lot", "bidder"),
    indexes=(("competition", "lot"), ("competition", "bidder")),
)
TABLES = (ROUNDS, STANDINGS, MATRIX, SCORES, MODERATIONS, EVALUATORS, DECLARATIONS, COMPLIANCE, FINANCES, CLARIFICATIONS)
DECISION_COLUMNS = ("decided_at", "passed", "decided_weighted_score", "rank", "result", "reasons", "agrees_with_decision")

CENT = Decimal("0.01")


#: the last time `_utc` was given and its text (one tuple, replaced whole, so threads see a
#: matching pair): an event's handler asks for its own time again
_LAST_UTC: tuple[Any, str] = (None, "")


def _utc(value: datetime) -> str:
    global _LAST_UTC
    last = _LAST_UTC
    if value is last[0]:  # the very same (immutable) datetime, held here, so never another one at its address
        return last[1]
    # Already in UTC (as the ledger stamps events), astimezone would give the same datetime back.
    text = value.isoformat() if value.tzinfo is timezone.utc else value.astimezone(timezone.utc).isoformat()
    _LAST_UTC = (value, text)
    return text


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _two_places(value: Decimal) -> Decimal:
    # As the outcome rounds its scores, so the matrix and the decision can be compared exactly.
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _ratio(value: str | None) -> float | None:
    return None if value is None else float(value)


def _key(*parts: Any) -> str:
    return "|".join(map(str, parts))


#: parsed hidden JSON columns by their text (see `_parsed`)




def _meta(event: Any) -> dict[str, Any]:
    return getattr(event, "meta", None) or {}


def evaluation_events() -> list[type]:
    return [v for v in vars(Competition).values() if isinstance(v, type) and issubclass(v, LedgerAggregate.Event)]


class EvaluationTrail(TableReadModel):
    name = "evaluation"
    tables = TABLES
    followed = tuple(evaluation_events())

    def apply(self, event: Any, page: Page) -> None:
        round_key = id_text(event.originator_id)
        if isinstance(event, Competition.Opened):
            page.put(
                ROUNDS.name,
                round_key,
                {
                    "competition": event.reference,
                    "title": event.title,
                    "moderation_spread": event.moderation_spread,
                    "criteria_version": 0,
                    "criteria": "{}",
                    "tenders": "{}",
                    "conflicts": "{}",
                    "scores_recorded": 0,
                    "moderations": 0,
                    "last_event_at": _utc(event.timestamp),
                },
            )
            _rounds(page).pop(round_key, None)
            return
        handler = _HANDLERS.get(type(event))
        if handler is None:
            return  # documents, notices, public clarifications, letters, award: not part of the evaluation
        rounds = _rounds(page)
        rnd = rounds.get(round_key)
        if rnd is None:
            rnd = page.get(ROUNDS.name, round_key)
            if rnd is None:  # pragma: no cover - every competition starts with Opened
                return
            rounds[round_key] = rnd
        sealed = isinstance(event, (Competition.TenderSubmitted, Competition.TenderWithdrawn))
        if not sealed:
            rnd["last_event_at"] = _utc(event.timestamp)
        r = _Round(page, rnd)
        if type(event) not in _KEEPS_PENDING:
            r.refresh()
        handler(r, event)

    def finish(self, page: Page) -> None:
        # The cells and standings the page's scores moved, worked out once each (see `_Round.recompute`).
        rounds = _rounds(page)
        for round_key in sorted(page.notes.get(_PENDING, ())):
            rnd = rounds.get(round_key) or page.get(ROUNDS.name, round_key)
            if rnd is not None:
                _Round(page, rnd).refresh()
        page.notes.pop(_PENDING, None)
        for round_key, rnd in page.notes.pop(_ROUNDS, {}).items():
            page.put(ROUNDS.name, round_key, rnd)


#: page.notes key: the `evaluation_rounds` rows this page's events moved (see `_rounds`)
_ROUNDS = "evaluation:rounds"


def _rounds(page: Page) -> dict[str, dict[str, Any]]:
    """The competitions' rows moved in this page, by key, as they stand: this read model's own
    dicts, which the handlers change in place event after event, put once when the page
    finishes rather than read, copied and put again for every event. Only `apply` and
    `finish` read these rows within a page, through here."""
    rounds = page.notes.get(_ROUNDS)
    if rounds is None:
        rounds = page.notes[_ROUNDS] = {}
    return rounds


#: page.notes key: competition id -> its notes (see `_Round.pending`)
_PENDING = "evaluation:pending"


class _Round:
    """One competition's evaluation rows within a page: the helpers the handlers share."""

    def __init__(self, page: Page, row: dict[str, Any]) -> None:
        self.page = page
        self.row = row
        self.ref = row["competition"]
        self.key = row["key"]

    def json(self, column: str) -> Any:
        """The column's JSON value: shared with other readers of the same text, so never change it (copy it)."""
        return parsed(self.row[column])

    def set_json(self, column: str, value: Any) -> None:
        self.row[column] = json.dumps(value, sort_keys=True)

    @property
    def criteria(self) -> dict[str, dict[str, Any]]:
        return self.json("criteria")

    @property
    def tenders(self) -> dict[str, list[str]]:
        return self.json("tenders")

    def lots_of(self, bidder: str) -> list[str]:
        return self.tenders.get(bidder, [])

    def conflicted(self, bidder: str) -> set[str]:
        return set(self.json("conflicts").get(bidder, []))

    def cell_key(self, lot: str, bidder: str, criterion: str) -> str:
        return _key(self.ref, lot, bidder, criterion)

    def cells(self, bidder: str, criterion: str) -> list[tuple[str, dict[str, Any]]]:
        found = []
        for lot in self.lots_of(bidder):
            key = self.cell_key(lot, bidder, criterion)
            cell = self.page.get(MATRIX.name, key)
            if cell is not None:
                found.append((key, cell))
        return found

    def standings(self, bidder: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        found = []
        tenders = self.tenders
        if bidder is None:
            entered = sorted(tenders.items())
        else:
            entered = [(bidder, tenders[bidder])] if bidder in tenders else []
        for b, lots in entered:
            for lot in lots:
                key = _key(self.ref, lot, b)
                row = self.page.get(STANDINGS.name, key)
                if row is not None:
                    found.append((key, row))
        return found

    def recompute(self, bidder: str, criterion: str) -> None:
        """Refresh the bidder's cells for the criterion from their scores, then its standings.

        Noted here and done by `refresh`: once per page for all the scores that moved a cell
        (`finish`), or before an event that reads or resets the cells and standings (see
        `_KEEPS_PENDING`). A cell's derived columns follow from its scores, its moderated score,
        the bidder's conflicts and the spread allowed, as they stand, and a standing's from its
        cells: so working them out once from the rows as they end the page (or before the event
        that reads them) gives what working them out after every score gave.
        """
        pending = self.pending()
        pending[0][bidder, criterion] = None
        pending[1][bidder] = None

    def pending(self) -> tuple[dict[tuple[str, str], None], dict[str, None], dict[str, dict[str, list[int]]]]:
        """This competition's notes in the page: the (bidder, criterion) cells and the bidders to
        refresh, and the cells' individual scores by cell key where a score has moved them since
        (encoded into the cell's `individual` column by `refresh`)."""
        return self.page.notes.setdefault(_PENDING, {}).setdefault(self.key, ({}, {}, {}))

    def refresh(self) -> None:
        """Work out the cells and standings `recompute` noted for this competition (in the order noted)."""
        notes = self.page.notes.get(_PENDING)
        if not notes or self.key not in notes:
            return
        cells, bidders, individuals = notes.pop(self.key)
        encoded: list[tuple[dict[str, list[int]], str]] = []  # a score's scores are shared by the bidder's lots
        for bidder, criterion in cells:
            self._recompute_cells(bidder, criterion, individuals, encoded)
        for bidder in bidders:
            self.restand(bidder)

    def _recompute_cells(
        self,
        bidder: str,
        criterion: str,
        individuals: dict[str, dict[str, list[int]]],
        encoded: list[tuple[dict[str, list[int]], str]],
    ) -> None:
        conflicted = self.conflicted(bidder)
        for key, cell in self.cells(bidder, criterion):
            scores = individuals.get(key)
            if scores is None:
                scores = parsed(cell["individual"])
            else:
                text = next((t for d, t in encoded if d is scores), None)
                if text is None:
                    text = json.dumps(scores, sort_keys=True)
                    encoded.append((scores, text))
                cell["individual"] = text
                scores = dict(sorted(scores.items()))  # in the order the column's text gives them
            individual = {e: s for e, (s, _rev) in scores.items() if e not in conflicted}
            # the domain's own rule, so the matrix and the outcome cannot disagree
            state, value = agreed_score(individual, cell["moderated_score"], self.row["moderation_spread"])
            values = list(individual.values())
            cell.update(
                scores=len(values),
                lowest=min(values) if values else None,
                highest=max(values) if values else None,
                spread=(max(values) - min(values)) if values else None,
                state=state,
                agreed_exact=None if value is None else str(value),
                agreed_score=None if value is None else float(_two_places(value)),
                weighted_points=None if value is None else float(value / Decimal(cell["max_score"]) * Decimal(cell["weight"])),
            )
            self.page.put(MATRIX.name, key, cell)

    def restand(self, bidder: str) -> None:
        """The bidder's weighted total in each lot, from the matrix (as `compute_outcome` sums it)."""
        criteria = self.criteria
        for key, row in self.standings(bidder):
            total, agreed_count = Decimal(0), 0
            for crit_id, crit in sorted(criteria.items()):
                cell = self.page.get(MATRIX.name, self.cell_key(row["lot"], bidder, crit_id))
                if cell is None or cell["agreed_exact"] is None:
                    continue
                agreed_count += 1
                total += Decimal(cell["agreed_exact"]) / Decimal(crit["max_score"]) * Decimal(crit["weight"])
            complete = agreed_count == len(criteria)
            row.update(criteria_agreed=agreed_count, weighted_score=float(_two_places(total)) if complete else None)
            self.page.put(STANDINGS.name, key, row)

    def score_rows(self, bidder: str, criterion: str, individual: dict[str, list[int]]) -> list[tuple[str, dict[str, Any]]]:
        """Every score row (each revision) of the bidder's criterion."""
        found = []
        for evaluator, (_score, last) in sorted(individual.items()):
            for revision in range(1, last + 1):
                key = _key(self.ref, bidder, criterion, evaluator, f"{revision:03d}")
                row = self.page.get(SCORES.name, key)
                if row is not None:
                    found.append((key, row))
        return found

    def individual(self, bidder: str, criterion: str) -> dict[str, list[int]]:
        """The individual scores of the bidder's criterion (its first lot's cell), as scores have moved them."""
        notes = self.page.notes.get(_PENDING)
        individuals = notes[self.key][2] if notes and self.key in notes else {}
        for lot in self.lots_of(bidder):
            key = self.cell_key(lot, bidder, criterion)
            if key in individuals:
                return individuals[key]
            cell = self.page.get(MATRIX.name, key)
            if cell is not None:
                return parsed(cell["individual"])
        return {}


def _criteria_published(r: _Round, e: Competition.CriteriaPublished) -> None:
    r.set_json("criteria", {c["id"]: c for c in e.criteria})
    r.row.update(criteria_version=e.version, quality_threshold=e.quality_threshold)


def _tender_submitted(r: _Round, e: Competition.TenderSubmitted) -> None:
    tenders = dict(r.tenders)
    tenders[e.bidder] = list(e.lots)
    r.set_json("tenders", tenders)


def _tender_withdrawn(r: _Round, e: Competition.TenderWithdrawn) -> None:
    tenders = dict(r.tenders)
    tenders.pop(e.bidder, None)
    r.set_json("tenders", tenders)


def _tenders_opened(r: _Round, e: Competition.TendersOpened) -> None:
    # The opening unseals who tendered for which lots: only now do bidders get rows.
    tenders = {b: lots for b, lots in r.tenders.items() if b in set(e.bidders)}
    r.set_json("tenders", tenders)
    r.row.update(tenders_opened_at=_utc(e.timestamp), bidders=len(e.bidders))
    criteria = r.criteria
    for bidder, lots in sorted(tenders.items()):
        for lot in lots:
            r.page.put(
                STANDINGS.name,
                _key(r.ref, lot, bidder),
                {"competition": r.ref, "lot": lot, "bidder": bidder, "checks": "{}", "compliance": "incomplete",
                 "criteria": len(criteria), "criteria_agreed": 0},
            )
            for crit_id, crit in sorted(criteria.items()):
                r.page.put(
                    MATRIX.name,
                    r.cell_key(lot, bidder, crit_id),
                    {"competition": r.ref, "lot": lot, "bidder": bidder, "criterion": crit_id, "panel": crit["panel"],
                     "weight": crit["weight"], "max_score": crit["max_score"], "individual": "{}", "scores": 0,
                     "state": "awaiting_scores"},
                )


def _evaluator_appointed(r: _Round, e: Competition.EvaluatorAppointed) -> None:
    key = _key(r.ref, e.evaluator)
    row = r.page.get(EVALUATORS.name, key) or {
        "competition": r.ref, "evaluator": e.evaluator, "organisation": e.evaluator_org,
        "appointed_at": _utc(e.timestamp), "declared_bidders": 0, "conflicts": 0,
    }
    panels = set(filter(None, (row.get("panels") or "").split(","))) | {e.panel}
    row["panels"] = ",".join(sorted(panels))
    r.page.put(EVALUATORS.name, key, row)


def _evaluator_trained(r: _Round, e: Competition.EvaluatorTrained) -> None:
    r.page.update(EVALUATORS.name, _key(r.ref, e.evaluator), trained_at=_utc(e.timestamp))


def _conflicts_declared(r: _Round, e: Competition.ConflictsDeclared) -> None:
    at = _utc(e.timestamp)
    evaluator_key = _key(r.ref, e.evaluator)
    evaluator = r.page.get(EVALUATORS.name, evaluator_key) or {"competition": r.ref, "evaluator": e.evaluator}
    conflicts = dict(r.json("conflicts"))
    newly_conflicted = []
    for d in e.declarations:
        key = _key(r.ref, e.evaluator, d["bidder"])
        row = r.page.get(DECLARATIONS.name, key)
        if row is None:
            row = {"competition": r.ref, "evaluator": e.evaluator, "bidder": d["bidder"], "declared_at": at}
            evaluator["declared_bidders"] = (evaluator.get("declared_bidders") or 0) + 1
        row.update(conflicted=_yes(d["conflicted"]), note_recorded=_yes(d.get("note") is not None))
        if d["conflicted"]:
            row["conflict_declared_at"] = at
            evaluator["conflicts"] = (evaluator.get("conflicts") or 0) + 1
            conflicts[d["bidder"]] = sorted(set(conflicts.get(d["bidder"], [])) | {e.evaluator})
            newly_conflicted.append(d["bidder"])
        r.page.put(DECLARATIONS.name, key, row)
    r.page.put(EVALUATORS.name, evaluator_key, evaluator)
    r.set_json("conflicts", conflicts)
    # A conflict declared after scoring takes the evaluator's scores out of that bidder's agreed scores.
    for bidder in newly_conflicted:
        for crit_id in sorted(r.criteria):
            individual = r.individual(bidder, crit_id)
            if e.evaluator not in individual:
                continue
            for key, row in r.score_rows(bidder, crit_id, {e.evaluator: individual[e.evaluator]}):
                r.page.put(SCORES.name, key, {**row, "counted": "no"})
            r.recompute(bidder, crit_id)


def _compliance_checked(r: _Round, e: Competition.ComplianceChecked) -> None:
    at = _utc(e.timestamp)
    revision = 1
    while (before := r.page.get(COMPLIANCE.name, _key(r.ref, e.bidder, e.check, f"{revision:02d}"))) is not None:
        if before["superseded_at"] is None:
            r.page.put(COMPLIANCE.name, _key(r.ref, e.bidder, e.check, f"{revision:02d}"), {**before, "superseded_at": at})
        revision += 1
    r.page.put(
        COMPLIANCE.name,
        _key(r.ref, e.bidder, e.check, f"{revision:02d}"),
        {"competition": r.ref, "bidder": e.bidder, "compliance_check": e.check, "passed": _yes(e.passed), "note": e.note,
         "checked_by": e.checked_by, "checked_at": at, "revision": revision},
    )
    moved: dict[str, tuple[str, str]] = {}  # the bidder's standings in its lots hold the same checks: work them out once
    for key, row in r.standings(e.bidder):
        before = row["checks"]
        if before not in moved:
            checks = {**parsed(before), e.check: e.passed}
            if not all(check in checks for check in COMPLIANCE_CHECKS):
                compliance = "incomplete"
            else:
                compliance = "passed" if all(checks.values()) else "failed"
            moved[before] = (json.dumps(checks, sort_keys=True), compliance)
        row["checks"], row["compliance"] = moved[before]
        r.page.put(STANDINGS.name, key, row)


def _score_recorded(r: _Round, e: Competition.ScoreRecorded) -> None:
    at = _utc(e.timestamp)
    crit = r.criteria[e.criterion]
    if e.revision > 1:
        previous = _key(r.ref, e.bidder, e.criterion, e.evaluator, f"{e.revision - 1:03d}")
        r.page.update(SCORES.name, previous, superseded_at=at)
    counted = e.evaluator not in r.conflicted(e.bidder)
    r.page.put(
        SCORES.name,
        _key(r.ref, e.bidder, e.criterion, e.evaluator, f"{e.revision:03d}"),
        {"competition": r.ref, "bidder": e.bidder, "criterion": e.criterion, "panel": crit["panel"],
         "evaluator": e.evaluator, "lots": ",".join(r.lots_of(e.bidder)), "score": e.score,
         "max_score": crit["max_score"], "justification": e.justification, "revision": e.revision,
         "reason": _meta(e).get("reason") if e.revision > 1 else None, "recorded_at": at,
         "counted": _yes(counted), "moderated": "no"},
    )
    r.row["scores_recorded"] += 1
    # The cells' individual scores move in the page's notes (`_Round.pending`), and are encoded
    # into their column once, when the cells are worked out (`_Round.refresh`).
    individuals = r.pending()[2]
    moved: list[tuple[dict[str, list[int]], dict[str, list[int]]]] = []  # the bidder's lots share their scores
    for lot in r.lots_of(e.bidder):
        key = r.cell_key(lot, e.bidder, e.criterion)
        before = individuals.get(key)
        if before is None:
            cell = r.page.get(MATRIX.name, key)
            if cell is None:
                continue
            before = parsed(cell["individual"])
        after = next((a for b, a in moved if b is before), None)
        if after is None:
            after = {**before, e.evaluator: [e.score, e.revision]}
            moved.append((before, after))
        individuals[key] = after
    r.recompute(e.bidder, e.criterion)


def _score_moderated(r: _Round, e: Competition.ScoreModerated) -> None:
    at = _utc(e.timestamp)
    cells = r.cells(e.bidder, e.criterion)
    previous = cells[0][1]["moderated_score"] if cells else None
    number = 1
    while r.page.get(MODERATIONS.name, _key(r.ref, e.bidder, e.criterion, f"{number:02d}")) is not None:
        number += 1
    seen = {str(k): int(v) for k, v in e.individual_scores.items()}
    r.page.put(
        MODERATIONS.name,
        _key(r.ref, e.bidder, e.criterion, f"{number:02d}"),
        {"competition": r.ref, "bidder": e.bidder, "criterion": e.criterion, "round": number,
         "individual_scores": ", ".join(f"{ev}={s}" for ev, s in sorted(seen.items())),
         "lowest": min(seen.values()) if seen else None, "highest": max(seen.values()) if seen else None,
         "previous_score": previous, "score": e.score, "rationale": e.rationale,
         "reason": _meta(e).get("reason") if number > 1 else None, "moderator": e.moderator, "moderated_at": at},
    )
    r.row["moderations"] += 1
    for key, cell in cells:
        r.page.put(MATRIX.name, key, {**cell, "moderated_score": e.score})
    for key, row in r.score_rows(e.bidder, e.criterion, r.individual(e.bidder, e.criterion)):
        r.page.put(SCORES.name, key, {**row, "moderated": "yes", "moderated_score": e.score, "moderated_at": at})
    r.recompute(e.bidder, e.criterion)


def _finances_assessed(r: _Round, e: Competition.FinancesAssessed) -> None:
    key = _key(r.ref, e.bidder)
    row = r.page.get(FINANCES.name, key) or {"competition": r.ref, "bidder": e.bidder, "assessments": 0}
    row.update(
        evaluator=e.evaluator,
        credit_score=e.credit_score,
        current_ratio=_ratio(e.ratios.get("current_ratio")),
        gearing=_ratio(e.ratios.get("gearing")),
        operating_margin=_ratio(e.ratios.get("operating_margin")),
        result=e.result,
        failures="; ".join(e.failures) or None,
        over_cap_lots=",".join(sorted(e.over_cap)) or None,
        assessed_at=_utc(e.timestamp),
        assessments=row["assessments"] + 1,
    )
    r.page.put(FINANCES.name, key, row)
    for skey, standing in r.standings(e.bidder):
        lot = standing["lot"]
        r.page.put(
            STANDINGS.name,
            skey,
            {**standing, "financial_result": _financial_result(e.result, row.get("guarantee_executed_at")),
             "offered_price": e.offered_prices.get(lot), "over_cap": _yes(lot in e.over_cap)},
        )


def _financial_result(result: str, guarantee_executed_at: str | None) -> str:
    # As the outcome reads it: a required guarantee, once executed, makes the finances pass.
    return "pass_with_guarantee" if result == "pcg_required" and guarantee_executed_at else result


def _guarantee_offered(r: _Round, e: Competition.GuaranteeOffered) -> None:
    r.page.update(
        FINANCES.name,
        _key(r.ref, e.bidder),
        guarantor=e.guarantor,
        guarantor_company_number=e.guarantor_company_number,
        guarantee_offered_at=_utc(e.timestamp),
    )


def _guarantee_executed(r: _Round, e: Competition.GuaranteeExecuted) -> None:
    at = _utc(e.timestamp)
    row = r.page.update(FINANCES.name, _key(r.ref, e.bidder), guarantee_executed_at=at)
    for key, standing in r.standings(e.bidder):
        r.page.put(STANDINGS.name, key, {**standing, "financial_result": _financial_result(row["result"], at)})


def _clarification_issued(r: _Round, e: Competition.EvaluationClarificationIssued) -> None:
    r.page.put(
        CLARIFICATIONS.name,
        _key(r.ref, e.clarification),
        {"competition": r.ref, "clarification": e.clarification, "bidder": e.bidder, "question": e.question,
         "issued_by": (_meta(e).get("actor") or {}).get("id"), "issued_at": _utc(e.timestamp)},
    )


def _clarification_answered(r: _Round, e: Competition.EvaluationClarificationAnswered) -> None:
    r.page.update(CLARIFICATIONS.name, _key(r.ref, e.clarification), response=e.response, responded_at=_utc(e.timestamp))


def _outcome_decided(r: _Round, e: Competition.OutcomeDecided) -> None:
    at = _utc(e.timestamp)
    r.row["outcome_decided_at"] = at
    for lot_id, lot in e.lots.items():
        for bidder, result in e.bidders.items():
            key = _key(r.ref, lot_id, bidder)
            standing = r.page.get(STANDINGS.name, key)
            if standing is None:
                continue  # the bidder did not enter this lot
            decided_scores = result["scores"] or {}
            agrees = None
            if result["weighted_score"] is not None:
                agrees = standing["weighted_score"] is not None and f"{standing['weighted_score']:.2f}" == result["weighted_score"]
            for crit_id in sorted(r.criteria):
                cell_key = r.cell_key(lot_id, bidder, crit_id)
                cell = r.page.get(MATRIX.name, cell_key)
                if cell is None:
                    continue
                decided = decided_scores.get(crit_id)
                r.page.put(MATRIX.name, cell_key, {**cell, "decided_score": None if decided is None else float(decided)})
                if decided is not None:
                    mine = None if cell["agreed_exact"] is None else str(_two_places(Decimal(cell["agreed_exact"])))
                    agrees = bool(agrees) and mine == decided
            successful = bidder in lot["successful"]
            r.page.put(
                STANDINGS.name,
                key,
                {**standing, "decided_at": at, "passed": _yes(result["passed"]),
                 "decided_weighted_score": None if result["weighted_score"] is None else float(result["weighted_score"]),
                 "rank": lot["ranks"].get(bidder), "result": "successful" if successful else "unsuccessful",
                 "reasons": "; ".join(lot["unsuccessful"].get(bidder, [])) or None,
                 "agrees_with_decision": None if agrees is None else _yes(agrees)},
            )


def _challenge_resolved(r: _Round, e: Competition.ChallengeResolved) -> None:
    if e.outcome != "upheld":
        return
    # The decision is set aside and evaluation reopens; the old one stays in the event history.
    r.row["outcome_decided_at"] = None
    for key, standing in r.standings():
        r.page.put(STANDINGS.name, key, {**standing, **{c: None for c in DECISION_COLUMNS}})
    for bidder, lots in r.tenders.items():
        for lot in lots:
            for crit_id in r.criteria:
                r.page.update(MATRIX.name, r.cell_key(lot, bidder, crit_id), decided_score=None)


#: the events whose handlers neither read a cell's or standing's derived columns (agreed
#: score, weighted score) nor change what they are worked out from other than by scores,
#: moderation and conflicts (`_Round.recompute`): they leave noted cells and standings pending
#: (every other handler refreshes them first, e.g. the outcome, which compares with them)
_KEEPS_PENDING = frozenset({
    Competition.ScoreRecorded,
    Competition.ScoreModerated,
    Competition.ConflictsDeclared,
    Competition.ComplianceChecked,
    Competition.FinancesAssessed,
    Competition.GuaranteeOffered,
    Competition.GuaranteeExecuted,
    Competition.EvaluatorAppointed,
    Competition.EvaluatorTrained,
    Competition.EvaluationClarificationIssued,
    Competition.EvaluationClarificationAnswered,
})

_HANDLERS: dict[type, Any] = {
    Competition.CriteriaPublished: _criteria_published,
    Competition.TenderSubmitted: _tender_submitted,
    Competition.TenderWithdrawn: _tender_withdrawn,
    Competition.TendersOpened: _tenders_opened,
    Competition.EvaluatorAppointed: _evaluator_appointed,
    Competition.EvaluatorTrained: _evaluator_trained,
    Competition.ConflictsDeclared: _conflicts_declared,
    Competition.ComplianceChecked: _compliance_checked,
    Competition.ScoreRecorded: _score_recorded,
    Competition.ScoreModerated: _score_moderated,
    Competition.FinancesAssessed: _finances_assessed,
    Competition.GuaranteeOffered: _guarantee_offered,
    Competition.GuaranteeExecuted: _guarantee_executed,
    Competition.EvaluationClarificationIssued: _clarification_issued,
    Competition.EvaluationClarificationAnswered: _clarification_answered,
    Competition.OutcomeDecided: _outcome_decided,
    Competition.ChallengeResolved: _challenge_resolved,
}
