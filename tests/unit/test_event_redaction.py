"""The one redaction of every read of events (`domain.event_view`), and the SQL mask it is applied by, alone."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import pytest

from domain import access
from tests.record_facts import Facts
from domain.event_view import SEALED_UNTIL_OPENED, WITHHELD_WITH_CONTENT, event_view, withheld_because, withheld_events
from domain.kernel.metadata import Actor
from domain.procurement.competition import Competition
from projections import competitions, event_index
from projections.views import Mask

AUDITOR = Actor(id="a", org="NAO", role="auditor")
FOI = Actor(id="f", org="ICO", role="foi_officer")
COMMISSIONER = Actor(id="c", org="ICB-NEL", role="commissioner")


def _tender() -> Competition.TenderSubmitted:
    meta = {"actor": {"id": "bm-zephyr", "org": "zephyr", "role": "provider"}, "correlation_id": "zephyr-req-1",
            "causation_id": "zephyr-req-1", "reason": "the tender of zephyr", "command": "tender.submit", "business_time": None}
    return Competition.TenderSubmitted(originator_id=uuid.uuid4(), originator_version=3, timestamp=datetime.now(timezone.utc),
                                       meta=meta, bidder="zephyr", lots=["NEL"], content_sha256="e" * 64, size_bytes=1, submission=1)


def test_a_sealed_tender_shows_no_value_its_client_chose_to_anybody_until_the_opening():
    tender = _tender()
    for viewer in (AUDITOR, FOI, COMMISSIONER, Actor(id="s", org="aqp", role="admin")):
        shown = event_view(tender, viewer, Facts(opened=False))
        assert shown["withheld"] == access.SEALED_TENDER and shown["data"] is None
        assert "zephyr" not in json.dumps(shown)
        assert all(shown.get(k) is None for k in WITHHELD_WITH_CONTENT)
    opened = event_view(tender, AUDITOR, Facts())
    assert opened["data"]["bidder"] == "zephyr" and opened["correlation_id"] == "zephyr-req-1"
    assert opened["actor"]["org"] == "zephyr" and opened["reason"] == "the tender of zephyr"


def test_a_proof_bundle_holds_the_stored_record_only_where_nothing_of_the_event_is_withheld():
    tender = _tender()
    assert not access.sees_stored_record(withheld_because(tender, AUDITOR, Facts(opened=False)))
    assert access.sees_stored_record(withheld_because(tender, AUDITOR, Facts()))


def test_evaluators_are_identified_to_the_evaluations_readers_and_to_an_foi_officer_only_once_released():
    assert access.identifies_evaluators(AUDITOR) and not access.identifies_evaluators(FOI)
    assert access.identifies_evaluators(FOI, released=True)
    assert not access.identifies_evaluators(COMMISSIONER, released=True)


def test_the_index_withholds_from_an_foi_officer_what_the_feed_withholds_and_from_an_auditor_nothing():
    withheld = withheld_events(FOI)
    assert {"ScoreRecorded", "EvaluatorAppointed", "ConflictsDeclared", "ClarificationAsked"} <= set(withheld["competition"])
    assert {"ConcernShared"} <= set(withheld["location"])
    # The index holds sealed tenders back itself until the opening, after which they are no secret.
    assert not {c.__name__ for c in SEALED_UNTIL_OPENED} & set(withheld["competition"])
    # An FOI request is its own authority's case file, withheld from every other reader, auditors included;
    # the index cannot tell whose it is per row, so it withholds every FOI request from everybody.
    assert set(withheld_events(AUDITOR)) == {"foi_request"}
    assert "Received" in withheld_events(AUDITOR)["foi_request"] and "Received" in withheld["foi_request"]


def test_the_sealed_tender_events_are_named_once():
    assert event_index.SEALED_UNTIL_OPENING is SEALED_UNTIL_OPENED is competitions.SEALED_UNTIL_OPENING


def test_a_mask_writes_its_values_as_sql_literals_and_takes_nothing_else():
    mask = Mask(frozenset({"actor"}), ({"kind": "competition", "event": ("ScoreRecorded", "it's")}, {"kind": "location", "named": 1}))
    assert mask.when() == "(kind = 'competition' AND event IN ('ScoreRecorded', 'it''s')) OR (kind = 'location' AND named = 1)"
    assert Mask(frozenset({"actor"}), ()).when() == "1 = 0"
    with pytest.raises(TypeError):
        Mask(frozenset({"actor"}), ({"kind": 1.5},)).when()


def test_a_competition_absent_to_its_reader_leaves_nothing_in_the_feed_but_that_an_event_was_recorded():
    opened = Competition.TendersOpened.__new__(Competition.TendersOpened)
    meta = {"actor": {"id": "j.okafor", "org": "NEL-CSU", "role": "procurement_lead"}, "correlation_id": "r-1", "command": "tenders.open"}
    opened.__dict__.update(originator_id=uuid.uuid4(), originator_version=9, timestamp=datetime.now(timezone.utc), meta=meta)
    facts = Facts(parties=frozenset({"NEL-CSU"}))
    outsider = event_view(opened, Actor(id="p", org="SWL-CSU", role="procurement_lead"), facts)
    assert outsider["withheld"] == access.ANOTHER_AUTHORITYS and outsider["data"] is None
    assert outsider["actor"] is None and outsider["correlation_id"] is None
    for reader in (Actor(id="j", org="NEL-CSU", role="procurement_lead"), AUDITOR, FOI):
        assert event_view(opened, reader, facts)["withheld"] is None, reader
