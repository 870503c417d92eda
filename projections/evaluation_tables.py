"""The evaluation trail's tables (`projections/evaluation.py` fills them): what each row says.

Times are ISO 8601 text in UTC; money is integer pence; yes/no columns are the text "yes" or
"no". Every table has a `competition` column (the competition's reference), so the API can
list one competition.

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

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from projections.tables import INTEGER, REAL, Column, Table

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


def row_key(*parts: Any) -> str:
    """A row's key: the references it is about, joined with "|"."""
    return "|".join(map(str, parts))


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def two_places(value: Decimal) -> Decimal:
    # As the outcome rounds its scores, so the matrix and the decision can be compared exactly.
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def financial_result(result: str, guarantee_executed_at: str | None) -> str:
    # As the outcome reads it: a required guarantee, once executed, makes the finances pass.
    return "pass_with_guarantee" if result == "pcg_required" and guarantee_executed_at else result
