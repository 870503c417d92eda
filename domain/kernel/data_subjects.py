"""A data subject's erasures: the record that someone's personal data was destroyed.

The event says who erased it, when and why (in its metadata), and holds no personal data:
the subject is an opaque person id. The erasure itself is the destruction of the subject's
key (audit/erasure.py), done by the dispatcher right after this event is stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from domain.access import ADMIN
from domain.kernel.command_types import Command, Reference
from domain.kernel.dispatch import Decision, handles
from domain.kernel.metadata import Actor
from domain.kernel.errors import ValidationFailed
from domain.kernel.metadata import LedgerAggregate
from domain.kernel.topics import stored_as


@stored_as("domain.data_subjects")
class DataSubject(LedgerAggregate):
    KIND = "data_subject"

    def __init__(self) -> None:
        self.subject = ""
        self.erasures = 0

    @classmethod
    def first_erasure(cls, *, subject: str, reason: str | None) -> DataSubject:
        _check_reason(reason)
        return cls._create(cls.Erased, id=cls.id_for(subject), subject=subject)

    def erase_again(self, *, reason: str | None) -> None:
        """New personal data may have been stored since the last erasure (under a new key)."""
        _check_reason(reason)
        self.trigger_event(self.ErasedAgain)

    class Erased(LedgerAggregate.Created):
        subject: str

        def apply(self, s: DataSubject) -> None:
            s.subject = self.subject
            s.erasures = 1

    class ErasedAgain(LedgerAggregate.Event):
        def apply(self, s: DataSubject) -> None:
            s.erasures += 1


def _check_reason(reason: str | None) -> None:
    if not reason or not reason.strip():
        raise ValidationFailed(
            "An erasure needs a reason, e.g. the request's reference (no personal data).",
            code="reason_required",
            field="reason",
        )


class ErasePersonalData(Command, tag="personal_data.erase"):
    """Destroy a data subject's personal data (their key); `reason` is required."""

    subject: Reference


@handles(ErasePersonalData, ADMIN, "erase personal data")
def _erase_personal_data(ledger: Any, cmd: ErasePersonalData, actor: Actor, now: datetime) -> Decision:
    try:
        subject = ledger.repository.get(DataSubject.id_for(cmd.subject))
    except AggregateNotFoundError:
        subject = DataSubject.first_erasure(subject=cmd.subject, reason=cmd.reason)
    else:
        subject.erase_again(reason=cmd.reason)
    # The key goes only once the erasure is on record; if that fails, retrying erases it.
    return Decision([subject], after=lambda: ledger.subject_keys.erase(cmd.subject))
