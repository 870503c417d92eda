"""The API's pure parts: read-model table selection, and what the events feed shows to whom."""

from __future__ import annotations

import msgspec

from api.http.tables import Table, as_csv, select
from api.tokens import Principal
from tests.record_facts import Facts
from domain.event_view import event_view
from domain.kernel.metadata import Actor
from domain.kernel.personal import PersonalData
from domain.providers.location import Location
from tests.unit.story import MENSAH, scored, tendered


class Row(msgspec.Struct):
    reference: str
    provider: str
    status: str
    value: int | None


ROWS = [
    {"reference": "K-3", "provider": "aster", "status": "signed", "value": 300},
    {"reference": "K-1", "provider": "beech", "status": "awarded", "value": None},
    {"reference": "K-2", "provider": "aster", "status": "awarded", "value": 100},
]
TABLE = Table(row=Row, rows=lambda _: ROWS, filters=("status",), search=("reference", "provider"),
              scope=lambda p, row: p.role != "provider" or row["provider"] == p.org)
ICB = Principal(user="u", org="ICB-NCL", role="commissioner", token_id="tok_1")
ASTER = Principal(user="m", org="aster", role="provider", token_id="tok_2")


def test_a_table_filters_searches_and_sorts_with_nulls_last():
    assert [r["reference"] for r in select(TABLE, ROWS, ICB, filters={"status": "awarded"}, q=None, sort="reference")] == ["K-1", "K-2"]
    assert [r["reference"] for r in select(TABLE, ROWS, ICB, filters={}, q="BEE", sort=None)] == ["K-1"]
    assert [r["value"] for r in select(TABLE, ROWS, ICB, filters={}, q=None, sort="value")] == [100, 300, None]
    assert [r["value"] for r in select(TABLE, ROWS, ICB, filters={}, q=None, sort="-value")] == [None, 300, 100]


def test_a_table_never_shows_or_counts_rows_out_of_the_principals_scope():
    rows = select(TABLE, ROWS, ASTER, filters={}, q="K", sort="reference")
    assert [r["reference"] for r in rows] == ["K-2", "K-3"]
    assert select(TABLE, ROWS, ASTER, filters={}, q="beech", sort=None) == []


def test_csv_has_the_row_columns_in_order_and_empty_cells_for_null():
    assert as_csv(TABLE.columns, ROWS[1:2]) == "reference,provider,status,value\r\nK-1,beech,awarded,\r\n"


def test_a_tender_event_is_sealed_to_everybody_until_the_tenders_are_opened_and_so_is_who_sent_it():
    c = tendered()
    submitted = next(e for e in c.pending_events if type(e).__name__ == "TenderSubmitted")
    for role in ("auditor", "admin", "procurement_lead", "system"):
        shown = event_view(submitted, Actor(id="x", org="y", role=role), Facts(opened=False))
        assert shown["withheld"] == "sealed_until_tenders_opened" and shown["data"] is None and shown["actor"] is None
    after = event_view(submitted, Actor(id="x", org="y", role="auditor"), Facts())
    assert after["withheld"] is None and after["data"]["bidder"] == submitted.bidder and after["actor"]["role"] == "provider"


def test_the_evaluation_working_is_withheld_from_commissioners_but_not_from_auditors():
    c = scored()
    recorded = next(e for e in c.pending_events if type(e).__name__ == "ScoreRecorded")
    assert event_view(recorded, Actor(id="x", org="ICB", role="commissioner"), Facts())["withheld"] == "evaluation_working"
    assert event_view(recorded, Actor(id="x", org="NAO", role="auditor"), Facts())["data"]["score"] == recorded.score
    declared = next(e for e in c.pending_events if type(e).__name__ == "ConflictsDeclared" and e.meta["actor"]["id"] == MENSAH.id)
    assert event_view(declared, Actor(id="x", org="ICB", role="contract_manager"), Facts())["data"] is None


def test_concerns_and_personal_data_in_events_reach_only_the_roles_that_need_them():
    concern = Location.ConcernShared.__new__(Location.ConcernShared)
    concern.__dict__.update(
        originator_id=Location.id_for("1-1"), originator_version=3, timestamp=__import__("datetime").datetime(2026, 5, 1),
        meta={"actor": {"id": "c", "org": "ICB", "role": "commissioner"}}, concern="C1", kind="safeguarding",
        summary=PersonalData("concern:1-1:C1", "Night staffing"), shared_by="ICB",
    )
    facts = Facts(commissioners=frozenset({"ICB"}))
    lead = event_view(concern, Actor(id="l", org="CSU", role="procurement_lead"), facts)
    manager = event_view(concern, Actor(id="m", org="ICB", role="contract_manager"), facts)
    elsewhere = event_view(concern, Actor(id="m2", org="ICB-ELSEWHERE", role="contract_manager"), facts)
    system = event_view(concern, Actor(id="s", org="CSU", role="system"), facts)
    assert lead["withheld"] == "concern_restricted" and lead["data"] is None
    assert manager["data"]["summary"] == "Night staffing" and manager["aggregate"] == "location"
    # A contract manager of an organisation that does not commission the home: not its concerns, nor who shared them.
    assert elsewhere["withheld"] == "concern_restricted" and elsewhere["data"] is None and elsewhere["actor"] is None
    assert system["withheld"] == "concern_restricted"
