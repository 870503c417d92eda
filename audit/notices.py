"""The notices the law requires, seen from outside the domain: what is overdue, and the payload's hash.

The rules are the domain's (`domain/procurement/notices.py`); here, the two things that need
the store or bytes:

- `overdue_notices(ledger, today)`: every Procurement Act 2023 contract whose contract details
  notice (s.53) or termination notice (s.80) is past its last day and not recorded.
- `payload_sha256(payload)`: the hash recorded with a notice (`notice.publish` and
  `contract.publish_notice` take it as `payload_sha256`).
- `published_notices(ledger)`: every notice recorded as published, of competitions and
  contracts, as the world may read it (`domain.access.PUBLIC`, through `domain.event_view`).

Publishing a notice, end to end:

1. `aqp ocds notice --competition REF | --contract REF --type NOTICE_TYPE [--modification M]
   --out FILE` writes the payload (`audit.ocds.notice_payload`: an OCDS 1.1.5 release of the
   contracting process as the world may see it, the notice as its document with the UK
   extension's `noticeType`), as canonical JSON (`audit.verifier.digest.canonical`), and prints
   its SHA-256;
2. the payload is sent to Find a Tender, which answers with the notice's reference;
3. the command `notice.publish` / `contract.publish_notice` records the reference, the
   publication day and `payload_sha256`, so the payload can be shown later to be the one
   published; the ledger's own OCDS release of the publication carries the same hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from typing import Any

from uuid import UUID

from eventsourcing.utils import get_topic

from domain import access
from domain.contracts.contract import Contract
from domain.contracts.handlers import light_touch
from domain.event_view import LedgerFacts, event_view
from domain.procurement.competition import Competition

#: what a published notice says, as the pages list it (a notice recorded before codes and payloads has neither)
NOTICE_FIELDS = ("notice_type", "notice_code", "notice_reference", "published_on", "modification", "payload_sha256")


def payload_sha256(payload: bytes) -> str:
    """The SHA-256 of the payload exactly as published, as the notice commands take it."""
    return hashlib.sha256(payload).hexdigest()


def _contract_references(ledger: Any, page: int = 500) -> Iterator[str]:
    """Every contract awarded, from the notification log (each is awarded once)."""
    position = 0
    while True:
        notifications = ledger.recorder.select_notifications(
            start=position, limit=page, topics=[get_topic(Contract.Awarded)], inclusive_of_start=False
        )
        for notification in notifications:
            yield ledger.mapper.to_domain_event(notification).reference
            position = notification.id
        if len(notifications) < page:
            return


def overdue_notices(ledger: Any, today: date) -> list[dict[str, Any]]:
    """Each notice a Procurement Act 2023 contract owes by `today` and has not published, in contract order."""
    overdue: list[dict[str, Any]] = []
    for reference in sorted(set(_contract_references(ledger))):
        contract = ledger.aggregate(Contract, reference)
        overdue.extend(contract.notices_overdue(today=today, light_touch=light_touch(ledger, contract)))
    return overdue


def published_notices(ledger: Any, page: int = 500) -> dict[UUID, list[dict[str, Any]]]:
    """Competition or contract id -> the notices recorded as published on it, in the order recorded,
    each as the world may read its event (`access.PUBLIC`: what the public feed and OCDS read as)."""
    topics = [get_topic(Competition.NoticePublished), get_topic(Contract.NoticePublished)]
    facts = LedgerFacts(ledger)
    found: dict[UUID, list[dict[str, Any]]] = {}
    position = 0
    while True:
        notifications = ledger.recorder.select_notifications(start=position, limit=page, topics=topics, inclusive_of_start=False)
        for notification in notifications:
            event = ledger.mapper.to_domain_event(notification)
            data = event_view(event, access.PUBLIC, facts)["data"]
            if data is not None:
                found.setdefault(event.originator_id, []).append({k: data.get(k) for k in NOTICE_FIELDS})
            position = notification.id
        if len(notifications) < page:
            return found
