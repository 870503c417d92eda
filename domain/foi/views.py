"""What an FOI request shows, and to whom: its state as plain data, its status on a given day.

`foi_request_state` is the whole record; `foi_request_view` is what one viewer may see of it:
nothing at all unless they handle the request (`access.handles_foi_request`: another
authority's request is not found), the requester's name and address only to those who may
see them (`access.sees_requester`). `status_on` says where a request stands on a day, the
same for the record and for the list (`projections/foi.py` keeps the stage, the day is the
reader's).
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from domain import access
from domain.foi import clock
from domain.foi.request import EXEMPTIONS, FoiRequest
from domain.kernel.errors import no_such
from domain.kernel.metadata import Actor
from domain.kernel.personal import shown

WITHHELD = "[withheld]"
#: where a request stands, in the order a case moves (the overdue one is an open one past its day)
STAGES = ("open", "paused_for_clarification", "paused_for_fee", "answered", "under_review", "reviewed", "at_the_ico", "ico_decided")


def stage_of(r: FoiRequest) -> str:
    """Where the request stands, whatever the day."""
    return stage_from(
        ico=None if r.ico is None else bool(r.ico["decided_on"]),
        review=None if r.review is None else bool(r.review["decided_on"]),
        answered=r.answered, awaiting_clarification=r.awaiting_clarification, awaiting_fee=r.awaiting_fee,
    )


def stage_from(*, ico: bool | None, review: bool | None, answered: bool, awaiting_clarification: bool, awaiting_fee: bool) -> str:
    """The stage from the facts that make it (`ico`, `review`: None when there is none, else whether decided),
    the latest step of the case first."""
    if ico is not None:
        return "ico_decided" if ico else "at_the_ico"
    if review is not None:
        return "reviewed" if review else "under_review"
    if answered:
        return "answered"
    if awaiting_clarification:
        return "paused_for_clarification"
    if awaiting_fee:
        return "paused_for_fee"
    return "open"


def status_on(stage: str, due_on: str | None, today: date) -> dict[str, Any]:
    """The stage as of `today`: an open request past its due date is overdue; the working days left (negative: late)."""
    if stage != "open" or due_on is None:
        return {"status": stage, "working_days_left": None}
    due = date.fromisoformat(due_on)
    try:
        left: int | None = clock.working_days_left(due, today)
    except clock.CalendarNotCovered:
        left = None  # a day the calendar does not reach (an as_of far ahead): overdue or not is still known
    return {"status": "overdue" if today > due else "open", "working_days_left": left}


def foi_request_state(r: FoiRequest, *, today: date | None = None) -> dict[str, Any]:
    stage = stage_of(r)
    state = {
        "reference": r.reference,
        "id": str(r.id),
        "version": r.version,
        "received_by": r.received_by,
        "received_on": r.received_on,
        "channel": r.channel,
        "requester": {"name": shown(r.requester_name), "address": shown(r.requester_address)},
        "parts": [{"part": i, "asked": text} for i, text in enumerate(r.parts, start=1)],
        "date_of_receipt": r.date_of_receipt.isoformat(),
        "due_on": r.due_on,
        "stage": stage,
        "clarifications": copy.deepcopy(r.clarifications),
        "fees": copy.deepcopy(r.fees),
        "exemptions": [{**copy.deepcopy(e), "qualified": EXEMPTIONS[e["exemption"]][1], "protects": EXEMPTIONS[e["exemption"]][0]}
                       for e in r.exemptions],
        "extensions": copy.deepcopy(r.extensions),
        "cost_limit_refusal": copy.deepcopy(r.cost_limit_refusal),
        "response": copy.deepcopy(r.response),
        "internal_review": copy.deepcopy(r.review),
        "ico_complaint": copy.deepcopy(r.ico),
    }
    if today is not None:
        state.update(status_on(stage, r.due_on, today))
    return state


def there_for(r: FoiRequest, viewer: Actor) -> bool:
    return access.handles_foi_request(viewer, received_by=r.received_by)


def foi_request_view(r: FoiRequest, viewer: Actor, *, today: date) -> dict[str, Any]:
    """What `viewer` may see of the request (see the module docstring); not found for anybody else."""
    if not there_for(r, viewer):
        raise no_such(FoiRequest.KIND, r.reference)
    state = foi_request_state(r, today=today)
    if not access.sees_requester(viewer, received_by=r.received_by):
        state["requester"] = {"name": WITHHELD, "address": WITHHELD}
    return state
