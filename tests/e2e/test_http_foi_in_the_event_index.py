"""Another authority's FOI requests in the event index, over real HTTP on both stores.

An FOI request is its authority's alone: to anybody else, another authority's FOI officer
included, it is absent (`access.handles_foi_request`). The index withholds what each event says
and who recorded it, but its rows still name the request by its reference and tell its story
(received, clarification sought, fee asked, response sent...) to every index reader.
"""

from __future__ import annotations

import pytest

from projections import runner
from projections.event_index import EventIndex
from tests.e2e import foi_world
from tests.e2e.http_server import running_server

pytestmark = pytest.mark.storage


def test_another_authoritys_foi_officer_finds_none_of_its_requests_in_the_event_index(database_url):
    with running_server(database_url) as served:
        references = [foi_world.OVERDUE, foi_world.PAUSED, foi_world.ANSWERED]
        foi_world.record(served, "ICB-NCL")
        assert runner.wait_for(served.ledger, EventIndex.name, served.ledger.max_position(), timeout=30) is not False
        for role, org in (("foi_officer", "ICB-NEL"), ("admin", "ICB-NEL")):
            with served.client(role, org) as reader:
                for path in ("/audit/index", "/audit/subjects"):
                    answer = reader.get(path, params={"limit": 100})
                    assert answer.status_code == 200, answer.text
                    named = [r for r in references if r in answer.text]
                    assert not named, f"{role} of {org} reads {path} naming ICB-NCL's requests {named}"
