"""Returns on each store: the monthly-returns scenario, and storage of templates, returns
and placement returns (every failure carried in the dispatcher's result, nothing recorded)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from api.scenario import apply_lines
from domain.application import Ledger
from domain.kernel.metadata import Actor
from domain.monitoring.commands import PublishTemplate, SubmitReturn
from domain.monitoring.placement_returns import PlacementReturn
from domain.monitoring.returns import Return, ReturnTemplate
from domain.monitoring.views import placement_return_state, return_state, return_template_state
from domain.monitoring.templates import shipped_template

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
TEMPLATE = "london-aqp-care-home-monthly"
ASTER, BIRCH = "1-1000000001", "1-1000000002"


def applied(ledger: Ledger) -> list:
    outcomes = list(apply_lines(ledger, (SCENARIOS / "monthly-returns.jsonl").read_text().splitlines()))
    assert [o.line for o in outcomes if not o.met] == []
    return outcomes


def quality(ledger: Ledger, location: str, period: str, version: int = 1) -> dict:
    return return_state(ledger.aggregate(Return, f"{location}/{TEMPLATE}/v{version}/{period}"))


def test_the_monthly_returns_scenario_on_time_late_missing_amended_and_invalid(ledger):
    outcomes = applied(ledger)
    assert [o.expected for o in outcomes if o.expected != "ok"] == [
        "template_version_exists", "period_not_ended", "return_already_submitted", "not_your_location", "reason_required",
        "return_invalid", "deadline_not_passed",
        "placement_return_invalid", "placement_return_invalid", "placement_return_invalid", "placement_return_invalid",
    ]
    aster_april = quality(ledger, ASTER, "2026-04")
    assert aster_april["lateness"] == {"due_on": "2026-05-15", "submitted_on": "2026-05-08", "on_time": True, "days_late": 0}
    assert aster_april["values"]["falls"] == 16 and aster_april["template"]["version"] == 1
    [amendment] = aster_april["amendments"]
    assert amendment["previous"]["values"]["falls"] == 14 and amendment["changed"] == ["falls"]
    assert aster_april["reviews"][0]["outcome"] == "accepted" and aster_april["reviews"][0]["reviewer"] == "ICB-NCL"
    assert quality(ledger, BIRCH, "2026-04")["lateness"] == {
        "due_on": "2026-05-15", "submitted_on": "2026-05-20", "on_time": False, "days_late": 5,
    }
    birch_may = quality(ledger, BIRCH, "2026-05")
    assert birch_may["status"] == "missed" and birch_may["missed_on"] == "2026-06-15" and birch_may["values"] == {}
    assert quality(ledger, ASTER, "2026-05")["status"] == "submitted"

    invalid = next(o for o in outcomes if o.expected == "return_invalid")
    assert {(f.field, f.rule) for f in invalid.result.error.fields} == {
        ("agency_hours_percent", "percent_out_of_range"), ("registered_manager_in_post", "not_yes_no"),
        ("outbreaks_total", "subtotal_mismatch"), ("residents_who_fell", "exceeds_limit"),
    }
    placement_rules = [[f.rule for f in o.result.error.fields] for o in outcomes if o.expected == "placement_return_invalid"]
    assert placement_rules == [["rate_not_framework_rate"], ["date_in_future"], ["placement_disappeared"], ["nhs_number_refused"]]

    template = return_template_state(ledger.aggregate(ReturnTemplate, TEMPLATE))
    assert template["latest"] == 2 and len(template["versions"]["1"]["questions"]) == 2
    assert len(template["versions"]["2"]["questions"]) == 3
    # The new version changed nothing about the returns made against version 1.
    assert quality(ledger, ASTER, "2026-04")["template"]["sha256"] == template["versions"]["1"]["sha256"]

    april = placement_return_state(ledger.aggregate(PlacementReturn, f"{ASTER}/placements/2026-04"))
    assert april["open"] == 3 and april["rates_flagged"] == ["AST-0019"] and april["lateness"]["on_time"]
    assert not ledger.exists(PlacementReturn, f"{ASTER}/placements/2026-05")


def test_the_scenario_applied_twice_changes_nothing_the_second_time(ledger):
    applied(ledger)
    position = ledger.max_position()
    again = list(apply_lines(ledger, (SCENARIOS / "monthly-returns.jsonl").read_text().splitlines()))
    assert ledger.max_position() == position
    assert all(not o.result.ok or not o.result.events for o in again)


def test_an_invalid_return_records_nothing_and_the_result_lists_every_field(ledger):
    commissioner = Actor(id="c", org="ICB-NCL", role="commissioner")
    system = Actor(id="cqc", org="CSU", role="system")
    at = datetime(2026, 5, 4, 9, tzinfo=timezone.utc)
    from domain.providers.commands import ImportCqcLocation

    record = {"locationId": ASTER, "providerId": "1-2000000001", "name": "Aster House", "registrationStatus": "Registered"}
    assert ledger.handle(ImportCqcLocation(record=record), system, at=at).ok
    assert ledger.handle(PublishTemplate(template=shipped_template("cheshire-east-4-weekly")), commissioner, at=at).ok
    position = ledger.max_position()
    home = Actor(id="m", org=ASTER, role="provider")
    bad = SubmitReturn(
        location=ASTER, template="cheshire-east-4-weekly", period="2026-04-06",
        values={"residents_total": 10, "residents_cec_funded": 4, "residents_self_funded": 4, "reviews_completed": 11},
    )
    result = ledger.handle(bad, home, at=at)
    assert not result.ok and result.error.code == "return_invalid" and result.error.kind == "validation"
    fields = {(f.field, f.rule) for f in result.error.fields}
    assert ("residents_total", "subtotal_mismatch") in fields and ("reviews_completed", "exceeds_limit") in fields
    assert ("staff_employed", "required") in fields and len(fields) > 20
    assert ledger.max_position() == position
    assert not ledger.exists(Return, f"{ASTER}/cheshire-east-4-weekly/v1/2026-04-06")
