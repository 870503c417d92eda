"""What is due on a day: the scheduler's rules, pure (no store, no clock: the day is an argument).

**Returns** (seed 000 s.6.2.1: "automatically issues reporting links and reminder emails ...
each month"; seed 003 s.3.6: not submitted "as per the required timescales for three
consecutive periods" is a service failure). For each period a home owes a template's return
and has not returned it (`return_steps`):

- from the day after the period ends (when it can be submitted) to its deadline: a
  `return_open` item, the reporting link;
- from `remind_days` before the deadline (never before the link) to the deadline: a
  `return_reminder`. The default, 3 days, is inside the shortest window the shipped
  templates give (Cheshire East's 4-weekly return: 5 working days after the period), so the
  reminder always follows the link and leaves time to submit;
- after the deadline: the return is missed (`return.record_missed`), which the performance
  process counts towards the three consecutive periods.

A link or reminder whose window has passed is not raised late: it would tell nobody anything
(a scheduler down for a week raises the miss, not a reminder of a deadline gone).

**Contracts** (`contract_items`), while the contract runs (not expired nor terminated):
`escalation_due` once the due date of its current escalation stage's notice is reached (the
Nottingham ladder's 90-day final notice, Cheshire East's improvement and default notices);
`action_due` for each action of an open improvement action plan not complete by its due day;
`extension_decision` from `extension_decision_days` before the term ends until it ends, while
the framework still allows an extension; `contract_expiry` from the day after the term's last
day (when `contract.expire` can be recorded). **Competitions** (`standstill_items`):
`standstill_end` once a competition in standstill has passed the moment its standstill ends
(the award may then be concluded, unless a challenge is open).

Every item is due on a day and keyed by kind, subject and that day, so a due date that moves
(an escalation re-issued with a later date, an extension) is a new item, and the same one is
raised once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from domain.kernel.errors import DomainError
from domain.monitoring.periods import due_on, period_bounds, shift_period
from domain.providers.location import london_day
from domain.scheduling.commands import RaiseDueItem

#: days before a return's deadline its reminder is raised (AQP_SCHEDULER_REMINDER_DAYS)
REMIND_DAYS = 3
#: days before a contract's term ends the decision to extend it is raised (AQP_SCHEDULER_EXTENSION_DECISION_DAYS)
EXTENSION_DECISION_DAYS = 90
#: the most periods looked at for one obligation in one tick (a guard, not a rule: 8 years of months)
MAX_PERIODS = 100

MISSED = "missed"


@dataclass(frozen=True)
class Due:
    """One due item the rules found."""

    kind: str
    subject: str
    due_on: date
    concerns: tuple[str, ...]
    summary: str

    @property
    def key(self) -> str:
        return f"{self.kind}|{self.subject}|{self.due_on.isoformat()}"

    def command(self) -> RaiseDueItem:
        return RaiseDueItem(kind=self.kind, subject=self.subject, due_on=self.due_on, concerns=sorted(set(self.concerns)), summary=self.summary)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ returns


def return_subject(location: str, template: str, period: str) -> str:
    return f"return:{location}/{template}/{period}"


@dataclass(frozen=True)
class ReturnDates:
    period: str
    start: date
    end: date
    #: the first day it can be submitted
    opens_on: date
    reminder_on: date
    deadline: date


def return_dates(definition: dict[str, Any], period: str, *, remind_days: int = REMIND_DAYS) -> ReturnDates:
    start, end = period_bounds(definition, period)
    deadline = due_on(definition, period)
    opens_on = end + timedelta(days=1)
    return ReturnDates(period, start, end, opens_on, max(opens_on, deadline - timedelta(days=remind_days)), deadline)


def owed_periods(
    definition: dict[str, Any], *, first: str, held_until: date, today: date, remind_days: int = REMIND_DAYS
) -> Iterator[ReturnDates]:
    """The periods from `first` on that have ended by `today` and start no later than `held_until`."""
    period = first
    for _ in range(MAX_PERIODS):
        try:
            dates = return_dates(definition, period, remind_days=remind_days)
        except DomainError:
            return  # beyond the working-day calendar: nothing can be said to be due there
        if dates.start > held_until or dates.opens_on > today:
            return
        yield dates
        period = shift_period(definition, period, 1)


def return_steps(
    dates: ReturnDates, *, location: str, template: str, today: date, concerns: Iterable[str]
) -> list[Due | str]:
    """What a return not received leads to on `today`: MISSED after its deadline, else its link and reminder."""
    if today > dates.deadline:
        return [MISSED]
    subject = return_subject(location, template, dates.period)
    concerned = tuple(concerns)
    steps: list[Due | str] = []
    if dates.opens_on <= today:
        steps.append(Due("return_open", subject, dates.deadline, concerned,
                         f"The {template} return of {location} for {dates.period} can be submitted now; it is due by {dates.deadline}."))
    if dates.reminder_on <= today:
        steps.append(Due("return_reminder", subject, dates.deadline, concerned,
                         f"Reminder: the {template} return of {location} for {dates.period} is due by {dates.deadline} and has not been received."))
    return steps


# ------------------------------------------------------------------------------ contracts


def _day(value: Any) -> date:
    return value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


def contract_items(
    contract: Any,
    *,
    today: date,
    concerns: Iterable[str],
    extension_room: bool,
    extension_decision_days: int = EXTENSION_DECISION_DAYS,
) -> list[Due]:
    """The due items of a running contract on `today` (see the module docstring)."""
    if contract.status in ("terminated", "expired") or contract.ends_on is None:
        return []
    ref = contract.reference
    concerned = tuple(concerns)
    found: list[Due] = []
    if contract.stage >= 0:
        stage = contract.ladder[contract.stage]
        notice = next((e for e in reversed(contract.escalations) if e.get("stage") == stage and e.get("due")), None)
        if notice is not None and _day(notice["due"]) <= today:
            due = _day(notice["due"])
            found.append(Due("escalation_due", f"contract:{ref}/{stage}", due, concerned,
                             f"The {stage.replace('_', ' ')} of contract {ref} was due on {due}: decide the next step."))
    for plan, record in sorted(contract.action_plans.items()):
        if record.get("closed_on") is not None:
            continue
        for action_id, action in sorted(record["actions"].items()):
            if action.get("completed_on") is None and _day(action["due"]) <= today:
                due = _day(action["due"])
                found.append(Due("action_due", f"action:{ref}/{plan}/{action_id}", due, concerned,
                                 f"Action {action_id} of improvement plan {plan} on contract {ref} was due on {due} and is not complete."))
    ends = contract.ends_on
    decision = ends - timedelta(days=extension_decision_days)
    if extension_room and decision <= today <= ends:
        found.append(Due("extension_decision", f"contract:{ref}", decision, concerned,
                         f"Contract {ref} ends on {ends}: decide by {decision} whether to extend it."))
    expiry = ends + timedelta(days=1)
    if expiry <= today:
        found.append(Due("contract_expiry", f"contract:{ref}", expiry, concerned,
                         f"Contract {ref}'s term ended on {ends}: record its expiry, extension or replacement."))
    return found


def standstill_items(competition: Any, *, now: datetime) -> list[Due]:
    """A competition in standstill whose standstill has ended by `now`."""
    standstill = competition.standstill
    if competition.status != "standstill" or not standstill or not standstill.get("ends_at"):
        return []
    ends_at = standstill["ends_at"]
    if isinstance(ends_at, str):
        ends_at = datetime.fromisoformat(ends_at)
    if now < ends_at:
        return []
    ref = competition.reference
    return [Due("standstill_end", f"competition:{ref}", london_day(ends_at), (competition.authority, *competition.acting_for),
                f"The standstill of competition {ref} ended at {ends_at.isoformat()}: the award may be concluded unless a challenge is open.")]
