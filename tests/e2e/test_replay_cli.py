"""An auditor replays history with the `aqp` command: real processes against real stores."""

from __future__ import annotations

import csv
import io
import json

from tests.e2e.test_cli import SCENARIO, aqp

BEFORE_OPENING = "2026-02-20T13:00:00Z"


def test_an_auditor_shows_replays_and_diffs_history_from_the_command_line(database_url):
    assert aqp("apply", str(SCENARIO), database_url=database_url).returncode == 0

    shown = aqp("show", "competition", "AQP-CH-2026", "--as-of", BEFORE_OPENING, database_url=database_url)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["status"] == "open"

    replayed = aqp("replay", "--as-of", BEFORE_OPENING, "--projection", "competitions", database_url=database_url)
    assert replayed.returncode == 0, replayed.stderr
    document = json.loads(replayed.stdout)
    assert document["projection"] == "competitions" and document["as_of"] == "2026-02-20T13:00:00+00:00"
    (row,) = document["rows"]
    assert (row["reference"], row["status"], row["tenders"]) == ("AQP-CH-2026", "open", None)

    as_csv = aqp(
        "replay", "--as-of", "2026-04-20T00:00:00Z", "--projection", "competitions", "--format", "csv",
        database_url=database_url,
    )
    assert as_csv.returncode == 0, as_csv.stderr
    (awarded,) = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert (awarded["status"], awarded["tenders"], awarded["awarded_lots"]) == ("awarded", "13", "3")

    changed = aqp(
        "diff", "competition", "AQP-CH-2026", "--from", "2026-02-22T00:00:00Z", "--to", "2026-02-24T00:00:00Z",
        database_url=database_url,
    )
    assert changed.returncode == 0, changed.stderr
    result = json.loads(changed.stdout)
    assert {"path": "status", "change": "changed", "from": "open", "to": "evaluation"} in result["changes"]
    assert [e["version"] for e in result["events"]] == [24, 25, 26, 27, 28]

    listing = aqp(
        "diff", "competition", "AQP-CH-2026", "--from", "2026-02-22T00:00:00Z", "--to", "2026-02-24T00:00:00Z",
        "--format", "text", database_url=database_url,
    )
    assert listing.returncode == 0, listing.stderr
    assert "  status: open -> evaluation\n" in listing.stdout
    assert "Competition.TendersOpened  by j.okafor (NEL-CSU, procurement_lead)" in listing.stdout


def test_show_works_for_every_kind_of_record(database_url, tmp_path):
    erase = {
        "actor": {"id": "dpo", "org": "NEL-CSU", "role": "admin"}, "at": "2026-06-01T09:00:00Z",
        "command": {"type": "personal_data.erase", "subject": "dr.a.patel", "reason": "Erasure request ER-7"},
    }
    scenario = tmp_path / "erase.jsonl"
    scenario.write_text(json.dumps(erase) + "\n")
    assert aqp("apply", str(scenario), database_url=database_url).returncode == 0
    shown = aqp("show", "data_subject", "dr.a.patel", database_url=database_url)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["erasures"] == 1
    before = aqp("show", "data_subject", "dr.a.patel", "--as-of", "2026-05-01T00:00:00Z", database_url=database_url)
    assert before.returncode == 1
    assert before.stderr.strip() == "aqp show: There is no data subject dr.a.patel as of 2026-05-01T00:00:00+00:00."


def test_replay_and_diff_errors_are_one_sentence_and_exit_1(tmp_path):
    url = f"sqlite:///{tmp_path}/l.db"
    window = ("--from", "2026-01-01T00:00:00Z", "--to", "2026-02-01T00:00:00Z")
    cases = [
        (("diff", "competition", "NOPE", *window), "aqp diff: There is no competition NOPE as of 2026-02-01T00:00:00+00:00."),
        (
            ("diff", "competition", "NOPE", "--from", "2026-03-01T00:00:00Z", "--to", "2026-02-01T00:00:00Z"),
            "aqp diff: The start of a diff must not be after its end.",
        ),
        # (the lists of kinds and read models that end these sentences grow)
        (("diff", "spaceship", "S-1", *window), "aqp diff: There is no kind of record called spaceship; the kinds are "),
        (
            ("replay", "--as-of", "2026-01-01T00:00:00Z", "--projection", "spaceships"),
            "aqp replay: There is no read model called spaceships; the read models are ",
        ),
    ]
    for args, sentence in cases:
        run = aqp(*args, database_url=url)
        assert (run.returncode, run.stdout, len(run.stderr.splitlines())) == (1, "", 1), args
        assert run.stderr.startswith(sentence), args
