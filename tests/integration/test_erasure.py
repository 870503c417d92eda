"""Erasure by crypto-shredding: personal data destroyed, history intact (both stores)."""

from __future__ import annotations

from datetime import timedelta

from audit.checkpoints import KeyRing
from audit.log import AuditLog
from audit.checkpoints import Checkpoints
from audit.verify import verify
from benchmarks.workload import LEAD, OPENED_AT, open_competition
from domain.procurement import commands as c
from domain.kernel import data_subjects
from api.bootstrap import ledger_at
from domain.application import Ledger
from domain.kernel.metadata import Actor
from tests.integration.store_access import events_table, raw_connection

ADMIN = Actor(id="dpo", org="CSU", role="admin")
EVALUATOR = Actor(id="u-7731", org="ICB-NCL", role="evaluator")
BIDDER = Actor(id="bm", org="aster", role="provider")


def appoint_and_declare(ledger: Ledger) -> None:
    at = OPENED_AT
    assert ledger.handle(open_competition("AQP-PD"), LEAD, at=at).ok
    criteria = c.PublishCriteria(
        competition="AQP-PD",
        criteria=[c.CriterionSpec(id="T1", title="Quality", panel="technical", weight=100, max_score=5)],
        financial_thresholds=c.FinancialThresholds(),
    )
    assert ledger.handle(criteria, LEAD, at=at).ok
    tender = c.SubmitTender(competition="AQP-PD", lots=["NCL"], content_sha256="d" * 64, size_bytes=10)
    assert ledger.handle(tender, BIDDER, at=at + timedelta(days=1)).ok
    later = at + timedelta(days=50)
    assert ledger.handle(c.OpenTenders(competition="AQP-PD"), LEAD, at=later).ok
    appoint = c.AppointEvaluator(
        competition="AQP-PD", evaluator=EVALUATOR.id, evaluator_org=EVALUATOR.org, panel="technical",
        name="Dr Amara Patel", email="amara.patel@example.nhs.uk",
    )
    assert ledger.handle(appoint, LEAD, at=later).ok
    declare = c.DeclareConflicts(
        competition="AQP-PD",
        declarations=[c.ConflictDeclaration(bidder="aster", conflicted=True, note="My sister manages Aster's Barnet home")],
    )
    assert ledger.handle(declare, EVALUATOR, at=later).ok


def test_personal_data_is_stored_only_as_ciphertext(ledger, database_url):
    appoint_and_declare(ledger)
    state = ledger.show_competition("AQP-PD")
    assert state["evaluators"]["u-7731"]["name"] == "Dr Amara Patel"
    assert state["evaluators"]["u-7731"]["declarations"]["aster"]["note"] == "My sister manages Aster's Barnet home"
    with raw_connection(database_url) as conn:
        stored = b"".join(bytes(row[0]) for row in conn.execute(f"SELECT state FROM {events_table(database_url)}").fetchall())
    for secret in (b"Amara", b"patel@example", b"sister"):
        assert secret not in stored


def test_erasing_a_subject_leaves_history_verifiable_and_the_data_erased_everywhere(ledger, database_url, tmp_path):
    appoint_and_declare(ledger)
    ring = KeyRing(tmp_path / "keys")
    ring.init("aqp-ledger.test/log")
    log = AuditLog(ledger)
    log.catch_up()
    Checkpoints(log).write(ring.signer())

    refused = ledger.handle(data_subjects.ErasePersonalData(subject="u-7731"), ADMIN, at=OPENED_AT + timedelta(days=60))
    assert refused.error.code == "reason_required"
    erased = ledger.handle(
        data_subjects.ErasePersonalData(subject="u-7731", reason="Article 17 request DPO-2026-014"), ADMIN, at=OPENED_AT + timedelta(days=60)
    )
    assert erased.ok and erased.events[0].type == "DataSubject.Erased"

    for reader in (ledger, ledger_at(database_url)):  # this process, and a fresh one
        evaluator = reader.show_competition("AQP-PD")["evaluators"]["u-7731"]
        assert evaluator["name"] == "[erased]" and evaluator["email"] == "[erased]"
        assert evaluator["declarations"]["aster"] == {**evaluator["declarations"]["aster"], "note": "[erased]", "conflicted": True}
    log.catch_up()
    assert verify(ledger, ring.verifier_keys()).ok
    with raw_connection(database_url) as conn:
        (erasure_state,) = [
            bytes(r[0]) for r in conn.execute(f"SELECT state FROM {events_table(database_url)} WHERE topic LIKE '%DataSubject.Erased'").fetchall()
        ]
    assert b"Amara" not in erasure_state and b"DPO-2026-014" in erasure_state


def test_only_an_admin_may_erase(ledger):
    result = ledger.handle(data_subjects.ErasePersonalData(subject="u-7731", reason="x"), LEAD, at=OPENED_AT)
    assert result.error.code == "not_permitted"


HOME = "1-1000000001"


def home_with_contact(ledger: Ledger) -> None:
    from api.scenario import apply_lines  # noqa: PLC0415
    from domain.providers import commands as pc  # noqa: PLC0415
    from tests.e2e.http_server import ROOT  # noqa: PLC0415

    imports = [line for line in (ROOT / "scenarios" / "monthly-returns.jsonl").read_text().splitlines() if '"location.import_cqc"' in line]
    assert all(o.met for o in apply_lines(ledger, imports))
    added = pc.AddLocationContact(location=HOME, contact="c-7", role="deputy manager", name="Grace Adeyemi", email="grace@example.org")
    assert ledger.handle(added, ADMIN).ok


def contact(reader: Ledger) -> dict:
    from domain.providers.location import Location  # noqa: PLC0415
    from domain.providers.views import location_state  # noqa: PLC0415

    return location_state(reader.aggregate(Location, HOME))["contacts"]["c-7"]


def test_an_erasure_by_another_ledger_on_the_store_shows_in_this_ones_next_read(ledger, database_url):
    """Two processes on one store, as the API server and `aqp gdpr erase` are: the one that
    did not erase has read the person's data (and holds their key) before the erasure."""
    home_with_contact(ledger)
    assert contact(ledger)["name"] == "Grace Adeyemi"
    other = ledger_at(database_url)
    try:
        assert other.handle(data_subjects.ErasePersonalData(subject="c-7", reason="DPO-2026-101"), ADMIN).ok
    finally:
        other.close()
    assert contact(ledger)["name"] == contact(ledger)["email"] == "[erased]"


def test_data_recorded_after_another_ledgers_erasure_is_kept_under_a_new_key(ledger, database_url):
    """The ledger that held the erased key must not write new data under it: no one could read it."""
    from domain.providers import commands as pc  # noqa: PLC0415

    home_with_contact(ledger)
    assert contact(ledger)["name"] == "Grace Adeyemi"
    other = ledger_at(database_url)
    try:
        assert other.handle(data_subjects.ErasePersonalData(subject="c-7", reason="DPO-2026-102"), ADMIN).ok
        # The person comes back (a new job at the home) and their new details are recorded here.
        changed = pc.ChangeLocationContact(location=HOME, contact="c-7", role="manager", name="Grace Adeyemi-Cole", email="g.cole@example.org")
        assert ledger.handle(changed, ADMIN).ok
        fresh = ledger_at(database_url)
        for reader in (ledger, other, fresh):
            assert contact(reader)["name"] == "Grace Adeyemi-Cole"
        fresh.close()
    finally:
        other.close()
