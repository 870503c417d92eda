"""What is due on a day (domain/scheduling/rules.py): pure rules, no store and no clock."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

from domain.monitoring.templates import shipped_template
from domain.scheduling.rules import MISSED, contract_items, owed_periods, return_dates, return_steps, standstill_items

MONTHLY = shipped_template("london-aqp-care-home-monthly")
FOUR_WEEKLY = shipped_template("cheshire-east-4-weekly")


def kinds(steps) -> list[str]:
    return [s if s == MISSED else s.kind for s in steps]


def test_a_returns_link_opens_after_its_period_its_reminder_comes_days_before_the_deadline_and_the_miss_after_it():
    may = return_dates(MONTHLY, "2026-05")
    assert may.opens_on == date(2026, 6, 1) and may.deadline == date(2026, 6, 12)
    assert may.reminder_on == date(2026, 6, 9)
    steps = lambda day: kinds(return_steps(may, location="1-101", template="t", today=day, concerns=["1-101"]))  # noqa: E731
    assert steps(date(2026, 5, 31)) == []
    assert steps(date(2026, 6, 1)) == ["return_open"]
    assert steps(date(2026, 6, 8)) == ["return_open"]
    assert steps(date(2026, 6, 9)) == steps(date(2026, 6, 12)) == ["return_open", "return_reminder"]
    assert steps(date(2026, 6, 13)) == [MISSED]


def test_a_reminder_is_never_before_the_return_can_be_submitted():
    short = return_dates(FOUR_WEEKLY, "2026-04-06", remind_days=30)
    assert short.reminder_on == short.opens_on == date(2026, 5, 4)


def test_the_periods_owed_are_those_ended_by_the_day_and_begun_while_the_home_was_held():
    periods = [d.period for d in owed_periods(MONTHLY, first="2026-01", held_until=date(2026, 3, 15), today=date(2026, 6, 1))]
    assert periods == ["2026-01", "2026-02", "2026-03"]
    assert [d.period for d in owed_periods(MONTHLY, first="2026-05", held_until=date(2030, 1, 1), today=date(2026, 5, 31))] == []


def contract(**changes):
    base = dict(
        reference="K1", status="signed", ends_on=date(2026, 12, 31), stage=-1, ladder=["improvement_notice", "default_notice"],
        escalations=[], action_plans={},
    )
    return SimpleNamespace(**{**base, **changes})


def test_a_contracts_due_dates_come_on_their_days_and_not_once_it_has_ended():
    k = contract(
        stage=0,
        escalations=[{"stage": "improvement_notice", "due": "2026-06-30"}],
        action_plans={"P": {"closed_on": None, "actions": {"A1": {"due": "2026-05-15", "completed_on": None},
                                                          "A2": {"due": "2026-05-15", "completed_on": "2026-05-01"}}}},
    )
    found = lambda day, room=True: {(d.kind, d.subject, d.due_on) for d in contract_items(k, today=day, concerns=["CEC"], extension_room=room)}  # noqa: E731
    assert found(date(2026, 5, 14)) == set()
    assert found(date(2026, 5, 15)) == {("action_due", "action:K1/P/A1", date(2026, 5, 15))}
    assert ("escalation_due", "contract:K1/improvement_notice", date(2026, 6, 30)) in found(date(2026, 6, 30))
    assert ("extension_decision", "contract:K1", date(2026, 10, 2)) in found(date(2026, 10, 2))
    assert not [d for d in found(date(2026, 10, 2), room=False) if d[0] == "extension_decision"]
    assert ("contract_expiry", "contract:K1", date(2027, 1, 1)) in found(date(2027, 1, 1))
    assert not [d for d in found(date(2027, 1, 1)) if d[0] == "extension_decision"]
    assert contract_items(contract(status="expired"), today=date(2027, 2, 1), concerns=[], extension_room=True) == []


def test_a_standstill_end_is_due_once_the_standstill_has_ended_and_only_in_standstill():
    ends = datetime(2026, 4, 13, 23, 0, tzinfo=timezone.utc)  # midnight in England
    c = SimpleNamespace(reference="C1", status="standstill", standstill={"ends_at": ends}, authority="NEL-CSU", acting_for=["ICB-NCL"])
    assert standstill_items(c, now=ends - timedelta(seconds=1)) == []
    (due,) = standstill_items(c, now=ends)
    assert (due.kind, due.subject, due.due_on, set(due.concerns)) == ("standstill_end", "competition:C1", date(2026, 4, 14), {"NEL-CSU", "ICB-NCL"})
    assert standstill_items(SimpleNamespace(**{**vars(c), "status": "awarded"}), now=ends) == []
