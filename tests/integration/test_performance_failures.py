"""Performance failures recorded from the log, on each store: a home on a contract rated
Inadequate is a critical performance failure; the same return missed for three consecutive
periods is a service failure. Each once per cause, re-runs record nothing, position kept."""

from __future__ import annotations

from datetime import date, datetime, timezone

from api.bootstrap import ledger_at
from api.cqc_import import import_records
from api.processes import ProcessFollower
from domain.contracts import commands as k
from domain.application import Ledger
from domain.monitoring.commands import PublishKpis, PublishTemplate, RecordCriticalFailure, RecordReturnMissed
from domain.monitoring.kpis import KpiSet, shipped_kpis
from domain.monitoring.failures import PerformanceRecord
from domain.monitoring.views import performance_record_state
from domain.kernel.metadata import Actor
from domain.monitoring.performance_process import PerformanceFailures
from domain.providers.commands import AddLocationContact
from domain.monitoring.templates import shipped_template
from tests.unit.test_cqc_records import (
    AGENCY,
    CARE_HOME,
    shipped_records,
    with_current_rating,
)

UTC = timezone.utc
SYNC = Actor(id="cqc-sync", org="CEC", role="system")
SCHEDULER = Actor(id="scheduler", org="CEC", role="system")
COMMISSIONER = Actor(id="u-cec", org="CEC", role="commissioner")
MANAGER = Actor(id="u-cec-km", org="CEC", role="contract_manager")
CONTRACT = "CEC-AWC-2026/ALL/1-102642955"
TEMPLATE = "cheshire-east-4-weekly"
MARCH = datetime(2026, 3, 2, 6, tzinfo=UTC)


def ok(ledger: Ledger, command, actor: Actor, at: datetime):
    result = ledger.handle(command, actor, at=at)
    assert result.ok, result.error
    return result


def set_up(ledger: Ledger) -> None:
    assert [o.outcome for o in import_records(ledger, list(shipped_records().values()), SYNC, MARCH)] == ["recorded", "recorded"]
    at = datetime(2026, 3, 3, 9, tzinfo=UTC)
    ok(ledger, k.EstablishFramework(
        framework="CEC-AWC-2026", title="Cheshire East accommodation with care", kind="care_homes",
        lots=[k.FrameworkLot(id="ALL", name="Cheshire East")], commissioners=[k.Commissioner(org="CEC", kind="council")],
        starts_on=date(2026, 4, 1), ends_on=date(2030, 3, 31), regime="pcr2015", escalation_ladder="cheshire_east",
        monitoring={"returns": [TEMPLATE], "kpis": ["cheshire-east-accommodation-with-care"]},
    ), COMMISSIONER, at)
    ok(ledger, k.AwardContract(
        contract=CONTRACT, framework="CEC-AWC-2026", competition="CEC-AWC-2026", lot="ALL", provider="1-102642955",
        value=0, starts_on=date(2026, 4, 1), ends_on=date(2030, 3, 31),
    ), MANAGER, at)
    ok(ledger, k.AddHome(contract=CONTRACT, location=CARE_HOME, effective_from=date(2026, 4, 1)), MANAGER, at)
    ok(ledger, PublishTemplate(template=shipped_template(TEMPLATE)), COMMISSIONER, at)


def missed(ledger: Ledger, period: str, location: str = CARE_HOME) -> None:
    ok(ledger, RecordReturnMissed(location=location, template=TEMPLATE, period=period), SCHEDULER, datetime(2026, 10, 1, 6, tzinfo=UTC))


def rated_inadequate(ledger: Ledger, location: str = CARE_HOME) -> None:
    record = with_current_rating(shipped_records()[location], "Inadequate", "2026-08-14")
    (outcome,) = import_records(ledger, [record], SYNC, datetime(2026, 8, 21, 6, tzinfo=UTC))
    assert outcome.events == ["Location.RatedInadequate"]


def record(ledger: Ledger) -> dict:
    return performance_record_state(ledger.aggregate(PerformanceRecord, CONTRACT))


def test_failures_are_recorded_on_the_contract_as_they_happen_and_once(database_url):
    ledger = ledger_at(database_url)
    process = ProcessFollower(ledger, PerformanceFailures)
    ledger.after_save.append(process)
    try:
        set_up(ledger)
        missed(ledger, "2026-04-06")
        missed(ledger, "2026-05-04")
        missed(ledger, "2026-06-29")  # not consecutive with the two before
        assert not ledger.exists(PerformanceRecord, CONTRACT)
        missed(ledger, "2026-06-01")  # now 04-06, 05-04 and 06-01; and 05-04, 06-01, 06-29 overlaps it
        [(cause, failure)] = record(ledger)["service_failures"].items()
        assert cause == f"returns_missed:{CARE_HOME}/{TEMPLATE}/2026-04-06..2026-06-01"
        assert failure["periods"] == ["2026-04-06", "2026-05-04", "2026-06-01"] and failure["location"] == CARE_HOME

        rated_inadequate(ledger)
        rated_inadequate(ledger, AGENCY)  # on no contract: nothing to record
        state = record(ledger)
        assert list(state["critical_failures"]) == [f"cqc_inadequate:{CARE_HOME}:2026-08-14"]
        failure = state["critical_failures"][f"cqc_inadequate:{CARE_HOME}:2026-08-14"]
        assert failure["kind"] == "cqc_inadequate" and failure["occurred_on"] == "2026-08-14" and "Inadequate" in failure["description"]
        events = list(ledger.events.get(PerformanceRecord.id_for(CONTRACT)))
        assert [type(e).__name__ for e in events] == ["Opened", "ServiceFailureRecorded", "CriticalFailureRecorded"]
        assert events[-1].meta["actor"]["id"] == "process:performance_failures"
        assert events[-1].meta["causation_id"].startswith("notification:")

        # Re-running from the start records nothing twice.
        position = ledger.max_position()
        fresh = ProcessFollower(ledger, PerformanceFailures)
        assert fresh.position() > 0
        fresh._record_position(0)
        assert fresh.run() == 0
        assert ledger.max_position() == position
    finally:
        ledger.close()


def test_a_process_started_late_catches_up_from_the_log_and_a_later_home_is_not_blamed(ledger):
    set_up(ledger)
    for period in ("2026-04-06", "2026-05-04", "2026-06-01", "2026-06-29", "2026-07-27"):
        missed(ledger, period)
    rated_inadequate(ledger, AGENCY)
    # The agency joins the contract after its rating fell: not a failure of this contract.
    ok(ledger, k.AddHome(contract=CONTRACT, location=AGENCY, effective_from=date(2026, 9, 1)), MANAGER, datetime(2026, 8, 22, tzinfo=UTC))
    process = ProcessFollower(ledger, PerformanceFailures)
    assert process.run() == 1  # five consecutive misses: one failure; the next needs three more not yet counted
    state = record(ledger)
    assert state["critical_failures"] == {}
    assert [f["periods"] for f in state["service_failures"].values()] == [["2026-04-06", "2026-05-04", "2026-06-01"]]
    assert process.run() == 0
    missed(ledger, "2026-08-24")
    assert process.run() == 1
    assert [f["periods"][0] for f in record(ledger)["service_failures"].values()] == ["2026-04-06", "2026-06-29"]


def test_kpi_sets_are_published_as_versions_and_a_contract_manager_may_record_a_failure(ledger):
    set_up(ledger)
    at = datetime(2026, 3, 4, tzinfo=UTC)
    first = ok(ledger, PublishKpis(kpis=shipped_kpis("cheshire-east-accommodation-with-care", 1)), COMMISSIONER, at)
    assert first.value == {"kpis": "cheshire-east-accommodation-with-care", "version": 1, "recorded": True}
    again = ok(ledger, PublishKpis(kpis=shipped_kpis("cheshire-east-accommodation-with-care", 1)), COMMISSIONER, at)
    assert again.value["recorded"] is False and again.events == []
    assert ledger.aggregate(KpiSet, "cheshire-east-accommodation-with-care").latest == 1
    second = ok(ledger, PublishKpis(kpis=shipped_kpis("cheshire-east-accommodation-with-care")), COMMISSIONER, at)
    assert second.value == {"kpis": "cheshire-east-accommodation-with-care", "version": 2, "recorded": True}
    kpis = ledger.aggregate(KpiSet, "cheshire-east-accommodation-with-care")
    assert [k["id"] for k in kpis.definition_of(2)["indicators"]][-3:] == ["safe", "caring", "well_led"]
    assert len(kpis.definition_of(1)["indicators"]) == 5
    bad = ledger.handle(PublishKpis(kpis={**shipped_kpis("london-aqp-care-homes"), "version": 0}), COMMISSIONER, at=at)
    assert not bad.ok and [f.field for f in bad.error.fields] == ["version"]

    failure = RecordCriticalFailure(
        contract=CONTRACT, cause="inaccurate_data:2026-27", kind="inaccurate_data",
        description="Persistently inaccurate data in the annual monitoring return.", occurred_on=date(2026, 5, 1),
    )
    assert ok(ledger, failure, MANAGER, at).value["recorded"] is True
    assert ok(ledger, failure, MANAGER, at).value["recorded"] is False
    refused = ledger.handle(failure, Actor(id="p", org="1-102642955", role="provider"), at=at)
    assert not refused.ok
    elsewhere = RecordCriticalFailure(contract="NO-SUCH", cause="x", kind="other", description="d", occurred_on=date(2026, 5, 1))
    unknown = ledger.handle(elsewhere, MANAGER, at=at)
    assert not unknown.ok and unknown.error.code == "contract_not_found"


def test_an_event_of_its_topics_stored_by_another_process_is_processed_at_this_ones_next_command(database_url):
    """The follower skips reading the log after a command with none of its topics only when that
    command's events follow straight on what it has seen: another process's rating in between
    is found at this process's next command, however unrelated."""
    ledger = ledger_at(database_url)
    process = ProcessFollower(ledger, PerformanceFailures)
    ledger.after_save.append(process)
    other = ledger_at(database_url)  # follows nothing, as `aqp cqc sync` in a cron job might not
    try:
        set_up(ledger)
        missed(ledger, "2026-04-06")  # of its topics: read
        missed(ledger, "2026-05-04")
        rated_inadequate(other)
        assert not ledger.exists(PerformanceRecord, CONTRACT)
        added = AddLocationContact(location=AGENCY, contact="c-1", role="manager", name="Ada Obi", email="ada@example.org")
        ok(ledger, added, Actor(id="dpo", org="CSU", role="admin"), datetime(2026, 9, 1, tzinfo=UTC))
        assert list(record(ledger)["critical_failures"]) == [f"cqc_inadequate:{CARE_HOME}:2026-08-14"]
    finally:
        other.close()
        ledger.close()
