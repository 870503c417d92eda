"""Issue 16's review: ways round the notices the law requires, tried on real stores.

Each test sends commands a hostile or careless user could send and says what the law asks; each
is refused now (the review's findings 1 to 3).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import msgspec

from domain.commands import AnyCommand
from domain.contracts.contract import Contract
from domain.kernel.metadata import Actor
from tests.integration.machinery import apply

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "scenarios" / "london-aqp-care-homes-2026.jsonl"
UTC = timezone.utc
LEAD = Actor(id="j.okafor", org="NEL-CSU", role="procurement_lead")
NCL_COMMISSIONER = Actor(id="u-ncl-commissioning-lead", org="ICB-NCL", role="commissioner")
NCL_MANAGER = Actor(id="u-ncl-cm", org="ICB-NCL", role="contract_manager")


def _lines(*, reference: str, regime: str, framework: str | None = None, stop_after: str) -> list[str]:
    """The example competition again as `reference` under `regime`, its lines up to and with the first
    accepted `stop_after` command; no notice of the example's own (those are the test's to send)."""
    lines = []
    for text in EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = json.loads(text)
        command = line["command"]
        if command.get("competition") != "AQP-CH-2026" or command["type"] in ("notice.publish", "award.conclude"):
            continue
        if command["type"] == "competition.open":
            command["standstill_regime"] = regime
            if framework is not None:
                command["framework"] = framework
        command["competition"] = reference
        lines.append(json.dumps(line))
        if command["type"] == stop_after and "expect" not in line:
            return lines
    raise AssertionError(f"no {stop_after} in the example")


def _framework_lines(*, reference: str | None = None, regime: str | None = None) -> list[str]:
    """The example's framework lines (establish, first prices), optionally as another framework/regime."""
    lines = []
    for text in EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = json.loads(text)
        if "competition" in line["command"]:
            break
        if reference is not None:
            line["command"]["framework"] = reference
        if regime is not None and line["command"]["type"] == "framework.establish":
            line["command"]["regime"] = regime
        lines.append(json.dumps(line))
    return lines


def _handle(ledger: Any, command: dict[str, Any], actor: Actor, at: datetime) -> Any:
    """The command decoded as every way in decodes it (the HTTP API's and the scenarios' union)."""
    return ledger.handle(msgspec.convert(command, AnyCommand), actor, at=at)


def test_a_contract_cannot_be_awarded_by_hand_off_a_procurement_act_competition_still_in_standstill(ledger):
    apply(ledger, _framework_lines())
    apply(ledger, _lines(reference="AQP-CH-2026-PA", regime="pa2023", stop_after="outcome_letters.issue"))
    long_after = datetime(2026, 6, 1, 9, tzinfo=UTC)
    refused = _handle(ledger, {"type": "award.conclude", "competition": "AQP-CH-2026-PA"}, LEAD, long_after)
    assert refused.error.code == "award_notice_required"  # the competition's own award waits for the notice
    before = ledger.max_position()
    by_hand = _handle(ledger, {
        "type": "contract.award", "contract": "AQP-CH-2026-PA/NCL/aster-care-homes", "framework": "AQP-NH-LONDON",
        "competition": "AQP-CH-2026-PA", "lot": "NCL", "provider": "aster-care-homes", "value": 0,
        "starts_on": "2026-06-01", "ends_on": "2027-05-31",
    }, LEAD, long_after)
    assert not by_hand.ok, "a contract entered into off a PA 2023 competition with no contract award notice"
    assert by_hand.error.code == "competition_not_awarded" and [f.field for f in by_hand.error.fields] == ["competition"]
    assert ledger.max_position() == before


def test_a_competition_under_a_procurement_act_framework_cannot_run_under_another_regime(ledger):
    """Finding 2 (fixed): opened under PCR 2015, a call-off of a PA 2023 framework needed no contract award notice."""
    apply(ledger, _framework_lines(reference="AQP-NH-LONDON-PA", regime="pa2023"))
    opening = next(
        json.loads(line) for line in _lines(reference="AQP-CH-2026-PCR", regime="pcr2015", framework="AQP-NH-LONDON-PA",
                                            stop_after="competition.open")
        if "expect" not in json.loads(line)
    )
    before = ledger.max_position()
    opened = _handle(ledger, opening["command"], LEAD, datetime.fromisoformat(opening["at"]))
    assert not opened.ok and opened.error.code == "regime_not_the_frameworks", opened
    assert [f.field for f in opened.error.fields] == ["standstill_regime"] and "Procurement Act 2023" in opened.error.message
    assert ledger.max_position() == before
    # Under the Act's own standstill it opens (and its award then waits for the contract award notice).
    opening["command"]["standstill_regime"] = "pa2023"
    assert _handle(ledger, opening["command"], LEAD, datetime.fromisoformat(opening["at"])).ok


def test_the_light_touch_ground_does_not_excuse_a_contract_that_is_not_light_touch_from_its_change_notice(ledger):
    apply(ledger, [json.dumps({"actor": {"id": NCL_COMMISSIONER.id, "org": "ICB-NCL", "role": "commissioner"},
                               "at": "2026-03-02T09:00:00Z", "command": {
        "type": "framework.establish", "framework": "NCL-PA", "title": "North Central London nursing homes (PA 2023)",
        "kind": "care_homes", "lots": [{"id": "NCL", "name": "North Central London"}],
        "commissioners": [{"org": "ICB-NCL", "kind": "icb"}], "starts_on": "2026-04-01", "ends_on": "2030-03-31",
        "regime": "pa2023", "escalation_ladder": "nottingham", "max_extension_months": 24}})])
    at = datetime(2026, 3, 3, 9, tzinfo=UTC)
    # An open procedure held outside the ledger: not light-touch, so s.75 applies.
    awarded = _handle(ledger, {"type": "contract.award", "contract": "NCL-PA/NCL/aster", "framework": "NCL-PA",
                               "competition": "NCL-PA-OPEN-2026", "lot": "NCL", "provider": "aster-care-homes",
                               "value": 100_000_000, "starts_on": "2026-04-01", "ends_on": "2030-03-31"}, NCL_MANAGER, at)
    assert awarded.ok, awarded
    version = ledger.aggregate(Contract, "NCL-PA/NCL/aster").version
    vary = {"type": "contract.vary", "contract": "NCL-PA/NCL/aster", "kind": "scope", "ground": "pa2023_s74_2_light_touch",
            "value_change": 50_000_000, "effective_from": "2026-06-01", "rationale": "Not substantial, we say: more beds."}
    varied = _handle(ledger, vary, NCL_MANAGER, datetime(2026, 5, 1, 9, tzinfo=UTC))
    assert not varied.ok, "a 50% change of a contract that is not light-touch, with no change notice"
    assert varied.error.code == "ground_not_available" and [f.field for f in varied.error.fields] == ["ground"]
    assert ledger.aggregate(Contract, "NCL-PA/NCL/aster").version == version
