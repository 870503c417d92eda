"""Read-model tables over HTTP: paginated, sortable, filterable, CSV on request, and `as_of`.

One helper, `table_route(path, table, roles=..., ...)`, turns a read model's table into a list
route; adding a read model to the API is a `Table` (its row shape and where its rows are)
and one call in its resource's Controller, with the roles that may use it (a group of
`domain.access`). The route takes:

    ?<column>=value      equality filter, for each of the table's `filters`
    ?<param>=value       the table's own parameters (`Param`: e.g. ?suspended=yes, decided today)
    ?q=text              case-insensitive substring search over the table's `search` columns
    ?sort=col | -col     any column, descending with "-" (nulls after the values ascending,
                         before them descending; ties in the read model's natural order)
    ?limit=50&offset=0   a page (limit 1-500); the answer says the total and the next offset
    ?as_of=<time>        the table as it stood then (ISO 8601 with a zone), where offered

and answers JSON (`{"items": [...], "total", "offset", "limit", "next_offset"}`) or, with
`Accept: text/csv`, the whole filtered and sorted table as CSV (a spreadsheet wants all of
it, not a page; at most `CSV_LIMIT` rows, else a 422 asking for narrower filters).

**Where the work is done.** A small read model (one row per contract or competition) is read
whole and filtered, sorted and paged here in Python (`select`). A big one (`in_sql=True`: the
CMS list is ~15,000 homes nationally, the event index one row per event) pushes every filter,
the search, the sort, the page and the count into its SQL (`TableView.select`/`count` with
`where`/`any_of` conditions), and so does its scoping (`sql_scope`: e.g. a provider's rows are
`location IN (its homes)`). The answer is the same either way (the e2e tests compare them).

**Scoping and restricted columns.** `scope(principal, row)` or `scope_with(service, principal)`
(Python) or `sql_scope(service, principal)` (SQL) drops the rows a principal may not see: they are not counted either, so
nothing leaks. `restricted` names columns only some viewers may see, each with its policy
from `domain.access` (the CMS list's count of open safeguarding concerns: `sees_concerns`):
for the others the column is null, and sorting on it keeps the natural order, so not even
the order gives it away.

**Masked cells.** `mask(viewer)` hides columns on some rows only (`projections.views.Mask`:
the event index's actor and request ids on the events whose content is withheld from that
viewer): read, filtered and sorted as null in the SQL, so nothing gives them away.

**Computed columns.** `shape(principal, row, today)` adds what depends on the day the question
is asked (the read models have no clock: a rebuild must give the same rows), e.g. whether a
suspension is in force today or a vacancy report is stale. `today()` is the date in England.

**as_of.** A table says how it can answer as of a time (`as_of`): "replay" reads its read
model as it stood then, from the history tables that keep every version of every row
(`projections/tables.py`, "History": a query, whatever the log's length). A store whose
read model was filled before it kept history has none for the time before (until `aqp
projections rebuild`), and one whose log holds a back-dated record (an event stamped earlier
than one stored before it: then "every event at or before T" is not a stretch of the log)
cannot read it from versions: it is rebuilt from the log up to that time in a scratch store
(`follow.scratch_view`) and queried the same way, refused (422 `as_of_too_costly`) when the
log holds more than `AQP_API_REPLAY_MAX_EVENTS` events (default 20,000: `aqp replay
--table` does it offline);
"column:<name>" is for an append-only table whose rows carry their time (the event index:
rows with that column at or before the time); None refuses as_of (422 `as_of_not_supported`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import msgspec
from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import QueryParameter

from api.http.auth import principal_of, requires_role
from api.http.problems import AUTHENTICATED, FieldProblem, ProblemError, problems
from api.tokens import Principal
from audit.replay import rows_as_csv
from domain.kernel.metadata import Actor
from projections import follow
from projections.tables import INTEGER, REAL
from projections.views import Mask

ENGLAND = ZoneInfo("Europe/London")
#: the most rows one CSV answer carries
CSV_LIMIT = 100_000


def today() -> date:
    """The date in England now: what "today" means for suspensions and stale reports."""
    return datetime.now(ENGLAND).date()


def day_of(moment: datetime) -> date:
    """The date in England at `moment` (at the ends of the calendar, where England's date cannot be had: its UTC date)."""
    try:
        return moment.astimezone(ENGLAND).date()
    except (OverflowError, ValueError):
        return moment.date()


def utc_text(moment: datetime) -> str:
    """`moment` as the read models write times (ISO 8601 in UTC); clamped at the ends of the calendar."""
    try:
        return moment.astimezone(timezone.utc).isoformat()
    except (OverflowError, ValueError):
        return (datetime.min if moment.year == 1 else datetime.max).replace(tzinfo=timezone.utc).isoformat()


@dataclass(frozen=True)
class Conditions:
    """SQL conditions for `TableView.select`: `where` (all hold) and `any_of` groups (one of each holds)."""

    where: dict[str, Any] = field(default_factory=dict)
    any_of: tuple[tuple[dict[str, Any], ...], ...] = ()

    def __and__(self, other: Conditions) -> Conditions:
        clash = set(self.where) & set(other.where)
        if clash:
            # Two conditions on one column: keep both, as a one-option group.
            extra = tuple((({c: other.where[c]},)) for c in clash)
            return Conditions({**self.where, **{c: v for c, v in other.where.items() if c not in clash}},
                              self.any_of + other.any_of + extra)
        return Conditions({**self.where, **other.where}, self.any_of + other.any_of)


NOTHING = Conditions(any_of=((),))


@dataclass(frozen=True)
class Param:
    """A query parameter of a SQL-backed table beyond column equality, and what it means in SQL."""

    name: str
    description: str
    #: (value, today) -> conditions
    conditions: Callable[[str, date], Conditions]
    #: the values it takes (None: free text)
    choices: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Table:
    #: the row's shape (field order is the CSV's column order); names the OpenAPI schema
    row: type[msgspec.Struct]
    #: every row, in its natural order, given the `LedgerService` (a table without a read model)
    rows: Callable[[Any], list[dict[str, Any]]] | None = None
    #: columns filterable by equality
    filters: tuple[str, ...] = ()
    #: columns searched by ?q=
    search: tuple[str, ...] = ()
    #: rows this principal may see (None: every row); Python tables only
    scope: Callable[[Principal, dict[str, Any]], bool] | None = None
    #: as `scope`, for a policy that needs facts from other read models: given the service and
    #: the principal, once per request, the test of a row; Python tables only
    scope_with: Callable[[Any, Principal], Callable[[dict[str, Any]], bool]] | None = None
    #: the read model and its table (default: its first) the rows come from
    read_model: Any = None
    table: str | None = None
    #: filter, search, sort, page and count in the read model's SQL
    in_sql: bool = False
    #: the table's own query parameters (SQL tables)
    params: tuple[Param, ...] = ()
    #: conditions limiting a principal to its rows, given the service (None: every row); SQL tables
    sql_scope: Callable[[Any, Principal], Conditions | None] | None = None
    #: columns shown only to some viewers: column -> the policy saying who (`domain.access`)
    restricted: dict[str, Callable[[Actor], bool]] = field(default_factory=dict)
    #: columns a viewer may not see on some rows (`projections.views.Mask`, None: all); SQL tables
    mask: Callable[[Actor], Mask | None] | None = None
    #: (principal, row, today) -> row with the computed columns (those of `row` the table lacks)
    shape: Callable[[Principal, dict[str, Any], date], dict[str, Any]] | None = None
    #: how to answer as_of: "replay", "column:<name>" or None (refused)
    as_of: str | None = "replay"
    #: why as_of is refused (shown in the 422)
    as_of_refusal: str = "This list cannot be shown as of a past time."

    @property
    def columns(self) -> tuple[str, ...]:
        return self.row.__struct_fields__

    def stored(self) -> tuple[str, ...]:
        """The row's columns that the read model's table holds (the others are computed)."""
        if self.read_model is None:
            return self.columns
        spec = next(t for t in self.read_model.tables if self.table in (None, t.name))
        return tuple(c for c in self.columns if c in spec.names)

    def column_types(self) -> dict[str, str]:
        if self.read_model is None:
            return {}
        spec = next(t for t in self.read_model.tables if self.table in (None, t.name))
        return {c.name: c.type for c in spec.columns}

    @property
    def sortable(self) -> tuple[str, ...]:
        return self.stored()


def _sort_key(column: str) -> Callable[[dict[str, Any]], tuple[int, Any]]:
    # None sorts last ascending; numbers and text never compare with each other in one column.
    return lambda row: (row[column] is None, row[column] if row[column] is not None else 0)


def _hidden_from(table: Table, principal: Principal) -> set[str]:
    viewer = principal.actor()
    return {c for c, may_see in table.restricted.items() if not may_see(viewer)}


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
    if sort and sort.lstrip("-") not in _hidden_from(table, principal):
        column = sort.lstrip("-")
        rows = sorted(rows, key=_sort_key(column), reverse=sort.startswith("-"))
    return rows


def sql_conditions(
    table: Table, principal: Principal, service: Any, *, filters: dict[str, str], params: dict[str, str], q: str | None, day: date
) -> Conditions:
    """The SQL conditions for a request: scoping, equality filters, the table's parameters, the search."""
    found = Conditions()
    if table.sql_scope is not None:
        scoped = table.sql_scope(service, principal)
        if scoped is not None:
            found = found & scoped
    types = table.column_types()
    for column, value in filters.items():
        typed = _typed(value, types.get(column))
        found = found & (NOTHING if typed is _NO_MATCH else Conditions({column: typed}))
    for param in table.params:
        if params.get(param.name) is not None:
            found = found & param.conditions(params[param.name], day)
    if q:
        found = found & Conditions(any_of=(tuple({c: ("contains", q)} for c in table.search),))
    return found


_NO_MATCH = object()


def _typed(value: str, kind: str | None) -> Any:
    """A filter's text as the column's type (a number column never equals "abc")."""
    try:
        if kind == INTEGER:
            return int(value)
        if kind == REAL:
            return float(value)
    except ValueError:
        return _NO_MATCH
    return value


def as_csv(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    # HTTP's text/csv ends lines with CRLF (RFC 4180); the CLI writes plain newlines.
    return rows_as_csv(rows, columns, lineterminator="\r\n")


def wants_csv(request: Request[Any, Any, Any]) -> bool:
    accept = request.headers.get("accept", "")
    return request.accept.best_match(["application/json", "text/csv"], default="application/json") == "text/csv" if accept else False


def page_type(row: type[msgspec.Struct]) -> type[msgspec.Struct]:
    return msgspec.defstruct(
        f"{row.__name__}Page",
        [("items", list[row]), ("total", int), ("offset", int), ("limit", int), ("next_offset", int | None)],  # type: ignore[valid-type]
    )


def aware(value: datetime | None, field_name: str = "as_of") -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ProblemError(
            422, "validation_failed", f"{field_name} needs a time zone, e.g. 2026-03-01T12:00:00Z.",
            [FieldProblem(field=f"query:{field_name}", rule="timezone", message="needs a time zone")],
        )
    return value


def _as_of_refused(code: str, detail: str) -> ProblemError:
    return ProblemError(422, code, detail, [FieldProblem(field="query:as_of", rule=code, message=detail)])


@dataclass
class Query:
    """One request's reading of a table: what to select, for whom, on which day."""

    table: Table
    principal: Principal
    filters: dict[str, str]
    params: dict[str, str]
    q: str | None
    sort: str | None
    day: date

    def rows_from(self, service: Any, view: Any, *, limit: int | None, offset: int, extra: Conditions | None = None) -> tuple[list[dict[str, Any]], int]:
        """A page of rows (all with limit None) and the total, read from `view` (live or replayed)."""
        table = self.table
        hidden = _hidden_from(table, self.principal)
        if table.in_sql:
            conditions = sql_conditions(table, self.principal, service, filters=self.filters, params=self.params, q=self.q, day=self.day)
            if extra is not None:
                conditions = conditions & extra
            sort = self.sort if self.sort and self.sort.lstrip("-") not in hidden else None
            mask = table.mask(self.principal.actor()) if table.mask is not None else None
            total = view.count(table.table, where=conditions.where, any_of=conditions.any_of, mask=mask)
            if limit is None and total > CSV_LIMIT:
                raise ProblemError(422, "too_many_rows", f"{total} rows are more than one CSV answer carries ({CSV_LIMIT}); narrow the filters.")
            found = view.select(table.table, where=conditions.where, any_of=conditions.any_of, sort=sort,
                                limit=limit, offset=offset, columns=table.stored(), mask=mask) if total else []
        else:
            every = view.rows(table.table) if view is not None else table.rows(service)  # type: ignore[misc]
            if table.scope_with is not None:
                every = list(filter(table.scope_with(service, self.principal), every))
            chosen = select(table, every, self.principal, filters=self.filters, q=self.q, sort=self.sort)
            total = len(chosen)
            found = chosen if limit is None else chosen[offset : offset + limit]
        return [self.shaped(r, hidden) for r in found], total

    def shaped(self, row: dict[str, Any], hidden: set[str]) -> dict[str, Any]:
        if self.table.shape is not None:
            row = self.table.shape(self.principal, row, self.day)
        for column in hidden:
            row[column] = None
        return row


def read_table(service: Any, query: Query, *, as_of: datetime | None, limit: int | None, offset: int) -> tuple[list[dict[str, Any]], int]:
    """The rows of the query now, or as of a time (see the module docstring)."""
    table = query.table
    if as_of is None:
        view = service.view(table.read_model) if table.read_model is not None else None
        return query.rows_from(service, view, limit=limit, offset=offset)
    if table.as_of is None or table.read_model is None:
        raise _as_of_refused("as_of_not_supported", table.as_of_refusal)
    if table.as_of.startswith("column:"):
        column = table.as_of.split(":", 1)[1]
        stamp = utc_text(as_of)
        return query.rows_from(service, service.view(table.read_model), limit=limit, offset=offset, extra=Conditions({column: ("<=", stamp)}))
    with replayed(service, table.read_model, as_of) as view:
        return query.rows_from(service, view, limit=limit, offset=offset)


@contextmanager
def replayed(service: Any, read_model: Any, as_of: datetime) -> Iterator[Any]:
    """The read model as it stood at `as_of`: read from its history tables where they answer
    exactly (`TableView.history_exact`); else rebuilt from the log up to then in a scratch
    store (bounded: see the module docstring)."""
    live = service.view(read_model)
    if getattr(live, "keeps_history", False) and live.history_exact():
        yield live.as_at(as_of)
        return
    events, limit = service.ledger.max_position(), service.replay_max_events
    if events > limit:
        raise _as_of_refused(
            "as_of_too_costly",
            f"Rebuilding the {read_model.name} read model as of a time means replaying up to {events} events, more than "
            f"this server does per request ({limit}); use `aqp replay {read_model.name} --as-of ... --table ...`, or "
            f"`aqp projections rebuild {read_model.name}` once, which gives it a whole history to answer from.",
        )
    with follow.scratch_view(read_model) as view:
        follow.catch_up(service.ledger, read_model(view), as_of=as_of)
        yield view


def row_struct(name: str, spec: Any, *, extra: tuple[tuple[str, Any], ...] = ()) -> type[msgspec.Struct]:
    """A row Struct with the shown columns of a read model's table (`projections.tables.Table`), then `extra`."""
    kinds = {INTEGER: int, REAL: float}
    fields = [(c.name, kinds.get(c.type, str) | None) for c in spec.columns if not c.hidden]  # type: ignore[operator]
    return msgspec.defstruct(name, [*fields, *extra])


#: names Litestar gives a handler itself (the ASGI scope, the request's state...): a query
#: parameter of that name reaches the handler under another
_RESERVED = {"scope", "state", "headers", "cookies", "request", "socket", "data", "query", "body"}


def _kwarg(name: str) -> str:
    return f"{name}_" if name in _RESERVED else name


def _alias(name: str) -> dict[str, str]:
    return {"name": name} if name in _RESERVED else {}


def _parameter(name: str, annotation: Any, default: Any = None) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


def table_route(path: str, table: Table, *, roles: tuple[str, ...], summary: str, description: str) -> HTTPRouteHandler:
    """A GET route listing `table` (see the module docstring) for `roles`, declared in a resource's Controller."""
    page = page_type(table.row)
    sortable = tuple(table.sortable) + tuple(f"-{c}" for c in table.sortable)
    SortBy = Literal[sortable]  # type: ignore[valid-type]

    def list_rows(controller: Any, request: Request[Any, Any, Any], **params: Any) -> Response[Any]:
        service = request.app.state.service
        query = Query(
            table=table,
            principal=principal_of(request),
            filters={c: params[_kwarg(c)] for c in table.filters if params.get(_kwarg(c)) is not None},
            params={p.name: params[_kwarg(p.name)] for p in table.params if params.get(_kwarg(p.name)) is not None},
            q=params.get("q"),
            sort=params.get("sort"),
            day=today(),
        )
        as_of = aware(params.get("as_of"))
        if as_of is not None:
            # "Today" for what depends on the day (a suspension in force, a stale report) is the day asked about.
            query.day = day_of(as_of)
        csv_wanted = wants_csv(request)
        limit, offset = params["limit"], params["offset"]
        rows, total = read_table(service, query, as_of=as_of, limit=None if csv_wanted else limit, offset=0 if csv_wanted else offset)
        if csv_wanted:
            return Response(as_csv(table.columns, rows), media_type="text/csv")
        following = offset + limit if offset + limit < total else None
        return Response(page(items=[table.row(**r) for r in rows], total=total, offset=offset, limit=limit, next_offset=following))

    parameters = [
        # The Controller binds itself as the first argument, as to any method.
        inspect.Parameter("controller", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
        _parameter("sort", Annotated[SortBy | None, QueryParameter(description="a column to sort by; prefix - for descending")]),
        _parameter("limit", Annotated[int, QueryParameter(ge=1, le=500, description="rows per page (JSON only)")], 50),
        _parameter("offset", Annotated[int, QueryParameter(ge=0, le=1_000_000_000, description="rows to skip (JSON only)")], 0),
        _parameter("as_of", Annotated[datetime | None, QueryParameter(description=_as_of_text(table))]),
    ]
    if table.search:
        parameters.append(
            _parameter("q", Annotated[str | None, QueryParameter(max_length=200, description=f"text searched in: {', '.join(table.search)}")])
        )
    for column in table.filters:
        parameters.append(
            _parameter(_kwarg(column), Annotated[str | None, QueryParameter(
                **_alias(column), max_length=200, description=f"only rows whose {column} is this")])
        )
    for param in table.params:
        kind = Literal[param.choices] if param.choices else str  # type: ignore[valid-type]
        extra = {} if param.choices else {"max_length": 200}
        parameters.append(_parameter(_kwarg(param.name), Annotated[kind | None, QueryParameter(
            **_alias(param.name), description=param.description, **extra)]))
    list_rows.__signature__ = inspect.Signature(parameters, return_annotation=Response[page])  # type: ignore[attr-defined]
    list_rows.__annotations__ = {p.name: p.annotation for p in parameters if p.name != "controller"} | {"return": Response[page]}
    list_rows.__name__ = list_rows.__qualname__ = f"list_{table.row.__name__.lower()}s"
    return get(
        path,
        sync_to_thread=True,
        guards=[requires_role(*roles)],
        summary=summary,
        description=description + "\n\nAnswers `text/csv` (the whole filtered, sorted table) when asked with `Accept: text/csv`.",
        responses=problems(*AUTHENTICATED),
        tags=["reads"],
    )(list_rows)


def _as_of_text(table: Table) -> str:
    if table.as_of is None:
        return f"not offered here (422): {table.as_of_refusal}"
    return "the list as it stood at this time (ISO 8601 with a zone, e.g. 2026-03-31T23:59:59Z)"
