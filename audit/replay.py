"""Replay: any aggregate or read model as it stood at any moment, and what changed between two.

- `state_as_of(ledger, kind, reference, as_of)`: an aggregate rebuilt from its events up to
  `as_of`, as plain data. The kinds are the `KIND`s of `LedgerAggregate`'s subclasses; each
  one's state function is registered here (`register_state`) or, by convention, is the
  function `<kind>_state` beside the aggregate or in its context's `views` module (as
  `contract_state` in `domain/contracts/views.py`).
- `replay_projection(ledger, name, as_of)`: a read model rebuilt into a fresh in-memory
  SQLite database from the stored events timestamped at or before `as_of`. It only reads
  the live database; the live read-model tables are never opened.
- `diff(ledger, kind, reference, t1, t2)`: the paths of the state that changed between the
  two moments, and the events recorded in (t1, t2] with who recorded them.

An event's time is the time the ledger recorded it (its `timestamp`, the command's `at`).
"""

from __future__ import annotations

import csv
import io
import re
import importlib
import sys
from collections.abc import Callable
from datetime import datetime
from difflib import SequenceMatcher
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.application import AggregateNotFoundError

from audit.store import SqlStore
from domain.kernel.data_subjects import DataSubject
from domain.kernel.errors import NotFound, ValidationFailed
from domain.kernel.metadata import LedgerAggregate
from domain.procurement.competition import Competition
from domain.procurement.views import competition_state
from projections import follow
from projections.catalogue import READ_MODELS

# ------------------------------------------------------------------ aggregates

StateFunction = Callable[[Any], dict[str, Any]]
STATE_FUNCTIONS: dict[type[LedgerAggregate], StateFunction] = {}


def register_state(aggregate_class: type[LedgerAggregate], state: StateFunction) -> None:
    """Make `aggregate_class` replayable: `state` turns one into plain data (what an auditor sees)."""
    STATE_FUNCTIONS[aggregate_class] = state


def state_function(cls: type[LedgerAggregate]) -> StateFunction | None:
    """The registered state function, else `<kind>_state` beside the class or in its context's `views`."""
    registered = STATE_FUNCTIONS.get(cls)
    if registered is not None:
        return registered
    name = f"{cls.KIND}_state"
    found = getattr(sys.modules.get(cls.__module__), name, None)
    if found is None:
        context = cls.__module__.rpartition(".")[0]
        try:
            found = getattr(importlib.import_module(f"{context}.views"), name, None)
        except ModuleNotFoundError:
            found = None
    return found


def data_subject_state(s: DataSubject) -> dict[str, Any]:
    return {
        "reference": s.subject,
        "id": str(s.id),
        "version": s.version,
        "erasures": s.erasures,
        "last_erased_at": s.modified_on.isoformat(),
    }


register_state(Competition, competition_state)
register_state(DataSubject, data_subject_state)


def aggregate_kinds() -> dict[str, type[LedgerAggregate]]:
    """Every kind of aggregate the ledger stores, by `KIND` (the Ledger imports every one it handles)."""
    kinds: dict[str, type[LedgerAggregate]] = {}
    pending = list(LedgerAggregate.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.KIND:
            kinds.setdefault(cls.KIND, cls)
    return dict(sorted(kinds.items()))


def _kind(kind: str) -> type[LedgerAggregate]:
    kinds = aggregate_kinds()
    if kind not in kinds:
        raise NotFound(f"There is no kind of record called {kind}; the kinds are {', '.join(kinds)}.", code="unknown_kind")
    return kinds[kind]


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None:
        raise ValidationFailed(f"{name} needs a time zone, e.g. 2026-03-01T12:00:00Z.", code="time_without_zone", field=name)
    return moment


def _not_found(kind: str, reference: str, as_of: datetime | None) -> NotFound:
    when = f" as of {as_of.isoformat()}" if as_of else ""
    return NotFound(f"There is no {kind.replace('_', ' ')} {reference}{when}.", code=f"{kind}_not_found")


def _history(ledger: Any, cls: type[LedgerAggregate], reference: str) -> tuple[UUID, list[Any]]:
    aggregate_id = cls.id_for(reference)
    return aggregate_id, list(ledger.events.get(aggregate_id))


def _version_at(events: list[Any], as_of: datetime | None) -> int | None:
    """The aggregate's version at `as_of` (None: it did not exist yet)."""
    version = None
    for event in events:
        if as_of is not None and event.timestamp > as_of:
            break
        version = event.originator_version
    return version


def _state(ledger: Any, cls: type[LedgerAggregate], aggregate_id: UUID, version: int) -> dict[str, Any]:
    state = state_function(cls)
    if state is None:
        raise NotFound(
            f"{cls.__qualname__} has no state function: define {cls.KIND}_state beside it, "
            "or register one with audit.replay.register_state.",
            code="no_state_function",
        )
    # From the events alone, never a snapshot: what an auditor replays is what was committed to.
    aggregate = None
    for event in ledger.events.get(aggregate_id, lte=version):
        aggregate = event.mutate(aggregate)
    try:
        if aggregate is None:
            raise AggregateNotFoundError(aggregate_id)
        return state(aggregate)
    except AggregateNotFoundError:  # pragma: no cover - the version was just read from its events
        raise NotFound(f"There is no {cls.KIND} with id {aggregate_id}.", code=f"{cls.KIND}_not_found") from None


def state_as_of(ledger: Any, kind: str, reference: str, as_of: datetime | None = None) -> dict[str, Any]:
    """The aggregate `kind`/`reference` as plain data, now or as it stood at `as_of`."""
    cls = _kind(kind)
    if as_of is not None:
        _aware(as_of, "as_of")
    aggregate_id, events = _history(ledger, cls, reference)
    version = _version_at(events, as_of)
    if version is None:
        raise _not_found(kind, reference, as_of)
    return _state(ledger, cls, aggregate_id, version)


# ------------------------------------------------------------------ read models



def replay_projection(ledger: Any, name: str, as_of: datetime, table: str | None = None) -> list[dict[str, Any]]:
    """The read model `name` as it stood at `as_of`, rebuilt in a scratch store; the rows of
    `table` (default: its first table)."""
    read_model = READ_MODELS.get(name)
    if read_model is None:
        raise NotFound(
            f"There is no read model called {name}; the read models are {', '.join(sorted(READ_MODELS))}.",
            code="unknown_projection",
        )
    if table is not None and table not in read_model.table_names():
        raise NotFound(
            f"The read model {name} has no table {table}; its tables are {', '.join(read_model.table_names())}.",
            code="unknown_table",
        )
    _aware(as_of, "as_of")
    with follow.scratch_view(read_model) as view:
        follow.catch_up(ledger, read_model(view), as_of=as_of)
        return view.rows(table)


def rows_as_json(rows: list[dict[str, Any]], *, projection: str, as_of: datetime) -> str:
    """A self-describing JSON document: which read model, as of when, and its rows."""
    document = {"projection": projection, "as_of": as_of.isoformat(), "rows": rows}
    return msgspec.json.format(msgspec.json.encode(document), indent=2).decode() + "\n"


def rows_as_csv(rows: list[dict[str, Any]], columns: tuple[str, ...] | None = None, *, lineterminator: str = "\n") -> str:
    """CSV with a header line; null is an empty field; columns not named are left out."""
    names = list(columns or (rows[0].keys() if rows else ()))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=names, lineterminator=lineterminator, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


# ------------------------------------------------------------------------ diff


def diff(ledger: Any, kind: str, reference: str, t1: datetime, t2: datetime) -> dict[str, Any]:
    """What changed in `kind`/`reference` between `t1` and `t2`, and the events in (t1, t2].

    A change is {"path", "change": added|removed|changed, "from", "to"}; paths join dict keys
    with "." (a key with other characters than letters, digits, "-" and "_" is written
    `["dr.a.patel"]`) and list positions as "[i]" (the old position for a removal, else the
    new one).
    Before the aggregate existed its state counts as empty, so everything shows as added.
    """
    cls = _kind(kind)
    _aware(t1, "from")
    _aware(t2, "to")
    if t1 > t2:
        raise ValidationFailed("The start of a diff must not be after its end.", code="times_reversed", field="from")
    aggregate_id, events = _history(ledger, cls, reference)
    v1, v2 = _version_at(events, t1), _version_at(events, t2)
    if v2 is None:
        raise _not_found(kind, reference, t2)
    before = _state(ledger, cls, aggregate_id, v1) if v1 is not None else {}
    after = _state(ledger, cls, aggregate_id, v2)
    recorded = [e for e in events if (v1 or 0) < e.originator_version <= v2]
    positions = _notification_ids(ledger, aggregate_id, v1 or 0, v2)
    return {
        "kind": kind,
        "reference": reference,
        "from": t1.isoformat(),
        "to": t2.isoformat(),
        "from_version": v1,
        "to_version": v2,
        "changes": changes_between(before, after),
        "events": [
            {
                "notification_id": positions.get(e.originator_version),
                "version": e.originator_version,
                "type": type(e).__qualname__,
                "timestamp": e.timestamp.isoformat(),
                "actor": e.meta.get("actor"),
                "command": e.meta.get("command"),
                "reason": e.meta.get("reason"),
            }
            for e in recorded
        ],
    }


def changes_between(before: Any, after: Any, path: str = "") -> list[dict[str, Any]]:
    """The changed paths from `before` to `after` (plain data), in document order."""
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[dict[str, Any]] = []
        for key in [*before, *(k for k in after if k not in before)]:
            here = _join(path, key)
            if key not in after:
                found.append({"path": here, "change": "removed", "from": before[key]})
            elif key not in before:
                found.append({"path": here, "change": "added", "to": after[key]})
            else:
                found += changes_between(before[key], after[key], here)
        return found
    if isinstance(before, list) and isinstance(after, list):
        return _list_changes(before, after, path)
    if before is None and isinstance(after, (dict, list)):
        return [{"path": path, "change": "added", "to": after}]
    if after is None and isinstance(before, (dict, list)):
        return [{"path": path, "change": "removed", "from": before}]
    return [{"path": path, "change": "changed", "from": before, "to": after}]


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _join(path: str, key: Any) -> str:
    """`a.b` for plain keys; `a["dr.a.patel"]` for keys that would read ambiguously."""
    text = str(key)
    if not _PLAIN_KEY.match(text):
        return f"{path}[{msgspec.json.encode(text).decode()}]"
    return f"{path}.{text}" if path else text


def _list_changes(before: list[Any], after: list[Any], path: str) -> list[dict[str, Any]]:
    # Match items by content, so one score inserted into a sorted list is one addition.
    def key(item: Any) -> bytes:
        return msgspec.json.encode(item, order="sorted")

    found: list[dict[str, Any]] = []
    matcher = SequenceMatcher(a=[key(i) for i in before], b=[key(i) for i in after], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(paired):
            found += changes_between(before[i1 + k], after[j1 + k], f"{path}[{j1 + k}]")
        found += [{"path": f"{path}[{i}]", "change": "removed", "from": before[i]} for i in range(i1 + paired, i2)]
        found += [{"path": f"{path}[{j}]", "change": "added", "to": after[j]} for j in range(j1 + paired, j2)]
    return found


def _notification_ids(ledger: Any, aggregate_id: UUID, after_version: int, to_version: int) -> dict[int, int]:
    """version -> notification id for the aggregate's events in (after_version, to_version]."""
    store = SqlStore(ledger)
    with store.transaction(commit=False) as sql:
        rows = sql.query(
            f"SELECT {store.id_column} AS nid, originator_version AS v FROM {store.table(store.events_table)} "
            "WHERE originator_id = ? AND originator_version > ? AND originator_version <= ?",
            (aggregate_id.hex if store.sqlite else aggregate_id, after_version, to_version),
        )
    return {int(r["v"]): int(r["nid"]) for r in rows}


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return value
    return msgspec.json.encode(value).decode()


def describe_diff(result: dict[str, Any]) -> str:
    """The diff as a person reads it: one line per change, then one per event."""
    since = f"{result['from']} (version {result['from_version'] or 'none'})"
    lines = [
        f"{result['kind']} {result['reference']}: {since} -> {result['to']} (version {result['to_version']})",
        f"{len(result['changes'])} change(s)",
    ]
    for c in result["changes"]:
        if c["change"] == "changed":
            lines.append(f"  {c['path']}: {_shown(c['from'])} -> {_shown(c['to'])}")
        else:
            lines.append(f"  {c['path']}: {c['change']}")
    lines.append(f"{len(result['events'])} event(s) recorded in ({result['from']}, {result['to']}]")
    for e in result["events"]:
        actor = e["actor"] or {}
        who = f"{actor.get('id')} ({actor.get('org')}, {actor.get('role')})" if actor else "unknown"
        lines.append(f"  #{e['notification_id']}  v{e['version']}  {e['timestamp']}  {e['type']}  by {who}")
    return "\n".join(lines) + "\n"
