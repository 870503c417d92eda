"""The read models over HTTP, end to end: a real server, real HTTP, on both stores.

The first five tests are the commissioner's everyday questions of the README ("HTTP API"),
each asked with the same request as its curl example; the others check that the lists read in
SQL answer as filtering the whole table would, and who sees what (a provider its own homes,
concerns only to those who deal with them, an evaluator's view of the trail, the event index).
"""

from __future__ import annotations

import csv
import io
from calendar import monthrange
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from api.http.read_models import STALE_AFTER_DAYS
from projections.cms import CmsList
from audit.replay import replay_projection
from tests.conftest import postgres_schema, require_postgres
from tests.e2e import commissioner_world as w
from tests.e2e.http_server import every, running_server

pytestmark = pytest.mark.storage

TEMPLATE = "london-aqp-care-home-monthly"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def served(request, tmp_path_factory):
    """One server per store over the commissioner's world (built once: the tests only read)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('read-models')}/ledger.db"
        with running_server(url) as server:
            w.build(server)
            yield server
        return
    require_postgres()
    with postgres_schema() as url, running_server(url) as server:
        w.build(server)
        yield server


# ------------------------------------------------------------------ the commissioner's questions (README)


def test_which_aqp_homes_in_my_area_have_nursing_dementia_vacancies_today(served):
    with served.client("commissioner", "ICB-NCL") as icb:
        answer = icb.get("/locations", params={"local_authority": "Camden", "on_framework": "yes", "vacancies": "nursing_dementia",
                                               "stale": "no", "suspended": "no"})
        camden = every(icb, "/locations", local_authority="Camden")
    assert answer.status_code == 200, answer.text
    (primrose,) = answer.json()["items"]
    assert primrose["location"] == w.PRIMROSE and primrose["vacancies_nursing_dementia"] == 2 and primrose["vacancies_nursing"] == 1
    assert primrose["vacancies_day"] == w.TODAY.isoformat() and primrose["vacancy_report_age_days"] == 0
    assert primrose["vacancies_stale"] == "no" and primrose["suspension_in_force"] == "no"
    assert primrose["postcode_district"] == "NW1" and primrose["nursing"] == "yes" and primrose["dementia"] == "yes"
    # Why the others are not in it, as the rows themselves say.
    by_home = {r["location"]: r for r in camden}
    assert by_home[w.ASTER]["vacancies_nursing_dementia"] == 1 and by_home[w.ASTER]["vacancies_stale"] == "yes"
    assert by_home[w.ASTER]["vacancy_report_age_days"] == 10 > STALE_AFTER_DAYS
    assert by_home[w.REGENT]["suspension_in_force"] == "yes" and by_home[w.REGENT]["suspended_from"] == w.TODAY.isoformat()
    assert by_home[w.KENTISH]["on_framework"] == "no" and by_home[w.KENTISH]["vacancies_nursing_dementia"] == 3
    assert w.LUCERNE not in by_home  # Devon


def test_what_is_a_contracts_current_rate_and_escalation_stage(served):
    with served.client("commissioner", "ICB-NCL") as icb:
        contract = icb.get(f"/contracts/{w.ESCALATED}").json()
        framework = icb.get("/frameworks/NCC-RES-2026").json()
        (row,) = icb.get("/contracts", params={"q": "meadowview"}).json()["items"]
    assert contract["escalation"]["stage"] == framework["escalation_ladder"][0] == row["escalation_stage"]
    in_force = max(d for d in framework["price_schedules"] if d <= w.TODAY.isoformat())
    assert contract["rates"] == {
        "framework": "NCC-RES-2026", "on": w.TODAY.isoformat(), "effective_from": in_force, "unit": "pence_per_week",
        "rates": framework["price_schedules"][in_force],
    }


def test_which_homes_missed_last_months_quality_return(served):
    # Asked in July 2026: last month is June.
    with served.client("commissioner", "ICB-NCL") as icb:
        answer = icb.get("/returns/compliance", params={"template": TEMPLATE, "period": "2026-06", "received": "no"})
        june = every(icb, "/returns/compliance", template=TEMPLATE, period="2026-06")
    assert answer.status_code == 200, answer.text
    missed = {r["location"]: r["status"] for r in answer.json()["items"]}
    assert missed == {w.BIRCH: "missed", w.CEDAR: "overdue"}
    assert missed == {r["location"]: r["status"] for r in june if r["status"] in ("missed", "overdue")}
    assert {r["location"]: r["status"] for r in june}[w.ASTER] == "on_time"


def test_how_did_a_homes_pressure_ulcer_rate_change_this_year(served):
    with served.client("commissioner", "ICB-NCL") as icb:
        answer = icb.get("/dashboards/quality", params={"location": w.ASTER, "metric": "pressure_ulcers_total",
                                                        "period_from": "2026-04", "period_to": "2027-03", "sort": "period"})
    assert answer.status_code == 200, answer.text
    series = answer.json()["items"]
    assert [r["period"] for r in series] == ["2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09"]
    for r in series:
        days = monthrange(int(r["period"][:4]), int(r["period"][5:]))[1]
        assert r["bed_days"] == 60 * days
        assert r["rate_per_1000_bed_days"] == round(r["value"] / r["bed_days"] * 1000, 2)


def test_what_the_contract_register_looked_like_on_31_march(served):
    as_of = "2026-03-31T23:59:59Z"
    with served.client("commissioner", "ICB-NCL") as icb:
        then = every(icb, "/contracts", as_of=as_of)
        now = every(icb, "/contracts")
        as_csv = icb.get("/contracts", params={"as_of": as_of}, headers={"Accept": "text/csv"})
    expected = replay_projection(served.ledger, "contracts", datetime(2026, 3, 31, 23, 59, 59, tzinfo=timezone.utc))
    assert then == expected and then != now
    assert all(r["last_event_at"] <= "2026-03-31T23:59:59+00:00" for r in then)
    assert {r["reference"] for r in now} > {r["reference"] for r in then}  # awarded in April and later
    assert len(as_csv.text.splitlines()) == len(then) + 1


def test_as_of_is_refused_with_a_reason_where_only_a_replay_could_answer_and_it_would_cost_too_much(served, monkeypatch):
    monkeypatch.setattr(served.app.state.service, "replay_max_events", 10)  # AQP_API_REPLAY_MAX_EVENTS=10
    cms = served.app.state.service.view(CmsList)
    # As on a store whose CMS list was filled before it kept history (the mark says from where).
    monkeypatch.setattr(cms, "history_exact", lambda: False)
    with served.client("auditor", "NAO") as auditor:
        refused = auditor.get("/locations", params={"as_of": "2026-03-31T23:59:59Z"})
        naive = auditor.get("/contracts", params={"as_of": "2026-03-31T23:59:59"})
        index = auditor.get("/audit/index", params={"as_of": "2026-01-03T00:00:00Z", "limit": 500})
    assert refused.status_code == 422 and refused.json()["code"] == "as_of_too_costly"
    assert "aqp replay cms" in refused.json()["detail"] and "aqp projections rebuild cms" in refused.json()["detail"]
    assert naive.status_code == 422 and naive.json()["fields"][0]["field"] == "query:as_of"
    # The event index needs no replay: its rows carry their time.
    assert index.status_code == 200 and index.json()["total"] >= 1
    assert all(r["recorded_at"] <= "2026-01-03T00:00:00+00:00" for r in index.json()["items"])


# ------------------------------------------------------------------ lists in SQL answer as Python would


def _sorted(rows: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    column = sort.lstrip("-")
    return sorted(rows, key=lambda r: (r[column] is None, r[column] if r[column] is not None else 0), reverse=sort.startswith("-"))


def test_the_cms_list_in_sql_filters_sorts_pages_and_counts_as_the_whole_list_filtered_would(served):
    with served.client("admin", "NEL-CSU") as admin:
        whole = every(admin, "/locations")
        for sort in ("name", "-vacancies_total", "postcode_district", "-overall_rating", "beds"):
            assert every(admin, "/locations", sort=sort) == _sorted(whole, sort), sort
        page = admin.get("/locations", params={"sort": "-beds", "limit": 3, "offset": 2}).json()
        assert page["items"] == _sorted(whole, "-beds")[2:5] and page["total"] == len(whole)
        assert page["next_offset"] == (5 if len(whole) > 5 else None)
        searched = every(admin, "/locations", q="HILL")
        assert searched == [r for r in whole if any("hill" in str(r[c] or "").lower() for c in ("name", "location", "postcode", "town", "provider_brand", "local_authority"))]
        named = every(admin, "/locations", name="court")
        assert {r["location"] for r in named} == {r["location"] for r in whole if "court" in (r["name"] or "").lower()}
        for bed in ("nursing", "nursing_dementia", "residential", "residential_dementia"):
            with_vacancy = every(admin, "/locations", vacancies=bed)
            assert with_vacancy == [r for r in whole if (r[f"vacancies_{bed}"] or 0) > 0]
        for value in ("yes", "no"):
            assert every(admin, "/locations", suspended=value) == [r for r in whole if r["suspension_in_force"] == value]
            assert every(admin, "/locations", stale=value) == [r for r in whole if r["vacancies_stale"] == value]
        assert every(admin, "/locations", postcode_district="NW1") == [r for r in whole if r["postcode_district"] == "NW1"]
        table = admin.get("/locations", params={"sort": "-beds", "local_authority": "Camden"}, headers={"Accept": "text/csv"})
    camden = _sorted([r for r in whole if r["local_authority"] == "Camden"], "-beds")
    parsed = list(csv.DictReader(io.StringIO(table.text)))
    assert [r["location"] for r in parsed] == [r["location"] for r in camden]
    assert list(parsed[0]) == list(whole[0])  # the same columns, in the row's order


# ------------------------------------------------------------------ who sees what


def test_a_provider_sees_only_its_own_homes_rows_and_no_aggregates(served):
    with served.client("provider", w.ASTER_PROVIDER, "u-head-office") as head_office, served.client("provider", w.BIRCH) as birch:
        theirs = {r["location"] for r in every(head_office, "/locations")}
        birchs = {r["location"] for r in every(birch, "/locations")}
        assert theirs == {w.ASTER, w.PRIMROSE, w.REGENT} and birchs == {w.BIRCH}
        for path in ("/returns/compliance", "/dashboards/quality", "/exceptions", "/returns/missed-runs"):
            assert {r["location"] for r in every(head_office, path)} <= theirs, path
            assert {r["location"] for r in every(birch, path)} == {w.BIRCH}, path
        assert {r["scope_id"] for r in every(birch, "/kpis")} == {w.BIRCH}
        assert {r["scope"] for r in every(head_office, "/returns/compliance/summary")} <= {"home", "provider"}
        # Another home's rows are simply not there, however asked.
        assert birch.get("/locations", params={"location": w.ASTER}).json()["total"] == 0
        assert birch.get("/returns/compliance", params={"location": w.ASTER}).json()["total"] == 0
        for path in ("/dashboards/quality/areas", "/placements/usage", "/rag"):
            assert birch.get(path).status_code == 403, path


def test_the_count_of_open_concerns_is_shown_only_to_those_who_deal_with_the_home(served):
    with served.client("commissioner", "ICB-NCL") as icb:
        seen = {r["location"]: r["open_concerns"] for r in every(icb, "/locations", local_authority="Camden")}
    assert seen[w.PRIMROSE] == 1 and seen[w.KENTISH] == 0
    for role, org in (("provider", w.ASTER_PROVIDER), ("evaluator", "ICB-NCL"), ("procurement_lead", "NEL-CSU"), ("foi_officer", "ICO")):
        with served.client(role, org) as other:
            natural = every(other, "/locations")
            assert natural and all(r["open_concerns"] is None for r in natural), role
            # Sorting by it gives nothing away: the natural order.
            assert every(other, "/locations", sort="-open_concerns") == natural, role


def test_an_evaluator_sees_only_the_trail_of_their_panels_their_own_scores_until_moderated_and_no_conflicted_bidder(served):
    path = "/competitions/AQP-CH-2026/evaluation"
    with served.client("procurement_lead", "NEL-CSU", "j.okafor") as lead:
        everything = lead.get(path).json()
    with served.client("evaluator", "ICB-SWL", "r.hughes") as hughes:
        seen = hughes.get(path)
    assert seen.status_code == 200, seen.text
    trail = seen.json()
    conflicted = "maple-grove-nursing"
    assert any(s["bidder"] == conflicted for s in everything["scores"])
    for part in ("scores", "matrix", "standings", "moderations", "declarations", "compliance", "finances", "clarifications"):
        assert all(r["bidder"] != conflicted for r in trail[part]), part
    assert {s["evaluator"] for s in everything["scores"]} > {"r.hughes"}
    assert all(s["evaluator"] == "r.hughes" or s["moderated"] == "yes" for s in trail["scores"])
    others = [s for s in trail["scores"] if s["evaluator"] != "r.hughes"]
    assert others and {(s["bidder"], s["criterion"]) for s in others} == {("cedar-lodge-care", "T2")}
    assert {d["evaluator"] for d in trail["declarations"]} == {"r.hughes"}
    for cell in trail["matrix"]:
        if cell["state"] != "moderated":
            assert cell["lowest"] is cell["highest"] is cell["agreed_score"] is cell["weighted_points"] is None
    assert all(s["weighted_score"] is None for s in trail["standings"])
    absent = None
    for role, org, user in (("evaluator", "ICB-NCL", "r.hughes"), ("evaluator", "ICB-NCL", "x.nobody"),
                            ("provider", "aster-care-homes", "bm-aster"), ("commissioner", "ICB-NCL", None), ("foi_officer", "ICO", None)):
        with served.client(role, org, user) as other:
            answer = other.get(path)
            absent = absent or other.get("/competitions/NO-SUCH/evaluation").json()
        assert answer.status_code == 404, (role, org, user)
        assert answer.json()["detail"].replace("AQP-CH-2026", "X") == absent["detail"].replace("NO-SUCH", "X")
    with served.client("auditor", "NAO") as auditor:
        before = auditor.get(path, params={"as_of": "2026-02-23T12:00:00Z"}).json()
    assert before["scores"] == [] and everything["scores"]


def test_the_event_index_by_actor_and_subject_keeps_tenders_sealed_until_opened(served):
    now = datetime.now(timezone.utc)
    with served.client("procurement_lead", "NEL-CSU", "j.okafor") as lead:
        opened = lead.post("/commands", json={
            "type": "competition.open", "competition": "NEL-RES-IDX", "title": "Residential care", "procedure": "open",
            "standstill_regime": "pcr2015", "lots": [{"id": "NEL", "name": "North East London"}],
            "clarification_deadline": (now + timedelta(days=20)).isoformat(), "tender_deadline": (now + timedelta(days=30)).isoformat(),
        })
        assert opened.status_code == 200, opened.text
        criteria = {"type": "criteria.publish", "competition": "NEL-RES-IDX", "financial_thresholds": {},
                    "criteria": [{"id": "Q1", "title": "Quality", "panel": "technical", "weight": 100, "max_score": 5}]}
        assert lead.post("/commands", json=criteria).status_code == 200
    with served.client("provider", "aster-care-homes", "bm-aster") as bidder:
        tendered = bidder.post("/competitions/NEL-RES-IDX/tenders", json={"lots": ["NEL"], "content_sha256": "d" * 64, "size_bytes": 10})
        assert tendered.status_code == 200, tendered.text
    with served.client("auditor", "NAO") as auditor, served.client("foi_officer", "ICO") as foi:
        by_lead = every(auditor, "/audit/index", actor="j.okafor")
        assert by_lead and {r["actor"] for r in by_lead} == {"j.okafor"}
        assert [r["notification_id"] for r in by_lead] == sorted(r["notification_id"] for r in by_lead)
        about_aster = every(auditor, "/audit/subjects", subject=w.ASTER)
        assert {"VacanciesReported", "Submitted"} <= {r["event"] for r in about_aster}
        sealed = {"kind": "competition", "reference": "NEL-RES-IDX", "event": "TenderSubmitted"}
        # Sealed to everyone, auditors included, until the opening: not even who tendered.
        for reader in (auditor, foi):
            assert reader.get("/audit/index", params=sealed).json()["total"] == 0
            assert reader.get("/audit/subjects", params={"subject": "aster-care-homes", "reference": "NEL-RES-IDX"}).json()["total"] == 0
        # Tenders of the awarded (opened) competition are no secret any more.
        assert foi.get("/audit/index", params={"reference": "AQP-CH-2026", "event": "TenderSubmitted"}).json()["total"] >= 1
    with served.client("commissioner", "ICB-NCL") as icb:
        assert icb.get("/audit/index").status_code == 403
