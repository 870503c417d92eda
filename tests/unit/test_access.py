"""The policies of `domain.access` and the day rules of `domain.providers.vacancies`, alone."""

from __future__ import annotations

from datetime import date

import pytest

from domain import access
from domain.kernel.errors import NotPermitted
from domain.kernel.metadata import ROLES, Actor
from domain.providers.vacancies import report_age_days, report_stale, stale_before, suspension_in_force

ASTER = Actor(id="m", org="aster", role="provider")
PATEL = Actor(id="patel", org="NEL-CSU", role="evaluator")


def test_the_command_check_refuses_a_role_outside_the_group_and_names_the_group():
    access.require_role(ASTER, access.PROVIDER, "submit a tender")
    with pytest.raises(NotPermitted, match="A provider may not open tenders; this needs one of: procurement_lead"):
        access.require_role(ASTER, access.PROCUREMENT_LEAD, "open tenders")


def test_a_provider_deals_only_with_its_own_organisation_and_every_other_role_with_all():
    assert access.may_deal_with(ASTER, "beech", "aster") and not access.may_deal_with(ASTER, "beech")
    for role in ROLES:
        if role != "provider":
            assert access.may_deal_with(Actor(id="x", org="y", role=role), "beech")


def test_tenders_are_sealed_to_the_authority_until_opened_and_a_bidder_sees_only_its_own():
    lead = Actor(id="l", org="NEL-CSU", role="procurement_lead")
    assert access.tenders_sealed_to(lead, opened=False) and not access.tenders_sealed_to(lead, opened=True)
    assert not access.tenders_sealed_to(ASTER, opened=False)
    assert access.sees_tender_of(ASTER, "aster") and not access.sees_tender_of(ASTER, "beech")


def test_an_evaluator_has_a_seat_only_when_appointed_with_their_organisation():
    assert access.panel_seat(PATEL, appointed_with=None, conflicts=()) is None
    assert access.panel_seat(PATEL, appointed_with="OTHER-CSU", conflicts=()) is None
    assert access.panel_seat(Actor(id="patel", org="NEL-CSU", role="auditor"), appointed_with="NEL-CSU", conflicts=()) is None
    seat = access.panel_seat(PATEL, appointed_with="NEL-CSU", conflicts=["beech"])
    assert seat is not None and not seat.sees_bidder("beech") and seat.sees_bidder("aster")
    assert seat.sees_score(bidder="aster", evaluator="patel", moderated=False)
    assert not seat.sees_score(bidder="aster", evaluator="mensah", moderated=False)
    assert seat.sees_score(bidder="aster", evaluator="mensah", moderated=True)
    assert not seat.sees_score(bidder="beech", evaluator="patel", moderated=True)


def test_the_feed_withholds_what_an_event_carries_from_those_who_may_not_read_it():
    auditor, manager = Actor(id="a", org="NAO", role="auditor"), Actor(id="m", org="ICB", role="contract_manager")
    assert access.withheld_from_feed(access.SEALED_TENDER, auditor, tenders_opened=lambda: False) == "sealed_until_tenders_opened"
    assert access.withheld_from_feed(access.SEALED_TENDER, auditor, tenders_opened=lambda: True) is None
    assert access.withheld_from_feed(access.EVALUATION_WORKING, manager, tenders_opened=lambda: True) == "evaluation_working"
    assert access.withheld_from_feed(access.CLARIFICATION_ASKER, auditor, tenders_opened=lambda: True) is None
    assert access.withheld_from_feed(access.CONCERN, manager, tenders_opened=lambda: True, commissioners=lambda: {"ICB"}) is None
    # Concerns of a home the manager's organisation does not commission, or that nobody does, are not theirs.
    assert access.withheld_from_feed(access.CONCERN, manager, tenders_opened=lambda: True, commissioners=lambda: {"ICB-X"}) == access.CONCERN
    assert access.withheld_from_feed(access.CONCERN, manager, tenders_opened=lambda: True) == access.CONCERN
    assert access.withheld_from_feed(None, manager, tenders_opened=lambda: False) is None


@pytest.mark.parametrize(
    ("day", "first", "last", "lifted", "in_force"),
    [
        ("2026-06-14", "2026-06-15", None, False, False),  # starts tomorrow
        ("2026-06-15", "2026-06-15", None, False, True),
        ("2026-06-20", "2026-06-15", "2026-06-20", False, True),  # its last day
        ("2026-06-21", "2026-06-15", "2026-06-20", False, False),  # lapsed
        ("2026-06-16", "2026-06-15", None, True, False),  # lifted
        ("2026-06-16", None, None, False, False),  # none recorded
    ],
)
def test_a_suspension_is_in_force_once_started_until_lifted_or_lapsed(day, first, last, lifted, in_force):
    assert suspension_in_force(date.fromisoformat(day), first_day=first, last_day=last, lifted=lifted) is in_force


def test_a_vacancy_report_is_stale_when_more_than_the_days_allowed_old():
    monday = date(2026, 6, 15)
    assert report_age_days("2026-06-12", monday) == 3 and not report_stale("2026-06-12", monday, 3)  # Friday's, on Monday
    assert report_stale("2026-06-11", monday, 3) and stale_before(monday, 3) == "2026-06-12"


def test_every_command_is_sent_by_a_group_of_the_access_module_itself():
    import domain.application  # noqa: F401 - registers every command handler (and its roles)
    from domain.kernel.dispatch import HANDLERS

    groups = [v for v in vars(access).values() if isinstance(v, tuple) and v and all(r in ROLES for r in v)]
    strays = {command.__name__: roles for command, (roles, _, _) in HANDLERS.items() if not any(roles is g for g in groups)}
    assert not strays, "role groups written outside domain/access.py"


# ---------------------------------------------------------------------------- competitions and their authority

LONDON_ICBS = ("ICB-NCL", "ICB-NEL", "ICB-NWL", "ICB-SEL", "ICB-SWL")


def _as(role: str, org: str, user: str = "u") -> Actor:
    return Actor(id=user, org=org, role=role)


def test_a_competition_is_there_only_for_its_authority_and_the_organisations_it_names():
    parties = {"authority": "NEL-CSU", "acting_for": LONDON_ICBS}
    for role in ("procurement_lead", "commissioner", "contract_manager", "evaluator"):
        assert access.sees_competition(_as(role, "NEL-CSU"), **parties), role
        assert access.sees_competition(_as(role, "ICB-SEL"), **parties), role
        for other in ("SWL-CSU", "SEL-CSU", "NCC"):
            assert not access.sees_competition(_as(role, other), **parties), (role, other)
    # Named by nobody: the authority alone.
    assert not access.sees_competition(_as("procurement_lead", "ICB-NCL"), authority="NEL-CSU", acting_for=())


def test_an_evaluator_of_another_organisation_reaches_a_competition_by_a_seat_on_its_panels():
    outsider = _as("evaluator", "SCW-CSU", "k.lee")
    parties = {"authority": "NEL-CSU", "acting_for": LONDON_ICBS}
    assert not access.sees_competition(outsider, **parties)
    assert access.sees_competition(outsider, **parties, appointed_with="SCW-CSU")
    # Appointed with another organisation than the one they act for now: no seat.
    assert not access.sees_competition(outsider, **parties, appointed_with="ICB-NEL")
    # A seat is an evaluator's: a lead of that organisation is not let in by it.
    assert not access.sees_competition(_as("procurement_lead", "SCW-CSU"), **parties, appointed_with="SCW-CSU")


def test_bidders_and_the_oversight_roles_are_not_scoped_by_the_authority():
    parties = {"authority": "NEL-CSU", "acting_for": ()}
    for role in ("provider", "auditor", "foi_officer", "admin", "system"):
        assert access.sees_competition(_as(role, "anybody"), **parties), role
    assert set(access.COMPETITION_PARTIES) | {"provider"} | set(access.OVERSIGHT) == set(ROLES)


def test_only_the_authority_names_the_organisations_it_acts_for():
    assert access.may_name_acting_for(_as("procurement_lead", "NEL-CSU"), authority="NEL-CSU")
    assert not access.may_name_acting_for(_as("procurement_lead", "ICB-NEL"), authority="NEL-CSU")
