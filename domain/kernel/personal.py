"""Personal data: a value that belongs to a data subject and can be erased.

Personal data of people (names, e-mail addresses, phone numbers, notes about them) is never
stored in clear. An event holds it as `PersonalData(subject, value)`; when the event is
stored the value is encrypted with that subject's own key (see `audit/erasure.py`).
Erasing the subject destroys the key: every event stays byte-for-byte intact (so the Merkle
log and its checkpoints still verify) while the value reads as "[erased]" everywhere.

Subjects are identified by opaque person ids (account ids), never by a name. To add a
personal field: make it a `PersonalData` in the event, and show it with `shown()`.
"""

from __future__ import annotations

from dataclasses import dataclass

ERASED = "[erased]"


@dataclass(frozen=True)
class PersonalData:
    #: the person the data is about (an opaque id)
    subject: str
    #: the value; None once the subject's key has been erased
    value: str | None

    def shown(self) -> str:
        return ERASED if self.value is None else self.value


def personal(subject: str, value: str | None) -> PersonalData | None:
    """Wrap a value that may be absent (an optional e-mail address, an empty note)."""
    return None if value is None else PersonalData(subject, value)


def shown(value: PersonalData | None) -> str | None:
    return None if value is None else value.shown()
