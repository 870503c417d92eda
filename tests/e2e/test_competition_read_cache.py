"""The competition reads kept per viewer (`LedgerService.answer`) never cross viewers and are never stale.

`competition_for` and `evaluation_for` keep what they answer, keyed by the competition's
version (the read models' positions for the trail) and the viewer's role, organisation and
user. Interleaving the lead of the authority and an evaluator who declared a conflict with a
bidder (r.hughes, maple-grove-nursing, in the example world), each always gets what an
uncached read gives them; after an event on the competition the next read shows it.
"""

from __future__ import annotations

import json

import msgspec
import pytest

from api.http import competitions as http
from api.scenario import apply_lines
from api.tokens import Principal
from domain.procurement.competition import Competition
from domain.procurement.views import competition_view
from tests.e2e.http_server import SCENARIOS, competition_copy, running_server, world

pytestmark = pytest.mark.storage

SOURCE, COPY = "AQP-CH-2026", "AQP-CH-CACHE"
LEAD = Principal(user="j.okafor", org="NEL-CSU", role="procurement_lead", token_id="t1")
CONFLICTED = Principal(user="r.hughes", org="ICB-SWL", role="evaluator", token_id="t2")
BIDDER = "maple-grove-nursing"


@pytest.fixture
def served(database_url):
    with running_server(database_url) as s:
        world(s.ledger)
        competition_copy(s.ledger, COPY, before="outcome.decide")
        yield s


def fresh_record(service, principal, reference):
    return competition_view(service.ledger.aggregate(Competition, reference), principal.actor())


def fresh_trail(service, principal, reference):
    return msgspec.to_builtins(http._evaluation(service, principal, reference, None))


def bidders_in(trail):
    return {row["bidder"] for part in ("standings", "matrix", "scores", "compliance", "finances", "declarations") for row in trail[part]}


def test_the_kept_record_and_trail_never_cross_viewers(served):
    service = served.app.state.service
    for _ in range(3):  # interleaved: lead, evaluator, lead, evaluator, ...
        for principal in (LEAD, CONFLICTED):
            record = http.competition_for(service, principal, SOURCE)
            trail = http.evaluation_builtins_for(service, principal, SOURCE)
            assert record == fresh_record(service, principal, SOURCE)
            assert trail == fresh_trail(service, principal, SOURCE)
            assert msgspec.to_builtins(http.evaluation_for(service, principal, SOURCE)) == trail
            if principal is CONFLICTED:
                assert BIDDER not in bidders_in(trail)
                assert BIDDER not in record["tenders"]
                assert all(s["weighted_score"] is None for s in trail["standings"])
            else:
                assert BIDDER in bidders_in(trail)
                assert BIDDER in record["tenders"]
    # Kept (the same objects come back), but per viewer.
    assert http.competition_for(service, LEAD, SOURCE) is http.competition_for(service, LEAD, SOURCE)
    assert http.competition_for(service, LEAD, SOURCE) is not http.competition_for(service, CONFLICTED, SOURCE)
    # Another user of the same role and organisation is another key (an evaluator's seat is theirs).
    colleague = Principal(user="dr.a.patel", org="ICB-NCL", role="evaluator", token_id="t3")
    assert http.evaluation_builtins_for(service, colleague, SOURCE) == fresh_trail(service, colleague, SOURCE)


def test_a_kept_read_is_never_served_after_a_new_event_on_the_competition(served):
    service = served.app.state.service
    before = {p: (http.competition_for(service, p, COPY), http.evaluation_builtins_for(service, p, COPY)) for p in (LEAD, CONFLICTED)}
    assert before[LEAD][0]["outcome"] is None and before[LEAD][1]["round"]["outcome_decided_at"] is None
    # The example's outcome decision, for the copy: the next read shows it, for each viewer.
    example, = (p for p in SCENARIOS if p.name.startswith("london-aqp"))
    decide = next(json.loads(t) for t in example.read_text(encoding="utf-8").splitlines()
                  if json.loads(t)["command"]["type"] == "outcome.decide" and json.loads(t)["command"].get("competition") == SOURCE
                  and "expect" not in json.loads(t))
    decide["command"]["competition"] = COPY
    assert all(o.met for o in apply_lines(service.ledger, [json.dumps(decide)]))
    for principal in (LEAD, CONFLICTED):
        record = http.competition_for(service, principal, COPY)
        assert record["outcome"] is not None and record == fresh_record(service, principal, COPY)
        trail = http.evaluation_builtins_for(service, principal, COPY)
        assert trail["round"]["outcome_decided_at"] is not None
        assert trail == fresh_trail(service, principal, COPY)
        assert trail != before[principal][1]
