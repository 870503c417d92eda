"""Read-model tables over HTTP: paginated, sortable, filterable, and CSV on request.

One helper, `table_route(path, table, roles=...)`, turns a read model's rows into a list
route; adding a read model to the API is a `Table` (its row shape and how to read its rows)
and one call. The route takes:

    ?<column>=value      equality filter, for each of the table's `filters`
    ?q=text              case-insensitive substring search over the table's `search` columns
    ?sort=col | -col     any column, descending with "-" (ties broken by the default order)
    ?limit=50&offset=0   a page (limit 1-500); the answer says the total and the next offset

and answers JSON (`{"items": [...], "total", "offset", "limit", "next_offset"}`) or, with
`Accept: text/csv`, the whole filtered and sorted table as CSV (a spreadsheet wants all of
it, not a page). `scope(principal, row)` drops rows a principal may not see (e.g. a provider
sees only its own contracts): those rows are not counted either, so nothing leaks.

Rows are read from the read model (`rows()`) and filtered here: the read models are small
(one row per contract or competition). A large one would push the filter, sort and page into
its SQL; the route's contract stays the same.
"""

from __future__ import annotations

import csv
import inspect
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import QueryParameter

from api.http.access import ROUTE_ROLES
from api.http.auth import principal_of, requires_role
from api.http.problems import AUTHENTICATED, problems
from api.tokens import Principal


@dataclass(frozen=True)
class Table:
    #: the row's shape (field order is the CSV's column order); names the OpenAPI schema
    row: type[msgspec.Struct]
    #: every row of the read model, in its natural order (given the `LedgerService`)
    rows: Callable[[Any], list[dict[str, Any]]]
    #: columns filterable by equality
    filters: tuple[str, ...] = ()
    #: columns searched by ?q=
    search: tuple[str, ...] = ()
    #: rows this principal may see (None: every row)
    scope: Callable[[Principal, dict[str, Any]], bool] | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        return self.row.__struct_fields__


def _sort_key(column: str) -> Callable[[dict[str, Any]], tuple[int, Any]]:
    # None sorts last ascending; numbers and text never compare with each other in one column.
    return lambda row: (row[column] is None, row[column] if row[column] is not None else 0)


def select(
    table: Table,
    rows: list[dict[str, Any]],
    principal: Principal,
    *,
    filters: dict[str, str],
    q: str | None,
    sort: str | None,
) -> list[dict[str, Any]]:
    """The rows the principal may see, filtered, searched and sorted (pure: tested alone)."""
    if table.scope is not None:
        rows = [r for r in rows if table.scope(principal, r)]
    for column, value in filters.items():
        rows = [r for r in rows if r[column] is not None and str(r[column]) == value]
    if q:
        needle = q.casefold()
        rows = [r for r in rows if any(needle in str(r[c] or "").casefold() for c in table.search)]
    if sort:
        column = sort.lstrip("-")
        rows = sorted(rows, key=_sort_key(column), reverse=sort.startswith("-"))
    return rows


def as_csv(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row[c] is None else row[c] for c in columns])
    return out.getvalue()


def wants_csv(request: Request[Any, Any, Any]) -> bool:
    accept = request.headers.get("accept", "")
    return request.accept.best_match(["application/json", "text/csv"], default="application/json") == "text/csv" if accept else False


def page_type(row: type[msgspec.Struct]) -> type[msgspec.Struct]:
    return msgspec.defstruct(
        f"{row.__name__}Page",
        [("items", list[row]), ("total", int), ("offset", int), ("limit", int), ("next_offset", int | None)],  # type: ignore[valid-type]
    )


def table_route(path: str, table: Table, *, summary: str, description: str) -> HTTPRouteHandler:
    """A GET route listing `table` (see the module docstring); roles from `ROUTE_ROLES`."""
    page = page_type(table.row)
    sortable = tuple(table.columns) + tuple(f"-{c}" for c in table.columns)
    SortBy = Literal[sortable]  # type: ignore[valid-type]

    def list_rows(request: Request[Any, Any, Any], **params: Any) -> Response[Any]:
        principal = principal_of(request)
        filters = {c: params[c] for c in table.filters if params.get(c) is not None}
        rows = select(table, table.rows(request.app.state.service), principal, filters=filters, q=params.get("q"), sort=params.get("sort"))
        if wants_csv(request):
            return Response(as_csv(table.columns, rows), media_type="text/csv")
        limit, offset = params["limit"], params["offset"]
        items = rows[offset : offset + limit]
        following = offset + limit if offset + limit < len(rows) else None
        return Response(page(items=[table.row(**r) for r in items], total=len(rows), offset=offset, limit=limit, next_offset=following))

    parameters = [
        inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
        inspect.Parameter(
            "sort",
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[SortBy | None, QueryParameter(description="a column to sort by; prefix - for descending")],
        ),
        inspect.Parameter(
            "limit", inspect.Parameter.KEYWORD_ONLY, default=50,
            annotation=Annotated[int, QueryParameter(ge=1, le=500, description="rows per page (JSON only)")],
        ),
        inspect.Parameter(
            "offset", inspect.Parameter.KEYWORD_ONLY, default=0,
            annotation=Annotated[int, QueryParameter(ge=0, le=1_000_000_000, description="rows to skip (JSON only)")],
        ),
    ]
    if table.search:
        parameters.append(
            inspect.Parameter(
                "q", inspect.Parameter.KEYWORD_ONLY, default=None,
                annotation=Annotated[str | None, QueryParameter(max_length=200, description=f"text searched in: {', '.join(table.search)}")],
            )
        )
    for column in table.filters:
        parameters.append(
            inspect.Parameter(
                column, inspect.Parameter.KEYWORD_ONLY, default=None,
                annotation=Annotated[str | None, QueryParameter(max_length=200, description=f"only rows whose {column} is this")],
            )
        )
    list_rows.__signature__ = inspect.Signature(parameters, return_annotation=Response[page])  # type: ignore[attr-defined]
    list_rows.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": Response[page]}
    list_rows.__name__ = list_rows.__qualname__ = f"list_{table.row.__name__.lower()}s"
    return get(
        path,
        sync_to_thread=True,
        guards=[requires_role(*ROUTE_ROLES[f"GET {path}"])],
        summary=summary,
        description=description + "\n\nAnswers `text/csv` (the whole filtered, sorted table) when asked with `Accept: text/csv`.",
        responses=problems(*AUTHENTICATED),
        tags=["reads"],
    )(list_rows)
