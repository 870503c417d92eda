"""One handler per event: how a read model, or a lookup it keeps, names the events it follows.

A method marked `@handles(Competition.Opened)` is the handler of that event class. A class
deriving from `Handlers` gets, once, a table of event class -> handler from its marked
methods (its bases' too), and its `apply(event, page)` calls the handler of the event's
class. A handler named for a base class (`Contract.Event`: every contract event) takes the
events of each subclass that no handler names itself, as a subclass's method overrides its
base's; an event no handler takes does nothing. Each event class has one handler: naming a
class twice is refused when the class is made.

The handler of each event class is worked out the first time one arrives and then found in
a dict: one lookup per event, which costs less than the tests of an if/elif ladder.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def handles(*events: type) -> Callable[[F], F]:
    """Mark a method `(self, event, page)` as the handler of `events` (and of their subclasses
    that have no handler of their own)."""

    def mark(method: F) -> F:
        method.handled_events = events  # type: ignore[attr-defined]
        return method

    return mark


def unhandled(self: Any, event: Any, page: Any) -> None:
    """What an event that no handler takes does: nothing."""


class Handlers:
    """`apply(event, page)` by the handler its class names with `@handles` (see module doc)."""

    #: the event classes it follows: declared, or else those its handlers name
    followed: ClassVar[tuple[type, ...]]
    #: event class -> the function handling it, as the methods marked `@handles` name them
    handlers: ClassVar[dict[type, Callable[..., Any]]] = {}
    #: each event class seen so far -> its handler (`unhandled` if none), worked out once
    _dispatch: ClassVar[dict[type, Callable[..., Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        named: dict[type, str] = {}
        for klass in reversed(cls.__mro__):
            for name, member in vars(klass).items():
                for event in getattr(member, "handled_events", ()):
                    if named.get(event, name) != name:
                        raise TypeError(f"{cls.__name__}: {event.__qualname__} has two handlers, {named[event]} and {name}")
                    named[event] = name
        cls.handlers = {event: getattr(cls, name) for event, name in named.items()}
        cls._dispatch = {}
        if "followed" not in vars(cls) and cls.handlers:
            cls.followed = tuple(cls.handlers)

    @classmethod
    def handler(cls, event_class: type) -> Callable[..., Any]:
        """The function handling events of `event_class`: its own, else its nearest base's, else `unhandled`."""
        handlers = cls.handlers
        found = next((handlers[c] for c in event_class.__mro__ if c in handlers), unhandled)
        cls._dispatch[event_class] = found
        return found

    def apply(self, event: Any, page: Any) -> Any:
        """Apply one event by its handler (what the handler returns)."""
        try:
            handler = self._dispatch[type(event)]
        except KeyError:
            handler = self.handler(type(event))
        return handler(self, event, page)
