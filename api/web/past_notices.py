"""Past notices: other publishers' OCDS releases of past procurements, to look back on.

    GET /app/past-notices            search (words of the title, buyer or description; buyer; tender
                                     status; CPV code; a date range) and the results, paged, sortable,
                                     as CSV/XLSX: the API's own `PAST_NOTICES` table (`read_list`)
    GET /app/past-notices/{ocid}     one contracting process: the record compiled from its releases as a
                                     summary (buyer, title, value, tender period, awards with suppliers
                                     and values), its releases in date order (tags, date, id, SHA-256),
                                     and where they came from with their licence

For every role (`access.PAST_NOTICE_READERS`): public data, each under the licence its package
states (Contracts Finder's: Crown copyright, Open Government Licence v3), which the pages show with
the address it was read from. The process is `past_notice_for`, the function behind the API's
`GET /past-notices/{ocid}`: an ocid the ledger does not hold is the same 404 page.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from api.http.auth import requires_role
from api.http.past_notices import PAST_NOTICES, past_notice_for
from api.web.lists import Column, FieldError, Filter, Listed, download, read_list, wanted_download
from api.web.templating import render
from domain import access

#: the tenderStatus codelist of OCDS 1.1.5 (closed)
TENDER_STATUSES = ("planning", "planned", "active", "cancelled", "unsuccessful", "complete", "withdrawn")
OGL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"


def money(amount: Any, currency: Any) -> str:
    if amount is None:
        return "–"
    symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(str(currency or ""), "")
    return f"{symbol}{amount:,.2f}" + ("" if symbol else f" {currency or ''}".rstrip())


COLUMNS = (
    Column("title", "Title", link=lambda row: f"/app/past-notices/{row['ocid']}", shown=lambda row: row.get("title") or row["ocid"]),
    Column("buyer", "Buyer"),
    Column("tags", "Releases", sortable=False, shown=lambda row: f"{row.get('releases')}: {row.get('tags') or '–'}"),
    Column("status", "Tender status", kind="words"),
    Column("cpv", "CPV code", nowrap=True),
    Column("value", "Value", nowrap=True, shown=lambda row: money(row.get("value"), row.get("currency"))),
    Column("last_date", "Latest release", kind="date"),
)
FILTERS = (
    Filter("q", "Words in the title, buyer or description", hint="For example: domestic abuse"),
    Filter("buyer", "Buyer", hint="Part of the buyer's name"),
    Filter("status", "Tender status", choices=TENDER_STATUSES),
    Filter("cpv", "CPV code", hint="For example: 85000000"),
    Filter("from_date", "Released from", hint="A day, for example 2022-10-01"),
    Filter("to_date", "Released to", hint="A day, for example 2022-10-31"),
)


def _dates_wrong(request: Request[Any, Any, Any]) -> list[FieldError]:
    wrong = []
    for f in FILTERS[-2:]:
        value = request.query_params.get(f.name) or ""
        try:
            if value:
                date.fromisoformat(value)
        except ValueError:
            wrong.append(FieldError(f.name, f"{f.label}: enter a day as year-month-day, for example 2022-10-01"))
    return wrong


class PastNoticesPages(Controller):
    path = "/app/past-notices"
    include_in_schema = False

    @get("/", sync_to_thread=True, guards=[requires_role(*access.PAST_NOTICE_READERS)])
    def past_notices(self, request: Request[Any, Any, Any]) -> Response[Any]:
        kind = wanted_download(request)
        wrong = _dates_wrong(request)
        if wrong:
            asked = {k: v for k, v in request.query_params.items() if v and k in {f.name for f in FILTERS}}
            listed = Listed([], 0, 1, 1, asked, None, None, wrong)
        else:
            listed = read_list(request, PAST_NOTICES, FILTERS, COLUMNS, default_sort="-last_date", everything=kind is not None)
        if kind and listed.status == 200:
            return download(listed, COLUMNS, kind, "past-notices")
        return render(request, "past_notices.html", status=listed.status, title="Past notices", listed=listed,
                      filters=FILTERS, columns=COLUMNS)

    @get("/{ocid:str}", sync_to_thread=True, guards=[requires_role(*access.PAST_NOTICE_READERS)])
    def past_notice(self, request: Request[Any, Any, Any], ocid: FromPath[str]) -> Response[str]:
        process = past_notice_for(request.app.state.service, ocid)
        summary = process["summary"]
        return render(request, "past_notice.html", title=summary.get("title") or process["ocid"], p=process, s=summary,
                      money=money, ogl=OGL)
