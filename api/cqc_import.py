"""Importing a batch of CQC location records: one command per record, one outcome per record.

Each record is applied on its own (`location.import_cqc`: the location and its provider in
one atomic write), so a malformed or refused record is reported with its field and the
others still apply; a record already imported is reported "unchanged" and records nothing.
All the commands of a batch share one correlation id, so an auditor sees one sync run.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from msgspec import Struct

from domain.application import Ledger
from domain.kernel.metadata import Actor
from domain.providers.commands import ImportCqcLocation

Outcome = Literal["recorded", "unchanged", "refused"]


class RecordOutcome(Struct, omit_defaults=True):
    #: the record's position in the batch (0-based)
    index: int
    outcome: Outcome
    #: the CQC location id, when the record names one
    location: str | None = None
    #: the events recorded (type names), when the outcome is "recorded"
    events: list[str] = []
    #: why a record was refused: the domain error's code, the field at fault and the message
    code: str | None = None
    field: str | None = None
    message: str | None = None


def import_records(
    ledger: Ledger,
    records: list[dict[str, Any]],
    actor: Actor,
    at: datetime,
    *,
    correlation_id: str | None = None,
) -> list[RecordOutcome]:
    batch = correlation_id or f"cqc-import-{uuid.uuid4()}"
    outcomes = []
    for index, record in enumerate(records):
        located = record.get("locationId") if isinstance(record, dict) else None
        location = located if isinstance(located, str) else None
        result = ledger.handle(ImportCqcLocation(record=record), actor, at=at, correlation_id=batch)
        if not result.ok:
            assert result.error is not None
            field = result.error.fields[0].field if result.error.fields else None
            outcomes.append(
                RecordOutcome(
                    index=index,
                    outcome="refused",
                    location=location,
                    code=result.error.code,
                    field=field,
                    message=result.error.message,
                )
            )
            continue
        events = [e.type for e in result.events]
        outcomes.append(
            RecordOutcome(index=index, outcome="recorded" if events else "unchanged", location=location, events=events)
        )
    return outcomes
