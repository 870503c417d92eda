"""The public OCDS feed over HTTP on each store: readable without a token, cursor pages covering
every release once, records as the export compiles them, no 500 for any input."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.scenario import apply_lines
from audit import ocds
from tests.e2e.http_server import running_server, world
from tests.ocds_schemas import errors

pytestmark = pytest.mark.storage
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def served(database_url):
    with running_server(database_url) as s:
        world(s.ledger)
        lines = (ROOT / "scenarios" / "nhse-call-off.jsonl").read_text(encoding="utf-8").splitlines()
        assert all(o.met for o in apply_lines(s.ledger, lines))
        yield s


def test_the_feed_pages_through_every_release_without_a_token(served):
    expected = ocds.publication(served.ledger)
    seen = []
    with served.client() as anonymous:
        url = "/ocds/releases?limit=7"
        pages = 0
        while url:
            answer = anonymous.get(url)
            assert answer.status_code == 200, answer.text
            package = answer.json()
            # a release package with a cursor: every page validates as one
            assert errors(package, "release-package-schema.json") == []
            seen += package["releases"]
            url = package["links"].get("next")
            pages += 1
        assert pages > 2
    assert [r["id"] for r in seen] == [r.data["id"] for r in sorted(expected.releases, key=lambda r: r.position)]
    assert len({r["id"] for r in seen}) == len(seen)


def test_a_record_is_served_without_a_token_as_the_export_compiles_it(served):
    expected = ocds.publication(served.ledger).record("ocds-aqp000-AQP-CH-2026")
    with served.client() as anonymous:
        answer = anonymous.get("/ocds/records/ocds-aqp000-AQP-CH-2026")
    assert answer.status_code == 200, answer.text
    package = answer.json()
    assert errors(package, "record-package-schema.json") == []
    assert package["records"] == [expected]


def test_a_token_changes_nothing_of_what_the_feed_publishes(served):
    with served.client() as anonymous, served.client("auditor", "ORG-1") as auditor:
        a, b = anonymous.get("/ocds/releases?limit=1000"), auditor.get("/ocds/releases?limit=1000")
    assert a.status_code == b.status_code == 200
    assert a.json()["releases"] == b.json()["releases"]


BAD = (
    "/ocds/releases?after=-1", "/ocds/releases?limit=0", "/ocds/releases?limit=1001", "/ocds/releases?after=abc",
    f"/ocds/releases?after={2**70}", "/ocds/releases?nonsense=1",
    "/ocds/records/ocds-aqp000-NO-SUCH", "/ocds/records/%00", "/ocds/records/" + "x" * 400,
    "/ocds/records/ocds-aqp000-AQP-CH-2026?as_of=yesterday",
)


def test_bad_input_is_a_problem_never_a_500(served):
    with served.client() as anonymous:
        for url in BAD:
            answer = anonymous.get(url)
            assert 400 <= answer.status_code < 500, (url, answer.status_code, answer.text)
            assert answer.headers["content-type"] == "application/problem+json", url


def test_past_the_last_release_the_page_is_empty(served):
    last = max(r.position for r in ocds.publication(served.ledger).releases)
    with served.client() as anonymous:
        package = anonymous.get(f"/ocds/releases?after={last}").json()
    assert package["releases"] == [] and package["links"].get("next") is None
