"""The pack verifier against tampering the first tests did not try, on SQLite and PostgreSQL:
a signed pack with its standstill left out, and a bidder's standstill (whose letters' record
is withheld from the bidder) rewritten."""

from __future__ import annotations

import copy

import pytest

from domain.kernel.metadata import Actor
from tests.integration.test_defence_pack import pack_of, procured, signer, verify  # noqa: F401 - fixtures

pytestmark = pytest.mark.storage


def test_a_signed_pack_with_its_standstill_left_out_fails_the_verifier(procured, signer, tmp_path):  # noqa: F811
    pack = pack_of(procured, signer)
    assert pack["signature"] and pack["standstill_days"]
    assert verify(pack, signer, tmp_path).returncode == 0
    dropped = copy.deepcopy(pack)
    dropped["standstill_days"] = None
    failed = verify(dropped, signer, tmp_path)
    assert failed.returncode == 1, failed.stdout
    assert "FAILED: fact standstill does not hold" in failed.stderr


def test_a_bidders_standstill_is_checked_by_its_calendar_though_its_letters_record_is_withheld(procured, signer, tmp_path):  # noqa: F811
    bidder = "aster-care-homes"
    pack = pack_of(procured, signer, Actor(id=f"bm-{bidder}", org=bidder, role="provider"))
    letters = pack["standstill_days"]["event"]
    assert pack["events"][str(letters)]["record"] is None, "the letters name other bidders: withheld from this one"
    pack["signature"] = None
    checked = verify(pack, signer, tmp_path)
    assert checked.returncode == 0, checked.stderr
    # A Saturday counted as a working day: the days' own calendar says so, with or without the letters' record.
    saturday = next(d for d in pack["standstill_days"]["days"] if d["weekday"] == "Saturday")
    saturday["working_day"] = True
    failed = verify(pack, signer, tmp_path)
    assert failed.returncode == 1, failed.stdout
    assert f"it counts {saturday['day']}, a Saturday, as a working day" in failed.stderr
