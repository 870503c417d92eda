"""A proof asked for by record and version (`competition/AQP-0003@2`) is the proof of that stored event.

Found through the events table's key, not by reading the log: the bundle must be the one
asked for by position, for every event of the history, on both stores; a record or a
version the ledger does not hold is refused in words.
"""

from __future__ import annotations

import pytest

from audit.bundle import ProveError, prove, resolve_event
from audit.verifier.leaf import canonical_originator_id
from domain.procurement.competition import Competition
from tests.integration.audit_fixtures import add_history, audited


def _competition_references(refs: list[str]) -> dict[str, str]:
    """Each competition's reference by its originator id, as a user would name it."""
    return {str(Competition.id_for(ref)): ref for ref in refs}


def test_every_event_proven_by_record_and_version_is_the_event_proven_by_position(ledger, tmp_path):
    a = audited(ledger, tmp_path, competitions=4)
    add_history(ledger, 2, start=20)  # some events after the first checkpoint is signed
    signer = a.ring.signer()
    references = _competition_references(["AQP-0000", "AQP-0001", "AQP-0002", "AQP-0003", "AQP-0020", "AQP-0021"])
    stored = list(a.log.store.stored_events())
    assert len(stored) == 24
    for nid, oid, version, _, _ in stored:
        reference = references[canonical_originator_id(oid)]
        by_record = prove(ledger, f"competition/{reference}@{version}", signer=signer)
        by_position = prove(ledger, str(nid), signer=signer)
        assert by_record == by_position
        assert by_record["record"]["notification_id"] == nid
        assert by_record["record"]["originator_version"] == version
        assert by_record["leaf_index"] == a.log.leaf_index_of(nid)


def test_an_unknown_record_or_version_is_refused_in_words(ledger, tmp_path):
    a = audited(ledger, tmp_path, competitions=2)
    signer = a.ring.signer()
    with pytest.raises(ProveError, match=r"no stored event competition/AQP-0001@9: competition AQP-0001 has versions 1 to 4, so there is no version 9"):
        prove(ledger, "competition/AQP-0001@9", signer=signer)
    with pytest.raises(ProveError, match=r"no version 0"):
        prove(ledger, "competition/AQP-0001@0", signer=signer)
    with pytest.raises(ProveError, match=r"no stored event competition/AQP-9999@1: there is no competition AQP-9999"):
        prove(ledger, "competition/AQP-9999@1", signer=signer)
    with pytest.raises(ProveError, match=r"unknown kind 'tender'"):
        resolve_event(ledger, a.log, "tender/AQP-0001@1")
    with pytest.raises(ProveError, match=r"give a notification id, or KIND/REFERENCE@VERSION"):
        resolve_event(ledger, a.log, "competition/AQP-0001")
