"""The FOI officer's pages over real HTTP, on both stores, as a browser gets them.

The requests are recorded by ICB-NCL's FOI officer through the API with days worked back
from today (tests/e2e/foi_world.py): one overdue, one due within five working days, one
paused for a clarification, one answered after a fee (with s.43 withheld on the public
interest test), one just received. The pages must tell them apart in words and colour, show
the case as the API answers it, and show nothing of it to anybody but ICB-NCL's own officers.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from html import unescape

import httpx
import pytest

from api.http.tables import today
from domain.foi.clock import OTHER_UK_BANK_HOLIDAYS, due_date, is_foia_working_day, working_days_left
from projections import runner
from projections.foi import FoiRequests
from tests.e2e import foi_world
from tests.e2e.foi_world import ANSWERED, DUE_SOON, OPEN, OVERDUE, PAUSED, RELEASED, REQUESTER, REQUESTER_ADDRESS, S43_GROUNDS
from tests.e2e.http_server import running_server
from tests.e2e.test_web_sign_in import press_sign_in

pytestmark = pytest.mark.storage

ROW = re.compile(r'<tr class="nhsuk-table__row">(.*?)</tr>', re.S)
TAG = re.compile(r'<strong class="nhsuk-tag nhsuk-tag--([a-z]+)">([^<]+)</strong>')


@pytest.fixture
def served(database_url):
    with running_server(database_url) as s:
        foi_world.record(s, "ICB-NCL")
        yield s


@contextmanager
def person(served, role: str, org: str, user: str) -> Iterator[httpx.Client]:
    """A browser signed in as this person."""
    with httpx.Client(base_url=served.base_url, timeout=30, follow_redirects=False) as client:
        assert press_sign_in(client, served.app.state.sign_ins.issue(user=user, org=org, role=role).path()).status_code == 303
        yield client


def listed(page: str) -> dict[str, tuple[str, str, str]]:
    """The list's rows: reference -> (tag colour, tag words, the row's text)."""
    table = page[page.index('class="nhsuk-table nhsuk-table--compact aqp-list"'):]
    found = {}
    for row in ROW.findall(table):
        reference = re.search(r'<a href="/app/foi/([^"]+)">', row)
        tag = TAG.search(row)
        if reference and tag:
            found[reference.group(1)] = (tag.group(1), tag.group(2), unescape(re.sub(r"<[^>]+>", " ", row)))
    return found


def text_of(page: str) -> str:
    main = page[page.index("<main"):page.index("</main>")]
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", main)))


def test_the_foi_officer_sees_each_request_by_due_date_with_its_status_in_words_and_colour(served):
    with person(served, "foi_officer", "ICB-NCL", "foi.ncl") as officer, served.client("foi_officer", "ICB-NCL") as api:
        answer = officer.get("/app/foi")
        assert answer.status_code == 200
        rows = listed(answer.text)
        assert {ref: (colour, words) for ref, (colour, words, _) in rows.items()} == {
            OVERDUE: ("red", "Overdue"), DUE_SOON: ("orange", "Due soon"), PAUSED: ("grey", "Paused: clarification"),
            ANSWERED: ("green", "Answered"), OPEN: ("blue", "Open"),
        }
        # By due date, the stopped clock last; the working days left are the API's.
        assert list(rows) == [r["reference"] for r in api.get("/foi-requests").json()["items"]]
        assert list(rows)[-1] == PAUSED
        overdue = api.get(f"/foi-requests/{OVERDUE}").json()
        assert overdue["working_days_left"] < 0
        assert re.search(rf"(?<![-\d]){-overdue['working_days_left']} late", rows[OVERDUE][2]), rows[OVERDUE][2]
        assert "Clock stopped" in rows[PAUSED][2]
        counts = text_of(answer.text)
        assert "3 open 1 Overdue 1 Due soon (within 5 working days) 1 Paused" in counts

        # Filtered by stage, and downloaded as filtered: the API's values, the page's headings.
        paused = officer.get("/app/foi", params={"stage": "paused_for_clarification"})
        assert list(listed(paused.text)) == [PAUSED]
        download = officer.get("/app/foi", params={"download": "csv"})
        assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
        table = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
        assert [(r["Request"], r["Status"]) for r in table][0] == (OVERDUE, "overdue")
        assert {r["Request"] for r in table} == set(rows)
        assert officer.get("/app/foi", params={"stage": "late"}).status_code == 400

        home = text_of(officer.get("/app/").text)
        assert "FOI requests" in home and OVERDUE in home and DUE_SOON in home
        assert PAUSED not in home and OPEN not in home  # the home page lists only what needs doing soon


def test_one_request_reads_as_the_api_answers_it_with_how_its_due_date_was_worked_out(served):
    with person(served, "foi_officer", "ICB-NCL", "foi.ncl") as officer, served.client("foi_officer", "ICB-NCL") as api:
        state = api.get(f"/foi-requests/{ANSWERED}").json()
        page = officer.get(f"/app/foi/{ANSWERED}")
        assert page.status_code == 200
        text = text_of(page.text)
        assert REQUESTER in text and REQUESTER_ADDRESS in text
        assert "Answered" in text and RELEASED in text and S43_GROUNDS in text
        assert "Transparency in the spending of public money" in text and "Fair competition in the next procurement round" in text
        assert "The public interest test: maintain the exemption" in text
        fee = state["fees"][0]
        issued, paid = date.fromisoformat(fee["issued_on"]), date.fromisoformat(fee["paid_on"])
        stopped = sum(1 for n in range((paid - issued).days + 1) if is_foia_working_day(issued + timedelta(days=n)))
        assert f"Not counting the {stopped} working days from the fees notice" in text
        due = date.fromisoformat(state["due_on"])
        assert f"Due by {due.day} {due:%B %Y}" in text
        assert "Fees notice for £12.50: the clock stopped" in text and "Fee paid: the clock ran again" in text

        paused = text_of(officer.get(f"/app/foi/{PAUSED}").text)
        assert "No due date while the clock is stopped" in paused and "Clarification sought: the clock stopped" in paused
        assert officer.get(f"/app/foi/{ANSWERED}", params={"as_at": "not-a-day"}).status_code == 400

        log = officer.get("/app/foi/disclosure-log")
        assert log.status_code == 200
        logged = text_of(log.text)
        assert RELEASED in logged and "Withheld" in logged and "s.43" in logged
        assert REQUESTER not in log.text
        xlsx = officer.get("/app/foi/disclosure-log", params={"download": "xlsx"})
        assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_a_bank_holiday_in_scotland_or_northern_ireland_only_is_named_as_a_day_not_counted(served):
    now = today()
    holiday = max(d for d in OTHER_UK_BANK_HOLIDAYS if now - timedelta(days=300) < d < now - timedelta(days=40))
    received = holiday - timedelta(days=3)
    with person(served, "foi_officer", "ICB-NCL", "foi.ncl") as officer, served.client("foi_officer", "ICB-NCL") as api:
        sent = api.post("/foi-requests", json=foi_world.receive("FOI-2026-0200", received.isoformat(), ["Anything"]))
        assert sent.status_code == 200, sent.text
        runner.wait_for(served.ledger, FoiRequests.name, sent.json()["position"], timeout=20)
        text = text_of(officer.get("/app/foi/FOI-2026-0200").text)
    due = due_date(received)
    assert f"Due by {due.day} {due:%B %Y}" in text
    assert f"{holiday.day} {holiday:%B %Y} (" in text and "only)" in text
    assert working_days_left(due, now) < 0 and "Overdue" in text


def test_another_authoritys_foi_officer_finds_nothing_and_a_commissioner_is_refused(served):
    with person(served, "foi_officer", "ICB-NEL", "foi.nel") as other, person(served, "commissioner", "ICB-NCL", "c.ncl") as commissioner, \
            person(served, "admin", "AQP-ADMIN", "admin.1") as admin:
        theirs = other.get(f"/app/foi/{OVERDUE}")
        missing = other.get("/app/foi/FOI-NO-SUCH")
        assert theirs.status_code == missing.status_code == 404
        # Another's request reads exactly as one that does not exist.
        assert text_of(theirs.text).replace(OVERDUE, "REF") == text_of(missing.text).replace("FOI-NO-SUCH", "REF")
        listing = other.get("/app/foi")
        assert listing.status_code == 200 and listed(listing.text) == {}
        assert "0 open" in text_of(listing.text)
        for page in (listing.text, other.get("/app/foi/disclosure-log").text, other.get("/app/").text):
            assert OVERDUE not in page and REQUESTER not in page and RELEASED not in page
        assert admin.get(f"/app/foi/{OVERDUE}").status_code == 404  # an admin of another organisation too

        for path in ("/app/foi", "/app/foi/disclosure-log", f"/app/foi/{OVERDUE}", "/app/foi?download=csv"):
            refused = commissioner.get(path)
            assert refused.status_code == 403, path
            assert OVERDUE not in refused.text and REQUESTER not in refused.text
        assert 'href="/app/foi"' not in commissioner.get("/app/").text
        assert 'href="/app/foi"' in other.get("/app/").text
