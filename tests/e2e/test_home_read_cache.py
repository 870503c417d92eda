"""A home's record kept per viewer (`location_for`, `LedgerService.answer`) is never another's and never stale.

A home is a long history (a vacancy report most days), so the record now is kept, keyed by
the home's version, the organisations commissioning it, the day and the viewer. Read over
HTTP as the API's clients read it: after a new report the next read shows it, and
interleaved viewers each get what their own role lets them see.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.e2e.http_server import HOME, running_server, with_a_home

pytestmark = pytest.mark.storage



@pytest.fixture
def served(database_url):
    with running_server(database_url) as s:
        yield with_a_home(s)


def test_a_new_vacancy_report_shows_on_the_next_read_and_each_viewer_keeps_their_own_view(served):
    today = datetime.now(timezone.utc).date().isoformat()
    with served.client("admin", "AQP-ADMIN") as admin, served.client("provider", "1-2000000002", "other-provider") as stranger, \
            served.client("provider", HOME, "aster-manager") as home:
        before = admin.get(f"/locations/{HOME}")
        assert before.status_code == 200
        assert stranger.get(f"/locations/{HOME}").status_code == 404
        assert home.post(f"/locations/{HOME}/vacancies", json={"date": today, "nursing": 3, "residential": 1}).status_code == 200
        after = admin.get(f"/locations/{HOME}")
        assert after.json() != before.json(), "the kept record was served after a new report"
        assert after.json()["vacancies"][today]["counts"]["nursing"] == 3
        # The provider's own view and the stranger's answer, interleaved with the admin's, stay their own.
        assert home.get(f"/locations/{HOME}").json()["vacancies"][today]["counts"]["nursing"] == 3
        assert stranger.get(f"/locations/{HOME}").status_code == 404
        assert admin.get(f"/locations/{HOME}").json() == after.json()
        yesterday = (datetime.now(timezone.utc).date() - timedelta(days=1)).isoformat()
        assert home.post(f"/locations/{HOME}/vacancies", json={"date": yesterday, "nursing": 1}).status_code == 200
        assert admin.get(f"/locations/{HOME}").json()["vacancies"][yesterday]["counts"]["nursing"] == 1
