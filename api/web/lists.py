"""A list on a page: the API's table (`api.http.tables.Table`), read for the person signed in.

A page's list is the same `Table` the API's route reads, through the same `Query` and
`read_table`, so it has the same rows, the same scoping (`sql_scope`, `scope_with`), the same
restricted columns and the same `as_of` rules, and nothing the API withholds can appear. What
the page adds is for people:

- the filters are a form (GET, so a filtered list is an address to bookmark or send), each
  field labelled; a value that is not one of a filter's choices, a sort on a column that is
  not there, or an "as at" date that is not a date is named in an error summary at the top
  and beside its field, and the list is not read (status 400);
- `?sort=col` / `?sort=-col` from the column headings, `?page=N` for pages of `PAGE_SIZE`;
- `?as_at=YYYY-MM-DD`: the list as it stood at the end of that day in England, where the API
  can give it (a refusal, e.g. a history too long to replay per request, is said as the
  API says it);
- `?download=csv|xlsx`: the whole list as filtered and sorted (at most the API's CSV limit),
  with the headings the page shows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import xlsxwriter
from litestar import Request, Response
from markupsafe import Markup, escape

from api.web.formats import day, number, pounds, tag_colour, words

from api.http.auth import principal_of
from api.http.problems import ProblemError
from api.http.tables import ENGLAND, Query, Table, read_table, replayed, today

PAGE_SIZE = 25
DOWNLOADS = ("csv", "xlsx")


@dataclass(frozen=True)
class Column:
    """A column as the page shows it: the row's key, its heading, how its value is written."""

    key: str
    heading: str
    #: "text", "number", "pounds" (pence), "percent" (0-100), "date", "words", "tag"
    kind: str = "text"
    #: the row -> the address its cell links to (None: not a link)
    link: Callable[[dict[str, Any]], str | None] | None = None
    sortable: bool = True
    #: the row -> what the page writes in the cell, when that is not the value itself (e.g. a
    #: provider's brand, else its CQC id); downloads keep the value
    shown: Callable[[dict[str, Any]], Any] | None = None
    #: a heading over this and its neighbours of the same group (e.g. "Vacancies" over the bed types)
    group: str | None = None
    #: kept on one line (a reference, a period or an id that would break at its hyphens)
    nowrap: bool = False
    #: a tag's colour for the row, where the status alone does not say it (an open FOI request due
    #: tomorrow is orange, next month blue); with `shown` for the tag's words
    colour: Callable[[dict[str, Any]], str] | None = None

    @property
    def numeric(self) -> bool:
        return self.kind in ("number", "pounds", "percent")


@dataclass(frozen=True)
class Filter:
    """A field of the filter form: a column (equality) or a parameter of the table, or the search."""

    name: str
    label: str
    #: the values it takes (None: free text)
    choices: tuple[str, ...] | None = None
    hint: str | None = None
    #: a choice -> its words on the form, where `words` of the value would not do
    labels: dict[str, str] | None = None


@dataclass
class FieldError:
    field: str
    message: str


@dataclass
class Listed:
    """One reading of a list for a page."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    #: the query as asked (for the form's values and the links)
    asked: dict[str, str]
    sort: str | None
    as_at: date | None
    errors: list[FieldError] = field(default_factory=list)
    #: why the list could not be read as asked (the API's own sentence), if it could not
    refused: str | None = None

    @property
    def error_list(self) -> list[dict[str, str]]:
        """The errors as the design system's error summary lists them, each linking to its field."""
        return [{"text": e.message, "href": f"#{e.field}"} for e in self.errors]

    @property
    def status(self) -> int:
        return 400 if self.errors else (422 if self.refused else 200)


def as_at_moment(day: date) -> datetime:
    """The end of `day` in England: "as at 31 March" is everything recorded on 31 March."""
    return datetime.combine(day, time(23, 59, 59, 999999), ENGLAND)


def parse_as_at(text: str | None, errors: list[FieldError]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.append(FieldError("as_at", "Enter the date as year-month-day, for example 2025-03-31"))
        return None


def query_for(request: Request[Any, Any, Any], table: Table, chosen: dict[str, str], *, sort: str | None, as_at: date | None) -> Query:
    """The API's `Query` of `table` for the person signed in: `chosen` holds its filters, parameters and search."""
    return Query(
        table=table,
        principal=principal_of(request),
        filters={c: chosen[c] for c in table.filters if c in chosen},
        params={p.name: chosen[p.name] for p in table.params if p.name in chosen},
        q=chosen.get("q"),
        sort=sort,
        day=as_at or today(),
    )


def read_list(
    request: Request[Any, Any, Any],
    table: Table,
    filters: Sequence[Filter],
    columns: Sequence[Column],
    *,
    fixed: dict[str, str] | None = None,
    default_sort: str | None = None,
    page_size: int = PAGE_SIZE,
    everything: bool = False,
) -> Listed:
    """The page of `table` the request asks for (`fixed`: filters the page sets itself, e.g. one home)."""
    given = {k: v for k, v in request.query_params.items() if v != ""}
    errors: list[FieldError] = []
    asked: dict[str, str] = {}
    for f in filters:
        value = given.get(f.name)
        if value is None:
            continue
        if len(value) > 200:
            errors.append(FieldError(f.name, f"{f.label}: at most 200 characters"))
        elif f.choices is not None and value not in f.choices:
            errors.append(FieldError(f.name, f"{f.label}: choose one of the options"))
        else:
            asked[f.name] = value
    sortable = {c.key for c in columns if c.sortable} & set(table.sortable)
    sort = given.get("sort") or default_sort
    if sort and sort.lstrip("-") not in sortable:
        errors.append(FieldError("sort", "The list cannot be sorted by that column"))
        sort = None
    if sort:
        asked["sort"] = sort
    page = 1
    if "page" in given:
        if not given["page"].isdigit() or not 1 <= int(given["page"]) <= 1_000_000:
            errors.append(FieldError("page", "The page must be a whole number from 1"))
        else:
            page = int(given["page"])
    as_at = parse_as_at(given.get("as_at"), errors)
    if as_at is not None:
        asked["as_at"] = as_at.isoformat()
    if errors:
        return Listed([], 0, 1, 1, asked, sort, as_at, errors)
    query = query_for(request, table, {**asked, **(fixed or {})}, sort=sort, as_at=as_at)
    limit, offset = (None, 0) if everything else (page_size, (page - 1) * page_size)
    try:
        rows, total = read_table(request.app.state.service, query, as_of=as_at_moment(as_at) if as_at else None, limit=limit, offset=offset)
    except ProblemError as refusal:
        return Listed([], 0, 1, 1, asked, sort, as_at, refused=refusal.detail)
    pages = max(1, -(-total // page_size))
    return Listed(rows, total, page, pages, asked, sort, as_at)


def read_rows(
    request: Request[Any, Any, Any],
    table: Table,
    *,
    filters: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    sort: str | None = None,
    as_at: date | None = None,
) -> list[dict[str, Any]]:
    """Every row of `table` the page itself asks for (a home's figures), read as the API's route
    reads it for this principal; a refusal of `as_at` is the API's ProblemError (the caller says it)."""
    query = Query(
        table=table, principal=principal_of(request), filters=filters or {}, params=params or {}, q=None, sort=sort,
        day=as_at or today(),
    )
    rows, _total = read_table(request.app.state.service, query, as_of=as_at_moment(as_at) if as_at else None, limit=None, offset=0)
    return rows


def cell_html(column: Column, row: dict[str, Any]) -> str:
    """A cell as the page writes it (escaped): its value in words, a link, or a tag with its words.

    Written here rather than as a template macro: a list of 25 rows and 15 columns is 375
    cells, and a Jinja macro call per cell was most of the time a list page took."""
    value = column.shown(row) if column.shown else row.get(column.key)
    kind = column.kind
    if kind == "pounds":
        text = pounds(value)
    elif kind == "number":
        text = number(value)
    elif kind == "percent":
        text = "–" if value is None else f"{value}%"
    elif kind == "date":
        text = day(value)
    elif kind == "words":
        text = words(value)
    else:
        text = "–" if value is None or value == "" else str(value)
    href = column.link(row) if column.link else None
    if href:
        return f'<a href="{escape(href)}">{escape(text)}</a>'
    if kind == "tag" and value and str(value).lower() != "no":
        colour = column.colour(row) if column.colour else tag_colour(value)
        return f'<strong class="nhsuk-tag nhsuk-tag--{escape(colour)}">{escape(words(value))}</strong>'
    return str(escape(text))


def table_body(rows: Sequence[dict[str, Any]], columns: Sequence[Column]) -> Markup:
    """The rows of a list's table, as the design system's table rows."""
    classes = [
        "nhsuk-table__cell" + (" aqp-numeric" if c.numeric else "") + (" aqp-nowrap" if c.nowrap else "") for c in columns
    ]
    if not rows:
        return Markup(f'<tr class="nhsuk-table__row"><td class="nhsuk-table__cell" colspan="{len(columns)}">Nothing matches.</td></tr>')
    out = []
    for row in rows:
        cells = "".join(f'<td class="{cls}">{cell_html(c, row)}</td>' for c, cls in zip(columns, classes))
        out.append(f'<tr class="nhsuk-table__row">{cells}</tr>')
    return Markup("\n".join(out))


def cell_text(column: Column, value: Any) -> Any:
    """A cell's value for a download: numbers stay numbers, pence become pounds, and text a
    spreadsheet would run as a formula (=, +, -, @ first) is kept as text."""
    if value is None:
        return ""
    if column.kind == "pounds" and isinstance(value, int | float):
        return round(value / 100, 2)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def download(listed: Listed, columns: Sequence[Column], kind: str, name: str) -> Response[bytes]:
    """The whole list as filtered, as CSV or XLSX, with the page's headings."""
    headings = [c.heading + (" (£)" if c.kind == "pounds" else "") for c in columns]
    table = [[cell_text(c, row.get(c.key)) for c in columns] for row in listed.rows]
    if kind == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(headings)
        writer.writerows(table)
        body, media = out.getvalue().encode("utf-8-sig"), "text/csv; charset=utf-8"
    else:
        buffer = io.BytesIO()
        book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
        sheet = book.add_worksheet(name[:31])
        bold = book.add_format({"bold": True})
        sheet.write_row(0, 0, headings, bold)
        for number, values in enumerate(table, start=1):
            sheet.write_row(number, 0, values)
        sheet.freeze_panes(1, 0)
        if table:
            sheet.autofilter(0, 0, len(table), len(headings) - 1)
        book.close()
        body, media = buffer.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}.{kind}"', "Cache-Control": "no-store"},
    )


def wanted_download(request: Request[Any, Any, Any]) -> str | None:
    kind = request.query_params.get("download")
    return kind if kind in DOWNLOADS else None


@contextmanager
def table_view(request: Request[Any, Any, Any], table: Table, as_at: date | None) -> Iterator[Any]:
    """`table`'s read model now, or rebuilt as at the end of `as_at` (`read_table`'s replay, with its
    refusal): one view for a page that reads several slices of one table (a dashboard's charts),
    so a past day is replayed once, not once per chart. Raises `ProblemError` when refused."""
    if as_at is None:
        yield request.app.state.service.view(table.read_model)
        return
    if table.as_of != "replay":
        raise ProblemError(422, "as_of_not_supported", table.as_of_refusal)
    with replayed(request.app.state.service, table.read_model, as_at_moment(as_at)) as view:
        yield view


def rows_of(
    request: Request[Any, Any, Any], table: Table, view: Any, chosen: dict[str, str], *, as_at: date | None = None,
    sort: str | None = None, limit: int | None = None,
) -> list[dict[str, Any]]:
    """The rows of `table` in `view` matching `chosen` (its filters and parameters), for the person signed
    in: the same `Query` as `read_list`, so the same scoping and restricted columns."""
    query = query_for(request, table, chosen, sort=sort, as_at=as_at)
    rows, _total = query.rows_from(request.app.state.service, view, limit=limit, offset=0)
    return rows
