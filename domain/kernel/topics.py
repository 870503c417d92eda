"""Topics pinned: every stored aggregate and event keeps the topic it was first stored under.

The library names a class in storage by a topic, by default `module:qualname`, and the topic
is inside every stored event and so inside every Merkle leaf. A class that moves to another
module would be written under a new topic and old events would no longer resolve. So each
aggregate is declared with the module its topics were born in, `@stored_as("domain.procurement")`,
and it and every event class nested in it carry that topic explicitly (the library's `TOPIC`),
whatever module the code lives in today. Moving a class changes no byte that is stored.

A new aggregate names its own module when it is written; that string never changes after.
`tests/unit/test_topics.py` holds the full list of pinned topics: one that changes, or an
event class that goes unpinned, fails there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from eventsourcing.domain import CanMutateAggregate
from eventsourcing.utils import register_topic

T = TypeVar("T", bound=type)


def stored_as(module: str) -> Callable[[T], T]:
    """Pin `cls` and its nested event classes to topics in `module` (see the module docstring)."""

    def pin(cls: T) -> T:
        for topic, obj in pinned_topics(module, cls):
            # The library reads `TOPIC` from the class itself; set on each class, never inherited.
            obj.TOPIC = topic
            register_topic(topic, obj)
        return cls

    return pin


def pinned_topics(module: str, cls: type) -> Iterator[tuple[str, type]]:
    """(topic, class) for the aggregate and each event class defined in it."""
    yield f"{module}:{cls.__qualname__}", cls
    for value in vars(cls).values():
        if isinstance(value, type) and issubclass(value, CanMutateAggregate) and value.__qualname__.startswith(cls.__qualname__ + "."):
            yield f"{module}:{value.__qualname__}", value
