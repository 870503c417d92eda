"""FOI requests by due date, and the disclosure log: what the FOI officer works from.

`foi_requests` - one row per request, in the order they fall due (requests whose clock is
stopped after those with a due date): `received_by` (the authority), `reference`,
`received_on`, `channel`, `parts` (how many), `stage` (open, paused_for_clarification,
paused_for_fee, answered, under_review, reviewed, at_the_ico, ico_decided: `domain.foi.views`),
`date_of_receipt` (s.10(6): moved by a clarification's answer), `due_on` (null while the clock
is stopped), `extended_by` (working days, s.10(3)), `responded_on`, `responded_late` (yes/no),
`review_requested_on`, `review_outcome`, `ico_reference`, `ico_outcome`, `last_event_at`,
`version`. Whether an open request is overdue, and the working days left, depend on the day
the question is asked; the read model has no clock, so the API works them out from `stage`
and `due_on` for its day (`domain.foi.views.status_on`).

`foi_disclosure_log` - one row per part of each request answered: `received_by`,
`reference`, `part`, `asked`, `outcome` (released_in_full, released_in_part, withheld,
not_held, or refused_over_cost_limit for every part of a request refused under s.12),
`exemptions` (comma separated), `released` (what was released), `sent_on`.

No personal data: the requester's name and address stay in the events, under their key.
"""

from __future__ import annotations

import json
from typing import Any

from domain.foi.request import FoiRequest
from domain.foi.views import stage_from
from projections import follow
from projections.handlers import handles
from projections.memo import id_text, utc
from projections.read_model import TableReadModel
from projections.tables import INTEGER, Column, Page, Table
from projections.views import TableView

REQUESTS = Table(
    "foi_requests",
    (
        Column("due_order", hidden=True),
        Column("asked", hidden=True),
        Column("facts", hidden=True),
        Column("received_by"),
        Column("reference"),
        Column("received_on"),
        Column("channel"),
        Column("parts", INTEGER),
        Column("stage"),
        Column("date_of_receipt"),
        Column("due_on"),
        Column("extended_by", INTEGER),
        Column("responded_on"),
        Column("responded_late"),
        Column("review_requested_on"),
        Column("review_outcome"),
        Column("ico_reference"),
        Column("ico_outcome"),
        Column("last_event_at"),
        Column("version", INTEGER),
    ),
    order_by=("due_order", "received_by", "reference"),
)
DISCLOSURE_LOG = Table(
    "foi_disclosure_log",
    (
        Column("received_by"),
        Column("reference"),
        Column("part", INTEGER),
        Column("asked"),
        Column("outcome"),
        Column("exemptions"),
        Column("released"),
        Column("sent_on"),
    ),
    order_by=("sent_on", "received_by", "reference", "part"),
)
#: sorts after every date: a stopped clock has no due date yet
STOPPED = "stopped"
_NO_FACTS = {"ico": None, "review": None, "answered": False, "awaiting_clarification": False, "awaiting_fee": False}


class FoiRequests(TableReadModel):
    name = "foi"
    tables = (REQUESTS, DISCLOSURE_LOG)
    followed = tuple(v for v in vars(FoiRequest).values() if isinstance(v, type) and issubclass(v, FoiRequest.Event)
                     and v not in (FoiRequest.Event, FoiRequest.Created))

    @staticmethod
    def _key(event: Any) -> str:
        return id_text(event.originator_id)

    def _moved(self, event: Any, page: Page, *, facts: dict[str, Any] | None = None, **values: Any) -> dict[str, Any]:
        row = page.get(REQUESTS.name, self._key(event)) or {}
        known = {**json.loads(row.get("facts") or json.dumps(_NO_FACTS)), **(facts or {})}
        if "due_on" in values:
            values["due_order"] = values["due_on"] or STOPPED
        return page.update(REQUESTS.name, self._key(event), version=event.originator_version, last_event_at=utc(event.timestamp),
                           facts=json.dumps(known, sort_keys=True), stage=stage_from(**known), **values)

    @handles(FoiRequest.Received)
    def received(self, event: FoiRequest.Received, page: Page) -> None:
        page.put(REQUESTS.name, self._key(event), {
            "received_by": event.received_by, "reference": event.reference, "received_on": event.received_on,
            "channel": event.channel, "parts": len(event.parts), "asked": json.dumps(list(event.parts)),
            "date_of_receipt": event.received_on, "due_on": event.due_on, "due_order": event.due_on, "extended_by": 0,
            "facts": json.dumps(_NO_FACTS, sort_keys=True), "stage": stage_from(**_NO_FACTS),
            "version": event.originator_version, "last_event_at": utc(event.timestamp),
        })

    @handles(FoiRequest.ClarificationSought)
    def clarification_sought(self, event: FoiRequest.ClarificationSought, page: Page) -> None:
        self._moved(event, page, facts={"awaiting_clarification": True}, due_on=None)

    @handles(FoiRequest.ClarificationReceived)
    def clarification_received(self, event: FoiRequest.ClarificationReceived, page: Page) -> None:
        parts = {"parts": len(event.parts), "asked": json.dumps(list(event.parts))} if event.parts else {}
        self._moved(event, page, facts={"awaiting_clarification": False}, due_on=event.due_on, date_of_receipt=event.received_on, **parts)

    @handles(FoiRequest.FeesNoticeIssued)
    def fees_notice_issued(self, event: FoiRequest.FeesNoticeIssued, page: Page) -> None:
        self._moved(event, page, facts={"awaiting_fee": True}, due_on=None)

    @handles(FoiRequest.FeePaid)
    def fee_paid(self, event: FoiRequest.FeePaid, page: Page) -> None:
        self._moved(event, page, facts={"awaiting_fee": False}, due_on=event.due_on)

    @handles(FoiRequest.ExemptionConsidered)
    def exemption_considered(self, event: FoiRequest.ExemptionConsidered, page: Page) -> None:
        self._moved(event, page)

    @handles(FoiRequest.ExtendedForPublicInterest)
    def extended(self, event: FoiRequest.ExtendedForPublicInterest, page: Page) -> None:
        row = page.get(REQUESTS.name, self._key(event)) or {}
        self._moved(event, page, due_on=event.due_on, extended_by=(row.get("extended_by") or 0) + event.extension["working_days"])

    def _log(self, event: Any, page: Page, decisions: list[dict[str, Any]], sent_on: str) -> None:
        row = page.get(REQUESTS.name, self._key(event)) or {}
        asked = json.loads(row.get("asked") or "[]")
        for d in decisions:
            page.put(DISCLOSURE_LOG.name, f"{self._key(event)}|{d['part']:03d}", {
                "received_by": row.get("received_by"), "reference": row.get("reference"), "part": d["part"],
                "asked": asked[d["part"] - 1] if d["part"] <= len(asked) else None, "outcome": d["outcome"],
                "exemptions": ",".join(d["exemptions"]) or None, "released": d["released"] or None, "sent_on": sent_on,
            })

    @handles(FoiRequest.ResponseSent)
    def response_sent(self, event: FoiRequest.ResponseSent, page: Page) -> None:
        self._log(event, page, list(event.decisions), event.sent_on)
        self._moved(event, page, facts={"answered": True}, responded_on=event.sent_on, responded_late="yes" if event.late else "no")

    @handles(FoiRequest.RefusedOverCostLimit)
    def refused_over_cost_limit(self, event: FoiRequest.RefusedOverCostLimit, page: Page) -> None:
        row = page.get(REQUESTS.name, self._key(event)) or {}
        every_part = [{"part": n, "outcome": "refused_over_cost_limit", "exemptions": [], "released": ""}
                      for n in range(1, (row.get("parts") or 0) + 1)]
        self._log(event, page, every_part, event.sent_on)
        late = row.get("due_on") is not None and event.sent_on > row["due_on"]
        self._moved(event, page, facts={"answered": True}, responded_on=event.sent_on, responded_late="yes" if late else "no")

    @handles(FoiRequest.InternalReviewRequested)
    def review_requested(self, event: FoiRequest.InternalReviewRequested, page: Page) -> None:
        self._moved(event, page, facts={"review": False}, review_requested_on=event.requested_on)

    @handles(FoiRequest.InternalReviewDecided)
    def review_decided(self, event: FoiRequest.InternalReviewDecided, page: Page) -> None:
        self._moved(event, page, facts={"review": True}, review_outcome=event.outcome)

    @handles(FoiRequest.IcoComplaintRecorded)
    def ico_complaint(self, event: FoiRequest.IcoComplaintRecorded, page: Page) -> None:
        self._moved(event, page, facts={"ico": False}, ico_reference=event.ico_reference)

    @handles(FoiRequest.IcoDecisionRecorded)
    def ico_decision(self, event: FoiRequest.IcoDecisionRecorded, page: Page) -> None:
        self._moved(event, page, facts={"ico": True}, ico_outcome=event.outcome)


def open_view(ledger: Any) -> TableView:
    return follow.live_view(ledger, FoiRequests)


def catch_up(ledger: Any, view: TableView | None = None) -> int:
    """Bring the FOI tables up to date with the ledger; returns the number of events applied."""
    return follow.catch_up(ledger, FoiRequests(view or open_view(ledger)))
