"""An FOI request read as of a day the bank-holiday calendar does not reach, over real HTTP on both stores.

The working days left cannot be counted past the calendar's last year (`CalendarNotCovered`);
the request and the list are still there to read, as of any day: never a 500.
"""

from __future__ import annotations

import pytest

from tests.e2e import foi_world
from tests.e2e.http_server import running_server
from tests.e2e.test_web_foi_pages import person

pytestmark = pytest.mark.storage

#: a day after the last year the shipped calendars cover (2030)
BEYOND = "2031-06-02"


@pytest.fixture
def served(database_url):
    with running_server(database_url) as s:
        foi_world.record(s, "ICB-NCL")
        yield s


def test_the_list_and_a_request_as_of_a_day_beyond_the_calendar_answer_without_the_days_left(served):
    with served.client("foi_officer", "ICB-NCL") as officer:
        for path in ("/foi-requests", f"/foi-requests/{foi_world.OVERDUE}"):
            answer = officer.get(path, params={"as_of": f"{BEYOND}T12:00:00Z"})
            assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
        listed = officer.get("/foi-requests", params={"as_of": f"{BEYOND}T12:00:00Z"}).json()["items"]
        overdue = next(r for r in listed if r["reference"] == foi_world.OVERDUE)
        assert overdue["status"] == "overdue" and overdue["working_days_left"] is None
    with person(served, "foi_officer", "ICB-NCL", "f.officer") as browser:
        for path in ("/app/foi", f"/app/foi/{foi_world.OVERDUE}"):
            page = browser.get(path, params={"as_at": BEYOND})
            assert page.status_code in (200, 400), (path, page.status_code)
