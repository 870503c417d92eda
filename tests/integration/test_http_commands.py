"""Commands through the API's service: idempotency across a crash, and concurrent writers."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import msgspec
import pytest

from api.http.service import LedgerService
from domain import commands as c
from api.bootstrap import ledger_at
from domain.procurement.commands import OpenCompetition

pytestmark = pytest.mark.storage


class Crash(BaseException):
    """The process dying: not an Exception, so nothing on the way catches it."""


def opening(reference: str) -> OpenCompetition:
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


def run(service: LedgerService, principal, command, key: str | None = "key-1"):
    return service.run(principal, command, method="POST", path="/commands", request_id="req-1", idempotency_key=key)


def test_a_retry_after_a_crash_between_storing_the_events_and_answering_returns_the_first_result(database_url):
    command = opening("CRASH-1")
    first = LedgerService(ledger_at(database_url))
    principal = first.tokens.issue(user="j.okafor", org="NEL-CSU", role="procurement_lead").principal

    def die(_recordings):
        raise Crash

    first.ledger.after_save.append(die)  # runs once the events are committed, before any answer
    with pytest.raises(Crash):
        run(first, principal, command)
    first.ledger.close()

    restarted = LedgerService(ledger_at(database_url))
    stored = restarted.ledger.max_position()
    assert stored >= 1
    answer = run(restarted, principal, command)
    assert answer.replayed and answer.status == 200
    assert answer.body["ok"] and answer.body["events"][0]["type"] == "Competition.Opened"
    assert answer.body["events"][0]["position"] == stored
    assert restarted.ledger.max_position() == stored  # nothing new recorded
    restarted.ledger.close()


def test_a_crash_before_the_commit_records_nothing_so_the_retry_runs_the_command(database_url):
    command = opening("CRASH-2")
    first = LedgerService(ledger_at(database_url))
    principal = first.tokens.issue(user="j.okafor", org="NEL-CSU", role="procurement_lead").principal

    def die_inside_the_transaction(*_args, **_kwargs):
        raise Crash

    first.idempotency.write = die_inside_the_transaction  # type: ignore[method-assign]
    with pytest.raises(Crash):
        run(first, principal, command)
    assert first.ledger.max_position() == 0  # the events' transaction was rolled back with the key
    first.ledger.close()

    restarted = LedgerService(ledger_at(database_url))
    answer = run(restarted, principal, command)
    assert not answer.replayed and answer.status == 200 and answer.body["events"][0]["position"] >= 1
    again = run(restarted, principal, command)
    assert again.replayed and again.body == answer.body
    restarted.ledger.close()


def test_concurrent_writers_of_one_aggregate_in_two_processes_get_a_result_or_a_409_never_an_error(database_url):
    # Two services over one database stand for two server processes (each has its own lock).
    services = [LedgerService(ledger_at(database_url)) for _ in range(2)]
    principal = services[0].tokens.issue(user="j.okafor", org="NEL-CSU", role="procurement_lead").principal
    assert run(services[0], principal, opening("RACE-1"), key=None).status == 200
    answers: list = []
    errors: list[BaseException] = []

    def publish(service: LedgerService, n: int) -> None:
        document = msgspec.convert(
            {"type": "document.publish", "competition": "RACE-1", "document": f"D{n}", "title": f"Document {n}",
             "sha256": f"{n:064x}", "size_bytes": 10},
            c.AnyCommand,
        )
        try:
            answers.append(run(service, principal, document, key=None))
        except BaseException as err:  # noqa: BLE001 - any exception is the failure this test looks for
            errors.append(err)

    threads = [threading.Thread(target=publish, args=(services[n % 2], n)) for n in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert {a.status for a in answers} <= {200, 409}
    conflicts = [a for a in answers if a.status == 409]
    print(f"{len(conflicts)} of {len(answers)} concurrent commands were told to retry (409)")
    assert all(a.body["code"] == "concurrent_modification" for a in conflicts), [a.body for a in conflicts]
    competition = services[0].ledger.competition("RACE-1")
    assert len(competition.documents) == sum(1 for a in answers if a.status == 200)
    for s in services:
        s.ledger.close()
