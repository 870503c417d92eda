"""The authorisation matrix, table-driven: every route of the API against every role.

For each route the table gives one concrete request; a role the matrix (`ROUTE_ROLES`, and
for `POST /commands` the dispatcher's roles of the command sent) does not allow must get 403
before anything is read or recorded; an allowed role must get past the guard (whatever the
data then says: 200, or 404/409/422 for a record it may not see or a state that refuses).
Every role's principal acts for organisation 1-1000000001 (a home in the example world), so
the provider passes its own-home checks and the answers differ only by role.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from litestar.routes import HTTPRoute

from api.http.access import ROUTE_ROLES
from domain.procurement import commands as c
from domain.kernel.dispatch import HANDLERS
from domain.kernel.metadata import ROLES
from tests.e2e.http_server import running_server, world

pytestmark = pytest.mark.storage

TODAY = datetime.now(timezone.utc).date().isoformat()
#: route -> (method, url, JSON body or None)
REQUESTS: dict[str, tuple[str, str, dict | None]] = {
    "POST /commands": ("POST", "/commands", {"type": "tenders.open", "competition": "NO-SUCH-COMPETITION"}),
    "POST /locations/{location:str}/vacancies": ("POST", "/locations/1-1000000001/vacancies", {"date": TODAY, "nursing": 1}),
    "POST /returns": ("POST", "/returns", {"location": "1-1000000001", "template": "london-aqp-care-home-monthly", "period": "2026-04"}),
    "POST /competitions/{reference:str}/tenders": (
        "POST", "/competitions/AQP-CH-2026/tenders", {"lots": ["NCL"], "content_sha256": "c" * 64, "size_bytes": 1}
    ),
    "GET /competitions": ("GET", "/competitions", None),
    "GET /competitions/{reference:str}": ("GET", "/competitions/AQP-CH-2026", None),
    "GET /frameworks/{reference:str}": ("GET", "/frameworks/AQP-NH-LONDON", None),
    "GET /contracts": ("GET", "/contracts", None),
    "GET /contracts/{reference:path}": ("GET", "/contracts/AQP-CH-2026/NCL/aster-care-homes", None),
    "GET /performance-records/{reference:path}": ("GET", "/performance-records/AQP-CH-2026/NCL/aster-care-homes", None),
    "GET /providers/{reference:str}": ("GET", "/providers/1-2000000001", None),
    "GET /locations/{reference:str}": ("GET", "/locations/1-1000000001", None),
    "GET /returns/{location:str}/{template:str}/{version:int}/{period:str}": (
        "GET", "/returns/1-1000000001/london-aqp-care-home-monthly/1/2026-04", None
    ),
    "GET /placement-returns/{location:str}/{period:str}": ("GET", "/placement-returns/1-1000000001/2026-03", None),
    "GET /locations": ("GET", "/locations?suspended=no&vacancies=any", None),
    "GET /home-care": ("GET", "/home-care", None),
    "GET /returns/compliance": ("GET", "/returns/compliance?status=missed", None),
    "GET /returns/compliance/summary": ("GET", "/returns/compliance/summary", None),
    "GET /returns/missed-runs": ("GET", "/returns/missed-runs", None),
    "GET /kpis": ("GET", "/kpis?scope=all", None),
    "GET /dashboards/quality": ("GET", "/dashboards/quality?metric=falls", None),
    "GET /dashboards/quality/areas": ("GET", "/dashboards/quality/areas?level=all", None),
    "GET /exceptions": ("GET", "/exceptions", None),
    "GET /placements/usage": ("GET", "/placements/usage", None),
    "GET /placements/rate-exceptions": ("GET", "/placements/rate-exceptions", None),
    "GET /placements/non-framework-homes": ("GET", "/placements/non-framework-homes", None),
    "GET /rag": ("GET", "/rag", None),
    "GET /rag/visits": ("GET", "/rag/visits", None),
    "GET /competitions/{reference:str}/evaluation": ("GET", "/competitions/AQP-CH-2026/evaluation", None),
    "GET /competitions/{reference:str}/defence-pack": ("GET", "/competitions/AQP-CH-2026/defence-pack", None),
    "GET /audit/index": ("GET", "/audit/index?actor=j.okafor", None),
    "GET /audit/subjects": ("GET", "/audit/subjects?subject=1-1000000001", None),
    "GET /audit/checkpoints": ("GET", "/audit/checkpoints", None),
    "GET /audit/proofs/{position:int}": ("GET", "/audit/proofs/1", None),
    "GET /events": ("GET", "/events", None),
    "GET /whoami": ("GET", "/whoami", None),
    "POST /foi-requests": ("POST", "/foi-requests", {
        "request": "FOI-MATRIX", "received_on": "2000-01-03", "channel": "post", "requester_name": "A Requester",
        "requester_address": "1 High Street", "parts": ["Everything"]}),
    "POST /foi-requests/{reference:str}/response": (
        "POST", "/foi-requests/NO-SUCH-REQUEST/response", {"sent_on": TODAY, "decisions": [{"part": 1, "outcome": "not_held"}]}
    ),
    "GET /foi-requests": ("GET", "/foi-requests", None),
    "GET /foi-requests/disclosure-log": ("GET", "/foi-requests/disclosure-log", None),
    "GET /foi-requests/{reference:str}": ("GET", "/foi-requests/NO-SUCH-REQUEST", None),
    "GET /past-notices": ("GET", "/past-notices?q=care", None),
    "GET /past-notices/{ocid:str}": ("GET", "/past-notices/ocds-b5fd17-no-such-process", None),
}
#: what anybody may read without a token (and with one, whatever its role): the probes and the OCDS feed
PUBLIC = {"GET /health", "GET /ready", "GET /ocds/releases", "GET /ocds/releases/{release_id:str}", "GET /ocds/records/{ocid:str}"}
PUBLIC_REQUESTS = {"GET /ocds/releases": "/ocds/releases", "GET /ocds/records/{ocid:str}": "/ocds/records/ocds-aqp000-AQP-CH-2026",
                   "GET /ocds/releases/{release_id:str}": "/ocds/releases/ocds-aqp000-AQP-CH-2026-3"}


from api.web.errors import is_page  # noqa: E402


def app_routes(app) -> set[str]:
    found = set()
    for route in app.routes:
        # The pages (`/` and `/app/...`, session sign-in) have their own walk: tests/browser/.
        if not isinstance(route, HTTPRoute) or route.path.startswith("/schema") or is_page(route.path):
            continue
        for method in route.route_handler_map:
            if method not in ("HEAD", "OPTIONS"):
                found.add(f"{method} {route.path}")
    return found


def allowed(route: str, role: str) -> bool:
    if route == "POST /commands":
        return role in HANDLERS[c.OpenTenders][0]
    return role in ROUTE_ROLES[route]


@pytest.fixture
def populated(database_url):
    with running_server(database_url) as s:
        world(s.ledger)
        yield s


def test_every_route_has_a_row_in_the_matrix_and_a_request_in_this_table(populated):
    routes = app_routes(populated.app) - PUBLIC
    # The matrix is read off the controllers' guards: a route without a guard naming its roles has no row.
    assert routes == set(ROUTE_ROLES), "the matrix and the app's routes differ"
    assert routes == set(REQUESTS), "a route has no request in this test's table"


def test_every_route_for_every_role_is_refused_or_let_through_as_the_matrix_says(populated):
    before = populated.ledger.max_position()
    outcomes: dict[tuple[str, str], int] = {}
    for role in ROLES:
        with populated.client(role, "1-1000000001", f"matrix-{role}") as client:
            for route, (method, url, body) in REQUESTS.items():
                answer = client.request(method, url, json=body)
                outcomes[(route, role)] = answer.status_code
                assert answer.status_code < 500, f"{route} as {role}: {answer.text}"
                if allowed(route, role):
                    assert answer.status_code not in (401, 403), f"{route} as {role} was refused: {answer.text}"
                else:
                    assert answer.status_code == 403, f"{route} as {role} got {answer.status_code}: {answer.text}"
                    assert answer.headers["content-type"] == "application/problem+json"
    refused = sum(1 for (route, role) in outcomes if not allowed(route, role))
    assert refused >= len(ROLES)  # the table refuses something to somebody, every role included
    # The only commands let through were the provider's vacancy report and refusals by the rules.
    assert populated.ledger.max_position() <= before + 1


def test_without_a_token_every_route_but_the_public_ones_is_401(populated):
    with populated.client() as anonymous:
        for route, (method, url, body) in REQUESTS.items():
            assert anonymous.request(method, url, json=body).status_code == 401, route
        assert anonymous.get("/health").status_code == 200
        assert anonymous.get("/ready").status_code == 200
        assert anonymous.get("/schema/openapi.json").status_code == 200
        for route, url in PUBLIC_REQUESTS.items():
            assert anonymous.get(url).status_code == 200, route


def test_the_public_routes_answer_every_role_alike(populated):
    assert set(PUBLIC_REQUESTS) <= PUBLIC
    for role in ROLES:
        with populated.client(role, "1-1000000001", f"matrix-{role}") as client:
            for route, url in PUBLIC_REQUESTS.items():
                assert client.get(url).status_code == 200, (route, role)
