"""OCDS publication on each store: what the example competition, the NHS England call-off and a small
London demo publish validates against the official 1.1.5 package schemas, records are ocdsmerge's
compilation, ids stay stable, and nothing sealed or personal is ever published."""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from ocdsmerge import Merger

from api.bootstrap import open_ledger
from api.scenario import apply_lines
from api.settings import Settings
from audit import ocds
from domain.kernel.personal import PersonalData
from scenarios.demo import build
from tests.conftest import postgres_schema, require_postgres
from audit.ocds_validation import SCHEMA_DIR, SCHEMAS
from tests.e2e.http_server import competition_copy, pa2023_copy
from tests.ocds_schemas import errors
from tests.shared import shared_file

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ("london-aqp-care-homes-2026.jsonl", "nhse-call-off.jsonl", "nottingham-escalation.jsonl")
#: the example competition again under the Procurement Act 2023, with its contract award notice (UK6)
PA2023 = "AQP-CH-2026-PA"
#: two years, so that April prices vary the contracts and one is terminated
SMALL_LONDON = {"scale": "london", "years": 2, "homes": 20, "seed": 7}
NOW = datetime(2027, 1, 1, tzinfo=timezone.utc)


def apply(ledger: Any, name: str) -> None:
    lines = (ROOT / "scenarios" / name).read_text(encoding="utf-8").splitlines()
    unmet = [o for o in apply_lines(ledger, lines) if not o.met]
    assert not unmet, f"{name}: {unmet[:3]}"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(request, tmp_path_factory):
    """A small London demo, then the example competition and the NHS England call-off, on one store."""
    if request.param == "postgres":
        require_postgres()
        context = postgres_schema()
        url = context.__enter__()
        request.addfinalizer(lambda: context.__exit__(None, None, None))
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('ocds')}/ledger.db"
    demo = open_ledger(Settings(database_url=url), "demo")
    try:
        build(demo, **SMALL_LONDON)
    finally:
        demo.close()
    ledger = open_ledger(Settings(database_url=url), "cli")
    for name in SCENARIOS:
        apply(ledger, name)
    pa2023_copy(ledger, PA2023)
    request.addfinalizer(ledger.close)
    return ledger


@pytest.fixture(scope="module")
def published(world):
    return ocds.publication(world)


def test_every_release_and_record_package_validates_against_the_official_schemas(published):
    releases = published.release_package(uri="https://example.org/ocds/releases", published=NOW)
    records = published.record_package(uri="https://example.org/ocds/records", published=NOW)
    assert errors(releases, "release-package-schema.json") == []
    assert errors(records, "record-package-schema.json") == []
    ocids = {r.ocid for r in published.releases}
    # the example competition, the call-off and the demo's rounds are all there
    assert {"ocds-aqp000-AQP-CH-2026", "ocds-aqp000-NHSE-ICS-2016-FURTHER-COMPETITION"} <= ocids
    assert len(ocids) > 2
    for ocid in ocids:
        one = published.release_package(uri="https://example.org/x", published=NOW,
                                        releases=[r for r in published.releases if r.ocid == ocid])
        assert errors(one, "release-package-schema.json") == [], ocid


def test_a_broken_release_is_caught_by_the_validation(published):
    package = copy.deepcopy(published.release_package(uri="https://example.org/ocds/releases", published=NOW))
    package["releases"][0]["date"] = "16 April 2026"
    package["releases"][1]["tag"] = ["notATag"]
    found = errors(package, "release-package-schema.json")
    assert any("/releases/0/date" in e for e in found) and any("/releases/1/tag" in e for e in found)


def test_records_are_ocdsmerges_compilation_of_our_releases(published):
    theirs = Merger(schema=str(shared_file("ocds", "schema", "release-schema.json")))
    records = published.record_package(uri="https://example.org/ocds/records", published=NOW)["records"]
    assert records
    for record in records:
        assert record["releases"] == published.by_ocid(record["ocid"])
        assert record["compiledRelease"] == theirs.create_compiled_release(record["releases"])


def test_the_shipped_schemas_are_the_official_ones():
    assert ocds.SCHEMA_PATH.read_bytes() == shared_file("ocds", "schema", "release-schema.json").read_bytes()
    for name in SCHEMAS:
        assert (SCHEMA_DIR / name).read_bytes() == shared_file("ocds", "schema", name).read_bytes(), name


def test_release_ids_are_unique_and_releases_in_date_order(published):
    ids = [r.data["id"] for r in published.releases]
    assert len(ids) == len(set(ids))
    dates = [r.data["date"] for r in published.releases]
    assert dates == sorted(dates)
    for r in published.releases:
        assert r.data["id"] == f"{r.ocid}-{r.position}" and r.data["initiationType"] == "tender"


def test_the_same_ledger_publishes_the_same_releases_again(world, published):
    again = ocds.publication(world)
    assert [r.data for r in again.releases] == [r.data for r in published.releases]


def _tags_by(published, section: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for r in published.releases:
        for item in r.data.get(section, []):
            found[item["id"]].update(r.data["tag"])
    return found


def test_an_award_keeps_its_id_from_award_to_award_update(published):
    awards = _tags_by(published, "awards")
    lot = "ocds-aqp000-AQP-CH-2026-award-NCL"
    assert {"award", "awardUpdate"} <= awards[lot]
    compiled = published.record("ocds-aqp000-AQP-CH-2026")["compiledRelease"]
    assert [a["status"] for a in compiled["awards"] if a["id"] == lot] == ["active"]


def test_a_contract_keeps_its_id_from_contract_to_amendment_and_termination(published):
    contracts = _tags_by(published, "contracts")
    extended = "ocds-aqp000-NHSE-ICS-2016-FURTHER-COMPETITION-contract-NHSE-ICS-2016/NORTH/forum-partners-cic"
    assert {"contract", "contractUpdate", "contractAmendment", "implementation"} <= contracts[extended]
    ended = [c for c, tags in contracts.items() if "contractTermination" in tags]
    assert ended and all("contract" in contracts[c] for c in ended)
    compiled = published.record("ocds-aqp000-NHSE-ICS-2016-FURTHER-COMPETITION")["compiledRelease"]
    (north,) = [c for c in compiled["contracts"] if c["id"] == extended]
    assert north["awardID"] == "ocds-aqp000-NHSE-ICS-2016-FURTHER-COMPETITION-award-NORTH"
    assert north["value"] == {"amount": 110000.0, "currency": "GBP"}  # GBP 100k extended by 10k
    assert north["amendments"] and "value change +£10,000.00" in north["amendments"][0]["description"]
    assert len(north["implementation"]["transactions"]) >= 1


def test_a_variation_is_published_with_its_legal_ground_and_value_change(published):
    amended = [
        a for r in published.releases if "contractAmendment" in r.data["tag"]
        for c in r.data["contracts"] for a in c.get("amendments", []) if "-variation-" in a["id"]
    ]
    assert amended, "the demo varies contracts (April prices)"
    assert all(a["rationale"].split(" ")[0].startswith(("pcr2015_", "pa2023_", "psr2024_")) for a in amended)
    assert all("value change" in a["description"] for a in amended)


def test_the_example_competition_publishes_its_tender_without_who_tendered_or_asked(published, world):
    compiled = published.record("ocds-aqp000-AQP-CH-2026")["compiledRelease"]
    tender = compiled["tender"]
    assert tender["procurementMethod"] == "open" and tender["awardCriteriaDetails"]
    assert all("SHA-256" in d["description"] for d in tender["documents"] if d["documentType"] == "biddingDocuments")
    assert tender["enquiries"] and all("author" not in e for e in tender["enquiries"])
    bidders = set(world.competition("AQP-CH-2026").tenders)
    winners = {s["id"] for a in compiled["awards"] for s in a["suppliers"]}
    losers = bidders - winners
    assert losers, "the example has unsuccessful bidders"
    text = json.dumps(published.by_ocid("ocds-aqp000-AQP-CH-2026"))
    assert not [b for b in losers if b in text]
    assert "weighted_score" not in text and "relative_advantage" not in text


def _personal_values(ledger) -> set[str]:
    """Every value the ledger stores as personal data, decrypted."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, PersonalData):
            if isinstance(value.value, str) and len(value.value) > 3:
                found.add(value.value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)

    for n in ledger.recorder.select_notifications(start=1, limit=1_000_000):
        walk(vars(ledger.mapper.to_domain_event(n)))
    return found


def test_no_personal_data_appears_in_any_export(world, published):
    personal = _personal_values(world)
    assert len(personal) > 10, "the scenarios name evaluators, contacts and managers"
    text = json.dumps(published.release_package(uri="https://example.org/r", published=NOW)) + json.dumps(
        published.record_package(uri="https://example.org/r", published=NOW)
    )
    leaked = sorted(v for v in personal if v in text)
    assert leaked == []


def test_a_competition_before_its_opening_publishes_no_tender_contents_or_bidders(world):
    competition_copy(world, "AQP-CH-SEALED", before="tenders.open")
    copy = world.competition("AQP-CH-SEALED")
    assert copy.tenders and copy.opened_at is None
    mine = ocds.publication(world).by_ocid("ocds-aqp000-AQP-CH-SEALED")
    assert mine, "its tender is published"
    text = json.dumps(mine)
    assert not [b for b in copy.tenders if b in text]
    assert not [t["content_sha256"] for t in copy.tenders.values() if t["content_sha256"] in text]
    assert "numberOfTenderers" not in text and "tenderers" not in text
    assert not any(r.get("awards") for r in mine)


def test_releases_since_a_time_are_only_the_later_ones(published):
    cut = datetime(2026, 3, 1, tzinfo=timezone.utc)
    later = published.since(cut)
    assert later and len(later) < len(published.releases)
    assert all(r.data["date"] >= "2026-03-01T00:00:00" for r in later)


def notices_in(release: dict[str, Any]) -> list[dict[str, Any]]:
    return [d for d in ocds._documents(release) if d["documentType"].endswith("Notice")]


def test_the_contract_award_notice_is_a_release_of_its_own_with_the_uk6_notice_type(published):
    releases = published.by_ocid(f"ocds-aqp000-{PA2023}")
    # The first release carrying it is the notice's own (the awards carry their documents on after it).
    notice, *later = [r for r in releases if any(d.get("noticeType") == "UK6" for d in notices_in(r))]
    assert notice["tag"] == ["award"] and notice["date"].startswith("2026-04-02T09:00")
    assert later[0]["tag"] == ["awardUpdate", "tenderUpdate"]
    # The notice's own release is known as such (the pages say which notice it publishes); the later ones are not.
    assert published.notices_published()[notice["id"]] == f"FTS-2026-UK6-{PA2023}"
    assert not any(r["id"] in published.notices_published() for r in later)
    # The notice is on every award it announces, while they are pending (the standstill it begins).
    assert notice["awards"] and {a["status"] for a in notice["awards"]} == {"pending"}
    document = notice["awards"][0]["documents"][-1]
    assert document == {"id": f"FTS-2026-UK6-{PA2023}", "documentType": "awardNotice", "noticeType": "UK6",
                        "title": "Contract award notice", "datePublished": "2026-04-02T00:00:00Z"}
    # The award follows it, the notice kept on the award (ocdsmerge keeps documents by id).
    record = published.record(f"ocds-aqp000-{PA2023}")["compiledRelease"]
    assert {a["status"] for a in record["awards"]} == {"active"}
    assert all(any(d.get("noticeType") == "UK6" for d in a["documents"]) for a in record["awards"])
    package = published.release_package(uri="https://example.org/r", published=NOW, releases=[])
    package["releases"] = releases
    package["extensions"] = published.extensions_used(releases)
    assert ocds.UK_EXTENSION in package["extensions"]
    assert errors(package, "release-package-schema.json") == []


def test_a_contracts_details_and_termination_notices_are_releases_on_the_contract(published):
    ocid = "ocds-aqp000-NCC-RES-2026-ACCREDITATION"
    contract_id = f"{ocid}-contract-NCC-RES-2026/CITY/meadowview-care"
    by_code: dict[str, dict[str, Any]] = {}
    for release in published.by_ocid(ocid):  # each notice's own release: the first to carry it
        for document in notices_in(release):
            by_code.setdefault(document.get("noticeType"), release)
    by_code.pop(None, None)
    assert set(by_code) == {"UK7", "UK11"}
    assert by_code["UK7"]["tag"] == ["contract"] and by_code["UK11"]["tag"] == ["contractTermination"]
    for code, reference in (("UK7", "FTS-2026-UK7-0417"), ("UK11", "FTS-2027-UK11-0093")):
        (contract,) = by_code[code]["contracts"]
        assert contract["id"] == contract_id
        assert any(d["id"] == reference and d["noticeType"] == code for d in contract["documents"])
    # The termination notice tells of a contract already terminated; the refused early one is not there.
    assert by_code["UK11"]["contracts"][0]["status"] == "terminated"
    assert "FTS-2026-UK11-0001" not in json.dumps(published.by_ocid(ocid))


def test_a_notice_under_an_earlier_regime_is_published_without_a_uk_notice_type(published):
    psr = [d for r in published.releases for d in notices_in(r.data) if "Provider Selection Regime" in d["title"]]
    assert psr, "the London demo's PSR rounds publish their intention and confirmation notices"
    assert all("noticeType" not in d for d in psr)
    example = [d for r in published.by_ocid("ocds-aqp000-AQP-CH-2026") for d in notices_in(r)]
    assert {d["id"] for d in example} == {"CF-2026-0142-AQP", "CF-2026-0142-AWARD"}
    assert all("noticeType" not in d for d in example)


def test_a_notice_payload_is_the_release_to_send_and_changes_nothing_published(world, published):
    before = [r.data for r in ocds.publication(world).releases]
    payload = ocds.notice_payload(world, notice_type="contract_details_notice", published_on=NOW.date(), at=NOW,
                                  contract="NCC-RES-2026/CITY/meadowview-care")
    assert payload["tag"] == ["contract"] and payload["id"].startswith("ocds-aqp000-NCC-RES-2026-ACCREDITATION-notice-")
    (contract,) = payload["contracts"]
    assert contract["documents"][-1]["noticeType"] == "UK7"
    package = published.release_package(uri="https://example.org/r", published=NOW, releases=[])
    package["releases"] = [payload]
    package["extensions"] = published.extensions_used([payload])
    assert errors(package, "release-package-schema.json") == []
    assert [r.data for r in ocds.publication(world).releases] == before


@pytest.mark.parametrize(
    ("asked", "words"),
    [
        ({"notice_type": "contract_change_notice", "contract": "NCC-RES-2026/CITY/meadowview-care"}, "names the modification"),
        ({"notice_type": "award_notice", "contract": "NCC-RES-2026/CITY/meadowview-care"}, "contract's notice type is one of"),
        ({"notice_type": "contract_change_notice", "competition": PA2023, "modification": "V1"}, "competition's notice type is one of"),
        ({"notice_type": "award_notice"}, "name exactly one"),
    ],
)
def test_a_notice_payload_not_of_its_record_is_refused_in_words(world, asked, words):
    with pytest.raises(ValueError, match=words):
        ocds.notice_payload(world, published_on=NOW.date(), at=NOW, **asked)


