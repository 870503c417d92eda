"""Where KPIs show, over real HTTP on both stores (issue 18 item 1): the "Returns and KPIs" page of a
Cheshire East home shows Cheshire East's KPIs met or breached in words, and the same home under a
framework naming no KPI set is "not monitored by KPIs", never breached."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from projections import runner
from projections.compliance import ReturnCompliance
from tests.e2e.http_server import running_server
from tests.e2e.test_web_sign_in import press_sign_in
from tests.integration.test_kpis_judged import AUGUST, CARE_HOME, FIELDS, MANAGER, spot_check, with_a_quarterly_return
from tests.integration.test_performance_failures import ok

pytestmark = pytest.mark.storage


def targets_of(server, kpi_sets: tuple[str, ...]) -> str:
    """The page's KPI section for the home, as the Council's contract manager reads it."""
    position = with_a_quarterly_return(server.ledger, kpi_sets)
    if kpi_sets:
        position = ok(server.ledger, spot_check(checked_on=date(2026, 8, 3), fields_accurate=FIELDS), MANAGER, AUGUST).position
    runner.wait_for(server.ledger, ReturnCompliance.name, position, timeout=30)
    with httpx.Client(base_url=server.base_url, timeout=120, follow_redirects=False) as client:
        link = server.app.state.sign_ins.issue(user=MANAGER.id, org=MANAGER.org, role=MANAGER.role).path()
        assert press_sign_in(client, link).status_code == 303
        page = client.get("/app/returns", params={"kpi_scope": "home", "kpi_area": CARE_HOME})
    assert page.status_code == 200, page.text
    text = page.text
    return text[text.index('id="kpis"'):text.index('id="compliance"')]


def test_a_cheshire_east_home_shows_its_kpis_met_or_breached(database_url):
    with running_server(database_url) as server:
        section = targets_of(server, ("cheshire-east-accommodation-with-care",))
    assert "Outcomes reviews" in section and "85.7%" in section and "Target breached" in section
    assert "Accuracy of data and information submissions" in section and "100.0% (4 of 4)" in section and "Target met" in section
    assert "Not monitored by KPIs" not in section and "Provider data returns by the deadline" not in section


def test_a_home_whose_framework_names_no_kpi_set_is_not_monitored_by_kpis(database_url):
    with running_server(database_url) as server:
        section = targets_of(server, ())
    assert "Not monitored by KPIs" in section
    assert "Target breached" not in section and "Target met" not in section
