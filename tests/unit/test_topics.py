"""Every stored class keeps its topic: pinned, listed, never inherited (domain/kernel/topics.py)."""

from __future__ import annotations

from pathlib import Path

from eventsourcing.domain import CanMutateAggregate
from eventsourcing.utils import get_topic, resolve_topic

import domain.application  # noqa: F401  (imports every aggregate the ledger handles)
from audit.replay import aggregate_kinds
from domain.kernel.metadata import LedgerAggregate
from domain.kernel.versioned import VersionedDefinition

PINNED = Path(__file__).resolve().parent.parent / "fixtures" / "pinned_topics.txt"


def stored_classes() -> list[type]:
    classes = []
    for cls in aggregate_kinds().values():
        classes.append(cls)
        classes.extend(v for v in vars(cls).values() if isinstance(v, type) and issubclass(v, CanMutateAggregate))
    return classes


def test_every_aggregate_and_event_class_carries_its_own_topic_and_resolves_from_it():
    for cls in stored_classes():
        topic = vars(cls).get("TOPIC")
        assert topic, f"{cls.__module__}:{cls.__qualname__} has no pinned topic: declare its aggregate @stored_as(module)"
        assert get_topic(cls) == topic
        assert resolve_topic(topic) is cls


def test_the_pinned_topics_are_exactly_the_listed_ones():
    # A topic is inside every stored event: none may change or vanish. A new event class adds
    # its topic to the list (tests/fixtures/pinned_topics.txt) in the commit that adds it.
    listed = PINNED.read_text().split()
    assert sorted(get_topic(cls) for cls in stored_classes()) == listed


def test_no_topic_is_pinned_on_a_base_class_for_subclasses_to_inherit():
    for base in (LedgerAggregate, VersionedDefinition):
        assert "TOPIC" not in vars(base)
        for value in vars(base).values():
            if isinstance(value, type):
                assert "TOPIC" not in vars(value), value
