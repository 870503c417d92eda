"""The placement tables in the ledger's own database, from real commands (each test runs on SQLite and PostgreSQL).

The scenario is scenarios/monthly-returns.jsonl (Aster House's March and April placement
returns under the London framework, with its two price schedules), with Aster put on the
framework by a contract before its returns, and Birch Lodge (not on the framework) returning
May: two placements at the framework's rates and one at its own.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.utils import get_topic

from audit.replay import replay_projection
from domain.application import Ledger
from domain.monitoring.placement_returns import PlacementReturn
from domain.monitoring.periods import month_bounds
from domain.monitoring.views import placement_return_state
from projections import follow, runner
from projections.placements import NON_FRAMEWORK, RATE_EXCEPTIONS, USAGE, Placements, catch_up, open_view
from tests.integration.machinery import apply, contents

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
UTC = timezone.utc
FRAMEWORK, ASTER, BIRCH = "AQP-CH-LONDON-2026", "1-1000000001", "1-1000000002"
LEAD = {"id": "u-procurement", "org": "NEL-CSU", "role": "procurement_lead"}
MANAGER = {"id": "u-ncl-contract-manager", "org": "ICB-NCL", "role": "contract_manager"}
BIRCH_HOME = {"id": "u-birch-manager", "org": BIRCH, "role": "provider"}


def line(at: str, actor: dict[str, str], command: dict[str, Any]) -> str:
    return json.dumps({"actor": actor, "at": at, "command": command})


def scenario() -> list[list[str]]:
    """The commands in three parts (so catch-up can be interleaved with them)."""
    lines = (SCENARIOS / "monthly-returns.jsonl").read_text().splitlines()
    prices = max(i for i, text in enumerate(lines) if '"framework.set_prices"' in text)
    contract = [
        line("2026-03-02T09:15:00Z", LEAD, {
            "type": "contract.award", "contract": f"{FRAMEWORK}/NCL/aster", "framework": FRAMEWORK, "competition": "AQP-CH-2025",
            "lot": "NCL", "provider": "1-2000000001", "value": 90_000_000, "starts_on": "2025-04-01", "ends_on": "2029-03-31",
        }),
        line("2026-03-02T09:16:00Z", MANAGER, {"type": "contract.add_home", "contract": f"{FRAMEWORK}/NCL/aster", "location": ASTER, "effective_from": "2025-04-01"}),
    ]
    birch_may = [
        line("2026-06-03T11:00:00Z", BIRCH_HOME, {
            "type": "placement_return.submit", "location": BIRCH, "framework": FRAMEWORK, "period": "2026-05", "placements": [
                {"reference": "BL-101", "icb": "ICB-NCL", "bed_type": "nursing", "weekly_rate": 99_750, "start_date": "2026-02-16"},
                {"reference": "BL-102", "icb": "ICB-NEL", "bed_type": "residential_dementia", "weekly_rate": 89_250, "start_date": "2026-05-11"},
                {"reference": "BL-103", "icb": "ICB-NCL", "bed_type": "nursing", "weekly_rate": 112_000, "start_date": "2026-05-18",
                 "rate_explanation": "Spot purchase at the home's own rate"},
            ],
        }),
    ]
    return [lines[: prices + 1] + contract, lines[prices + 1 :], birch_may]


def placement_returns(ledger: Ledger) -> list[dict[str, Any]]:
    notifications = ledger.notification_log.select(start=0, limit=1000, topics=[get_topic(PlacementReturn.Submitted)])
    references = [ledger.mapper.to_domain_event(n).reference for n in notifications]
    return [placement_return_state(ledger.aggregate(PlacementReturn, r)) for r in references]


@pytest.fixture
def placements_ledger(ledger: Ledger) -> Ledger:
    for part in scenario():
        apply(ledger, part)
    return ledger


def test_usage_and_rates_match_the_returns_the_domain_accepted(placements_ledger):
    ledger = placements_ledger
    assert catch_up(ledger, page_size=7) > 0
    view = open_view(ledger)
    returns = placement_returns(ledger)
    assert sorted((r["location"], r["period"]) for r in returns) == [(ASTER, "2026-03"), (ASTER, "2026-04"), (BIRCH, "2026-05")]

    # Every placement the domain flagged at a framework home is a rate exception, with the rate it was checked against.
    flagged = {
        (r["location"], r["period"], p["reference"], p["framework_rate"], p["weekly_rate"])
        for r in returns for p in r["placements"] if p.get("rate_flagged")
    }
    exceptions = view.rows(RATE_EXCEPTIONS.name)
    assert {(e["location"], e["period"], e["placement"], e["framework_rate"], e["paid_rate"]) for e in exceptions} == flagged
    by_home = {(e["location"], e["placement"]): e for e in exceptions}
    assert (by_home[(ASTER, "AST-0019")]["difference"], by_home[(ASTER, "AST-0019")]["home_on_framework"]) == (25_250, "yes")
    assert by_home[(ASTER, "AST-0019")]["home"] == "Aster House Nursing Home"
    assert by_home[(BIRCH, "BL-103")]["home_on_framework"] == "no"

    # Usage counts, by commissioner and month, what each return lists.
    usage = {(u["commissioner"], u["period"]): u for u in view.rows(USAGE.name)}
    for r in returns:
        first, last = (d.isoformat() for d in month_bounds(r["period"]))
        for icb in {p["icb"] for p in r["placements"]}:
            mine = [p for p in r["placements"] if p["icb"] == icb]
            row = usage[(icb, r["period"])]
            assert row["started"] == sum(first <= p["start_date"] <= last for p in mine)
            assert row["ended"] == sum(bool(p.get("end_date")) and first <= p["end_date"] <= last for p in mine)
            assert row["open_at_month_end"] == sum(p.get("end_date") is None for p in mine)
            assert row["weekly_spend"] == sum(p["weekly_rate"] for p in mine if p.get("end_date") is None)
    april = usage[("ICB-NCL", "2026-04")]
    assert (april["homes"], april["active"], april["rate_exceptions"], april["at_non_framework_homes"]) == (1, 4, 1, 0)
    assert usage[("ICB-NCL", "2026-05")]["at_non_framework_homes"] == 2

    assert view.rows(NON_FRAMEWORK.name) == [{
        "framework": FRAMEWORK, "location": BIRCH, "home": "Birch Lodge", "placements": 2,
        "commissioners": "ICB-NCL; ICB-NEL", "first_period": "2026-05", "last_period": "2026-05",
    }]
    assert [u["period"] for u in view.select(USAGE.name, where={"commissioner": "ICB-NEL"})] == ["2026-05"]


def test_catching_up_in_small_pages_between_commands_equals_a_rebuild(ledger):
    view = open_view(ledger)
    for part in scenario():
        apply(ledger, part)
        catch_up(ledger, view, page_size=2)
    incremental = contents(view, Placements)
    assert incremental[USAGE.name] and incremental["placement_prices"] and incremental["placement_framework_spells"]
    assert runner.rebuild(ledger, "placements") == {"placements": ledger.max_position()}
    assert contents(view, Placements) == incremental
    assert catch_up(ledger, view) == 0


def test_replaying_usage_as_of_a_past_time_shows_the_past(placements_ledger):
    ledger = placements_ledger
    now = datetime(2100, 1, 1, tzinfo=UTC)
    catch_up(ledger)
    assert replay_projection(ledger, "placements", now) == open_view(ledger).rows(USAGE.name)
    in_april = replay_projection(ledger, "placements", datetime(2026, 4, 30, tzinfo=UTC))
    assert [(u["commissioner"], u["period"]) for u in in_april] == [("ICB-NCL", "2026-03")]
    assert replay_projection(ledger, "placements", datetime(2026, 3, 1, tzinfo=UTC)) == []
    with follow.scratch_view(Placements) as past:
        follow.catch_up(ledger, Placements(past), as_of=datetime(2026, 5, 31, tzinfo=UTC))
        assert [e["placement"] for e in past.rows(RATE_EXCEPTIONS.name)] == ["AST-0019"]
        assert past.rows(NON_FRAMEWORK.name) == []
