"""The organisations a competition is run for: named at the opening, changed by the authority alone, with a reason.

Through `Ledger.handle` on both stores: who is named decides who finds the competition at all
(`domain.access.sees_competition`), the list shows them, and a refusal records nothing.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from domain.application import Ledger
from domain.kernel.errors import NotFound
from domain.kernel.metadata import Actor
from domain.procurement import commands as c
from projections.competitions import catch_up, competition_list

pytestmark = pytest.mark.storage

UTC = timezone.utc
REF = "NEL-RES-2026"
OPENED = datetime(2026, 1, 5, 9, tzinfo=UTC)
LATER = datetime(2026, 1, 9, 9, tzinfo=UTC)
LEAD = Actor(id="j.okafor", org="NEL-CSU", role="procurement_lead")
NCL_LEAD = Actor(id="t.adeyemi", org="ICB-NCL", role="procurement_lead")
SEL_LEAD = Actor(id="k.obi", org="ICB-SEL", role="procurement_lead")
OTHER_CSU = Actor(id="p.swl", org="SWL-CSU", role="procurement_lead")


def opening(**extra) -> c.OpenCompetition:
    return c.OpenCompetition(
        competition=REF, title="Residential care", procedure="open", standstill_regime="pcr2015",
        lots=[c.LotSpec(id="NEL", name="North East London")],
        clarification_deadline=datetime(2026, 2, 1, tzinfo=UTC), tender_deadline=datetime(2026, 2, 20, 12, tzinfo=UTC), **extra,
    )


def refused(ledger: Ledger, command, actor: Actor, code: str, field: str | None = None) -> None:
    before = ledger.max_position()
    result = ledger.handle(command, actor, at=LATER)
    assert not result.ok and result.error.code == code, result
    if field:
        assert [f.field for f in result.error.fields] == [field]
    assert ledger.max_position() == before


def test_the_authority_names_whom_it_acts_for_and_only_it_changes_them_with_a_reason(ledger):
    refused(ledger, opening(acting_for=["ICB-NCL", "ICB-NCL"]), LEAD, "duplicate_organisation", "acting_for")
    refused(ledger, opening(acting_for=["NEL-CSU"]), LEAD, "authority_named", "acting_for")
    assert ledger.handle(opening(acting_for=["ICB-NEL", "ICB-NCL"]), LEAD, at=OPENED).ok
    assert ledger.show_competition(REF)["acting_for"] == ["ICB-NCL", "ICB-NEL"]
    assert ledger.show_competition(REF, viewer=NCL_LEAD)["authority"] == "NEL-CSU"
    with pytest.raises(NotFound):
        ledger.show_competition(REF, viewer=SEL_LEAD)

    change = c.SetActingFor(competition=REF, acting_for=["ICB-SEL", "ICB-NEL"], reason="NCL commissions its own homes from April")
    refused(ledger, change, OTHER_CSU, "competition_not_found")
    refused(ledger, change, NCL_LEAD, "not_the_authority")  # a named organisation may not name others
    refused(ledger, c.SetActingFor(competition=REF, acting_for=["ICB-SEL"]), LEAD, "reason_required", "reason")
    refused(ledger, c.SetActingFor(competition=REF, acting_for=["ICB-SEL", "NEL-CSU"], reason="x"), LEAD, "authority_named")

    changed = ledger.handle(change, LEAD, at=LATER)
    assert changed.ok and [e.type for e in changed.events] == ["Competition.ActingForChanged"]
    event = ledger.events.get(ledger.competition(REF).id, gt=ledger.competition(REF).version - 1)
    (stored,) = list(event)
    assert stored.acting_for == ["ICB-NEL", "ICB-SEL"] and stored.previous == ["ICB-NCL", "ICB-NEL"]
    assert stored.meta["reason"] == "NCL commissions its own homes from April"
    # The same names again: nothing new to record.
    again = ledger.handle(change, LEAD, at=LATER)
    assert again.ok and again.events == []

    # Dropped, NCL's lead finds no such competition, even as of when it was named; SEL's finds it.
    refused(ledger, c.CancelCompetition(competition=REF, reason="x"), NCL_LEAD, "competition_not_found")
    with pytest.raises(NotFound) as absent:
        ledger.show_competition(REF, as_of=OPENED, viewer=NCL_LEAD)
    assert str(absent.value) == f"There is no competition {REF} as of {OPENED.isoformat()}."
    assert ledger.show_competition(REF, as_of=OPENED, viewer=SEL_LEAD)["acting_for"] == ["ICB-NCL", "ICB-NEL"]

    catch_up(ledger)
    (row,) = [r for r in competition_list(ledger) if r["reference"] == REF]
    assert row["authority"] == "NEL-CSU" and row["acting_for"] == "ICB-NEL ICB-SEL"


def test_a_competition_opened_without_naming_anyone_is_its_authoritys_alone(ledger):
    assert ledger.handle(opening(), LEAD, at=OPENED).ok
    assert ledger.show_competition(REF)["acting_for"] == []
    refused(ledger, c.PublishNotice(competition=REF, notice_type="contract_notice", notice_reference="CF-1",
                                    published_on=OPENED.date()), NCL_LEAD, "competition_not_found")
    catch_up(ledger)
    (row,) = competition_list(ledger)
    assert row["acting_for"] is None
