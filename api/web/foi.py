"""FOI requests, for the FOI officers of the authority that received them (issue 15).

    GET /app/foi                    the requests by due date: how many are open, overdue, due within
                                    five working days and paused; each with its status as a tag
                                    (overdue red, due soon orange, paused grey, answered green) and
                                    the working days left; filters, sort, pages, "as at", CSV/XLSX
    GET /app/foi/disclosure-log     what each response released, withheld or did not hold, part by
                                    part, with the exemptions relied on; CSV/XLSX
    GET /app/foi/{reference}        one request as the API answers it: received, the requester (as
                                    the viewer may see them), the parts asked, clarifications and
                                    fees with the clock stopped and restarted, the due date and how
                                    it was worked out, exemptions with their public interest tests,
                                    extensions, the response, internal review, the ICO, a timeline

Who: `access.FOI_OFFICERS` (the API's own guard), and each sees only its own organisation's
requests: the lists are the API's tables (`api.http.foi.FOI_REQUESTS`, `FOI_DISCLOSURE_LOG`,
read through `api.web.lists`) and a request is the API's answer (`foi_request_answer`), so
another authority's request is the same 404 page as one that does not exist.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from api.http.auth import requires_role
from api.http.foi import FOI_DISCLOSURE_LOG, FOI_REQUESTS, foi_request_answer
from api.http.problems import ProblemError
from api.web.formats import day, pounds
from api.web.lists import Column, FieldError, Filter, as_at_moment, download, parse_as_at, read_list, read_rows, wanted_download
from api.web.templating import render
from domain import access
from domain.foi import clock
from domain.foi.views import STAGES
from domain.kernel.working_days import CalendarNotCovered

#: an open request due within this many working days is due soon (orange on the list, on the home page)
DUE_SOON = 5
#: a stage -> its tag's words and colour (an open request's depend on its due date: `status_tag`)
STAGE_TAGS = {
    "paused_for_clarification": ("Paused: clarification", "grey"),
    "paused_for_fee": ("Paused: fee", "grey"),
    "answered": ("Answered", "green"),
    "under_review": ("Internal review", "purple"),
    "reviewed": ("Review decided", "green"),
    "at_the_ico": ("With the ICO", "yellow"),
    "ico_decided": ("ICO decided", "green"),
}
OUTCOME_TAGS = {
    "released_in_full": ("Released in full", "green"),
    "released_in_part": ("Released in part", "yellow"),
    "withheld": ("Withheld", "red"),
    "not_held": ("Not held", "grey"),
    "refused_over_cost_limit": ("Refused: over the cost limit", "grey"),
}
CHANNELS = ("email", "post", "web_form", "social_media", "in_person", "other")
#: FOIA Part II, as an officer cites them
EXEMPTION_NAMES = {"s21": "s.21", "s36": "s.36", "s40": "s.40", "s41": "s.41", "s43": "s.43"}


def foi_href(reference: str) -> str:
    return "/app/foi/" + quote(reference, safe="/")


def status_tag(row: dict[str, Any]) -> tuple[str, str]:
    """A request's status as a tag (words, colour): its words say what the colour does."""
    status, left = row.get("status") or row.get("stage"), row.get("working_days_left")
    if status == "overdue":
        return "Overdue", "red"
    if status == "open":
        return ("Due soon", "orange") if left is not None and left <= DUE_SOON else ("Open", "blue")
    return STAGE_TAGS.get(status or "", (str(status).replace("_", " ").capitalize(), "grey"))


def days_left_text(row: dict[str, Any]) -> str:
    left = row.get("working_days_left")
    if str(row.get("status") or "").startswith("paused"):
        return "Clock stopped"
    if left is None:
        return "–"
    if left < 0:
        return f"{-left} late"
    return "Due today" if left == 0 else str(left)


REQUEST_FILTERS = (
    Filter("q", "Search", hint="Request reference"),
    Filter("stage", "Stage", choices=STAGES, hint="Open includes overdue"),
    Filter("channel", "Received by", choices=CHANNELS),
    Filter("responded_late", "Answered late", choices=("yes", "no")),
)
REQUEST_COLUMNS = (
    Column("reference", "Request", link=lambda row: foi_href(row["reference"]), nowrap=True),
    Column("received_on", "Received", kind="date"),
    Column("channel", "By", kind="words"),
    Column("parts", "Parts", kind="number"),
    Column("status", "Status", kind="tag", sortable=False, shown=lambda row: status_tag(row)[0], colour=lambda row: status_tag(row)[1]),
    Column("due_on", "Due", kind="date", nowrap=True),
    Column("working_days_left", "Working days left", sortable=False, shown=days_left_text, nowrap=True),
    Column("extended_by", "Extended by (working days)", kind="number"),
    Column("responded_on", "Answered", kind="date", nowrap=True),
    Column("responded_late", "Late", kind="words"),
)
#: on the page "answered" says whether late; the extension is the request's own page's (the downloads keep both)
REQUEST_SHOWN = tuple(
    Column("responded_on", "Answered", shown=lambda row: day(row["responded_on"]) + (" (late)" if row["responded_late"] == "yes" else "")
           if row["responded_on"] else None)
    if c.key == "responded_on" else c
    for c in REQUEST_COLUMNS if c.key not in ("extended_by", "responded_late")
)
LOG_FILTERS = (
    Filter("q", "Search", hint="Reference, or words of what was asked or released"),
    Filter("outcome", "Outcome", choices=tuple(OUTCOME_TAGS), labels={k: v[0] for k, v in OUTCOME_TAGS.items()}),
    Filter("reference", "Request", hint="For example FOI-2026-0042"),
    Filter("sent_on", "Sent on", hint="Year-month-day, for example 2026-11-30"),
)
LOG_COLUMNS = (
    Column("reference", "Request", link=lambda row: foi_href(row["reference"]), nowrap=True),
    Column("part", "Part", kind="number"),
    Column("asked", "Asked"),
    Column("outcome", "Outcome", kind="tag", shown=lambda row: OUTCOME_TAGS.get(row["outcome"], (row["outcome"], ""))[0],
           colour=lambda row: OUTCOME_TAGS.get(row["outcome"], ("", "grey"))[1]),
    Column("exemptions", "Exemptions", shown=lambda row: ", ".join(EXEMPTION_NAMES.get(e, e) for e in (row["exemptions"] or "").split(",") if e) or None),
    Column("released", "Released"),
    Column("sent_on", "Sent", kind="date", nowrap=True),
)


def summary(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """How many requests are open (overdue among them), due soon and paused, with the overdue and
    the due soon themselves, soonest first (`rows`: the API's, with status and working days left)."""
    rows = list(rows)
    overdue = [r for r in rows if r["status"] == "overdue"]
    due_soon = [r for r in rows if r["status"] == "open" and r["working_days_left"] is not None and r["working_days_left"] <= DUE_SOON]
    paused = [r for r in rows if r["status"] in ("paused_for_clarification", "paused_for_fee")]
    by_due = lambda r: (r["due_on"] or "", r["reference"])  # noqa: E731
    return {
        "open": sum(1 for r in rows if r["status"] in ("open", "overdue")),
        "overdue": sorted(overdue, key=by_due),
        "due_soon": sorted(due_soon, key=by_due),
        "paused": len(paused),
        "total": len(rows),
        "within": DUE_SOON,
    }


# ------------------------------------------------------------------ how the due date was worked out


@lru_cache(maxsize=1)
def holiday_names() -> dict[date, str]:
    """Every UK bank holiday the calendars hold, by name (the names are only for saying which day was skipped)."""
    names: dict[date, str] = {}
    for name, where in (("bank_holidays_england_and_wales.json", None), ("bank_holidays_rest_of_uk.json", "only")):
        raw = json.loads(resources.files("domain.kernel.data").joinpath(name).read_text(encoding="utf-8"))
        for e in raw["events"]:
            division = e.get("division", "").replace("-", " ").title()
            names[date.fromisoformat(e["date"])] = f"{e['title']} ({division} only)" if where else e["title"]
    return names


def skipped_holidays(first: date, last: date) -> list[dict[str, str]]:
    """The weekdays after `first` up to `last` that are not FOIA working days: the UK's bank holidays."""
    found, at = [], first
    while at < last:
        at += timedelta(days=1)
        if at.weekday() < 5 and not clock.is_foia_working_day(at):
            found.append({"day": at.isoformat(), "name": holiday_names().get(at, "Bank holiday")})
    return found


def foia_days_in(first: date, last: date) -> int:
    return sum(1 for n in range((last - first).days + 1) if clock.is_foia_working_day(first + timedelta(days=n)))


def how_due(state: dict[str, Any]) -> dict[str, Any]:
    """The due date as the officer would check it by hand: from which day, the days not counted, the extensions."""
    receipt = date.fromisoformat(state["date_of_receipt"])
    clarified = [c for c in state["clarifications"] if c["answered_on"]]
    paused = [f for f in state["fees"] if f["paid_on"]]
    try:
        fees = [{**f, "days": foia_days_in(date.fromisoformat(f["issued_on"]), date.fromisoformat(f["paid_on"]))} for f in paused]
        holidays = skipped_holidays(receipt, date.fromisoformat(state["due_on"])) if state["due_on"] else []
    except CalendarNotCovered:
        fees, holidays = [{**f, "days": None} for f in paused], []
    return {
        "receipt": receipt.isoformat(),
        "moved_by": clarified[-1] if clarified and clarified[-1]["answered_on"] == receipt.isoformat() else None,
        "working_days": clock.FOIA_WORKING_DAYS,
        "fees": fees,
        "extended_by": sum(e["working_days"] for e in state["extensions"]),
        "holidays": holidays,
        "stopped": state["stage"] in ("paused_for_clarification", "paused_for_fee"),
    }


def timeline(state: dict[str, Any]) -> list[dict[str, str]]:
    """The request's steps in the order of their days (each step's own day, as recorded)."""
    steps: list[tuple[str, int, str, str]] = [(state["received_on"], 0, "Received", f"By {state['channel'].replace('_', ' ')}; "
                                                f"{len(state['parts'])} part{'s' if len(state['parts']) != 1 else ''} asked.")]
    for c in state["clarifications"]:
        steps.append((c["sought_on"], 1, "Clarification sought: the clock stopped", c["question"]))
        if c["answered_on"]:
            steps.append((c["answered_on"], 2, "Clarification received: a new 20 working days began", c["answer"]))
    for f in state["fees"]:
        steps.append((f["issued_on"], 1, f"Fees notice for {pounds(f['amount_pence'])}: the clock stopped", f["basis"]))
        if f["paid_on"]:
            steps.append((f["paid_on"], 2, "Fee paid: the clock ran again", ""))
    for e in state["exemptions"]:
        steps.append((e["considered_on"], 3, f"{EXEMPTION_NAMES.get(e['exemption'], e['exemption'])} considered for part {e['part']}", e["grounds"]))
    for e in state["extensions"]:
        steps.append((e["notified_on"], 4, f"Extended by {e['working_days']} working days for the public interest test", e["why"]))
    if state["cost_limit_refusal"]:
        r = state["cost_limit_refusal"]
        steps.append((r["sent_on"], 5, "Refused: over the cost limit (s.12)", f"Estimated {r['estimated_hours']} hours, the limit {r['limit_hours']}."))
    if state["response"]:
        r = state["response"]
        decided = "; ".join(f"part {d['part']} {OUTCOME_TAGS.get(d['outcome'], (d['outcome'],))[0].lower()}"
                            + (f" ({', '.join(EXEMPTION_NAMES.get(e, e) for e in d['exemptions'])})" if d["exemptions"] else "")
                            for d in r["decisions"])
        steps.append((r["sent_on"], 5, "Response sent" + (" late" if r["late"] else ""), decided.capitalize()))
    review = state["internal_review"]
    if review:
        steps.append((review["requested_on"], 6, "Internal review requested", review["grounds"]))
        if review["decided_on"]:
            steps.append((review["decided_on"], 7, f"Internal review decided: {review['outcome'].replace('_', ' ')}", review["findings"]))
    ico = state["ico_complaint"]
    if ico:
        steps.append((ico["notified_on"], 8, f"Complaint to the ICO ({ico['reference']})", ""))
        if ico["decided_on"]:
            steps.append((ico["decided_on"], 9, f"ICO decided: {ico['outcome'].replace('_', ' ')}", ico["summary"] or ""))
    return [{"on": on, "what": what, "detail": detail} for on, _order, what, detail in sorted(steps, key=lambda s: (s[0], s[1]))]


def parts_of(state: dict[str, Any]) -> list[dict[str, Any]]:
    """Each part asked, with the exemptions considered for it and the response's decision on it."""
    decisions = {d["part"]: d for d in (state["response"] or {}).get("decisions", [])}
    return [
        {**p, "exemptions": [e for e in state["exemptions"] if e["part"] == p["part"]], "decision": decisions.get(p["part"])}
        for p in state["parts"]
    ]


class FoiPages(Controller):
    path = "/app/foi"
    include_in_schema = False

    @get("/", sync_to_thread=True, guards=[requires_role(*access.FOI_OFFICERS)])
    def requests(self, request: Request[Any, Any, Any]) -> Response[Any]:
        kind = wanted_download(request)
        listed = read_list(request, FOI_REQUESTS, REQUEST_FILTERS, REQUEST_COLUMNS, everything=kind is not None)
        if kind and not listed.errors and not listed.refused:
            return download(listed, REQUEST_COLUMNS, kind, "foi-requests")
        counts = None
        if not listed.errors and not listed.refused:
            try:
                counts = summary(read_rows(request, FOI_REQUESTS, as_at=listed.as_at))
            except ProblemError:
                counts = None  # the list said why it cannot be had as at that day
        return render(request, "foi_requests.html", status=listed.status, title="FOI requests", listed=listed,
                      filters=REQUEST_FILTERS, columns=REQUEST_SHOWN, counts=counts)

    @get("/disclosure-log", sync_to_thread=True, guards=[requires_role(*access.FOI_OFFICERS)])
    def disclosure_log(self, request: Request[Any, Any, Any]) -> Response[Any]:
        kind = wanted_download(request)
        listed = read_list(request, FOI_DISCLOSURE_LOG, LOG_FILTERS, LOG_COLUMNS, everything=kind is not None)
        if kind and not listed.errors and not listed.refused:
            return download(listed, LOG_COLUMNS, kind, "foi-disclosure-log")
        return render(request, "foi_disclosure_log.html", status=listed.status, title="FOI disclosure log", listed=listed,
                      filters=LOG_FILTERS, columns=LOG_COLUMNS)

    @get("/{reference:path}", sync_to_thread=True, guards=[requires_role(*access.FOI_OFFICERS)])
    def one_request(self, request: Request[Any, Any, Any], reference: FromPath[str]) -> Response[Any]:
        reference = reference.strip("/")
        errors: list[FieldError] = []
        as_at = parse_as_at(request.query_params.get("as_at") or None, errors)
        if errors:
            return render(request, "foi_request.html", status=400, title="FOI request", reference=reference, href=foi_href(reference),
                          state=None, errors=errors, as_at_text=request.query_params.get("as_at", ""))
        # The API's answer itself: another authority's request, or none, raises its 404 here.
        state = foi_request_answer(request, reference, as_at_moment(as_at) if as_at else None)
        words, colour = status_tag(state)
        return render(
            request, "foi_request.html", title=f"FOI request {reference}", reference=reference, href=foi_href(reference),
            state=state, errors=[], as_at=as_at, as_at_text=as_at.isoformat() if as_at else "", shown_status=(words, colour),
            days_left=days_left_text(state), how=how_due(state), steps=timeline(state), parts=parts_of(state),
            outcome_tags=OUTCOME_TAGS, exemption_names=EXEMPTION_NAMES,
        )
