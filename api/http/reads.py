"""Reads of one record: what every resource's `GET .../{reference}` shares.

Each such route loads one aggregate (`Ledger.aggregate(cls, reference, as_of=)`) and shows it
through the domain's own view for the viewer (`competition_view`, `location_view`), or, for
records with no per-role view, the domain's state function after the scoping policy of
`domain.access` (`may_deal_with`: a provider sees only its own organisation's contracts,
provider record, homes and returns, acting as its head office, the provider id, or as one
home, the CQC location id). Whatever a principal may not see is answered 404 with the same
sentence as a record that does not exist, so its existence does not leak.

Lists come from read models through `tables.table_route`. A time in `as_of` must carry its
zone (`2026-03-01T12:00:00Z`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Request, get
from litestar.params import QueryParameter

from api.http.auth import requires_role
from api.http.problems import AUTHENTICATED, not_found, problems
from api.http.tables import aware
from domain.kernel.errors import DomainError
from domain.kernel.metadata import LedgerAggregate

AsOf = Annotated[
    datetime | None,
    QueryParameter(description="the record as it stood at this time (ISO 8601 with a zone, e.g. 2026-03-01T12:00:00Z)"),
]
READ_PROBLEMS = problems(*AUTHENTICATED, 404)


def load(request: Request[Any, Any, Any], cls: type[LedgerAggregate], reference: str, as_of: datetime | None) -> Any:
    """The record now or as of a time; 404 when there is none."""
    try:
        return request.app.state.service.ledger.aggregate(cls, reference, as_of=aware(as_of))
    except DomainError:
        raise not_found(f"{cls.KIND.replace('_', ' ')} {reference}") from None


def find(request: Request[Any, Any, Any], cls: type[LedgerAggregate], reference: str, *, as_of: datetime | None = None) -> Any | None:
    """The record, or None when there is none."""
    try:
        return request.app.state.service.ledger.aggregate(cls, reference, as_of=as_of)
    except DomainError:
        return None


def read(path: str, roles: tuple[str, ...], summary: str, description: str) -> Any:
    """A `GET` of one record, for `roles` (a group of `domain.access`)."""
    return get(path, sync_to_thread=True, guards=[requires_role(*roles)], responses=READ_PROBLEMS, summary=summary,
               description=description, tags=["reads"])
