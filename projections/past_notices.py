"""Past notices: one row per past contracting process (ocid) taken in from another publisher's OCDS.

    ocid, title, buyer, status, tags, first_date, last_date, value, currency, cpv, classification,
    releases, publisher, source_uri, licence, last_taken_at        (hidden: description, facts)

Each process's facts are read from its releases in date order, the later release's value of a
field standing over an earlier one's, as a compiled record would say it: `title` and
`description` of the tender, `buyer` (the buyer's name), `status` (the tender's status), `cpv` and
`classification` (the tender's main classification: its id, and "id description"). `value` is
the sum of the awards' values where there are awards (each award by its id, as its latest release
states it), else the tender's value; `currency` is theirs (null where they mix currencies, and
then `value` is null too). `tags` are the tags of every release, oldest first, each once;
`first_date`/`last_date` the first and last release dates in UTC. `publisher`, `source_uri` and
`licence` are of the package the latest release was read from. `description` (hidden: long, and
on the process's page) is searched with the title and buyer.

The row is worked out afresh from every release's summary (`facts`, hidden) whatever order the
events arrive in, so a rebuild gives the same row.
"""

from __future__ import annotations

import json
from typing import Any

from domain.past_notices.procurement import PastProcurement, instant_of
from projections.handlers import handles
from projections.memo import utc
from projections.read_model import TableReadModel
from projections.tables import INTEGER, REAL, Column, Page, Table

TABLE = Table(
    "past_notices",
    (
        Column("ocid"),
        Column("title"),
        Column("buyer"),
        Column("status"),
        Column("tags"),
        Column("first_date"),
        Column("last_date"),
        Column("value", REAL),
        Column("currency"),
        Column("cpv"),
        Column("classification"),
        Column("releases", INTEGER),
        Column("publisher"),
        Column("source_uri"),
        Column("licence"),
        Column("last_taken_at"),
        Column("description", hidden=True),
        Column("facts", hidden=True),
    ),
    order_by=("last_date", "ocid"),
    indexes=(("last_date",), ("buyer",)),
)


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _amount(value: Any) -> tuple[float, str | None] | None:
    if isinstance(value, dict) and isinstance(value.get("amount"), int | float) and not isinstance(value.get("amount"), bool):
        return float(value["amount"]), _text(value.get("currency"))
    return None


def summary(release: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    """What one release says of the facts the row shows (None: it does not say)."""
    tender = release.get("tender") if isinstance(release.get("tender"), dict) else {}
    buyer = release.get("buyer") if isinstance(release.get("buyer"), dict) else {}
    classification = tender.get("classification") if isinstance(tender.get("classification"), dict) else {}
    awards = {}
    for award in release.get("awards") or []:
        if isinstance(award, dict) and isinstance(award.get("id"), str | int):
            awards[str(award["id"])] = _amount(award.get("value"))
    publisher = source.get("publisher") if isinstance(source.get("publisher"), dict) else {}
    return {
        "date": instant_of(str(release.get("date"))), "id": str(release.get("id")), "tags": [t for t in release.get("tag") or [] if isinstance(t, str)],
        "title": _text(tender.get("title")), "description": _text(tender.get("description")), "buyer": _text(buyer.get("name")),
        "status": _text(tender.get("status")), "cpv": _text(str(classification["id"])) if classification.get("id") is not None else None,
        "classification_words": _text(classification.get("description")), "tender_value": _amount(tender.get("value")), "awards": awards,
        "publisher": _text(publisher.get("name")), "source_uri": _text(source.get("uri")), "licence": _text(source.get("license")),
    }


def row_of(ocid: str, facts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The row, from every release's summary in date order (later releases standing over earlier ones)."""
    ordered = sorted(facts.values(), key=lambda f: (f["date"], f["id"]))
    latest: dict[str, Any] = {}
    awards: dict[str, Any] = {}
    tags: list[str] = []
    for f in ordered:
        for name in ("title", "description", "buyer", "status", "cpv", "classification_words", "tender_value", "publisher", "source_uri", "licence"):
            if f.get(name) is not None:
                latest[name] = f[name]
        awards.update({k: v for k, v in f["awards"].items() if v is not None})
        tags.extend(t for t in f["tags"] if t not in tags)
    amounts = list(awards.values()) if awards else ([latest["tender_value"]] if latest.get("tender_value") else [])
    currencies = {currency for _, currency in amounts}
    value = sum(amount for amount, _ in amounts) if amounts and len(currencies) == 1 else None
    cpv = latest.get("cpv")
    words = latest.get("classification_words")
    return {
        "ocid": ocid, "title": latest.get("title"), "buyer": latest.get("buyer"), "status": latest.get("status"),
        "tags": ", ".join(tags) or None, "first_date": ordered[0]["date"], "last_date": ordered[-1]["date"],
        "value": value, "currency": next(iter(currencies)) if value is not None else None, "cpv": cpv,
        "classification": " ".join(x for x in (cpv, words) if x) or None, "releases": len(ordered),
        "publisher": latest.get("publisher"), "source_uri": latest.get("source_uri"), "licence": latest.get("licence"),
        "description": latest.get("description"),
        "facts": json.dumps(facts, sort_keys=True, ensure_ascii=False),
    }


class PastNotices(TableReadModel):
    name = "past_notices"
    tables = (TABLE,)
    followed = (PastProcurement.ReleaseTaken,)

    @handles(PastProcurement.ReleaseTaken)
    def release_taken(self, event: PastProcurement.ReleaseTaken, page: Page) -> None:
        release = json.loads(event.release)
        row = page.get(TABLE.name, release["ocid"])
        facts = json.loads(row["facts"]) if row and row.get("facts") else {}
        facts[event.release_id] = summary(release, dict(event.source))
        page.put(TABLE.name, release["ocid"], {**row_of(release["ocid"], facts), "last_taken_at": utc(event.timestamp)})
