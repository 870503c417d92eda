"""Past notices over HTTP: other publishers' OCDS releases taken in (`aqp ocds import`), to look back on.

    GET /past-notices            the list (projections/past_notices.py): ?q= text in title, buyer and
                                 description; ?buyer= (in the buyer's name), ?cpv=, ?status=; ?from_date=/?to_date= (a day:
                                 processes with a release dated within); sort, pages, CSV, as_of
    GET /past-notices/{ocid}     the process: its releases in date order (id, date, tags, the SHA-256 of
                                 the text as published, where it came from and when it was taken) and
                                 the record compiled by ocdsmerge from them (`audit.ocds.compiled_release`),
                                 with a summary of it (buyer, title, value, tender period, awards)

For every role (`access.PAST_NOTICE_READERS`): they are public data, published under the licence
each package states (Contracts Finder's: Crown copyright, Open Government Licence v3).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from litestar import Controller, Request
from litestar.params import FromPath

from api.http.problems import FieldProblem, ProblemError, not_found
from api.http.reads import read
from api.http.tables import Conditions, Param, Table, row_struct, table_route
from audit.ocds import compiled_release
from domain import access
from domain.kernel.errors import DomainError
from domain.past_notices.procurement import PastProcurement
from projections.past_notices import TABLE, PastNotices

PastNotice = row_struct("PastNotice", TABLE)


def _day(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ProblemError(422, "validation_failed", f"{name} must be a day, e.g. 2022-10-01, not {value!r}.",
                           [FieldProblem(field=f"query:{name}", rule="date", message="must be a day, e.g. 2022-10-01")]) from None


def _from(value: str, _today: date) -> Conditions:
    # A process with any release on or after the day: its last release is.
    return Conditions({"last_date": (">=", _day("from_date", value).isoformat())})


def _to(value: str, _today: date) -> Conditions:
    # ... and on or before the day: its first release is before the next day begins (dates are UTC text).
    return Conditions({"first_date": ("<", (_day("to_date", value) + timedelta(days=1)).isoformat())})


PAST_NOTICES = Table(
    row=PastNotice,
    read_model=PastNotices,
    in_sql=True,
    filters=("cpv", "status"),
    search=("title", "buyer", "description"),
    params=(
        Param("buyer", "processes whose buyer's name contains this text (any case)", lambda value, _today: Conditions({"buyer": ("contains", value)})),
        Param("from_date", "processes with a release dated on or after this day (UTC), e.g. 2022-10-01", _from),
        Param("to_date", "processes with a release dated on or before this day (UTC), e.g. 2022-10-31", _to),
    ),
)


def _money(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) and value.get("amount") is not None else None


def record_summary(record: dict[str, Any]) -> dict[str, Any]:
    """What a person reads first of a compiled record: buyer, title, value, tender period, awards with suppliers."""
    tender = record.get("tender") or {}
    parties = {p.get("id"): p.get("name") for p in record.get("parties") or [] if isinstance(p, dict)}
    awards = []
    for award in record.get("awards") or []:
        suppliers = [s.get("name") or parties.get(s.get("id")) for s in award.get("suppliers") or [] if isinstance(s, dict)]
        awards.append({
            "id": award.get("id"), "title": award.get("title"), "status": award.get("status"), "date": award.get("date"),
            "value": _money(award.get("value")), "suppliers": [s for s in suppliers if s],
        })
    period = tender.get("tenderPeriod") or {}
    return {
        "buyer": (record.get("buyer") or {}).get("name"), "title": tender.get("title"), "description": tender.get("description"),
        "status": tender.get("status"), "value": _money(tender.get("value")),
        "classification": tender.get("classification"), "procurement_method": tender.get("procurementMethodDetails") or tender.get("procurementMethod"),
        "tender_period": {"start": period.get("startDate"), "end": period.get("endDate")},
        "contract_period": tender.get("contractPeriod") or None, "awards": awards,
    }


def past_notice_for(service: Any, ocid: str) -> dict[str, Any]:
    """`GET /past-notices/{ocid}`: the process's releases as held and the record compiled from them, or 404."""
    try:
        process = service.ledger.aggregate(PastProcurement, ocid)
    except DomainError:
        raise not_found(f"past notice {ocid}") from None
    held = process.releases_in_date_order()
    record = compiled_release([r["data"] for r in held])
    sources = list({r["source"].get("uri"): r["source"] for r in held}.values())
    return {
        "ocid": process.ocid,
        "releases": [
            {"id": r["id"], "date": r["date"], "tags": r["tags"], "sha256": r["sha256"], "taken_at": r["taken_at"], "source": r["source"],
             "release": r["data"]}
            for r in held
        ],
        "compiled_release": record,
        "summary": record_summary(record),
        "sources": [{"uri": s.get("uri"), "publisher": (s.get("publisher") or {}).get("name"), "license": s.get("license"),
                     "published_date": s.get("published_date")} for s in sources],
    }


class PastNoticesController(Controller):
    path = "/past-notices"
    tags = ["past notices"]

    list_past_notices = table_route(
        "/", PAST_NOTICES, roles=access.PAST_NOTICE_READERS, summary="Past notices",
        description="One row per past contracting process taken in from another publisher's OCDS (`aqp ocds import`; "
        "projections/past_notices.py), latest first by default: buyer, title, tags, dates, value, CPV classification, "
        "tender status. Public data, under the licence of the package each came from.",
    )

    @read("/{ocid:str}", access.PAST_NOTICE_READERS, "A past contracting process",
          "Its releases in date order as held (each as published, with its SHA-256, where it came from and when it was taken) "
          "and the record compiled from them by ocdsmerge, with a summary: buyer, title, value, tender period, awards and suppliers.")
    def get_past_notice(self, request: Request[Any, Any, Any], ocid: FromPath[str]) -> dict[str, Any]:
        return past_notice_for(request.app.state.service, ocid)
