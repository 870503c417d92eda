"""Ledgers built before the domain moved still load, verify and show the same.

`tests/fixtures/pre_move_ledger/` holds four ledgers built by main at 22ebd46, before any
module moved (see its README): every stored event exactly as persisted, the personal-data
keys, the Merkle root over them, and every aggregate's state at its first and last version.
Loaded verbatim into a fresh store, they must give the same root (so no leaf, and no topic
inside one, changed), verify under a checkpoint signed now, and give the same state for every
record: which fails the moment an event class stops resolving from the topic it was stored
under, or a state function changes what it shows.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from uuid import UUID

import msgspec
import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import resolve_topic

from audit.checkpoints import Checkpoints, KeyRing
from audit.log import AuditLog
from audit.replay import aggregate_kinds, state_as_of
from audit.verify import verify
from api.bootstrap import ledger_at
from domain.application import Ledger

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "pre_move_ledger"
LEDGERS = ("scenarios", "london", "nottingham", "national")

pytestmark = pytest.mark.storage


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def load(ledger: Ledger, name: str) -> list[dict]:
    """Insert the fixture's stored events and keys verbatim; the events in position order."""
    events = _lines(FIXTURES / f"{name}.events.jsonl")
    for start in range(0, len(events), 500):
        batch = events[start : start + 500]
        positions = ledger.recorder.insert_events(
            [
                StoredEvent(
                    originator_id=UUID(e["originator_id"]),
                    originator_version=e["originator_version"],
                    topic=e["topic"],
                    state=base64.b64decode(e["state"]),
                )
                for e in batch
            ]
        )
        assert positions == [e["position"] for e in batch], "the events must take the positions they had"
    keys = ledger.subject_keys
    with keys.store.transaction(commit=True) as sql:
        for row in _lines(FIXTURES / f"{name}.keys.jsonl"):
            sql.execute(
                f"INSERT INTO {keys.table} (subject, key, created_at) VALUES (?, ?, ?)",
                (row["subject"], base64.b64decode(row["key"]), row["created_at"]),
            )
    return events


def as_json(value: object) -> object:
    return msgspec.json.decode(msgspec.json.encode(value, order="sorted"))


@pytest.mark.parametrize("name", LEDGERS)
def test_a_ledger_built_before_the_move_loads_verifies_and_shows_the_same(database_url, name, tmp_path):
    expected = json.loads((FIXTURES / f"{name}.expected.json").read_text())
    ledger = ledger_at(database_url)
    try:
        events = load(ledger, name)
        log = AuditLog(ledger)
        log.catch_up()
        assert log.size() == expected["tree_size"] == len(events)
        assert log.root().hex() == expected["root"], "the Merkle root over the stored events changed"

        ring = KeyRing(tmp_path / "keys")
        ring.init("aqp-ledger.test/log")
        Checkpoints(log).write(ring.signer())
        report = verify(ledger, ring.verifier_keys())
        assert report.ok, report.problems

        kinds = aggregate_kinds()
        for oid, record in expected["aggregates"].items():
            first = next(iter(ledger.events.get(UUID(oid), lte=1)))
            cls = resolve_topic(first.originator_topic)
            assert cls is kinds[record["kind"]], f"{record['class']} resolves to {cls}"
            for version, state in record["states"].items():
                shown = without_added(record["kind"], as_json(_state_at(ledger, cls, UUID(oid), int(version))), state)
                assert shown == state, f"{record['kind']} {oid} at version {version} shows differently"
            latest = record["states"][str(record["version"])]
            if "reference" in latest:
                assert without_added(record["kind"], as_json(state_as_of(ledger, record["kind"], latest["reference"])), latest) == latest
    finally:
        ledger.close()


#: kind -> state keys added since the fixtures were built, with the empty value an old record shows
#: (the only change allowed: a record stored before a field existed shows that field's empty default)
ADDED_SINCE: dict[str, dict[str, object]] = {
    "competition": {"acting_for": []},  # the organisations a competition is run for (issue 13)
    "return": {"spot_checks": []},  # the Council's spot checks of a return's data (issue 18)
}


def without_added(kind: str, shown: object, expected: dict) -> object:
    """`shown` less the keys added since, where they show their empty default and the fixture lacks them."""
    added = ADDED_SINCE.get(kind, {})
    if not isinstance(shown, dict):
        return shown
    return {k: v for k, v in shown.items() if not (k in added and k not in expected and v == added[k])}


def _state_at(ledger: Ledger, cls: type, aggregate_id: UUID, version: int) -> object:
    from audit.replay import state_function

    return state_function(cls)(ledger.repository.get(aggregate_id, version=version))


def test_every_topic_the_fixtures_stored_resolves_to_a_pinned_class():
    stored = {e["topic"] for name in LEDGERS for e in _lines(FIXTURES / f"{name}.events.jsonl")}
    for topic in sorted(stored):
        cls = resolve_topic(topic)
        assert vars(cls).get("TOPIC") == topic, f"{topic} resolves to {cls}, which does not pin it"
