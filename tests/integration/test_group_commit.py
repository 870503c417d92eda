"""Group commit (`Ledger.handle_together`, `LedgerService` with `group_commit`), on both stores.

Concurrent requests are made to form one group without any timing: the test holds the service's
`write_lock` while the request threads queue their commands, and lets go once all have queued;
the first thread to get the lock takes them all. One commit is seen as one call of the
after-save hooks with every command's recordings.
"""

from __future__ import annotations

import threading
import time
from datetime import date, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest
from eventsourcing.application import AggregateNotFoundError

from api.bootstrap import open_ledger
from api.http.service import LedgerService
from api.settings import Settings
from audit.checkpoints import KeyRing
from audit.log import AuditLog
from audit.verify import verify
from domain import commands as c
from domain.contracts import commands as k
from domain.grouped import Queued
from domain.kernel import command_types as ct
from domain.kernel.dispatch import HANDLERS, Decision
from domain.kernel.errors import RuleBroken
from domain.procurement.competition import Competition

pytestmark = pytest.mark.storage


def opening(reference: str) -> Any:
    now = datetime.now(timezone.utc)
    return msgspec.convert(
        {
            "type": "competition.open",
            "competition": reference,
            "title": "Residential care",
            "procedure": "open",
            "standstill_regime": "pcr2015",
            "lots": [{"id": "L1", "name": "Lot 1"}],
            "clarification_deadline": (now + timedelta(days=5)).isoformat(),
            "tender_deadline": (now + timedelta(days=10)).isoformat(),
        },
        c.AnyCommand,
    )


def document(reference: str, n: int, *, sha: str | None = None) -> Any:
    return msgspec.convert(
        {"type": "document.publish", "competition": reference, "document": f"D{n}", "title": f"Document {n}",
         "sha256": sha or f"{n:064x}", "size_bytes": 10 + n},
        c.AnyCommand,
    )


class Ledgers:
    """API-role ledgers (Merkle leaves written with the events, processes and read models following)."""

    def __init__(self, database_url: str, tmp_path) -> None:
        self.settings = Settings(database_url=database_url, key_dir=tmp_path / "keys")
        self.ring = KeyRing(self.settings.key_dir)
        self.ring.init("aqp-ledger.test/log")
        self.opened: list[Any] = []

    def ledger(self) -> Any:
        ledger = open_ledger(self.settings, "api")
        self.opened.append(ledger)
        return ledger

    def close(self) -> None:
        for ledger in self.opened:
            ledger.close()


@pytest.fixture
def ledgers(database_url, tmp_path):
    made = Ledgers(database_url, tmp_path)
    yield made
    made.close()


def commits(ledger: Any) -> list[list[int]]:
    """The positions each commit stored, one list per commit (an after-save hook placed first)."""
    seen: list[list[int]] = []
    log = AuditLog(ledger, create_tables=False)

    def hook(recordings: Any) -> None:
        positions = [r.notification.id for r in recordings]
        # The leaves are written in the commit's own transaction: the log holds them before any follower runs.
        leaves_to = log.tip()[1]
        seen.append(positions if leaves_to == max(positions) else [*positions, f"leaves only to {leaves_to}"])

    ledger.after_save.insert(0, hook)
    return seen


def one_commit_of(seen: list[list[Any]], events: int) -> bool:
    """Whether the commits seen are one, of `events` events, whose leaves were written with them."""
    return len(seen) == 1 and len(seen[0]) == events and all(isinstance(p, int) for p in seen[0])


def grouped(service: LedgerService, calls: list[tuple[Any, str | None]], principal: Any) -> list[Any]:
    """Send every (command, key) from its own thread, queued in this order before any runs: one group."""
    answers: list[Any] = [None] * len(calls)

    def send(i: int, command: Any, key: str | None) -> None:
        try:
            answers[i] = service.run(principal, command, method="POST", path="/commands", request_id=f"req-{i}", idempotency_key=key)
        except BaseException as err:  # noqa: BLE001 - the test looks at it
            answers[i] = err

    threads = [threading.Thread(target=send, args=(i, command, key)) for i, (command, key) in enumerate(calls)]
    with service.write_lock:
        for queued, t in enumerate(threads, start=1):
            t.start()
            while len(service._queue) < queued:  # each request queues (in this order), then waits
                time.sleep(0.001)
    for t in threads:
        t.join()
    return answers


def stored_of(ledger: Any, reference: str) -> list[tuple[int, str, dict]]:
    """(version, event type, the document it names) of a competition's stored events."""
    return [
        (e.originator_version, type(e).__qualname__, getattr(e, "document", None))
        for e in ledger.events.get(Competition.id_for(reference))
    ]


def test_concurrent_commands_in_one_group_give_the_ledger_serial_commands_give(ledgers):
    ledger = ledgers.ledger()
    service = LedgerService(ledger, group_commit=True)
    principal = service.tokens.issue(user="j.okafor", org="NEL-CSU", role="procurement_lead").principal
    assert service.run(principal, opening("GROUP-1"), method="POST", path="/commands", request_id="r0", idempotency_key=None).status == 200
    seen = commits(ledger)
    calls = [(document("GROUP-1", n), None) for n in range(8)] + [(opening(f"GROUP-{n}"), None) for n in (2, 3)]
    answers = grouped(service, calls, principal)
    assert all(not isinstance(a, BaseException) and a.status == 200 for a in answers), answers
    assert one_commit_of(seen, 10), seen  # one commit for the ten commands

    # Each answer is its own command's: its event is the document (or competition) it sent.
    for (command, _), answer in zip(calls, answers, strict=True):
        (event,) = answer.body["events"]
        stored = ledger.recorder.select_notifications(start=event["position"], limit=1)[0]
        found = ledger.mapper.to_domain_event(stored)
        assert getattr(found, "document", None) == getattr(command, "document", None)
        assert found.originator_id == Competition.id_for(command.competition)

    # The same commands sent one at a time, in the order the group stored them, make the same records.
    order = sorted(range(len(calls)), key=lambda i: answers[i].body["events"][0]["position"])
    alone = LedgerService(ledgers.ledger(), group_commit=False)
    alone_principal = alone.tokens.issue(user="j.okafor", org="NEL-CSU", role="procurement_lead").principal
    renamed = {"GROUP-1": "SERIAL-1", "GROUP-2": "SERIAL-2", "GROUP-3": "SERIAL-3"}
    assert alone.run(alone_principal, opening("SERIAL-1"), method="POST", path="/c", request_id="s", idempotency_key=None).status == 200
    for i in order:
        command = msgspec.structs.replace(calls[i][0], competition=renamed[calls[i][0].competition])
        assert alone.run(alone_principal, command, method="POST", path="/c", request_id="s", idempotency_key=None).status == 200
    for reference, serial_reference in renamed.items():
        assert stored_of(ledger, reference) == stored_of(ledger, serial_reference)
    assert sorted(ledger.competition("GROUP-1").documents) == [f"D{n}" for n in range(8)]

    # The Merkle log of grouped and single commits verifies, as `aqp audit verify` does.
    assert AuditLog(ledger).size() == len(ledger.recorder.select_notifications(start=1, limit=10_000))  # a leaf for every event
    assert verify(ledger, ledgers.ring.verifier_keys()).ok


class PublishThenRefuse(ct.Command, tag="test.publish_then_refuse"):
    """A command whose handler applies an event to its record and then refuses."""

    competition: str
    document: str


def publish_then_refuse(ledger: Any, cmd: PublishThenRefuse, actor: Any, now: datetime) -> Decision:
    competition = ledger.competition(cmd.competition)
    competition.publish_document(document=cmd.document, title="never stored", sha256="e" * 64, size_bytes=1, now=now)
    raise RuleBroken("Refused after applying an event.", code="refused_late")


@pytest.fixture
def late_refusal():
    HANDLERS[PublishThenRefuse] = (("procurement_lead",), "test", publish_then_refuse)
    yield
    del HANDLERS[PublishThenRefuse]


def test_a_command_refused_in_a_group_after_applying_events_records_nothing_and_the_others_commit(ledgers, late_refusal):
    ledger = ledgers.ledger()
    lead = LedgerService(ledger).tokens.issue(user="j.okafor", org="NEL-CSU", role="procurement_lead").principal.actor()
    assert ledger.handle(opening("LATE-1"), lead).ok
    seen = commits(ledger)
    outcomes = ledger.handle_together([
        Queued(document("LATE-1", 1), lead),
        Queued(PublishThenRefuse(competition="LATE-1", document="D2"), lead),
        Queued(document("LATE-1", 3), lead),
        Queued(PublishThenRefuse(competition="LATE-1", document="D4"), lead),
    ])
    assert outcomes is not None
    assert [o.ok for o in outcomes] == [True, False, True, False]
    assert outcomes[1].error.code == "refused_late"
    assert one_commit_of(seen, 2), seen
    assert [d for _, _, d in stored_of(ledger, "LATE-1")] == [None, "D1", "D3"]
    assert outcomes[2].events[0].version == 3  # decided on the record as command 1 left it
    # The record kept for the next command holds nothing of the refusals either.
    assert ledger.handle(document("LATE-1", 5), lead).events[0].version == 4
    assert sorted(ledger.competition("LATE-1").documents) == ["D1", "D3", "D5"]
    assert verify(ledger, ledgers.ring.verifier_keys()).ok


class WriteFromAnotherProcess(ct.Command, tag="test.write_from_another_process"):
    """Stands for another process storing an event on a record while the group is being decided."""

    competition: str


def test_a_conflict_from_another_process_makes_each_command_of_the_group_run_alone(ledgers):
    ledger, other = ledgers.ledger(), ledgers.ledger()
    lead = LedgerService(ledger).tokens.issue(user="j.okafor", org="NEL-CSU", role="procurement_lead").principal.actor()
    assert ledger.handle(opening("RACE-G"), lead).ok
    to_write: list[int] = []

    def write_elsewhere(_ledger: Any, cmd: WriteFromAnotherProcess, actor: Any, now: datetime) -> Decision:
        if to_write:  # once: run again alone, it writes nothing
            assert other.handle(document(cmd.competition, to_write.pop()), actor).ok
        return Decision([])

    HANDLERS[WriteFromAnotherProcess] = (("procurement_lead",), "test", write_elsewhere)
    try:
        seen = commits(ledger)
        to_write.append(9)
        outcomes = ledger.handle_together([
            Queued(document("RACE-G", 1), lead),
            Queued(WriteFromAnotherProcess(competition="RACE-G"), lead),
            Queued(document("RACE-G", 2), lead),
        ])
        assert outcomes is None  # the group's transaction failed: nothing of it stored
        assert [d for _, _, d in stored_of(ledger, "RACE-G")] == [None, "D9"]
        assert seen == []

        # Through the service, each command of a failed group is handled alone and answered for itself.
        service = LedgerService(ledger, group_commit=True)
        principal = service.tokens.issue(user="j.okafor", org="NEL-CSU", role="procurement_lead").principal
        to_write.append(8)
        answers = grouped(service, [(document("RACE-G", 1), "k1"), (WriteFromAnotherProcess(competition="RACE-G"), None),
                                    (document("RACE-G", 2), "k2")], principal)
    finally:
        del HANDLERS[WriteFromAnotherProcess]
    assert [a.status for a in answers] == [200, 200, 200], answers
    assert [len(a.body.get("events", [])) for a in answers] == [1, 0, 1]
    assert [len(p) for p in seen] == [1, 1] and all(isinstance(p, int) for c in seen for p in c)  # one commit each
    assert [d for _, _, d in stored_of(ledger, "RACE-G")] == [None, "D9", "D8", "D1", "D2"]
    for answer, name in ((answers[0], "D1"), (answers[2], "D2")):
        (event,) = answer.body["events"]
        found = ledger.mapper.to_domain_event(ledger.recorder.select_notifications(start=event["position"], limit=1)[0])
        assert found.document == name
    # A retry of a keyed request answers what was recorded, once.
    again = service.run(principal, document("RACE-G", 1), method="POST", path="/commands", request_id="again", idempotency_key="k1")
    assert again.replayed and again.body == answers[0].body
    assert AuditLog(ledger).size() == len(ledger.recorder.select_notifications(start=1, limit=1000))
    assert verify(ledger, ledgers.ring.verifier_keys()).ok


def test_an_idempotency_key_sent_concurrently_in_one_group_records_once(ledgers):
    ledger = ledgers.ledger()
    service = LedgerService(ledger, group_commit=True)
    principal = service.tokens.issue(user="j.okafor", org="NEL-CSU", role="procurement_lead").principal
    command = opening("KEYED-1")
    calls = [(command, "same-key")] * 4 + [(opening("KEYED-2"), "other-key"), (opening("KEYED-3"), None)]
    seen = commits(ledger)
    answers = grouped(service, calls, principal)
    assert all(not isinstance(a, BaseException) for a in answers), answers
    keyed = answers[:4]
    assert all(a.status == 200 for a in answers)
    assert sum(not a.replayed for a in keyed) == 1  # recorded once, the others replay its answer
    assert all(a.body == keyed[0].body for a in keyed)
    assert len(stored_of(ledger, "KEYED-1")) == 1
    assert one_commit_of(seen, 3), seen  # the first of the key, KEYED-2 and KEYED-3 in one commit
    assert verify(ledger, ledgers.ring.verifier_keys()).ok


def test_a_refused_command_in_a_group_keeps_its_answer_for_its_key(ledgers):
    ledger = ledgers.ledger()
    service = LedgerService(ledger, group_commit=True)
    principal = service.tokens.issue(user="j.okafor", org="NEL-CSU", role="procurement_lead").principal
    calls = [(opening("DUP-1"), "a"), (opening("DUP-1"), "b"), (document("NOWHERE", 1), "c")]
    answers = grouped(service, calls, principal)
    # Whichever of the two openings the group decided first made the record; the other is refused on it.
    assert sorted(a.status for a in answers[:2]) == [200, 409], answers
    assert next(a for a in answers[:2] if a.status == 409).body["code"] == "competition_exists"
    assert answers[2].status == 404
    for (command, key), answer in zip(calls, answers, strict=True):
        again = service.run(principal, command, method="POST", path="/commands", request_id="again", idempotency_key=key)
        assert again.replayed and again.status == answer.status and again.body == answer.body
    with pytest.raises(AggregateNotFoundError):
        ledger.repository.get(Competition.id_for("NOWHERE"))


def test_frameworks_are_never_grouped_as_their_commissioners_decide_later_commands(ledgers):
    # A framework's commissioners are read from the stored log, not from the group's records: two
    # frameworks naming one area for two organisations, sent together, must not both be accepted.
    ledger = ledgers.ledger()
    service = LedgerService(ledger, group_commit=True)
    ncl = service.tokens.issue(user="c.ncl", org="ICB-NCL", role="commissioner").principal
    nel = service.tokens.issue(user="c.nel", org="ICB-NEL", role="commissioner").principal

    def framework(reference: str, org: str) -> Any:
        return k.EstablishFramework(
            framework=reference, title="London AQP", kind="care_homes", lots=[k.FrameworkLot(id="NCL", name="North Central London")],
            commissioners=[k.Commissioner(org=org, kind="icb", directorates=["Camden"])], starts_on=date(2026, 4, 1),
            ends_on=date(2029, 3, 31), regime="pcr2015", escalation_ladder="nottingham", max_extension_months=12,
        )

    answers: list[Any] = [None, None]
    barrier = threading.Barrier(2)

    def send(i: int, principal: Any, command: Any) -> None:
        barrier.wait()
        answers[i] = service.run(principal, command, method="POST", path="/commands", request_id=f"f{i}", idempotency_key=None)

    # Queued together (the lock held until both wait), as `grouped` does, but from two principals.
    threads = [threading.Thread(target=send, args=(0, ncl, framework("F-A", "ICB-NCL"))),
               threading.Thread(target=send, args=(1, nel, framework("F-B", "ICB-NEL")))]
    with service.write_lock:
        for t in threads:
            t.start()
        while len(service._queue) < 2:
            time.sleep(0.001)
    for t in threads:
        t.join()
    assert sorted(a.status for a in answers) == [200, 403], answers
    refused = next(a for a in answers if a.status != 200)
    assert refused.body["code"] == "area_commissioned_by_another"
    assert ledger.commissioning.holders_of("Camden") in ({"ICB-NCL"}, {"ICB-NEL"})


def test_group_commit_is_off_by_default_and_as_set_otherwise(database_url):
    from api.bootstrap import ledger_at
    from api.settings import SettingError

    ledger = ledger_at(database_url)
    try:
        assert LedgerService(ledger).group_commit is False
        assert LedgerService(ledger, group_commit=None).group_commit is database_url.startswith("postgresql")  # auto
        assert LedgerService(ledger, group_commit=True).group_commit is True
        assert LedgerService(ledger, group_commit=False).group_commit is False
    finally:
        ledger.close()
    assert Settings.from_env({}).group_commit is False
    assert Settings.from_env({"AQP_GROUP_COMMIT": "auto"}).group_commit is None
    assert Settings.from_env({"AQP_GROUP_COMMIT": "yes"}).group_commit is True
    assert Settings.from_env({"AQP_GROUP_COMMIT": "no"}).group_commit is False
    with pytest.raises(SettingError, match="AQP_GROUP_COMMIT must be auto, yes or no"):
        Settings.from_env({"AQP_GROUP_COMMIT": "sometimes"})


class SendFromAnotherProcess(ct.Command, tag="test.send_from_another_process"):
    """Stands for another server process answering a request while this one's group is decided."""


def test_a_key_recorded_by_another_process_while_the_group_is_decided_is_answered_from_its_record(ledgers):
    # Two services over one database stand for two server processes. The same keyed request
    # reaches both: this one decides it in a group while the other records it first.
    here, there = LedgerService(ledgers.ledger(), group_commit=True), LedgerService(ledgers.ledger(), group_commit=True)
    principal = here.tokens.issue(user="j.okafor", org="NEL-CSU", role="procurement_lead").principal
    command = opening("CROSS-1")
    elsewhere: list[Any] = []

    def send_elsewhere(_ledger: Any, cmd: SendFromAnotherProcess, actor: Any, now: datetime) -> Decision:
        if not elsewhere:
            elsewhere.append(there.run(principal, command, method="POST", path="/commands", request_id="there", idempotency_key="cross"))
        return Decision([])

    HANDLERS[SendFromAnotherProcess] = (("procurement_lead",), "test", send_elsewhere)
    try:
        answers = grouped(here, [(command, "cross"), (SendFromAnotherProcess(), None)], principal)
    finally:
        del HANDLERS[SendFromAnotherProcess]
    (first,) = elsewhere
    assert first.status == 200 and not first.replayed
    assert answers[0].status == 200 and answers[0].replayed and answers[0].body == first.body
    assert len(stored_of(here.ledger, "CROSS-1")) == 1  # recorded once
    assert verify(here.ledger, ledgers.ring.verifier_keys()).ok


def test_in_a_group_a_record_exists_if_stored_or_made_by_an_earlier_command_of_it(ledgers):
    ledger = ledgers.ledger()
    lead = LedgerService(ledger).tokens.issue(user="j.okafor", org="NEL-CSU", role="procurement_lead").principal.actor()
    assert ledger.handle(opening("THERE-1"), lead).ok
    outcomes = ledger.handle_together([
        Queued(opening("THERE-1"), lead),  # stored before the group
        Queued(opening("NEW-1"), lead),
        Queued(opening("NEW-1"), lead),  # made by the command before, not stored yet
    ])
    assert outcomes is not None  # decided in the group, not left to the store's unique key
    assert [o.ok for o in outcomes] == [False, True, False]
    assert {outcomes[0].error.code, outcomes[2].error.code} == {"competition_exists"}
    assert len(stored_of(ledger, "NEW-1")) == 1


def test_a_group_whose_store_fails_other_than_by_a_conflict_is_answered_with_the_failure_and_never_run_again(ledgers):
    # The connection lost as the commit went through: the group may well be stored. Run again
    # alone, each command without a key would be recorded a second time; so none is.
    ledger = ledgers.ledger()
    service = LedgerService(ledger, group_commit=True)
    principal = service.tokens.issue(user="j.okafor", org="NEL-CSU", role="procurement_lead").principal
    assert service.run(principal, opening("LOST-1"), method="POST", path="/commands", request_id="r0", idempotency_key=None).status == 200
    save = ledger.save
    saves: list[int] = []

    def stored_then_lost(*args: Any, **kwargs: Any) -> Any:
        saves.append(len(args))
        save(*args, **kwargs)
        raise ConnectionError("the connection was lost as the commit went through")

    ledger.save = stored_then_lost
    try:
        answers = grouped(service, [(document("LOST-1", n), None) for n in range(3)], principal)
    finally:
        del ledger.save
    assert all(isinstance(a, ConnectionError) for a in answers), answers
    assert saves == [3]  # the group's one save; no command tried again alone
    assert [d for _, _, d in stored_of(ledger, "LOST-1")] == [None, "D0", "D1", "D2"]
