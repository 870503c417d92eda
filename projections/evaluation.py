"""The evaluation trail: everything behind a competition's scores, and the score matrix.

A procurement lead defends an award "challenge free" (seed 000 s.5) by showing who evaluated,
that they were trained and declared their interests, what each of them scored and why, how
the panel moderated, which compliance and financial checks each bidder passed, what was
clarified with a bidder, and that the decided outcome follows from all of it. These tables
(`projections/evaluation_tables.py`: what each row and column says) say that, one fact per
row, from the Competition's events alone.

Tenders are sealed: nothing here comes from a tender before `TendersOpened` (which lots each
bidder entered is kept out of sight, in a hidden column, until then) and nothing at all from
a tender's content. Personal data (an evaluator's name and e-mail, a declaration's note) is
never copied: people appear by their opaque account id.

The score matrix's cells and the bidders' standings follow from the scores by the rule the
outcome decides with (the domain's `agreed_score`); they are worked out once per page
(`_Round.recompute`).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from domain.kernel.metadata import LedgerAggregate
from domain.procurement.competition import Competition
from domain.procurement.outcome import agreed_score
from domain.procurement.vocabulary import COMPLIANCE_CHECKS
from projections.evaluation_tables import (
    CLARIFICATIONS, COMPLIANCE, DECISION_COLUMNS, DECLARATIONS, EVALUATORS, FINANCES, MATRIX, MODERATIONS, ROUNDS, SCORES,
    STANDINGS, TABLES, financial_result, row_key, two_places, yes_no,
)
from projections.handlers import handles
from projections.memo import id_text, parsed, utc
from projections.read_model import TableReadModel
from projections.tables import Page


def _ratio(value: str | None) -> float | None:
    return None if value is None else float(value)


def _meta(event: Any) -> dict[str, Any]:
    return getattr(event, "meta", None) or {}


def evaluation_events() -> list[type]:
    return [v for v in vars(Competition).values() if isinstance(v, type) and issubclass(v, LedgerAggregate.Event)]


class EvaluationTrail(TableReadModel):
    name = "evaluation"
    tables = TABLES
    followed = tuple(evaluation_events())

    @handles(Competition.Opened)
    def opened(self, e: Competition.Opened, page: Page) -> None:
        round_key = id_text(e.originator_id)
        page.put(
            ROUNDS.name,
            round_key,
            {"competition": e.reference, "title": e.title, "moderation_spread": e.moderation_spread, "criteria_version": 0,
             "criteria": "{}", "tenders": "{}", "conflicts": "{}", "scores_recorded": 0, "moderations": 0,
             "last_event_at": utc(e.timestamp)},
        )
        _rounds(page).pop(round_key, None)

    @handles(Competition.Event)
    def not_evaluation(self, e: Any, page: Page) -> None:
        """Documents, notices, public clarifications, letters, award: not part of the evaluation."""

    @handles(Competition.CriteriaPublished)
    def criteria_published(self, e: Competition.CriteriaPublished, page: Page) -> None:
        r = _round(page, e)
        r.set_json("criteria", {c["id"]: c for c in e.criteria})
        r.row.update(criteria_version=e.version, quality_threshold=e.quality_threshold)

    @handles(Competition.TenderSubmitted)
    def tender_submitted(self, e: Competition.TenderSubmitted, page: Page) -> None:
        r = _round(page, e, sealed=True)
        tenders = dict(r.tenders)
        tenders[e.bidder] = list(e.lots)
        r.set_json("tenders", tenders)

    @handles(Competition.TenderWithdrawn)
    def tender_withdrawn(self, e: Competition.TenderWithdrawn, page: Page) -> None:
        r = _round(page, e, sealed=True)
        tenders = dict(r.tenders)
        tenders.pop(e.bidder, None)
        r.set_json("tenders", tenders)

    @handles(Competition.TendersOpened)
    def tenders_opened(self, e: Competition.TendersOpened, page: Page) -> None:
        r = _round(page, e)
        # The opening unseals who tendered for which lots: only now do bidders get rows.
        tenders = {b: lots for b, lots in r.tenders.items() if b in set(e.bidders)}
        r.set_json("tenders", tenders)
        r.row.update(tenders_opened_at=utc(e.timestamp), bidders=len(e.bidders))
        criteria = r.criteria
        for bidder, lots in sorted(tenders.items()):
            for lot in lots:
                r.page.put(
                    STANDINGS.name,
                    row_key(r.ref, lot, bidder),
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

    @handles(Competition.EvaluatorAppointed)
    def evaluator_appointed(self, e: Competition.EvaluatorAppointed, page: Page) -> None:
        r = _round(page, e, keep_pending=True)
        key = row_key(r.ref, e.evaluator)
        row = r.page.get(EVALUATORS.name, key) or {
            "competition": r.ref, "evaluator": e.evaluator, "organisation": e.evaluator_org,
            "appointed_at": utc(e.timestamp), "declared_bidders": 0, "conflicts": 0,
        }
        panels = set(filter(None, (row.get("panels") or "").split(","))) | {e.panel}
        row["panels"] = ",".join(sorted(panels))
        r.page.put(EVALUATORS.name, key, row)

    @handles(Competition.EvaluatorTrained)
    def evaluator_trained(self, e: Competition.EvaluatorTrained, page: Page) -> None:
        r = _round(page, e, keep_pending=True)
        r.page.update(EVALUATORS.name, row_key(r.ref, e.evaluator), trained_at=utc(e.timestamp))

    @handles(Competition.ConflictsDeclared)
    def conflicts_declared(self, e: Competition.ConflictsDeclared, page: Page) -> None:
        r = _round(page, e, keep_pending=True)
        at = utc(e.timestamp)
        evaluator_key = row_key(r.ref, e.evaluator)
        evaluator = r.page.get(EVALUATORS.name, evaluator_key) or {"competition": r.ref, "evaluator": e.evaluator}
        conflicts = dict(r.json("conflicts"))
        newly_conflicted = []
        for d in e.declarations:
            key = row_key(r.ref, e.evaluator, d["bidder"])
            row = r.page.get(DECLARATIONS.name, key)
            if row is None:
                row = {"competition": r.ref, "evaluator": e.evaluator, "bidder": d["bidder"], "declared_at": at}
                evaluator["declared_bidders"] = (evaluator.get("declared_bidders") or 0) + 1
            row.update(conflicted=yes_no(d["conflicted"]), note_recorded=yes_no(d.get("note") is not None))
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

    @handles(Competition.ComplianceChecked)
    def compliance_checked(self, e: Competition.ComplianceChecked, page: Page) -> None:
        r = _round(page, e, keep_pending=True)
        at = utc(e.timestamp)
        revision = 1
        while (before := r.page.get(COMPLIANCE.name, row_key(r.ref, e.bidder, e.check, f"{revision:02d}"))) is not None:
            if before["superseded_at"] is None:
                r.page.put(COMPLIANCE.name, row_key(r.ref, e.bidder, e.check, f"{revision:02d}"), {**before, "superseded_at": at})
            revision += 1
        r.page.put(
            COMPLIANCE.name,
            row_key(r.ref, e.bidder, e.check, f"{revision:02d}"),
            {"competition": r.ref, "bidder": e.bidder, "compliance_check": e.check, "passed": yes_no(e.passed), "note": e.note,
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

    @handles(Competition.ScoreRecorded)
    def score_recorded(self, e: Competition.ScoreRecorded, page: Page) -> None:
        r = _round(page, e, keep_pending=True)
        at = utc(e.timestamp)
        crit = r.criteria[e.criterion]
        if e.revision > 1:
            previous = row_key(r.ref, e.bidder, e.criterion, e.evaluator, f"{e.revision - 1:03d}")
            r.page.update(SCORES.name, previous, superseded_at=at)
        counted = e.evaluator not in r.conflicted(e.bidder)
        r.page.put(
            SCORES.name,
            row_key(r.ref, e.bidder, e.criterion, e.evaluator, f"{e.revision:03d}"),
            {"competition": r.ref, "bidder": e.bidder, "criterion": e.criterion, "panel": crit["panel"],
             "evaluator": e.evaluator, "lots": ",".join(r.lots_of(e.bidder)), "score": e.score,
             "max_score": crit["max_score"], "justification": e.justification, "revision": e.revision,
             "reason": _meta(e).get("reason") if e.revision > 1 else None, "recorded_at": at,
             "counted": yes_no(counted), "moderated": "no"},
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

    @handles(Competition.ScoreModerated)
    def score_moderated(self, e: Competition.ScoreModerated, page: Page) -> None:
        r = _round(page, e, keep_pending=True)
        at = utc(e.timestamp)
        cells = r.cells(e.bidder, e.criterion)
        previous = cells[0][1]["moderated_score"] if cells else None
        number = 1
        while r.page.get(MODERATIONS.name, row_key(r.ref, e.bidder, e.criterion, f"{number:02d}")) is not None:
            number += 1
        seen = {str(k): int(v) for k, v in e.individual_scores.items()}
        r.page.put(
            MODERATIONS.name,
            row_key(r.ref, e.bidder, e.criterion, f"{number:02d}"),
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

    @handles(Competition.FinancesAssessed)
    def finances_assessed(self, e: Competition.FinancesAssessed, page: Page) -> None:
        r = _round(page, e, keep_pending=True)
        key = row_key(r.ref, e.bidder)
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
            assessed_at=utc(e.timestamp),
            assessments=row["assessments"] + 1,
        )
        r.page.put(FINANCES.name, key, row)
        for skey, standing in r.standings(e.bidder):
            lot = standing["lot"]
            r.page.put(
                STANDINGS.name,
                skey,
                {**standing, "financial_result": financial_result(e.result, row.get("guarantee_executed_at")),
                 "offered_price": e.offered_prices.get(lot), "over_cap": yes_no(lot in e.over_cap)},
            )

    @handles(Competition.GuaranteeOffered)
    def guarantee_offered(self, e: Competition.GuaranteeOffered, page: Page) -> None:
        r = _round(page, e, keep_pending=True)
        r.page.update(
            FINANCES.name,
            row_key(r.ref, e.bidder),
            guarantor=e.guarantor,
            guarantor_company_number=e.guarantor_company_number,
            guarantee_offered_at=utc(e.timestamp),
        )

    @handles(Competition.GuaranteeExecuted)
    def guarantee_executed(self, e: Competition.GuaranteeExecuted, page: Page) -> None:
        r = _round(page, e, keep_pending=True)
        at = utc(e.timestamp)
        row = r.page.update(FINANCES.name, row_key(r.ref, e.bidder), guarantee_executed_at=at)
        for key, standing in r.standings(e.bidder):
            r.page.put(STANDINGS.name, key, {**standing, "financial_result": financial_result(row["result"], at)})

    @handles(Competition.EvaluationClarificationIssued)
    def clarification_issued(self, e: Competition.EvaluationClarificationIssued, page: Page) -> None:
        r = _round(page, e, keep_pending=True)
        r.page.put(
            CLARIFICATIONS.name,
            row_key(r.ref, e.clarification),
            {"competition": r.ref, "clarification": e.clarification, "bidder": e.bidder, "question": e.question,
             "issued_by": (_meta(e).get("actor") or {}).get("id"), "issued_at": utc(e.timestamp)},
        )

    @handles(Competition.EvaluationClarificationAnswered)
    def clarification_answered(self, e: Competition.EvaluationClarificationAnswered, page: Page) -> None:
        r = _round(page, e, keep_pending=True)
        r.page.update(CLARIFICATIONS.name, row_key(r.ref, e.clarification), response=e.response, responded_at=utc(e.timestamp))

    @handles(Competition.OutcomeDecided)
    def outcome_decided(self, e: Competition.OutcomeDecided, page: Page) -> None:
        r = _round(page, e)
        at = utc(e.timestamp)
        r.row["outcome_decided_at"] = at
        for lot_id, lot in e.lots.items():
            for bidder, result in e.bidders.items():
                key = row_key(r.ref, lot_id, bidder)
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
                        mine = None if cell["agreed_exact"] is None else str(two_places(Decimal(cell["agreed_exact"])))
                        agrees = bool(agrees) and mine == decided
                successful = bidder in lot["successful"]
                r.page.put(
                    STANDINGS.name,
                    key,
                    {**standing, "decided_at": at, "passed": yes_no(result["passed"]),
                     "decided_weighted_score": None if result["weighted_score"] is None else float(result["weighted_score"]),
                     "rank": lot["ranks"].get(bidder), "result": "successful" if successful else "unsuccessful",
                     "reasons": "; ".join(lot["unsuccessful"].get(bidder, [])) or None,
                     "agrees_with_decision": None if agrees is None else yes_no(agrees)},
                )

    @handles(Competition.ChallengeResolved)
    def challenge_resolved(self, e: Competition.ChallengeResolved, page: Page) -> None:
        r = _round(page, e)
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


def _round(page: Page, event: Any, *, sealed: bool = False, keep_pending: bool = False) -> _Round:
    """The event's competition in this page, its last event now this one unless the event is
    `sealed` (a tender's), and the cells and standings its scores moved worked out first
    unless the event's handler `keep_pending`: one that neither reads a cell's or standing's
    derived columns (agreed score, weighted score) nor changes what they are worked out from
    other than by scores, moderation and conflicts (`_Round.recompute`). (The outcome, say,
    compares with them, so they are refreshed before it.)"""
    round_key = id_text(event.originator_id)
    rounds = _rounds(page)
    rnd = rounds.get(round_key)
    if rnd is None:
        rnd = page.get(ROUNDS.name, round_key)
        if rnd is None:
            raise LookupError(f"competition {round_key} has no evaluation round: its Opened event was not applied first")
        rounds[round_key] = rnd
    if not sealed:
        rnd["last_event_at"] = utc(event.timestamp)
    r = _Round(page, rnd)
    if not keep_pending:
        r.refresh()
    return r


#: page.notes key: the `evaluation_rounds` rows this page's events moved (see `_rounds`)
_ROUNDS = "evaluation:rounds"


def _rounds(page: Page) -> dict[str, dict[str, Any]]:
    """The competitions' rows moved in this page, by key, as they stand: this read model's own
    dicts, which the handlers change in place event after event, put once when the page
    finishes rather than read, copied and put again for every event. Only `opened`, `_round`
    and `finish` read these rows within a page, through here."""
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
        return row_key(self.ref, lot, bidder, criterion)

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
                key = row_key(self.ref, lot, b)
                row = self.page.get(STANDINGS.name, key)
                if row is not None:
                    found.append((key, row))
        return found

    def recompute(self, bidder: str, criterion: str) -> None:
        """Refresh the bidder's cells for the criterion from their scores, then its standings.

        Noted here and done by `refresh`: once per page for all the scores that moved a cell
        (`finish`), or before an event that reads or resets the cells and standings (see
        `_round`'s `keep_pending`). A cell's derived columns follow from its scores, its moderated
        score, the bidder's conflicts and the spread allowed, as they stand, and a standing's from its
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
                agreed_score=None if value is None else float(two_places(value)),
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
            row.update(criteria_agreed=agreed_count, weighted_score=float(two_places(total)) if complete else None)
            self.page.put(STANDINGS.name, key, row)

    def score_rows(self, bidder: str, criterion: str, individual: dict[str, list[int]]) -> list[tuple[str, dict[str, Any]]]:
        """Every score row (each revision) of the bidder's criterion."""
        found = []
        for evaluator, (_score, last) in sorted(individual.items()):
            for revision in range(1, last + 1):
                key = row_key(self.ref, bidder, criterion, evaluator, f"{revision:03d}")
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
