"""Monitoring returns: the `ReturnTemplate` aggregate (published versions) and the `Return` aggregate.

A `ReturnTemplate` holds a template's published versions (see templates.py for what a
template says). Each published version is frozen: a new version never changes a return made
against an older one, because a return names the version it was made against and versions
never change.

A `Return` is one location's return for one template version and one period; its id is
derived from those, so it cannot be created twice. It is submitted with values, a comment
on any item and answers to the questions; every failure is reported at once (field, rule,
message) and nothing is recorded when anything fails. It is amended only with a reason (the
earlier values stay in its history), its lateness is computed from the deadline rule
(periods.py), a commissioner reviews the provider's commentary, a commissioner or contract
manager records a spot check of its data (the fields checked against the home's own records
and those found accurate: seed 003 s.3.6 b, the accuracy KPI), and a return never received
is recorded as missed once its deadline has passed.

Public methods decide; the nested events' `apply` only assign state.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from domain.kernel.errors import RuleBroken, ValidationFailed
from domain.kernel.metadata import LedgerAggregate
from domain.kernel.topics import stored_as
from domain.kernel.versioned import VersionedDefinition
from domain.monitoring.periods import due_on, lateness, period_bounds
from domain.monitoring.templates import Failures, validate_return
from domain.providers.location import london_day

REVIEW_OUTCOMES = ("accepted", "queried")
SUBMITTED, MISSED = "submitted", "missed"


def _refuse(code: str, message: str, **context: Any) -> RuleBroken:
    return RuleBroken(message, code=code, **context)


def _reason(reason: str | None, what: str) -> str:
    if not reason or not reason.strip():
        raise ValidationFailed(f"{what} needs a reason.", code="reason_required", field="reason")
    return reason.strip()



# ----------------------------------------------------------------- ReturnTemplate


@stored_as("domain.returns")
class ReturnTemplate(VersionedDefinition):
    """A return template and its published versions (each frozen once published)."""

    KIND = "return_template"
    REFERENCE_KEY = "template"
    CODE = "template"

    # Own event classes, so the stored topics name the return template.
    class Published(VersionedDefinition.Published):
        pass

    class VersionPublished(VersionedDefinition.VersionPublished):
        pass



# --------------------------------------------------------------------------- Return


def return_reference(location: str, template: str, version: int, period: str) -> str:
    return f"{location}/{template}/v{version}/{period}"


@stored_as("domain.returns")
class Return(LedgerAggregate):
    """One location's return against one template version for one period."""

    KIND = "return"

    def __init__(self) -> None:
        self.reference = ""
        self.location = ""
        self.template = ""
        self.template_version = 0
        self.template_sha256 = ""
        self.period = ""
        self.period_start = ""
        self.period_end = ""
        self.due_on = ""
        self.status = ""
        self.values: dict[str, Any] = {}
        self.comments: dict[str, str] = {}
        self.answers: dict[str, str] = {}
        self.lateness: dict[str, Any] | None = None
        self.missed_on: str | None = None
        self.amendments: list[dict[str, Any]] = []
        self.reviews: list[dict[str, Any]] = []
        self.spot_checks: list[dict[str, Any]] = []

    @classmethod
    def _open(cls, *, location: str, definition: dict[str, Any], sha256: str, period: str) -> Return:
        start, end = period_bounds(definition, period)
        reference = return_reference(location, definition["template"], definition["version"], period)
        return cls._create(
            cls.Opened,
            id=cls.id_for(reference),
            reference=reference,
            location=location,
            template=definition["template"],
            template_version=definition["version"],
            template_sha256=sha256,
            period=period,
            period_start=start.isoformat(),
            period_end=end.isoformat(),
            due_on=due_on(definition, period).isoformat(),
        )

    @classmethod
    def submit_new(
        cls,
        *,
        location: str,
        definition: dict[str, Any],
        sha256: str,
        period: str,
        values: dict[str, Any],
        comments: dict[str, str],
        answers: dict[str, str],
        now: datetime,
    ) -> Return:
        """The first submission of a return; nothing is recorded if any check fails."""
        _check_submittable(definition, period, now)
        validate_return(definition, period, values, comments, answers)
        ret = cls._open(location=location, definition=definition, sha256=sha256, period=period)
        ret._submit(values, comments, answers, now)
        return ret

    def submit(
        self, *, definition: dict[str, Any], values: dict[str, Any], comments: dict[str, str], answers: dict[str, str], now: datetime
    ) -> bool:
        """Submit a return recorded as missed (late), or repeat a submission (False: nothing new)."""
        if self.status == SUBMITTED:
            if (self.values, self.comments, self.answers) == (_clean(values), _clean(comments), _clean(answers)):
                return False
            raise _refuse(
                "return_already_submitted",
                f"The return {self.reference} was submitted on {self.lateness['submitted_on']}; amend it with a reason instead.",  # type: ignore[index]
            )
        _check_submittable(definition, self.period, now)
        validate_return(definition, self.period, values, comments, answers)
        self._submit(values, comments, answers, now)
        return True

    def _submit(self, values: dict[str, Any], comments: dict[str, str], answers: dict[str, str], now: datetime) -> None:
        self.trigger_event(
            self.Submitted,
            values=_clean(values),
            comments=_clean(comments),
            answers=_clean(answers),
            lateness=lateness(date.fromisoformat(self.due_on), london_day(now)),
        )

    def amend(
        self,
        *,
        definition: dict[str, Any],
        values: dict[str, Any],
        comments: dict[str, str],
        answers: dict[str, str],
        reason: str | None,
        now: datetime,
    ) -> bool:
        if self.status != SUBMITTED:
            raise _refuse("return_not_submitted", f"The return {self.reference} has not been submitted; submit it first.")
        reason = _reason(reason, "An amendment of a submitted return")
        validate_return(definition, self.period, values, comments, answers)
        if (self.values, self.comments, self.answers) == (_clean(values), _clean(comments), _clean(answers)):
            return False
        changed = sorted(k for k in set(self.values) | set(values) if self.values.get(k) != values.get(k))
        self.trigger_event(
            self.Amended,
            values=_clean(values),
            comments=_clean(comments),
            answers=_clean(answers),
            changed=changed,
            reason=reason,
            amended_on=london_day(now).isoformat(),
        )
        return True

    def record_missed(self, *, now: datetime) -> bool:
        if self.status == MISSED:
            return False
        raise _refuse("return_already_submitted", f"The return {self.reference} was submitted; it was not missed.")

    @classmethod
    def missed(cls, *, location: str, definition: dict[str, Any], sha256: str, period: str, now: datetime) -> Return:
        """A return not received by its deadline (recorded by the scheduler or a contract manager)."""
        due = due_on(definition, period)
        today = london_day(now)
        if today <= due:
            raise _refuse(
                "deadline_not_passed", f"The return for {period} is due on {due}; it is not missed before then.", field="period"
            )
        ret = cls._open(location=location, definition=definition, sha256=sha256, period=period)
        ret.trigger_event(cls.Missed, missed_on=today.isoformat(), days_overdue=(today - due).days)
        return ret

    def review(self, *, outcome: str, note: str, items: dict[str, str], reviewer: str, now: datetime) -> bool:
        """A commissioner's review of the provider's commentary; False when it repeats the last review."""
        if self.status != SUBMITTED:
            raise _refuse("return_not_submitted", f"The return {self.reference} has not been submitted; there is nothing to review.")
        f = Failures()
        if outcome not in REVIEW_OUTCOMES:
            f.add("outcome", "unknown_outcome", f"outcome is one of {', '.join(REVIEW_OUTCOMES)}.")
        if not note or not note.strip():
            f.add("note", "required", "A review needs a note to the provider.")
        for item in sorted(set(items) - set(self.comments)):
            f.add(f"items.{item}", "no_comment_to_review", f"The provider made no comment on {item}.")
        f.raise_if_any("The review")
        last = self.reviews[-1] if self.reviews else None
        if last is not None and (last["outcome"], last["note"], last["items"], last["reviewer"], last["amendments_seen"]) == (
            outcome, note.strip(), dict(sorted(items.items())), reviewer, len(self.amendments)
        ):
            return False
        self.trigger_event(
            self.Reviewed,
            outcome=outcome,
            note=note.strip(),
            items=dict(sorted(items.items())),
            reviewer=reviewer,
            of_version=len(self.amendments),
            reviewed_on=london_day(now).isoformat(),
        )
        return True

    def record_spot_check(
        self,
        *,
        definition: dict[str, Any],
        checked_on: date,
        fields_checked: list[str],
        fields_accurate: list[str],
        method: str,
        checker: str,
        now: datetime,
    ) -> bool:
        """The Council's spot check of the return's data (seed 003 s.3.6 b): which of its fields were
        checked against the home's records and which were found accurate. Every failure is reported
        at once and nothing is recorded when anything fails; False when it repeats a check recorded."""
        if self.status != SUBMITTED:
            raise _refuse("return_not_submitted", f"The return {self.reference} has not been received; there is nothing to spot check.")
        f = Failures()
        metrics = {m["id"] for m in definition["metrics"]}
        if not fields_checked:
            f.add("fields_checked", "required", "A spot check names at least one field it checked.")
        seen = _named_once(f, "fields_checked", fields_checked, metrics, "unknown_metric",
                           f"is not a field of {self.template} version {self.template_version}.")
        accurate = _named_once(f, "fields_accurate", fields_accurate, seen, "not_checked",
                               "is not among the fields checked; only a checked field can be found accurate.")
        today = london_day(now)
        submitted_on = date.fromisoformat(self.lateness["submitted_on"])  # type: ignore[index]
        if checked_on > today:
            f.add("checked_on", "in_the_future", f"A spot check is recorded once done: {checked_on} is after today ({today}).")
        elif checked_on < submitted_on:
            f.add("checked_on", "before_submission", f"The return was received on {submitted_on}; it cannot have been checked on {checked_on}.")
        if not method or not method.strip():
            f.add("method", "required", "Say how the data was verified (e.g. care plans, timesheets, rotas, invoices seen).")
        f.raise_if_any("The spot check")
        check = {
            "checked_on": checked_on.isoformat(),
            "fields_checked": sorted(seen),
            "fields_accurate": sorted(accurate & seen),
            "method": method.strip(),
            "checker": checker,
        }
        if any({k: c[k] for k in check} == check for c in self.spot_checks):
            return False
        self.trigger_event(
            self.SpotChecked,
            **check,
            fields_inaccurate=sorted(seen - accurate),
            of_version=len(self.amendments),
        )
        return True

    class Opened(LedgerAggregate.Created):
        reference: str
        location: str
        template: str
        template_version: int
        template_sha256: str
        period: str
        period_start: str
        period_end: str
        due_on: str

        def apply(self, r: Return) -> None:
            r.reference, r.location, r.period = self.reference, self.location, self.period
            r.template, r.template_version, r.template_sha256 = self.template, self.template_version, self.template_sha256
            r.period_start, r.period_end, r.due_on = self.period_start, self.period_end, self.due_on
            r.status = "due"

    class Submitted(LedgerAggregate.Event):
        values: dict
        comments: dict
        answers: dict
        lateness: dict

        def apply(self, r: Return) -> None:
            r.status = SUBMITTED
            r.values, r.comments, r.answers = dict(self.values), dict(self.comments), dict(self.answers)
            r.lateness = dict(self.lateness)

    class Amended(LedgerAggregate.Event):
        values: dict
        comments: dict
        answers: dict
        changed: list
        reason: str
        amended_on: str

        def apply(self, r: Return) -> None:
            r.amendments.append(
                {
                    "amended_on": self.amended_on,
                    "reason": self.reason,
                    "changed": list(self.changed),
                    "previous": {"values": r.values, "comments": r.comments, "answers": r.answers},
                }
            )
            r.values, r.comments, r.answers = dict(self.values), dict(self.comments), dict(self.answers)

    class Missed(LedgerAggregate.Event):
        missed_on: str
        days_overdue: int

        def apply(self, r: Return) -> None:
            r.status = MISSED
            r.missed_on = self.missed_on

    class Reviewed(LedgerAggregate.Event):
        outcome: str
        note: str
        items: dict
        reviewer: str
        #: how many amendments the reviewed values had had
        of_version: int
        reviewed_on: str

        def apply(self, r: Return) -> None:
            r.reviews.append(
                {
                    "outcome": self.outcome,
                    "note": self.note,
                    "items": dict(self.items),
                    "reviewer": self.reviewer,
                    "amendments_seen": self.of_version,
                    "reviewed_on": self.reviewed_on,
                }
            )


    class SpotChecked(LedgerAggregate.Event):
        """A spot check of the return's data by the Council (seed 003 s.3.6 b)."""

        checked_on: str
        fields_checked: list
        fields_accurate: list
        fields_inaccurate: list
        #: how the figures were verified (care plans, timesheets, rotas, invoices, speaking with stakeholders)
        method: str
        #: the organisation that checked
        checker: str
        #: how many amendments the checked values had had
        of_version: int

        def apply(self, r: Return) -> None:
            r.spot_checks.append(
                {
                    "checked_on": self.checked_on,
                    "fields_checked": list(self.fields_checked),
                    "fields_accurate": list(self.fields_accurate),
                    "fields_inaccurate": list(self.fields_inaccurate),
                    "method": self.method,
                    "checker": self.checker,
                    "amendments_seen": self.of_version,
                }
            )


def _clean(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in sorted(mapping.items()) if v is not None}


def _check_submittable(definition: dict[str, Any], period: str, now: datetime) -> None:
    _, end = period_bounds(definition, period)
    if london_day(now) <= end:
        raise _refuse("period_not_ended", f"The period {period} ends on {end}; its return can be submitted from the next day.", field="period")


def _named_once(f: Failures, field: str, items: list[str], allowed: set[str], rule: str, message: str) -> set[str]:
    """The names in `items`, each failure added to `f`: a name given twice, or one not `allowed` (`rule`, "NAME `message`")."""
    named: set[str] = set()
    for item in items:
        if item in named:
            f.add(f"{field}.{item}", "duplicate_field", f"{item} is named twice.")
        elif item not in allowed:
            f.add(f"{field}.{item}", rule, f"{item} {message}")
        named.add(item)
    return named
