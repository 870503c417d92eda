"""The "Publication" tab of a competition's page and of a contract's: what the world has been told.

    GET /app/competitions/{reference}?tab=publication
    GET /app/contracts/{reference}?tab=publication

Drawn from the public publication alone, never from what the person signed in may see: the
releases are the feed's own (`api.http.ocds.published`, the one worked out per ledger position
for `/ocds`), the notices are their events as the world reads them (`audit.notices.published_notices`,
`domain.access.PUBLIC`). So the tab shows a commissioner, an auditor and a bidder the same thing,
exactly what anybody reading `/ocds` sees. Who may open the tab at all is who may open the page
(the page's handler asks the API's own read first, so a record absent to the viewer is its 404).

A contract's tab lists the releases that carry the contract (its `contracts` hold the
contract's OCDS id) below those of its contracting process that carry no contract at all (the
tender and the award); other contracts' releases are not its own. What a Procurement Act 2023
contract still owes is the domain's rule (`Contract.notices_overdue`, as `audit.notices` asks it).
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, time, timezone
from typing import Any
from urllib.parse import quote
from uuid import UUID

from api.http.ocds import published
from api.http.tables import ENGLAND
from audit.notices import published_notices
from audit.ocds import notice_payload
from audit.verifier.digest import canonical
from domain.contracts.contract import Contract
from domain.contracts.handlers import light_touch
from domain.procurement.competition import Competition

#: an OCDS release tag (the standard's closed list) -> what it tells, in words; a tag not here reads as its own words
TAG_WORDS = {
    "planning": "Planning",
    "planningUpdate": "Planning updated",
    "tender": "Tender published",
    "tenderAmendment": "Tender amended",
    "tenderUpdate": "Tender updated",
    "tenderCancellation": "Tender cancelled",
    "award": "Award published",
    "awardUpdate": "Award updated",
    "awardCancellation": "Award cancelled",
    "contract": "Contract published",
    "contractUpdate": "Contract updated",
    "contractAmendment": "Contract amended",
    "implementation": "Implementation",
    "implementationUpdate": "Implementation updated",
    "contractTermination": "Contract ended",
    "compiled": "Compiled",
}
#: a notice type the ledger records -> its name in words (a type not here reads as its own words)
NOTICE_WORDS = {
    "future_opportunity": "Future opportunity notice",
    "contract_notice": "Contract notice",
    "award_notice": "Contract award notice",
    "contract_details_notice": "Contract details notice",
    "contract_change_notice": "Contract change notice",
    "contract_termination_notice": "Contract termination notice",
    "psr_intention_to_award": "PSR notice of intention to award",
    "psr_award_confirmation": "PSR notice confirming the award",
}
TAB = "publication"
#: the tabs a competition's or contract's page has, by their `?tab=` value (none: the record)
TABS = (TAB,)


def tag_words(tag: str) -> str:
    if tag in TAG_WORDS:
        return TAG_WORDS[tag]
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(tag)).lower()
    return spaced[:1].upper() + spaced[1:]


def notice_words(notice_type: str | None) -> str:
    if notice_type in NOTICE_WORDS:
        return NOTICE_WORDS[notice_type]
    text = str(notice_type or "notice").replace("_", " ")
    return text[:1].upper() + text[1:]


def in_england(moment: str) -> str:
    """A release's date (RFC 3339, UTC) as the time in England: 3 March 2027 at 14:05."""
    try:
        local = datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone(ENGLAND)
    except (ValueError, OverflowError):
        return moment
    return f"{local.day} {local:%B %Y} at {local:%H:%M}"


def release_rows(releases: list[dict[str, Any]], notices: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Each release in words; a notice's own release (`notices`: release id -> its reference) says which notice."""
    rows = []
    for r in releases:
        told = []
        for document in _notice_documents(r):
            if (notices or {}).get(r["id"]) == document["id"] and not told:
                code = f" ({document['noticeType']})" if document.get("noticeType") else ""
                told.append(f"{document.get('title') or 'Notice'}{code} {document['id']}")
        rows.append({
            "id": r["id"],
            "date": r["date"],
            "when": in_england(r["date"]),
            "tags": [tag_words(t) for t in r.get("tag", [])],
            "notice": "; ".join(told) or None,
            "href": f"/ocds/releases/{r['id']}",
        })
    return rows


def _notice_documents(release: dict[str, Any]) -> list[dict[str, Any]]:
    sections = [release.get("tender") or {}, *release.get("awards", []), *release.get("contracts", [])]
    return [d for s in sections for d in s.get("documents", []) if str(d.get("documentType", "")).endswith("Notice")]


def notice_rows(notices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**n, "words": notice_words(n.get("notice_type"))} for n in notices]


def _public(service: Any, prefix: str) -> tuple[Any, dict[UUID, list[dict[str, Any]]]]:
    """The publication and the notices as published, each worked out once per ledger position."""
    position = service.ledger.max_position()
    notices = service.answer(("published-notices", position), lambda: published_notices(service.ledger))
    return published(service, prefix), notices


def _links(ocid: str) -> dict[str, str]:
    return {"ocid": ocid, "record_href": f"/ocds/records/{ocid}", "feed_href": "/ocds/releases"}


def competition_publication(service: Any, prefix: str, reference: str) -> dict[str, Any]:
    """What the world has been told of the competition's contracting process."""
    publication, notices = _public(service, prefix)
    ocid = publication.ocid(reference)
    return {
        **_links(ocid),
        "releases": release_rows(publication.by_ocid(ocid), publication.notices_published()),
        "notices": notice_rows(notices.get(Competition.id_for(reference), [])),
    }


def contract_publication(service: Any, prefix: str, reference: str, *, today: date) -> dict[str, Any]:
    """What the world has been told of the contract, below what it has been told of its process, and what it still owes."""
    publication, notices = _public(service, prefix)
    contract = service.ledger.aggregate(Contract, reference)
    ocid = publication.ocid(contract.competition)
    process = publication.processes.get(ocid)
    own_id = process.contract_id(reference) if process else None
    of_process, own = [], []
    for release in publication.by_ocid(ocid):
        carried = {c.get("id") for c in release.get("contracts") or []}
        if own_id in carried:
            own.append(release)
        elif not carried:
            of_process.append(release)
    # Every notice the Act requires and not recorded, with its last day: asked as of the end of
    # time, so those not yet late are listed too; late ones are those whose last day has passed.
    owed = contract.notices_overdue(today=date.max, light_touch=light_touch(service.ledger, contract))
    told = publication.notices_published()
    return {
        **_links(ocid),
        "contract_ocds_id": own_id,
        "pa2023": contract.regime == "pa2023",
        "process_releases": release_rows(of_process, told),
        "releases": release_rows(own, told),
        "notices": notice_rows(notices.get(Contract.id_for(reference), [])),
        "owed": [
            {**o, "words": notice_words(o["notice_type"]), "overdue": today.isoformat() > o["due"],
             "payload": _payload_link(service, publication, reference, o["notice_type"], today)}
            for o in owed
        ],
    }


def notice_payload_bytes(service: Any, prefix: str, reference: str, notice_type: str, *, today: date) -> tuple[bytes, str]:
    """The payload of a notice the contract owes, to send to Find a Tender (`audit.ocds.notice_payload`),
    as canonical bytes with their SHA-256, the same however often asked while the ledger stands still:
    dated by the process's latest release, to be published today. ValueError for a notice it cannot owe."""
    publication = published(service, prefix)
    return _payload(service, publication, reference, notice_type, today)


def _payload(service: Any, publication: Any, reference: str, notice_type: str, today: date) -> tuple[bytes, str]:
    contract = service.ledger.aggregate(Contract, reference)
    releases = publication.by_ocid(publication.ocid(contract.competition))
    at = datetime.fromisoformat(releases[-1]["date"].replace("Z", "+00:00")) if releases else datetime.combine(today, time(12), tzinfo=timezone.utc)
    payload = notice_payload(service.ledger, notice_type=notice_type, published_on=today, at=at, contract=reference,
                             prefix=publication.prefix, published=publication)
    body = canonical(payload)
    return body, hashlib.sha256(body).hexdigest()


def _payload_link(service: Any, publication: Any, reference: str, notice_type: str, today: date) -> dict[str, str] | None:
    """Where to download the payload of an owed notice, and its SHA-256 (a change notice names its modification: none here)."""
    if notice_type == "contract_change_notice":
        return None
    try:
        _, sha = _payload(service, publication, reference, notice_type, today)
    except ValueError:
        return None
    return {"href": f"/app/contracts/{quote(reference, safe='/')}?tab=publication&notice_payload={notice_type}", "sha256": sha}
