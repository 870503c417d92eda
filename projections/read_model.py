"""A read model kept as tables: the events it follows, one handler each, and its tables.

A `TableReadModel` declares its `name`, its `tables` (`projections/tables.py`) and one
method per event it follows, marked `@handles(...)` (`projections/handlers.py`), each
changing rows through the page it is given. `followed`, the event classes it reads, is the
classes its handlers name, or declared where it follows more (every event of an aggregate,
with a handler for the aggregate's base event class taking those it does nothing special
for); the topics it reads from the log are those classes' topics. Every followed class must
have a handler: a class without one is refused when the read model is made. Its views, one
per store (`projections/views.py`), are made from its tables. `Replayed` runs its handlers
over events in memory, for tests of the rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from projections.follow import ReadModel
from projections.handlers import Handlers, unhandled
from projections.tables import MemoryPage, Page, Table, micros
from projections.views import PostgresTableView, SQLiteTableView, TableView


class TableReadModel(Handlers, ReadModel[TableView]):
    """A read model kept as tables: declare `name`, `tables` and a `@handles` method per event (see module doc)."""

    tables: ClassVar[tuple[Table, ...]]
    #: the event classes it follows (their topics select what it reads from the log)
    followed: ClassVar[tuple[type, ...]]
    #: whether its views keep every version of every row, so "as at a time" is a query
    #: (`projections/tables.py`, "History"); a read model whose rows carry their own time
    #: and never change (the event index) answers that by a column instead
    keeps_history: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "tables" in vars(cls):
            attrs = {"tables": cls.tables, "keeps_history": cls.keeps_history}
            cls.sqlite_view = type(f"SQLite{cls.__name__}View", (SQLiteTableView,), attrs)
            cls.postgres_view = type(f"Postgres{cls.__name__}View", (PostgresTableView,), attrs)
            cls.columns = cls.tables[0].shown
        if "apply" not in vars(cls):
            missing = [e.__qualname__ for e in getattr(cls, "followed", ()) if cls.handler(e) is unhandled]
            if missing:
                raise TypeError(f"{cls.__name__} follows {', '.join(missing)} without a handler")
        # A read model that declares `topics = ()` itself reads every stored event whatever its class.
        if "followed" in vars(cls) and "topics" not in vars(cls):
            cls.topics = tuple(get_topic(e) for e in cls.followed)

    @classmethod
    def table_names(cls) -> tuple[str, ...]:
        return tuple(t.name for t in cls.tables)

    def process_page(
        self,
        events: Sequence[Any],
        tracking: Tracking,
        positions: Sequence[int] | None = None,
        *,
        cursor: Any = None,
        start: int | None = None,
    ) -> None:
        apply = self.apply
        with self.view.page(tracking, cursor, start=start) as page:
            if not page.history:
                for event, position in zip(events, positions or [None] * len(events), strict=True):
                    page.position = position
                    apply(event, page)
                self.finish(page)
                return
            # Each event's versions are its own: what `finish` works out follows every event
            # (which, by its rule, gives the page's end the same rows).
            finishes = type(self).finish is not TableReadModel.finish
            for event, position in zip(events, positions or [None] * len(events), strict=True):
                moment = micros(event.timestamp)
                if moment >= page.latest_at:
                    page.latest_at = moment
                elif page.back_from is None:
                    page.back_from = position
                page.position, page.moment = position, moment
                apply(event, page)
                if finishes:
                    self.finish(page)
            if not finishes:
                self.finish(page)

    def finish(self, page: Page) -> None:
        """Called once a page's events are applied, before it is written (by default nothing).

        For rows that follow from others by a rule (a percentage from counts): a read model may
        note in `page.notes` which need it and work them out here, once per page, rather than
        after every event that moves them. Only for rules whose result depends on nothing but
        the rows as they end the page, so how the events fall into pages changes nothing.
        """


@dataclass
class Replayed:
    """A read model's tables filled in memory from events (tests of the rules)."""

    read_model: type[TableReadModel]
    page: MemoryPage = field(init=False)

    def __post_init__(self) -> None:
        self.page = MemoryPage(self.read_model.tables)

    def feed(self, events: Iterable[Any], *, first_position: int | None = None) -> Replayed:
        """Apply `events`; with `first_position`, they are numbered from it as if they were stored."""
        model = self.read_model.__new__(self.read_model)  # the rules need no view
        followed = tuple(self.read_model.followed)
        for i, event in enumerate(events):
            if isinstance(event, followed):
                self.page.position = None if first_position is None else first_position + i
                model.apply(event, self.page)
        model.finish(self.page)
        self.page.commit()
        return self

    def rows(self, table: str | None = None) -> list[dict[str, Any]]:
        return self.page.rows(table or self.read_model.tables[0].name)
