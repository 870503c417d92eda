"""The procurement report: built from the events, checked offline by the standalone verifier
(run as its own process with only the public key), on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.utils import get_topic

from audit.bundle import record_and_proof
from audit.checkpoints import Checkpoints
from audit.defence_pack import build_pack
from audit.log import AuditLog
from audit.signing import Ed25519NoteSigner
from domain.application import Ledger
from domain.kernel import data_subjects
from domain.kernel.errors import NotFound, RuleBroken
from domain.kernel.metadata import Actor
from domain.procurement.competition import Competition
from scenarios import demo
from tests.browser.site import SMALL_LONDON
from tests.e2e.http_server import competition_copy, pa2023_copy
from tests.integration.machinery import apply

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "london-aqp-care-homes-2026.jsonl"
REFERENCE = "AQP-CH-2026"
AUDITOR = Actor(id="a.reid", org="NAO", role="auditor")
LEAD = Actor(id="j.okafor", org="NEL-CSU", role="procurement_lead")
ORIGIN = "test.aqp/log"


@pytest.fixture
def signer() -> Ed25519NoteSigner:
    return Ed25519NoteSigner.generate(ORIGIN)


@pytest.fixture
def procured(ledger: Ledger) -> Ledger:
    apply(ledger, SCENARIO.read_text().splitlines())
    return ledger


def verify(pack: dict[str, Any], signer: Ed25519NoteSigner, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The standalone verifier on the pack, in its own process, with the public key alone."""
    out = tmp_path / "pack"
    out.mkdir(exist_ok=True)
    (out / "pack.json").write_text(json.dumps(pack), encoding="utf-8")
    key = tmp_path / "verifier-keys.txt"
    key.write_text(signer.verifier_key() + "\n")
    return subprocess.run(
        [sys.executable, "-m", "audit.verifier", "pack", str(out), "--key", str(key)],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )


def pack_of(ledger: Ledger, signer: Ed25519NoteSigner, reader: Actor = AUDITOR, **scope: Any) -> dict[str, Any]:
    return build_pack(ledger, REFERENCE, reader, signer=signer, origin=ORIGIN, writes=True, **scope)


def fact_citing(pack: dict[str, Any], position: int) -> str:
    for section in pack["sections"]:
        for fact in section["facts"]:
            if position in fact["cites"]:
                return f"{section['id']}/{fact['id']}"
    raise AssertionError(f"no fact cites {position}")


def test_the_example_competitions_pack_verifies_offline_fact_by_fact(procured, signer, tmp_path):
    pack = pack_of(procured, signer)
    sections = {s["id"]: s for s in pack["sections"]}
    assert all(sections[k]["facts"] for k in ("subject", "criteria", "documents", "clarifications", "tenders", "panels",
                                              "compliance", "financial", "scores", "outcome", "letters", "challenges", "award"))
    # Every fact is footnoted to its events, who did each, and why.
    notes = [pack["events"][str(n)]["footnote"] for s in pack["sections"] for f in s["facts"] for n in f["cites"]]
    assert all(n["who"] and n["role"] and n["org"] and n["when"] for n in notes)
    moderation = next(f for f in sections["scores"]["facts"] if "moderated" in f["statement"])
    assert moderation["values"]["individual"] == {"dr.a.patel": 2, "r.hughes": 3, "s.mensah": 4}
    # An auditor reads the evaluators' names (their ciphertext is in the leaf).
    appointed = next(f for f in sections["panels"]["facts"] if f["values"].get("evaluator") == "dr.a.patel" and "name" in f["values"])
    assert appointed["values"]["name"] == "Dr Anita Patel"

    checked = verify(pack, signer, tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "recomputation/0: aster-care-homes recomputes to weighted score 88.00, equal to the decided one" in checked.stdout
    assert "scores: 141 fact(s) verified" in checked.stdout
    assert checked.stdout.splitlines()[-1].startswith(f"OK: {sum(len(s['facts']) for s in pack['sections'])} facts")


def _flip_state_byte(pack: dict[str, Any], position: int, old: bytes, new: bytes) -> None:
    record = pack["events"][str(position)]["record"]
    state = base64.b64decode(record["state"])
    assert old in state
    record["state"] = base64.b64encode(state.replace(old, new, 1)).decode("ascii")


def test_a_flipped_byte_in_a_cited_event_a_value_a_statement_or_a_proof_fails_naming_the_fact(procured, signer, tmp_path):
    pack = pack_of(procured, signer)
    assert verify(pack, signer, tmp_path).returncode == 0
    scores = next(s for s in pack["sections"] if s["id"] == "scores")
    first_score = scores["facts"][0]
    position = first_score["cites"][0]
    where = fact_citing(pack, position)

    # A byte of the stored event (its score) changes: its leaf no longer leads to the signed root.
    stored = copy.deepcopy(pack)
    _flip_state_byte(stored, position, b'"score":4', b'"score":5')
    failed = verify(stored, signer, tmp_path)
    assert failed.returncode == 1
    assert f"FAILED: fact {where} does not hold: event {position} is not in the signed log" in failed.stderr

    # A fact's value no longer equals the field of the event it claims.
    valued = copy.deepcopy(pack)
    next(s for s in valued["sections"] if s["id"] == "scores")["facts"][0]["values"]["score"] = 5
    failed = verify(valued, signer, tmp_path)
    assert failed.returncode == 1
    assert f"FAILED: fact scores/{first_score['id']} does not hold: its value 'score' is 5, but event {position} says 4" in failed.stderr

    # A footnote that names somebody else as the one who scored.
    footnoted = copy.deepcopy(pack)
    footnoted["events"][str(position)]["footnote"]["who"] = "someone.else"
    failed = verify(footnoted, signer, tmp_path)
    assert failed.returncode == 1
    assert f"FAILED: fact {where} does not hold: event {position}'s footnote says who 'someone.else'" in failed.stderr

    # A word of a statement: the fact is no longer the one the ledger signed.
    worded = copy.deepcopy(pack)
    fact = next(s for s in worded["sections"] if s["id"] == "award")["facts"][0]
    fact["statement"] = fact["statement"].replace("awarded", "refused")
    failed = verify(worded, signer, tmp_path)
    assert failed.returncode == 1
    assert f"FAILED: fact award/{fact['id']} does not hold: it is not what the ledger signed" in failed.stderr

    # A hash of a proof.
    proved = copy.deepcopy(pack)
    proof = proved["events"][str(position)]["inclusion_proof"]
    raw = bytearray(base64.b64decode(proof[0]))
    raw[0] ^= 1
    proof[0] = base64.b64encode(bytes(raw)).decode("ascii")
    failed = verify(proved, signer, tmp_path)
    assert failed.returncode == 1
    assert f"FAILED: fact {where} does not hold: event {position} is not in the signed log" in failed.stderr

    # A score event swapped into the recomputation for another bidder's.
    recomputed = copy.deepcopy(pack)
    recomputed["recomputations"][0]["score_events"][0] = recomputed["recomputations"][1]["score_events"][0]
    failed = verify(recomputed, signer, tmp_path)
    assert failed.returncode == 1 and "FAILED: fact recomputation/0 does not hold" in failed.stderr

    # A score left out of the recomputation: the mean it gives is not the decided score.
    partial = copy.deepcopy(pack)
    dropped = partial["recomputations"][0]["score_events"].pop(0)
    criterion = json.loads(base64.b64decode(pack["events"][str(dropped)]["record"]["state"]))["criterion"]
    failed = verify(partial, signer, tmp_path)
    assert failed.returncode == 1
    assert f"FAILED: fact recomputation/0 does not hold: {criterion} recomputes to" in failed.stderr

    # The moderation left out: the individual scores spread too wide to agree.
    cedar = next(i for i, r in enumerate(pack["recomputations"]) if r["bidder"] == "cedar-lodge-care")
    unmoderated = copy.deepcopy(pack)
    unmoderated["recomputations"][cedar]["moderation_events"] = []
    failed = verify(unmoderated, signer, tmp_path)
    assert failed.returncode == 1
    assert f"recomputation/{cedar} does not hold: no score for T2 is cited" in failed.stderr

    # The checkpoint: its signature no longer holds, so nothing in the pack can be proven.
    signed = copy.deepcopy(pack)
    lines = signed["checkpoint"].split("\n")
    lines[1] = str(int(lines[1]) + 1)
    signed["checkpoint"] = "\n".join(lines)
    failed = verify(signed, signer, tmp_path)
    assert failed.returncode == 1 and "does not verify" in failed.stderr


def test_a_tampered_decided_score_fails_the_recomputation_even_in_an_unsigned_pack(procured, signer, tmp_path):
    pack = pack_of(procured, signer)
    pack["signature"] = None
    checked = verify(pack, signer, tmp_path)
    assert checked.returncode == 0 and "wording: NOT signed" in checked.stdout
    # The standstill's calendar: a Saturday counted as a working day.
    calendar = copy.deepcopy(pack)
    saturday = next(d for d in calendar["standstill_days"]["days"] if d["weekday"] == "Saturday")
    saturday["working_day"] = True
    failed = verify(calendar, signer, tmp_path)
    assert failed.returncode == 1
    assert f"FAILED: fact standstill does not hold: it counts {saturday['day']}, a Saturday, as a working day" in failed.stderr
    # Its last day (Monday 13 April 2026: sent on the 1st, ten days on is a Saturday) not a working day by its calendar.
    holiday = copy.deepcopy(pack)
    assert holiday["standstill_days"]["days"][-1]["day"] == "2026-04-13"
    holiday["standstill_days"]["days"][-1]["working_day"] = False
    failed = verify(holiday, signer, tmp_path)
    assert failed.returncode == 1 and "FAILED: fact standstill does not hold: its calendar does not reach the last day" in failed.stderr

    decided = pack["recomputations"][0]["decided_event"]
    _flip_state_byte(pack, decided, b'"weighted_score":"88.00"', b'"weighted_score":"98.00"')
    failed = verify(pack, signer, tmp_path)
    assert failed.returncode == 1 and f"event {decided} is not in the signed log" in failed.stderr


def test_a_bidders_pack_holds_nothing_of_another_unsuccessful_bidder(procured, signer, tmp_path):
    outcome = procured.competition(REFERENCE).outcome
    unsuccessful = sorted({b for lot in outcome["lots"].values() for b in lot["unsuccessful"]} - {
        b for lot in outcome["lots"].values() for b in lot["successful"]})
    assert len(unsuccessful) >= 2
    for bidder in (unsuccessful[0], "aster-care-homes"):
        reader = Actor(id=f"bm-{bidder}", org=bidder, role="provider")
        pack = pack_of(procured, signer, reader)
        assert pack["for_bidder"] == bidder
        carried = [base64.b64decode(e["record"]["state"]).decode() for e in pack["events"].values() if e["record"]]
        text = json.dumps(pack) + "".join(carried)
        for other in unsuccessful:
            if other != bidder:
                assert other not in text, f"{bidder}'s pack names {other}"
        letters = next(s for s in pack["sections"] if s["id"] == "letters")["facts"]
        assert letters and all(f["values"].get("bidder", bidder) == bidder for f in letters)
        assert not any(s["facts"] for s in pack["sections"] if s["id"] in ("scores", "panels", "compliance", "financial"))
        checked = verify(pack, signer, tmp_path)
        assert checked.returncode == 0, checked.stderr
        assert f"for bidder {bidder}" in checked.stdout
    # The lead may have it to send it; the same pack.
    assert pack_of(procured, signer, LEAD, for_bidder="aster-care-homes")["sections"] == pack["sections"]


def test_a_competition_without_an_outcome_says_what_it_lacks(ledger, signer):
    lines = SCENARIO.read_text().splitlines()
    before = next(i for i, line in enumerate(lines) if '"outcome.decide"' in line and '"expect"' not in line)
    apply(ledger, lines[:before])
    with pytest.raises(RuleBroken) as refused:
        pack_of(ledger, signer)
    assert refused.value.code == "outcome_not_decided"
    assert "AQP-CH-2026 has no outcome yet" in refused.value.message
    assert "the outcome decided" in refused.value.message


def test_a_reader_who_may_not_have_the_pack_gets_not_found(procured, signer):
    for reader, scope in [
        (Actor(id="x.lead", org="WEST-CSU", role="procurement_lead"), {}),   # another authority's round
        (Actor(id="ncl", org="ICB-NCL", role="commissioner"), {}),           # a partner, who does not read the working
        (Actor(id="bm-aster-care-homes", org="aster-care-homes", role="provider"), {"for_bidder": "damson-healthcare"}),
        (Actor(id="bm-nobody", org="never-tendered", role="provider"), {}),
    ]:
        with pytest.raises(NotFound):
            pack_of(procured, signer, reader, **scope)


def test_a_lot_pack_holds_only_that_lots_tenderers(procured, signer, tmp_path):
    pack = pack_of(procured, signer, lot="SWL")
    tenders = procured.competition(REFERENCE).tenders
    outside = {b for b, t in tenders.items() if "SWL" not in t["lots"]}
    assert outside
    named = {f["values"]["bidder"] for s in pack["sections"] for f in s["facts"] if "bidder" in f["values"]}
    assert named and not named & outside
    assert verify(pack, signer, tmp_path).returncode == 0


def test_a_london_demo_rounds_pack_verifies_offline(ledger, signer, tmp_path):
    demo.build(ledger, **SMALL_LONDON)
    opened = [n for n in ledger.notification_log.select(start=1, limit=1000, topics=[get_topic(Competition.Opened)])]
    assert opened
    reference = json.loads(opened[0].state)["reference"]
    pack = build_pack(ledger, reference, AUDITOR, signer=signer, origin=ORIGIN, writes=True)
    assert pack["recomputations"]
    checked = verify(pack, signer, tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "equal to the decided one" in checked.stdout


def test_an_erased_evaluator_reads_erased_and_the_pack_still_verifies(procured, signer, tmp_path):
    admin = Actor(id="dpo", org="NEL-CSU", role="admin")
    erased = procured.handle(data_subjects.ErasePersonalData(subject="dr.a.patel", reason="Article 17 request DPO-2026-021"), admin)
    assert erased.ok, erased.error
    pack = pack_of(procured, signer)
    appointed = [f for s in pack["sections"] if s["id"] == "panels" for f in s["facts"] if f["values"].get("evaluator") == "dr.a.patel" and "name" in f["values"]]
    assert appointed and all(f["values"]["name"] == "[erased]" for f in appointed)
    checked = verify(pack, signer, tmp_path)
    assert checked.returncode == 0, checked.stderr
    # The claim is that the field holds the subject's ciphertext: a field holding none fails.
    claim = next(c for c in appointed[0]["claims"] if c.get("personal"))
    claim["path"] = ["evaluator"]
    failed = verify(pack, signer, tmp_path)
    assert failed.returncode == 1 and "claims personal data" in failed.stderr


def test_an_event_of_another_competition_however_like_does_not_stand_in_for_this_ones(ledger, signer, tmp_path):
    apply(ledger, SCENARIO.read_text().splitlines())
    competition_copy(ledger, "AQP-CH-2099", before="outcome.decide")
    pack = pack_of(ledger, signer)
    pack["signature"] = None  # without the ledger's signature, only the events vouch for the facts
    documents = next(s for s in pack["sections"] if s["id"] == "documents")["facts"]
    fact = documents[0]
    (mine,) = fact["cites"]
    copied = next(
        n.id for n in ledger.notification_log.select(start=1, limit=1000, topics=[get_topic(Competition.DocumentPublished)])
        if json.loads(n.state)["document"] == fact["values"]["document"] and n.originator_id == Competition.id_for("AQP-CH-2099")
    )
    log = AuditLog(ledger)
    checkpoint = Checkpoints(log).latest()
    substitute = record_and_proof(log, checkpoint, copied)
    substitute["footnote"] = {**pack["events"][str(mine)]["footnote"], "position": copied}
    pack["events"][str(copied)] = substitute
    fact["cites"] = [copied]
    for claim in fact["claims"]:
        claim["event"] = copied
    if json.loads(base64.b64decode(substitute["record"]["state"]))["meta"]["recorded_at"] != fact["values"]["when"]:
        fact["values"]["when"] = json.loads(base64.b64decode(substitute["record"]["state"]))["meta"]["recorded_at"]
        substitute["footnote"]["when"] = fact["values"]["when"]
    failed = verify(pack, signer, tmp_path)
    assert failed.returncode == 1
    assert f"FAILED: fact documents/{fact['id']} does not hold: event {copied} is of record" in failed.stderr


def test_a_procurement_act_pack_counts_the_standstill_from_the_contract_award_notice(ledger, signer, tmp_path):
    apply(ledger, SCENARIO.read_text().splitlines())
    pa2023_copy(ledger, "AQP-CH-2026-PA")
    pack = build_pack(ledger, "AQP-CH-2026-PA", AUDITOR, signer=signer, origin=ORIGIN, writes=True)
    days = pack["standstill_days"]
    # The letters went on Wednesday 1 April; the notice on Thursday 2 April begins it (s.51), and
    # 8 working days beginning with that day, across Easter, end on Wednesday 15 April.
    assert (days["counted_from"], days["letters_sent_on"], days["begins_on"], days["last_day"]) == (
        "notice", "2026-04-01", "2026-04-02", "2026-04-15")
    assert days["days"][0] == {"day": "2026-04-02", "weekday": "Thursday", "working_day": True, "counts": True}
    assert sum(1 for d in days["days"] if d["counts"]) == 8 and not any(d["counts"] for d in days["days"] if not d["working_day"])
    (notice,) = [f for s in pack["sections"] if s["id"] == "letters" for f in s["facts"] if "begins the standstill" in f["statement"]]
    assert "(Procurement Act 2023 s.51)" in notice["statement"]
    assert notice["values"]["last_day"] == "2026-04-15" and notice["values"]["notice_reference"] == "FTS-2026-UK6-AQP-CH-2026-PA"
    checked = verify(pack, signer, tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "from the notice of 2026-04-02, counted by the pa2023 rule to 2026-04-15" in checked.stdout

    # Counted from the letters (a day shorter), even unsigned, the pack fails: it carries the notice.
    letters = next(f["cites"][0] for s in pack["sections"] if s["id"] == "letters" for f in s["facts"] if "Letters sent" in f["statement"])
    forged = copy.deepcopy(pack)
    forged["signature"] = None
    state = forged["events"][str(letters)]["record"]["state"]
    forged["standstill_days"].update(counted_from="letters", begins_on="2026-04-01", event=letters,
                                     last_day=json.loads(base64.b64decode(state))["standstill_last_day"])
    forged["standstill_days"]["days"] = [
        {"day": "2026-04-01", "weekday": "Wednesday", "working_day": True, "counts": False}, *days["days"][:-1]]
    failed = verify(forged, signer, tmp_path)
    assert failed.returncode == 1
    assert "FAILED: fact standstill does not hold: it counts from the letters, but the pack carries the notice" in failed.stderr
    # A last day a day short of the notice's own fails against the notice event.
    short = copy.deepcopy(pack)
    short["signature"] = None
    short["standstill_days"]["last_day"] = "2026-04-14"
    short["standstill_days"]["days"] = days["days"][:-1]
    failed = verify(short, signer, tmp_path)
    assert failed.returncode == 1 and "its first or last day is not the notice event's" in failed.stderr
