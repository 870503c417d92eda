"""A competition's evaluation trail, as you may see it (`GET /competitions/{reference}/evaluation`).

The trail is the evaluation read model's tables for one competition (projections/evaluation.py):
the round, the standings per lot and bidder, the score matrix, every individual score, the
moderations, the evaluators and their declarations, the compliance checks, the financial
assessments and the clarifications with bidders. Who sees what, by the policies of
`domain.access` (`reads_evaluation`, `panel_seat`), as `competition_view` decides for the
record itself:

- procurement leads of its authority and of the organisations it names (`access.sees_competition`,
  checked by the route), auditors and admins see all of it;
- an evaluator sees the trail only of a competition on whose panels they sit (appointed with
  their organisation), and then: never a row about a bidder they declared a conflict with
  (their own declaration of it included); of the individual scores, their own, and others'
  only once the panel has moderated that bidder's criterion; of the matrix, the spread and
  agreed figures of a cell only once it is moderated (an agreed mean beside one's own score
  would tell the other score); no running weighted score (the decided one, once decided);
  only their own declarations;
- everybody else (providers and bidders, commissioners, contract managers, FOI officers, the
  system; an evaluator on no panel of it): 404, as if there were no such competition.

With `as_of` the read model is read as it stood at that time, from its history tables (as
the lists' `as_of`: `tables.replayed`), so an auditor sees the trail as it stood at any moment.
"""

from __future__ import annotations

from typing import Any

import msgspec

from api.http.tables import row_struct
from api.tokens import Principal
from domain import access
from projections import evaluation as ev

RoundRow = row_struct("EvaluationRoundRow", ev.ROUNDS)
PARTS = {
    "standings": ev.STANDINGS,
    "matrix": ev.MATRIX,
    "scores": ev.SCORES,
    "moderations": ev.MODERATIONS,
    "evaluators": ev.EVALUATORS,
    "declarations": ev.DECLARATIONS,
    "compliance": ev.COMPLIANCE,
    "finances": ev.FINANCES,
    "clarifications": ev.CLARIFICATIONS,
}
ROWS = {part: row_struct(f"Evaluation{part.capitalize()}Row", spec) for part, spec in PARTS.items()}
Trail = msgspec.defstruct(
    "EvaluationTrailAnswer",
    [("competition", str), ("round", RoundRow), *((part, list[row]) for part, row in ROWS.items())],  # type: ignore[valid-type]
)
#: the matrix's figures that, beside an evaluator's own score, would tell the others' before moderation
UNMODERATED_FIGURES = ("lowest", "highest", "spread", "agreed_score", "weighted_points")


def trail(view: Any, reference: str, principal: Principal) -> dict[str, Any] | None:
    """The trail of `reference` as `principal` may see it, or None (absent, or not theirs to see)."""
    rounds = view.select(ev.ROUNDS.name, where={"competition": reference})
    if not rounds:
        return None
    viewer = principal.actor()
    where: dict[str, Any] = {"competition": reference}
    if access.reads_evaluation(viewer):
        return {"competition": reference, "round": rounds[0], **{p: view.select(s.name, where=where) for p, s in PARTS.items()}}
    appointed = view.select(ev.EVALUATORS.name, where={"competition": reference, "evaluator": principal.user, "organisation": principal.org})
    mine = view.select(ev.DECLARATIONS.name, where={"competition": reference, "evaluator": principal.user}) if appointed else []
    seat = access.panel_seat(
        viewer,
        appointed_with=appointed[0]["organisation"] if appointed else None,
        conflicts=(d["bidder"] for d in mine if d["conflicted"] == "yes"),
    )
    if seat is None:
        return None  # not an evaluator, or on no panel of this competition

    def seen(part: str) -> list[dict[str, Any]]:
        return [row for row in view.select(PARTS[part].name, where=where) if seat.sees_bidder(row["bidder"])]

    answer: dict[str, Any] = {"competition": reference, "round": rounds[0]}
    answer["scores"] = [
        s for s in seen("scores") if seat.sees_score(bidder=s["bidder"], evaluator=s["evaluator"], moderated=s["moderated"] == "yes")
    ]
    answer["matrix"] = [
        cell if seat.sees_figures(moderated=cell["state"] == "moderated") else {**cell, **dict.fromkeys(UNMODERATED_FIGURES)}
        for cell in seen("matrix")
    ]
    # No running weighted score (the decided one, once decided: the round's outcome).
    answer["standings"] = [{**s, "weighted_score": None} for s in seen("standings")]
    answer["declarations"] = [d for d in mine if seat.sees_bidder(d["bidder"])]
    answer["evaluators"] = view.select(ev.EVALUATORS.name, where=where)
    for part in ("moderations", "compliance", "finances", "clarifications"):
        answer[part] = seen(part)
    return answer
