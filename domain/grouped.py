"""Commands decided one after another and stored together: group commit (`Ledger.handle_together`).

Concurrent commands (from concurrent HTTP requests) can share one transaction and one commit,
each still decided alone, refused alone and answered alone. While a group is decided, every
record a command loads comes from the group's own map (`Group`), so a command sees the events
of the commands before it in the group, stored or not:

- the first load of a record in the group reads it as a single command would (kept between
  commands, from a snapshot, or replayed) and then applies the events the group's earlier
  commands gave it, if any (the record was dropped in between, see below);
- a command that is accepted has its events collected off its records: they wait in the group
  (`events`, per record, in order) until the group is stored, and its records stay in the map,
  current and holding nothing pending, for the next command;
- a command refused (or failing) after it applied events leaves no trace: every record it
  touched that holds pending events is dropped from the map, so the next command that loads
  it reads it afresh and replays the group's earlier events onto it. A record touched but
  holding no pending event was not changed (every change is an event) and stays.
- a record another process changed since the group first read it cannot take the group's
  events: `Conflict` ends the group's deciding, and each command is handled alone;
- whether a record exists (`Ledger.exists`, asked by every command that creates one) is the
  group's if it holds it, else one row of the store's: no replay of a record the command only
  refuses to create again.

What the map never answers: a read at a version, or through the library's own cache (the demo);
and commands whose decision reads more than their records (`Ledger.decided_alone`: a framework's
commissioners read from the notification log; an erasure destroys a key) are never grouped.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from domain.kernel import command_types as c
from domain.kernel.metadata import Actor


class Conflict(Exception):
    """A record changed by another process after the group first read it: the group cannot be stored."""


@dataclass
class Queued:
    """One command waiting for a group: what `Ledger.handle` would be given."""

    command: c.Command
    actor: Actor
    correlation_id: str | None = None
    causation_id: str | None = None
    at: datetime | None = None
    business_time: datetime | None = None
    #: called inside the group's transaction with the command's expected result (see `Ledger.handle`)
    record_with_events: Callable[[Any, c.CommandResult], None] | None = None
    #: the request it came from, bound to its log lines (the group runs in another request's thread)
    request_id: str | None = None


@dataclass
class Group:
    """The records of one group being decided, and the events its accepted commands gave them."""

    #: the repository whose records these are (another ledger in the same thread reads its own)
    owner: Any = None
    #: record id -> the record as the group's commands so far left it (nothing pending)
    records: dict[Any, Any] = field(default_factory=dict)
    #: record id -> the events the group's accepted commands gave it, in order, not yet stored
    events: dict[Any, list[Any]] = field(default_factory=dict)
    #: the records the command being decided has loaded
    touched: list[Any] = field(default_factory=list)

    @staticmethod
    def current(owner: Any) -> Group | None:
        """The group being decided in this context on `owner`'s records, if any."""
        group = _group.get()
        return group if group is not None and group.owner is owner else None

    @contextmanager
    def deciding(self) -> Iterator[Group]:
        token = _group.set(self)
        try:
            yield self
        finally:
            _group.reset(token)

    def get(self, aggregate_id: Any, load: Callable[[], Any]) -> Any:
        """The record as the group has it, loaded by `load()` (as a single command would) the first time."""
        record = self.records.get(aggregate_id)
        if record is None:
            earlier = self.events.get(aggregate_id, [])
            try:
                record = load()
            except AggregateNotFoundError:
                if not earlier:
                    raise
                record = None  # created by an earlier command of the group
            if earlier:
                stored = 0 if record is None else record.version
                if stored != earlier[0].originator_version - 1:
                    raise Conflict(aggregate_id)
                for event in earlier:
                    record = event.mutate(record)
            self.records[aggregate_id] = record
        self.touched.append(record)
        return record

    def has(self, aggregate_id: Any) -> bool:
        """Whether the group holds the record (loaded, or made by an earlier command), or events for it."""
        return aggregate_id in self.records or aggregate_id in self.events

    def begin(self) -> None:
        """A command starts: nothing touched yet."""
        self.touched = []

    def accept(self, aggregates: list[Any]) -> list[Any]:
        """The command is accepted: collect its events off `aggregates` (kept for the group's store)."""
        events = []
        for aggregate in aggregates:
            collected = aggregate.collect_events()
            if collected:
                self.events.setdefault(aggregate.id, []).extend(collected)
                events.extend(collected)
            self.records[aggregate.id] = aggregate  # a new record too: the next command finds it
        self._drop_changed()
        return events

    def refuse(self) -> None:
        """The command is refused (or failed): drop what it changed."""
        self._drop_changed()

    def _drop_changed(self) -> None:
        for record in self.touched:
            if record is not None and record.pending_events:
                # Changed but not accepted (or not handed in to be saved): read afresh if needed again.
                if self.records.get(record.id) is record:
                    del self.records[record.id]
        self.touched = []


_group: contextvars.ContextVar[Group | None] = contextvars.ContextVar("aqp_group", default=None)
