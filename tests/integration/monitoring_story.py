"""A spring and summer of monitoring, through real commands, for the monitoring read models' tests.

Three London nursing homes on the AQP framework (its monitoring requires the monthly quality
return) from 1 April 2026:
- Aster House (60 beds, NCL, Camden) returns April to September on time; its falls run 10,
  12, 14, then 18 in July (a sharp rise), 12, then 6 in September (a sharp fall). In August
  it amends July's falls to 17 (no longer a sharp rise). CQC's sync then shows a new
  registered manager.
- Birch Lodge (30 beds, NCL, Barnet) returns April late; May and June are recorded missed;
  July and August are never returned nor recorded (overdue).
- Cedar Court (90 beds, NEL, Hackney) returns April and May on time and leaves the contract
  on 15 June: June is owed (and never returned), July is not.
Four Nottingham homes have annual quality visits in 2025-26 and 2026-27 with Red, Amber and
Green outcomes, and one home is visited twice in a year.

`build(ledger, until=...)` applies the story up to (not including) a moment, so a test can
interleave catch-ups with the rest of it; `MOMENTS` lists when each step happens.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any

from domain.contracts import commands as k
from domain.application import Ledger
from domain.kernel.metadata import Actor
from domain.providers.commands import ImportCqcLocation, SetCommissioningArea, SetLocationCategory
from domain.monitoring.quality_visits import NOTTINGHAM, parse_visit_framework, shipped_visit_framework
from domain.monitoring.commands import (
    AmendReturn,
    ConcludeQualityVisit,
    IndicatorScore,
    PublishTemplate,
    RecordReturnMissed,
    ScheduleQualityVisit,
    ScoreQualityVisit,
    SubmitReturn,
)
from domain.monitoring.templates import shipped_template
from scenarios.london_returns import CARE_HOME_RETURN

UTC = timezone.utc
TEMPLATE = "london-aqp-care-home-monthly"
FRAMEWORK = "AQP-NH-LONDON-2026"
ASTER, BIRCH, CEDAR = "1-3000000001", "1-3000000002", "1-3000000003"
OAK, ELM, ASH, YEW = "1-4000000001", "1-4000000002", "1-4000000003", "1-4000000004"
NCL, NEL = "NHS North Central London Integrated Care Board", "NHS North East London Integrated Care Board"

SYNC = Actor(id="cqc-sync", org="NEL-CSU", role="system")
SCHEDULER = Actor(id="aqp-scheduler", org="NEL-CSU", role="system")
COMMISSIONER = Actor(id="u-ncl-lead", org="ICB-NCL", role="commissioner")
MANAGER = Actor(id="u-ncl-km", org="ICB-NCL", role="contract_manager")
OFFICER = Actor(id="u-ncc-qmo", org="NCC", role="contract_manager")
NCC_COMMISSIONER = Actor(id="u-ncc-lead", org="NCC", role="commissioner")
NEL_COMMISSIONER = Actor(id="u-nel-lead", org="ICB-NEL", role="commissioner")

HOMES = {
    ASTER: ("Aster House", "1-5000000001", 60, NCL, "Camden", "Camden"),
    BIRCH: ("Birch Lodge", "1-5000000002", 30, NCL, "Barnet", "Barnet"),
    CEDAR: ("Cedar Court", "1-5000000003", 90, NEL, "Hackney", "Hackney"),
}
NOTTINGHAM_HOMES = {
    OAK: ("Oak View", "older_people"),
    ELM: ("Elm House", "older_people"),
    ASH: ("Ash Grange", "learning_disability"),
    YEW: ("Yew Tree", "mental_health"),
}

#: every home's return, month after month, but for the figures a story changes
BASE = CARE_HOME_RETURN
ASTER_FALLS = {"2026-04": 10, "2026-05": 12, "2026-06": 14, "2026-07": 18, "2026-08": 12, "2026-09": 6}
#: the 10th working day after each month (what the domain computes; asserted by the tests)
DUE = {"2026-04": "2026-05-15", "2026-05": "2026-06-12", "2026-06": "2026-07-14", "2026-07": "2026-08-14", "2026-08": "2026-09-14"}


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def ok(ledger: Ledger, command: Any, actor: Actor, when: datetime) -> Any:
    result = ledger.handle(command, actor, at=when)
    assert result.ok, result.error
    return result


def cqc_record(location: str, manager: str = "Ada Lovelace") -> dict[str, Any]:
    name, provider, beds, icb, authority, _ = HOMES[location]
    return {
        "locationId": location, "providerId": provider, "name": name, "registrationStatus": "Registered",
        "numberOfBeds": beds, "onspdIcbCode": "QMJ" if icb == NCL else "QMF", "onspdIcbName": icb,
        "localAuthority": authority, "region": "London",
        "regulatedActivities": [{"name": "Accommodation for persons who require nursing or personal care", "contacts": [
            {"personGivenName": manager.split()[0], "personFamilyName": manager.split()[1], "personRoles": ["Registered Manager"]},
        ]}],
    }


def home(location: str) -> Actor:
    return Actor(id=f"u-{location}", org=location, role="provider")


#: the six-monthly questions, asked in June and December
ANSWERS = {
    "q_end_of_life": "Advance care plans are reviewed with families at every six-monthly review.",
    "q_hospital_avoidance": "A GP-led weekly ward round and falls sensors in every bedroom.",
}


def answers(period: str) -> dict[str, str]:
    return ANSWERS if period.endswith(("-06", "-12")) else {}


def submit(location: str, period: str, values: dict[str, Any]) -> Callable[[Ledger, datetime], Any]:
    return lambda ledger, when: ok(
        ledger, SubmitReturn(location=location, template=TEMPLATE, period=period, values=values, answers=answers(period)), home(location), when
    )


def aster(period: str) -> dict[str, Any]:
    return {**BASE, "residents": 58, "falls": ASTER_FALLS[period], "residents_who_fell": 5}


def visit_scores(rag: str) -> list[IndicatorScore]:
    """Scores giving the outcome: every indicator 3 (Good) is Green, 2 is Red; Amber has eight at 2."""
    framework = parse_visit_framework(shipped_visit_framework(NOTTINGHAM))
    indicators = [i["id"] for g in framework["groups"] for i in g["indicators"]]
    low = {"green": 0, "amber": 8, "red": len(indicators)}[rag]
    return [
        IndicatorScore(indicator=i, score=2 if n < low else 3, evidence="Seen on the visit: records and observation.")
        for n, i in enumerate(indicators)
    ]


def visit(location: str, day: date, rag: str) -> list[tuple[datetime, Callable[[Ledger, datetime], Any]]]:
    return [
        (at(day, 8), lambda ledger, when: ok(ledger, ScheduleQualityVisit(location=location, visit_date=day, visitors=["NCC quality monitoring officer"]), OFFICER, when)),
        (at(day, 15), lambda ledger, when: ok(ledger, ScoreQualityVisit(location=location, visit_date=day, scores=visit_scores(rag)), OFFICER, when)),
        (at(day, 16), lambda ledger, when: ok(ledger, ConcludeQualityVisit(location=location, visit_date=day), OFFICER, when)),
    ]


def steps() -> list[tuple[datetime, Callable[[Ledger, datetime], Any]]]:
    start = at(date(2026, 3, 2), 6)
    found: list[tuple[datetime, Callable[[Ledger, datetime], Any]]] = []
    for location in HOMES:
        found.append((start, lambda ledger, when, loc=location: ok(ledger, ImportCqcLocation(record=cqc_record(loc)), SYNC, when)))
        # each home's area by its own ICB, once the framework says whose the boroughs are
        found.append((at(date(2026, 3, 3), 12), lambda ledger, when, loc=location: ok(
            ledger, SetCommissioningArea(location=loc, area=HOMES[loc][5]), COMMISSIONER if HOMES[loc][3] == NCL else NEL_COMMISSIONER, when)))
    # Nottingham City Council's own framework names the city's homes as its to commission.
    found.append((at(date(2025, 4, 1), 5), lambda ledger, when: ok(ledger, k.EstablishFramework(
        framework="NCC-CARE-HOMES", title="Nottingham City care homes", kind="care_homes", lots=[k.FrameworkLot(id="CITY", name="Nottingham City")],
        commissioners=[k.Commissioner(org="NCC", kind="council", areas=["Nottingham"])], starts_on=date(2025, 4, 1), ends_on=date(2029, 3, 31),
        regime="pcr2015", escalation_ladder="nottingham",
    ), NCC_COMMISSIONER, when)))
    for location, (name, category) in NOTTINGHAM_HOMES.items():
        record = {"locationId": location, "providerId": "1-6000000001", "name": name, "registrationStatus": "Registered", "localAuthority": "Nottingham"}
        found.append((at(date(2025, 4, 1), 6), lambda ledger, when, r=record: ok(ledger, ImportCqcLocation(record=r), SYNC, when)))
        found.append((at(date(2025, 4, 1), 9), lambda ledger, when, loc=location, c=category: ok(
            ledger, SetLocationCategory(location=loc, category=c), OFFICER, when)))
    found.append((at(date(2026, 3, 3)), lambda ledger, when: ok(ledger, k.EstablishFramework(
        framework=FRAMEWORK, title="London AQP nursing homes", kind="care_homes",
        lots=[k.FrameworkLot(id="LONDON", name="London")],
        commissioners=[k.Commissioner(org="ICB-NCL", kind="icb", directorates=["Camden", "Barnet"]), k.Commissioner(org="ICB-NEL", kind="icb", directorates=["Hackney"])],
        starts_on=date(2026, 4, 1), ends_on=date(2030, 3, 31), regime="pcr2015", escalation_ladder="nottingham",
        monitoring={"returns": [TEMPLATE], "kpis": ["london-aqp-care-homes"]},
    ), COMMISSIONER, when)))
    found.append((at(date(2026, 3, 3), 11), lambda ledger, when: ok(ledger, PublishTemplate(template=shipped_template(TEMPLATE)), COMMISSIONER, when)))
    for location, (name, provider, *_rest) in HOMES.items():
        contract = f"{FRAMEWORK}/{provider}"
        # Awarded on an accreditation made outside the ledger: a contract off a competition it holds
        # (the example's AQP-CH-2026, where the worlds hold it too) follows that competition's own award.
        found.append((at(date(2026, 3, 20)), lambda ledger, when, c=contract, p=provider: ok(ledger, k.AwardContract(
            contract=c, framework=FRAMEWORK, competition="AQP-NH-LONDON-ACCREDITATION", lot="LONDON", provider=p, value=10_000_000,
            starts_on=date(2026, 4, 1), ends_on=date(2030, 3, 31),
        ), MANAGER, when)))
        found.append((at(date(2026, 3, 20), 11), lambda ledger, when, c=contract, loc=location: ok(
            ledger, k.AddHome(contract=c, location=loc, effective_from=date(2026, 4, 1)), MANAGER, when)))
    found.append((at(date(2026, 6, 10)), lambda ledger, when: ok(ledger, k.RemoveHome(
        contract=f"{FRAMEWORK}/{HOMES[CEDAR][1]}", location=CEDAR, effective_from=date(2026, 6, 15), reason="The provider sold the home.",
    ), MANAGER, when)))
    # Aster: every month on time, a week after the month ends.
    for period, day in (("2026-04", 8), ("2026-05", 5), ("2026-06", 7), ("2026-07", 7), ("2026-08", 7), ("2026-09", 7)):
        month = int(period[5:]) + 1
        found.append((at(date(2026, month, day)), submit(ASTER, period, aster(period))))
    found.append((at(date(2026, 8, 20)), lambda ledger, when: ok(ledger, AmendReturn(
        location=ASTER, template=TEMPLATE, period="2026-07", values={**aster("2026-07"), "falls": 17}, answers={},
        reason="One fall was counted twice; corrected from the incident log.",
    ), home(ASTER), when)))
    found.append((at(date(2026, 10, 8), 6), lambda ledger, when: ok(ledger, ImportCqcLocation(record=cqc_record(ASTER, "Grace Okafor")), SYNC, when)))
    # Birch: April late, May and June recorded missed, nothing after.
    found.append((at(date(2026, 5, 20)), submit(BIRCH, "2026-04", {**BASE, "residents": 29, "falls": 4, "residents_who_fell": 3})))
    for period, day in (("2026-05", date(2026, 6, 15)), ("2026-06", date(2026, 7, 15))):
        found.append((at(day, 7), lambda ledger, when, p=period: ok(ledger, RecordReturnMissed(location=BIRCH, template=TEMPLATE, period=p), SCHEDULER, when)))
    # Cedar: April and May on time, then it leaves.
    found.append((at(date(2026, 5, 11)), submit(CEDAR, "2026-04", {**BASE, "residents": 85, "falls": 20})))
    found.append((at(date(2026, 6, 8)), submit(CEDAR, "2026-05", {**BASE, "residents": 86, "falls": 22})))
    # Nottingham's annual visits: 2025-26 and 2026-27; Oak twice in 2026-27 (the later one counts).
    for location, day, rag in (
        (OAK, date(2025, 6, 10), "red"), (ELM, date(2025, 7, 1), "amber"), (ASH, date(2025, 9, 2), "green"),
        (OAK, date(2026, 5, 12), "amber"), (ELM, date(2026, 6, 2), "green"), (ASH, date(2026, 6, 9), "red"),
        (YEW, date(2026, 6, 16), "green"), (OAK, date(2026, 9, 15), "green"),
    ):
        found += visit(location, day, rag)
    return sorted(found, key=lambda s: s[0])


MOMENTS = [when for when, _ in steps()]


def build(ledger: Ledger, *, since: datetime | None = None, until: datetime | None = None) -> None:
    """Apply the story's steps with since <= time < until (all of it by default)."""
    for when, step in steps():
        if (since is None or when >= since) and (until is None or when < until):
            step(ledger, when)
