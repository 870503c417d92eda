"""What the record of a competition shows: its full state, and what each viewer may see of it.

`competition_state` is the auditor's view (and what `aqp show` replays); `there_for` says
whether the competition is there at all for a viewer (its authority's, the organisations it
names, the bidders and the oversight: `access.sees_competition`); `competition_view`
narrows it for the viewer: sealed tenders before opening, a provider's own tender and
letters, an evaluator's own scores and nothing of a bidder they are conflicted with.
"""

from __future__ import annotations

import copy
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from domain import access
from domain.kernel.errors import no_such
from domain.kernel.metadata import Actor
from domain.kernel.personal import PersonalData, shown
from domain.procurement.competition import Competition


def there_for(c: Competition, viewer: Actor) -> bool:
    """Whether the competition is there at all for `viewer`, by `access.sees_competition` (else: absent)."""
    me = c.evaluators.get(viewer.id)
    return access.sees_competition(viewer, authority=c.authority, acting_for=c.acting_for, appointed_with=me["org"] if me else None)


def seen_by(c: Competition, viewer: Actor, *, now: Competition | None = None, when: str = "") -> dict[str, Any]:
    """`competition_view` of `c` for `viewer`, or the unknown reference's `NotFound` when it is not there for them.

    Who it is there for is decided on the record as it stands `now` (given when `c` is the record
    as of a past time, `when` the words for that time, as `Ledger.aggregate` says them).
    """
    if not there_for(now or c, viewer):
        raise no_such(Competition.KIND, c.reference, when=when)
    return competition_view(c, viewer)


#: values a competition's state holds that never change once made, so a copy may share them
_IMMUTABLE = (str, int, float, bool, type(None), datetime, date, Decimal, PersonalData)


def _copied(value: Any) -> Any:
    """A deep copy of the state's plain data (dicts, lists, tuples, sets of immutable values).

    `copy.deepcopy` did the same, but its memo and dispatch made it most of the time of a
    competition read (~0.6 s of 0.7 s for a round of 55 bidders); anything else still goes to it.
    """
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) for v in value]
    if isinstance(value, _IMMUTABLE):
        return value
    if isinstance(value, tuple):
        return tuple(_copied(v) for v in value)
    if isinstance(value, set | frozenset):
        return type(value)(_copied(v) for v in value)
    return copy.deepcopy(value)


def competition_state(c: Competition) -> dict[str, Any]:
    """The full state as plain data (what an auditor sees)."""
    return {
        "reference": c.reference,
        "id": str(c.id),
        "version": c.version,
        "title": c.title,
        "authority": c.authority,
        "acting_for": list(c.acting_for),
        "procedure": c.procedure,
        "framework": c.framework,
        "standstill_regime": c.standstill_regime,
        "status": c.status,
        "lots": _copied(c.lots),
        "timetable": {
            "clarification_deadline": c.clarification_deadline.isoformat() if c.clarification_deadline else None,
            "tender_deadline": c.tender_deadline.isoformat() if c.tender_deadline else None,
            "opened_at": c.opened_at.isoformat() if c.opened_at else None,
        },
        "criteria": {
            "version": c.criteria_version,
            "criteria": _copied(list(c.criteria.values())),
            "quality_threshold": c.quality_threshold,
            "financial_thresholds": dict(c.financial_thresholds),
            "moderation_spread": c.moderation_spread,
        },
        "documents": _copied(c.documents),
        "notices": _copied(c.notices),
        "clarifications": _copied(c.clarifications),
        "tenders": _copied(c.tenders),
        "evaluators": _jsonable(_copied(c.evaluators)),
        "compliance": _copied(c.compliance),
        "scores": [_copied(s) for _, s in sorted(c.scores.items())],
        "moderations": [_copied(m) for _, m in sorted(c.moderations.items())],
        "financial": _copied(c.financial),
        "guarantees": _copied(c.guarantees),
        "evaluation_clarifications": _copied(c.evaluation_clarifications),
        "outcome": _copied(c.outcome),
        "letters": _copied(c.letters),
        "standstill": _jsonable(_copied(c.standstill)),
        "challenges": _copied(c.challenges),
        "award": _copied(c.award),
        "cancellation": _copied(c.cancellation),
    }


def _jsonable(value: Any) -> Any:
    """Plain data for output: times as ISO text, personal data as its value or "[erased]"."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, PersonalData):
        return shown(value)
    return value


SEALED_BEFORE_OPENING = ("content_sha256", "size_bytes")


def competition_view(c: Competition, viewer: Actor) -> dict[str, Any]:
    """What `viewer` may see of the competition, by the policies of `domain.access`.

    - auditors, procurement leads and admins see everything once the tenders are opened;
      before opening nobody sees who tendered beyond a count (sealed bids);
    - a provider sees only its own tender, and clarifications without the askers;
    - an evaluator sees only their own individual scores until a score is moderated, and
      nothing of a bidder they declared a conflict with (in the decision, only that it won,
      which the award publishes); an evaluator who sits on no panel
      of this competition sees none of the bids or the evaluation.
    """
    state = competition_state(c)
    for record in state["clarifications"].values():
        if not access.sees_asker(viewer, record["asked_by"]):
            # Published to all bidders with the asker anonymised.
            record["asked_by"] = "(anonymised)"
            # Others see only the question as published with the answer, never its wording.
            record["question"] = record["published_question"]
    if access.tenders_sealed_to(viewer, opened=c.opened_at is not None):
        # Sealed: before the deadline the authority knows only how many tenders arrived.
        state["tenders"] = {"sealed": True, "count": sum(1 for t in c.tenders.values() if t["status"] == "submitted")}
    if access.sees_only_its_own(viewer):
        # A bidder: its own tender, letter, challenges and clarifications.
        state["tenders"] = {b: t for b, t in state["tenders"].items() if access.sees_tender_of(viewer, b)}
        hidden = {"evaluators", "compliance", "scores", "moderations", "financial", "guarantees"}
        for key in hidden:
            state[key] = None
        state["evaluation_clarifications"] = {
            k: v for k, v in state["evaluation_clarifications"].items() if access.sees_tender_of(viewer, v["bidder"])
        }
        if state["letters"]:
            state["letters"]["letters"] = [l for l in state["letters"]["letters"] if access.sees_tender_of(viewer, l["bidder"])]
        state["challenges"] = {k: v for k, v in state["challenges"].items() if access.sees_tender_of(viewer, v["bidder"])}
        if state["outcome"] and c.letters is None:
            state["outcome"] = None  # a bidder learns the outcome from its letter
    elif access.evaluates(viewer):
        me = c.evaluators.get(viewer.id)
        seat = access.panel_seat(
            viewer,
            appointed_with=me["org"] if me else None,
            conflicts=(b for b, d in me["declarations"].items() if d["conflicted"]) if me else (),
        )
        if seat is None:
            # Not on any panel of this competition: the decision, never the bids or the working.
            for key in ("evaluators", "compliance", "scores", "moderations", "financial", "guarantees",
                        "evaluation_clarifications", "challenges"):
                state[key] = None
            if not state["tenders"].get("sealed"):
                state["tenders"] = None
            return state
        moderated = set(c.moderations)
        state["scores"] = [
            s
            for s in state["scores"]
            if seat.sees_score(bidder=s["bidder"], evaluator=s["evaluator"], moderated=(s["bidder"], s["criterion"]) in moderated)
        ]
        state["moderations"] = [m for m in state["moderations"] if seat.sees_bidder(m["bidder"])]
        if isinstance(state["tenders"], dict) and not state["tenders"].get("sealed"):
            state["tenders"] = {b: t for b, t in state["tenders"].items() if seat.sees_bidder(b)}
        # Nothing of a conflicted bidder's bid reaches them, whichever part of the record holds it.
        for key in ("financial", "compliance", "guarantees"):
            state[key] = {b: f for b, f in state[key].items() if seat.sees_bidder(b)}
        state["evaluation_clarifications"] = {
            k: v for k, v in state["evaluation_clarifications"].items() if seat.sees_bidder(v["bidder"])
        }
        state["evaluators"] = {viewer.id: state["evaluators"].get(viewer.id)}
        state["challenges"] = None
        # The decision too: who won is published (the award), but not a conflicted bidder's
        # scores, rank or reasons, whether in the outcome or in another bidder's letter.
        if state["outcome"]:
            state["outcome"]["bidders"] = {b: r for b, r in state["outcome"]["bidders"].items() if seat.sees_bidder(b)}
            for lot in state["outcome"]["lots"].values():
                lot["unsuccessful"] = {b: r for b, r in lot.get("unsuccessful", {}).items() if seat.sees_bidder(b)}
                lot["ranks"] = {b: r for b, r in lot.get("ranks", {}).items() if seat.sees_bidder(b)}
        if state["letters"]:
            state["letters"]["letters"] = [l for l in state["letters"]["letters"] if seat.sees_bidder(l["bidder"])]
            for letter in state["letters"]["letters"]:
                for lot in letter.get("lots", {}).values():
                    lot["successful_bidders"] = [
                        w if seat.sees_bidder(w["bidder"]) else {"bidder": w["bidder"]} for w in lot.get("successful_bidders", [])
                    ]
    elif not access.reads_evaluation(viewer):
        # Commissioners, contract managers and others see the decision, not the working.
        for key in ("evaluators", "scores", "moderations", "financial", "guarantees", "evaluation_clarifications"):
            state[key] = None
    return state
