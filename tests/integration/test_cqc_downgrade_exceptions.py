"""CQC downgrades in the exception reports (issue 14), on each store, from real CQC imports.

Two homes: Fern House is imported rated Good, CQC's sync then shows Requires improvement (a
downgrade), a re-inspection at the same level (nothing), then Good again (the downgrade
clears). Gorse Lodge is imported unrated, rated Requires improvement (a first rating: no
downgrade), then Inadequate (a downgrade, recorded as `RatedInadequate`). The read model caught
up after every import equals a rebuild from zero.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from eventsourcing.utils import get_topic

from domain.application import Ledger
from domain.kernel.metadata import Actor
from domain.providers.commands import ImportCqcLocation
from domain.providers.location import Location
from projections import follow, runner
from projections.catalogue import READ_MODELS
from projections.exceptions import CQC_DOWNGRADE
from tests.integration.machinery import live_contents

UTC = timezone.utc
SYNC = Actor(id="cqc-sync", org="NEL-CSU", role="system")
FERN, GORSE = "1-3100000001", "1-3100000002"
NAMES = {FERN: "Fern House", GORSE: "Gorse Lodge"}
QUESTIONS = ("Safe", "Effective", "Caring", "Responsive", "Well-led")


def rating(overall: str, day: str) -> dict[str, Any]:
    return {"rating": overall, "reportDate": day, "keyQuestionRatings": [{"name": q, "rating": overall, "reportDate": day} for q in QUESTIONS]}


def record(location: str, current: tuple[str, str] | None = None, *history: tuple[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {
        "locationId": location, "providerId": "1-5100000001", "name": NAMES[location], "registrationStatus": "Registered",
        "numberOfBeds": 40, "onspdIcbCode": "QMF", "onspdIcbName": "NHS North East London Integrated Care Board",
        "localAuthority": "Hackney", "region": "London",
    }
    if current is not None:
        found["currentRatings"] = {"overall": rating(*current), "reportDate": current[1]}
    if history:
        found["historicRatings"] = [{"reportDate": day, "overall": rating(overall, day)} for overall, day in history]
    return found


GOOD_2024 = ("Good", "2024-01-10")
RI_2025 = ("Requires improvement", "2025-03-12")
RI_2025_AGAIN = ("Requires improvement", "2025-09-01")
GOOD_2026 = ("Good", "2026-02-03")
GORSE_RI = ("Requires improvement", "2025-04-02")
GORSE_INADEQUATE = ("Inadequate", "2025-11-20")

#: (when, the CQC record imported)
IMPORTS = [
    (datetime(2025, 1, 6, 6, tzinfo=UTC), record(FERN, GOOD_2024)),
    (datetime(2025, 1, 6, 6, 5, tzinfo=UTC), record(GORSE)),
    (datetime(2025, 3, 30, 6, tzinfo=UTC), record(FERN, RI_2025, GOOD_2024)),
    (datetime(2025, 4, 20, 6, tzinfo=UTC), record(GORSE, GORSE_RI)),
    (datetime(2025, 9, 20, 6, tzinfo=UTC), record(FERN, RI_2025_AGAIN, RI_2025, GOOD_2024)),
    (datetime(2025, 12, 8, 6, tzinfo=UTC), record(GORSE, GORSE_INADEQUATE, GORSE_RI)),
    (datetime(2026, 2, 20, 6, tzinfo=UTC), record(FERN, GOOD_2026, RI_2025_AGAIN, RI_2025, GOOD_2024)),
]


def downgrades(ledger: Ledger) -> list[dict[str, Any]]:
    rows = follow.live_view(ledger, READ_MODELS["exceptions"]).select("exceptions", where={"kind": CQC_DOWNGRADE})
    return sorted(rows, key=lambda r: (r["location"], r["raised_at"]))


def test_a_downgrade_raises_one_exception_the_same_level_none_and_an_upgrade_clears_it_and_a_rebuild_agrees(ledger):
    seen: list[list[tuple[str, str, str]]] = []
    for when, raw in IMPORTS:
        result = ledger.handle(ImportCqcLocation(record=raw), SYNC, at=when)
        assert result.ok, result.error
        runner.catch_up_all(ledger, page_size=3)
        seen.append([(r["location"], r["period"], r["status"]) for r in downgrades(ledger)])

    assert seen[0] == seen[1] == [], "a home's first rating, or none, is no downgrade"
    assert seen[2] == [(FERN, "2025-03", "open")], "Good to Requires improvement"
    assert seen[3] == seen[2], "Gorse Lodge's first rating is no downgrade"
    assert seen[4] == seen[3], "a re-inspection at the same level raises nothing"
    assert seen[5] == [(FERN, "2025-03", "open"), (GORSE, "2025-11", "open")]
    assert seen[6] == [(FERN, "2025-03", "cleared"), (GORSE, "2025-11", "open")], "Good again clears Fern's"

    fern, gorse = downgrades(ledger)
    assert fern["detail"] == (
        "CQC's overall rating fell from Good to Requires improvement (report of 12 March 2025). "
        "Cleared: CQC rated it Good (report of 3 February 2026)."
    )
    assert (fern["raised_at"], fern["cleared_at"]) == ("2025-03-30T06:00:00+00:00", "2026-02-20T06:00:00+00:00")
    assert (fern["home_name"], fern["icb"], fern["metric"], fern["value"]) == (
        "Fern House", "NHS North East London Integrated Care Board", None, None)
    assert gorse["detail"] == "CQC's overall rating fell from Requires improvement to Inadequate (report of 20 November 2025)."
    assert (gorse["status"], gorse["cleared_at"]) == ("open", None)
    # The fall to Inadequate is the domain's own event, a kind of rating recorded.
    inadequate = ledger.notification_log.select(start=0, limit=10, topics=[get_topic(Location.RatedInadequate)])
    assert len(inadequate) == 1

    incremental = live_contents(ledger, READ_MODELS["exceptions"])
    positions = runner.rebuild(ledger, ["exceptions"], page_size=2)
    assert positions == {"exceptions": ledger.max_position()}
    assert live_contents(ledger, READ_MODELS["exceptions"]) == incremental


def test_an_upgrade_clears_every_open_downgrade_of_the_home_and_a_later_fall_raises_a_new_one(ledger):
    steps = [
        record(FERN, ("Outstanding", "2023-05-01")),
        record(FERN, ("Good", "2024-06-01"), ("Outstanding", "2023-05-01")),
        record(FERN, ("Requires improvement", "2025-02-01"), ("Good", "2024-06-01"), ("Outstanding", "2023-05-01")),
        record(FERN, ("Good", "2025-08-01"), ("Requires improvement", "2025-02-01"), ("Good", "2024-06-01"), ("Outstanding", "2023-05-01")),
        record(FERN, ("Inadequate", "2026-01-15"), ("Good", "2025-08-01"), ("Requires improvement", "2025-02-01"), ("Good", "2024-06-01"),
               ("Outstanding", "2023-05-01")),
    ]
    for i, raw in enumerate(steps):
        result = ledger.handle(ImportCqcLocation(record=raw), SYNC, at=datetime.combine(date(2025, 1, 1 + i), datetime.min.time(), UTC))
        assert result.ok, result.error
    runner.catch_up_all(ledger)
    assert [(r["period"], r["status"]) for r in downgrades(ledger)] == [
        ("2024-06", "cleared"), ("2025-02", "cleared"), ("2026-01", "open"),
    ]
