"""Contracts Finder's real OCDS releases taken in as past notices, on both stores.

The samples are real data no one here wrote (../shared/ocds/samples/SOURCE.md): 100 releases with
one real publisher defect (releases[22], tender.status "InvalidStatus"), one release alone, and a
Mexican record package whose one embedded release has `tender.submissionMethod` [null].
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from api.ocds_import import import_file
from audit.ocds import MERGER
from domain.kernel.metadata import Actor
from domain.past_notices.commands import NoticeSource, TakePastNotice
from domain.past_notices.procurement import PastProcurement
from projections import follow
from projections.past_notices import PastNotices
from tests.shared import shared_file

SYSTEM = Actor(id="ocds-import", org="aqp-ledger", role="system")
EVALUATOR = Actor(id="ev", org="NEL-CSU", role="evaluator")
AT = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
LATER = datetime(2026, 3, 3, 9, tzinfo=timezone.utc)
HUNDRED = "uk-contracts-finder_release-package_2022-10-20_100releases.json"
ONE = "uk-contracts-finder_release-package_2022-10-18_1release.json"
MEXICO = "mexico-sfp-apf_record-package_ocds-07smqs-993235.json"
DEFECTIVE = "ocds-b5fd17-9acd68ad-792b-4018-834f-ae3b047c8a7d"


def sample(name: str) -> Path:
    return shared_file("ocds", "samples", name)


def stored_events(ledger) -> int:
    return ledger.max_position()


def test_the_hundred_releases_are_taken_but_the_one_with_an_invalid_tender_status(ledger):
    report = import_file(ledger, sample(HUNDRED), SYSTEM, AT)
    assert (report.outcome, report.kind) == ("read", "release_package")
    assert (report.count("taken"), report.count("held"), report.count("refused")) == (99, 0, 1)
    (refused,) = [r for r in report.releases if r.outcome == "refused"]
    assert (refused.index, refused.position, refused.ocid, refused.code) == (22, "releases/22", DEFECTIVE, "release_invalid")
    assert refused.release == "b5796912-1ffd-446f-abb4-82cc5e7654b3-582334"
    (problem,) = refused.problems
    assert (problem.path, problem.rule) == ("tender/status", "enum")
    assert '"InvalidStatus"' in problem.message and "planning, planned, active" in problem.message
    # Each taken release is held exactly as published, with the SHA-256 of its text and its source.
    package = json.loads(sample(HUNDRED).read_bytes())
    first = package["releases"][0]
    held = ledger.aggregate(PastProcurement, first["ocid"]).releases[first["id"]]
    assert json.loads(held["release"]) == first
    assert held["source"]["uri"] == package["uri"] and held["source"]["publisher"] == package["publisher"]
    assert (held["source"]["license"], held["source"]["published_date"]) == (package["license"], package["publishedDate"])
    assert held["source"]["position"] == "releases/0"


def test_importing_again_takes_nothing_and_says_each_is_held(ledger):
    import_file(ledger, sample(HUNDRED), SYSTEM, AT)
    before = stored_events(ledger)
    again = import_file(ledger, sample(HUNDRED), SYSTEM, LATER)
    assert (again.count("taken"), again.count("held"), again.count("refused")) == (0, 99, 1)
    assert stored_events(ledger) == before


def test_the_one_release_sample_is_taken(ledger):
    report = import_file(ledger, sample(ONE), SYSTEM, AT)
    assert [(r.outcome, r.position) for r in report.releases] == [("taken", "releases/0")]
    release = json.loads(sample(ONE).read_bytes())["releases"][0]
    assert list(ledger.aggregate(PastProcurement, release["ocid"]).releases) == [release["id"]]


def test_the_mexican_record_package_is_read_by_its_embedded_release_which_is_refused_for_its_defect(ledger):
    report = import_file(ledger, sample(MEXICO), SYSTEM, AT)
    assert (report.outcome, report.kind) == ("read", "record_package")
    (release,) = report.releases
    assert (release.outcome, release.position, release.ocid, release.release) == ("refused", "records/0/releases/0", "ocds-07smqs-993235", "993235")
    assert [(p.path, p.rule) for p in release.problems] == [("tender/submissionMethod/0", "type")]
    assert "must be text, not null" in release.problems[0].message
    # The publisher's own compilation has the same defect: noted, never taken (the ledger compiles its own).
    assert [n.path for n in report.notes] == ["records/0/compiledRelease/tender/submissionMethod/0"]
    assert stored_events(ledger) == 0


def test_a_release_with_the_same_id_and_other_content_is_refused_and_changes_nothing(ledger, tmp_path):
    import_file(ledger, sample(ONE), SYSTEM, AT)
    package = json.loads(sample(ONE).read_bytes())
    release = package["releases"][0]
    release["tender"]["title"] = release["tender"]["title"] + " (edited)"
    altered = tmp_path / "altered.json"
    altered.write_text(json.dumps(package), encoding="utf-8")
    before = stored_events(ledger)
    (outcome,) = import_file(ledger, altered, SYSTEM, LATER).releases
    assert (outcome.outcome, outcome.code, outcome.release) == ("refused", "release_changed", release["id"])
    assert stored_events(ledger) == before
    # The same content written another way (indented, keys reordered) is the same release: held.
    relaid = tmp_path / "relaid.json"
    relaid.write_text(json.dumps(json.loads(sample(ONE).read_bytes()), indent=2, sort_keys=True), encoding="utf-8")
    assert [r.outcome for r in import_file(ledger, relaid, SYSTEM, LATER).releases] == ["held"]


def test_files_that_are_not_packages_are_refused_whole_naming_the_file(ledger, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"releases": [', encoding="utf-8")
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]", encoding="utf-8")
    no_publisher = tmp_path / "no-publisher.json"
    package = json.loads(sample(ONE).read_bytes())
    del package["publisher"]
    no_publisher.write_text(json.dumps(package), encoding="utf-8")
    reports = {p.name: import_file(ledger, p, SYSTEM, AT) for p in (broken, listed, no_publisher, tmp_path / "absent.json")}
    assert {n: r.outcome for n, r in reports.items()} == {
        "broken.json": "unreadable", "list.json": "not_a_package", "no-publisher.json": "package_invalid", "absent.json": "unreadable"}
    assert all(n in r.message for n, r in reports.items())
    assert [(p.path, p.rule) for p in reports["no-publisher.json"].problems] == [("publisher", "required")]
    assert stored_events(ledger) == 0


def test_a_release_missing_required_fields_or_with_a_wrong_tag_is_refused_and_the_rest_taken(ledger, tmp_path):
    package = json.loads(sample(HUNDRED).read_bytes())
    package["releases"] = package["releases"][:3]
    del package["releases"][0]["date"]
    package["releases"][1]["tag"] = ["tender", "notATag"]
    mixed = tmp_path / "mixed.json"
    mixed.write_text(json.dumps(package), encoding="utf-8")
    report = import_file(ledger, mixed, SYSTEM, AT)
    assert [r.outcome for r in report.releases] == ["refused", "refused", "taken"]
    assert [(p.path, p.rule) for p in report.releases[0].problems] == [("date", "required")]
    assert [(p.path, p.rule) for p in report.releases[1].problems] == [("tag/1", "enum")]


def test_who_may_import_is_decided_by_access_and_a_refusal_records_nothing(ledger):
    report = import_file(ledger, sample(ONE), EVALUATOR, AT)
    assert [(r.outcome, r.code) for r in report.releases] == [("refused", "not_permitted")]
    assert stored_events(ledger) == 0
    lead = Actor(id="lead", org="NEL-CSU", role="procurement_lead")
    assert [r.outcome for r in import_file(ledger, sample(ONE), lead, AT).releases] == ["taken"]


def test_a_compiled_record_is_ocdsmerges_compilation_of_the_releases_held(ledger):
    import_file(ledger, sample(HUNDRED), SYSTEM, AT)
    package = json.loads(sample(HUNDRED).read_bytes())
    by_ocid: dict[str, list] = {}
    for i, r in enumerate(package["releases"]):
        if i != 22:
            by_ocid.setdefault(r["ocid"], []).append(r)
    chained = [ocid for ocid, releases in by_ocid.items() if len(releases) > 1]
    assert chained
    from api.http.past_notices import past_notice_for

    class Service:
        pass

    service = Service()
    service.ledger = ledger
    for ocid in chained:
        answer = past_notice_for(service, ocid)
        assert answer["compiled_release"] == MERGER.create_compiled_release(by_ocid[ocid])
        assert [r["id"] for r in answer["releases"]] == [r["id"] for r in sorted(by_ocid[ocid], key=lambda r: datetime.fromisoformat(r["date"]))]


def test_the_read_model_finds_a_care_notice_by_a_word_of_its_title_and_rebuilds_exactly(ledger):
    import_file(ledger, sample(HUNDRED), SYSTEM, AT)
    import_file(ledger, sample(ONE), SYSTEM, AT)
    view = follow.live_view(ledger, PastNotices)
    follow.catch_up(ledger, PastNotices(view), page_size=7)
    found = view.select("past_notices", any_of=(({"title": ("contains", "crisis beds")},),))
    assert [(r["buyer"], r["cpv"]) for r in found] == [("NHS Arden and GEM CSU", "85100000")]
    rows = {r["ocid"]: r for r in view.rows()}
    assert len(rows) == len({r["ocid"] for i, r in enumerate(json.loads(sample(HUNDRED).read_bytes())["releases"]) if i != 22} |
                            {json.loads(sample(ONE).read_bytes())["releases"][0]["ocid"]})
    with follow.scratch_view(PastNotices) as fresh:
        follow.catch_up(ledger, PastNotices(fresh))
        assert fresh.select("past_notices", columns=[c.name for c in PastNotices.tables[0].columns]) == view.select(
            "past_notices", columns=[c.name for c in PastNotices.tables[0].columns])


def test_a_release_sent_as_a_command_is_checked_against_the_whole_schema_as_the_importer_checks_it(ledger):
    """Whoever sends `past_notice.take` (a procurement lead through POST /commands, not the importer),
    the ledger checks the release in full: the sample's InvalidStatus release is refused naming
    tender/status, and nothing is recorded."""
    package = json.loads(shared_file("ocds", "samples", "uk-contracts-finder_release-package_2022-10-20_100releases.json").read_text(encoding="utf-8"))
    defective = package["releases"][22]
    before = ledger.recorder.max_notification_id() or 0
    source = NoticeSource(uri=package["uri"], publisher=package["publisher"], published_date=package["publishedDate"],
                          package_sha256="0" * 64, position="releases/22")
    take = TakePastNotice(release=json.dumps(defective), source=source)
    refused = ledger.handle(take, Actor(id="lead", org="NEL-CSU", role="procurement_lead"))
    assert not refused.ok and refused.error.code == "enum"
    assert [f.field for f in refused.error.fields] == ["release/tender/status"]
    assert (ledger.recorder.max_notification_id() or 0) == before
