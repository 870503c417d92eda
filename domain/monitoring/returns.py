"""Monitoring returns: templates as versioned data, quality returns and placement returns.

A `ReturnTemplate` (seed 000 s.6.2.1, seed 003 s.3.1) is data, published with
`template.publish`: metrics (type, unit, required, a definition), subtotal rules (these
parts sum to that total), consistency rules (this count is not above that one, e.g. the
number of residents), a frequency (monthly, 4-weekly, quarterly, annual), a deadline rule
(e.g. the 10th working day after the period ends) and up to three qualitative questions.
Each published version is frozen: a new version never changes a return made against an
older one, because a return names the version it was made against and versions never change.

A `Return` is one location's return for one template version and one period; its id is
derived from those, so it cannot be created twice. It is submitted with values, a comment
on any item and answers to the questions; every failure is reported at once (field, rule,
message) and nothing is recorded when anything fails. It is amended only with a reason (the
earlier values stay in its history), its lateness is computed from the deadline rule, a
commissioner reviews the provider's commentary, and a return never received is recorded as
missed once its deadline has passed.

A `PlacementReturn` (seed 000 s.3.2) is one home's placements for one month, each under a
local pseudonymous reference (never an NHS number), validated against the framework's rate
for the bed type, refusing future dates and refusing a placement that disappears from last
month's return without an end date and reason.

Public methods decide; the nested events' `apply` only assign state.
"""

from __future__ import annotations

import calendar
import copy
import json
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from domain.kernel.errors import RuleBroken, ValidationFailed
from domain.kernel.metadata import LedgerAggregate
from domain.providers.location import london_day
from domain.kernel.versioned import VersionedDefinition, definition_sha256, versioned_state
from domain.kernel.working_days import CalendarNotCovered, add_working_days
from domain.kernel.topics import stored_as

METRIC_TYPES = ("count", "money", "percent", "text", "yes_no", "date", "choice")
FREQUENCIES = ("monthly", "4-weekly", "quarterly", "annual")
DEADLINE_RULES = ("working_days_after_period_end", "calendar_days_after_period_end")
MAX_QUESTIONS = 3
MAX_COMMENT = 2_000
MAX_TEXT = 20_000
REVIEW_OUTCOMES = ("accepted", "queried")
#: the four CMS bed types (seed 000 s.6.1.2), as priced by a care-homes framework
BED_TYPES = ("nursing", "nursing_dementia", "residential", "residential_dementia")
END_REASONS = ("died", "discharged_home", "moved_to_another_home", "admitted_to_hospital", "funding_ended", "other")
#: placement returns are due on this working day after the month ends (seed 000 s.3.2 sets no day; we use the quality return's)
PLACEMENT_DEADLINE_WORKING_DAYS = 10
SHIPPED_TEMPLATES = Path(__file__).parent / "templates"

_ID = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_TEMPLATE_REF = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})-(\d{2})$")
_LOCAL_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


# ------------------------------------------------------------------------ failures


class ReturnInvalid(ValidationFailed):
    """Every failure at once: `failures` (and `fields`) list each field, rule and message."""

    code = "return_invalid"

    def __init__(self, what: str, failures: list[dict[str, str]], *, code: str | None = None):
        first = failures[0]
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        super().__init__(
            f"{what} has {len(failures)} problem{'s' if len(failures) > 1 else ''}: "
            f"{first['field']}: {first['message']}{more}",
            code=code,
            field=first["field"],
            fields=failures,
        )
        self.failures = failures


class _Failures:
    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, field: str, rule: str, message: str) -> None:
        self.items.append({"field": field, "rule": rule, "message": message})

    def raise_if_any(self, what: str, code: str | None = None) -> None:
        if self.items:
            raise ReturnInvalid(what, self.items, code=code)


def _refuse(code: str, message: str, **context: Any) -> RuleBroken:
    return RuleBroken(message, code=code, **context)


def _reason(reason: str | None, what: str) -> str:
    if not reason or not reason.strip():
        raise ValidationFailed(f"{what} needs a reason.", code="reason_required", field="reason")
    return reason.strip()


# ------------------------------------------------------------------------ templates


def parse_template(raw: Any) -> dict[str, Any]:
    """A template definition checked and normalised; every problem is reported at once."""
    f = _Failures()
    if not isinstance(raw, dict):
        raise ReturnInvalid("The template", [{"field": "template", "rule": "not_an_object", "message": "A template is a JSON object."}], code="template_invalid")
    known = {"template", "version", "title", "source", "frequency", "anchor", "deadline", "metrics", "subtotals", "not_above", "questions", "notes"}
    for key in sorted(set(raw) - known):
        f.add(key, "unknown_key", f"{key} is not part of a template; the keys are {', '.join(sorted(known))}.")
    ref = raw.get("template")
    if not isinstance(ref, str) or not _TEMPLATE_REF.match(ref):
        f.add("template", "invalid_reference", "template is the template's name in lower case with hyphens, e.g. london-aqp-care-home-monthly.")
    version = raw.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        f.add("version", "invalid_version", "version is a whole number from 1.")
    if not isinstance(raw.get("title"), str) or not raw["title"].strip():
        f.add("title", "required", "title is required.")
    frequency = raw.get("frequency")
    if frequency not in FREQUENCIES:
        f.add("frequency", "unknown_frequency", f"frequency is one of {', '.join(FREQUENCIES)}.")
    anchor = raw.get("anchor")
    if frequency == "4-weekly":
        if not isinstance(anchor, str) or _date_or_none(anchor) is None:
            f.add("anchor", "anchor_required", "A 4-weekly template needs anchor: the first day of one of its periods (YYYY-MM-DD).")
    elif anchor is not None:
        f.add("anchor", "anchor_not_used", "anchor is only for 4-weekly templates.")
    deadline = raw.get("deadline")
    if (
        not isinstance(deadline, dict)
        or deadline.get("rule") not in DEADLINE_RULES
        or isinstance(deadline.get("days"), bool)
        or not isinstance(deadline.get("days"), int)
        or not 1 <= deadline["days"] <= 366
    ):
        f.add("deadline", "invalid_deadline", f"deadline is {{\"rule\": one of {', '.join(DEADLINE_RULES)}, \"days\": 1-366}}.")
    metrics: dict[str, dict[str, Any]] = {}
    raw_metrics = raw.get("metrics")
    if not isinstance(raw_metrics, list) or not raw_metrics:
        f.add("metrics", "required", "A template needs at least one metric.")
        raw_metrics = []
    for i, m in enumerate(raw_metrics):
        where = f"metrics[{i}]"
        if not isinstance(m, dict):
            f.add(where, "not_an_object", "Each metric is a JSON object.")
            continue
        mid = m.get("id")
        if not isinstance(mid, str) or not _ID.match(mid):
            f.add(f"{where}.id", "invalid_id", "A metric id is lower case letters, digits and underscores.")
            continue
        if mid in metrics:
            f.add(f"{where}.id", "duplicate_metric", f"Metric {mid} is defined twice.")
            continue
        for key in sorted(set(m) - {"id", "label", "type", "unit", "required", "definition", "choices", "section"}):
            f.add(f"{mid}.{key}", "unknown_key", f"{key} is not part of a metric.")
        kind = m.get("type")
        if kind not in METRIC_TYPES:
            f.add(f"{mid}.type", "unknown_type", f"type is one of {', '.join(METRIC_TYPES)}.")
        for key in ("label", "definition"):
            if not isinstance(m.get(key), str) or not m[key].strip():
                f.add(f"{mid}.{key}", "required", f"Every metric needs a {key}.")
        choices = m.get("choices")
        if kind == "choice":
            if not isinstance(choices, list) or len(choices) < 2 or not all(isinstance(c, str) for c in choices):
                f.add(f"{mid}.choices", "choices_required", "A choice metric needs at least two choices.")
        elif choices is not None:
            f.add(f"{mid}.choices", "choices_not_used", "Only a choice metric has choices.")
        if not isinstance(m.get("required", False), bool):
            f.add(f"{mid}.required", "not_yes_no", "required is true or false.")
        metrics[mid] = {
            "id": mid,
            "label": m.get("label"),
            "type": kind,
            "unit": m.get("unit") or _DEFAULT_UNITS.get(kind, ""),
            "required": bool(m.get("required", False)),
            "definition": m.get("definition"),
            "section": m.get("section") or "",
            **({"choices": list(choices)} if kind == "choice" and isinstance(choices, list) else {}),
        }
    subtotals = []
    for i, rule in enumerate(raw.get("subtotals") or []):
        where = f"subtotals[{i}]"
        total, parts = (rule.get("total"), rule.get("parts")) if isinstance(rule, dict) else (None, None)
        if not isinstance(parts, list) or len(parts) < 2:
            f.add(where, "invalid_subtotal", "A subtotal rule is {\"total\": metric, \"parts\": [two or more metrics]}.")
            continue
        for name in [total, *parts]:
            if name not in metrics:
                f.add(where, "unknown_metric", f"{name} is not a metric of this template.")
            elif metrics[name]["type"] not in ("count", "money"):
                f.add(where, "not_summable", f"{name} is a {metrics[name]['type']}; only counts and money add up.")
        subtotals.append({"total": total, "parts": list(parts)})
    not_above = []
    for i, rule in enumerate(raw.get("not_above") or []):
        where = f"not_above[{i}]"
        fields, limit = (rule.get("fields"), rule.get("limit")) if isinstance(rule, dict) else (None, None)
        if not isinstance(fields, list) or not fields:
            f.add(where, "invalid_consistency_rule", "A consistency rule is {\"fields\": [counts], \"limit\": count}.")
            continue
        for name in [*fields, limit]:
            if name not in metrics:
                f.add(where, "unknown_metric", f"{name} is not a metric of this template.")
            elif metrics[name]["type"] != "count":
                f.add(where, "not_a_count", f"{name} is a {metrics[name]['type']}; consistency rules compare counts.")
        not_above.append({"fields": list(fields), "limit": limit})
    questions = []
    raw_questions = raw.get("questions") or []
    if not isinstance(raw_questions, list) or len(raw_questions) > MAX_QUESTIONS:
        f.add("questions", "too_many_questions", f"Commissioners may ask at most {MAX_QUESTIONS} qualitative questions.")
        raw_questions = []
    for i, q in enumerate(raw_questions):
        qid = q.get("id") if isinstance(q, dict) else None
        if not isinstance(qid, str) or not _ID.match(qid) or qid in metrics or qid in {x["id"] for x in questions}:
            f.add(f"questions[{i}].id", "invalid_id", "A question needs an id of its own (lower case, digits, underscores).")
            continue
        if not isinstance(q.get("text"), str) or not q["text"].strip():
            f.add(f"{qid}.text", "required", "A question needs its text.")
        months = q.get("ask_in_months") or []
        if not isinstance(months, list) or not all(isinstance(n, int) and 1 <= n <= 12 for n in months):
            f.add(f"{qid}.ask_in_months", "invalid_months", "ask_in_months lists month numbers 1-12 (empty: every period).")
            months = []
        questions.append({"id": qid, "text": q.get("text"), "ask_in_months": sorted(months)})
    f.raise_if_any("The template", code="template_invalid")
    definition = {
        "template": ref,
        "version": version,
        "title": raw["title"].strip(),
        "source": raw.get("source") or "",
        "notes": raw.get("notes") or "",
        "frequency": frequency,
        "anchor": anchor,
        "deadline": {"rule": deadline["rule"], "days": deadline["days"]},  # type: ignore[index]
        "metrics": list(metrics.values()),
        "subtotals": subtotals,
        "not_above": not_above,
        "questions": questions,
    }
    return definition


_DEFAULT_UNITS = {"count": "number", "money": "pence", "percent": "%", "yes_no": "yes/no", "date": "date"}


template_sha256 = definition_sha256


def shipped_template(name: str) -> dict[str, Any]:
    """A template file shipped in domain/monitoring/templates/ (`name` without .json), as raw JSON."""
    return json.loads((SHIPPED_TEMPLATES / f"{name}.json").read_text(encoding="utf-8"))


def shipped_template_names() -> list[str]:
    return sorted(p.stem for p in SHIPPED_TEMPLATES.glob("*.json"))


def _date_or_none(text: Any) -> date | None:
    if not isinstance(text, str):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


# --------------------------------------------------------------------------- periods


def period_bounds(definition: dict[str, Any], period: str) -> tuple[date, date]:
    """The first and last day of `period` in the template's frequency.

    monthly: 2026-04; quarterly: 2026-Q1 (quarters of the financial year starting April
    2026, so Q1 is April-June); annual: 2026-27 (April 2026 to March 2027); 4-weekly: the
    period's first day, 28 days apart from the template's anchor (2026-04-06).
    """
    frequency = definition["frequency"]
    bad = ValidationFailed
    if frequency == "monthly":
        m = _MONTH.match(period)
        if not m:
            raise bad(f"A monthly period is YYYY-MM, not {period!r}.", code="invalid_period", field="period")
        year, month = int(m[1]), int(m[2])
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    if frequency == "quarterly":
        m = _QUARTER.match(period)
        if not m:
            raise bad(f"A quarterly period is YYYY-Qn (financial year from April), not {period!r}.", code="invalid_period", field="period")
        year, q = int(m[1]), int(m[2])
        first_month = 4 + 3 * (q - 1)
        start = date(year + (first_month - 1) // 12, (first_month - 1) % 12 + 1, 1)
        last_month = first_month + 2
        end_year, end_month = year + (last_month - 1) // 12, (last_month - 1) % 12 + 1
        return start, date(end_year, end_month, calendar.monthrange(end_year, end_month)[1])
    if frequency == "annual":
        m = _YEAR.match(period)
        if not m or (int(m[1]) + 1) % 100 != int(m[2]):
            raise bad(f"An annual period is the financial year, e.g. 2026-27, not {period!r}.", code="invalid_period", field="period")
        return date(int(m[1]), 4, 1), date(int(m[1]) + 1, 3, 31)
    start = _date_or_none(period)
    anchor = date.fromisoformat(definition["anchor"])
    if start is None or (start - anchor).days % 28:
        raise bad(
            f"A 4-weekly period is named by its first day, a multiple of 28 days from {anchor}, not {period!r}.",
            code="invalid_period",
            field="period",
        )
    return start, start + timedelta(days=27)


def due_on(definition: dict[str, Any], period: str) -> date:
    """The deadline of the return for `period`, from the template's deadline rule."""
    _, end = period_bounds(definition, period)
    rule = definition["deadline"]
    if rule["rule"] == "calendar_days_after_period_end":
        return end + timedelta(days=rule["days"])
    try:
        return add_working_days(end, rule["days"])
    except CalendarNotCovered as err:
        raise _refuse("calendar_not_covered", str(err)) from None


def lateness(due: date, submitted_on: date) -> dict[str, Any]:
    days = (submitted_on - due).days
    return {"due_on": due.isoformat(), "submitted_on": submitted_on.isoformat(), "on_time": days <= 0, "days_late": max(days, 0)}


def questions_asked(definition: dict[str, Any], period: str) -> list[dict[str, Any]]:
    """The qualitative questions asked in `period`: those for every period, and those for the month it ends in."""
    _, end = period_bounds(definition, period)
    return [q for q in definition["questions"] if not q["ask_in_months"] or end.month in q["ask_in_months"]]


# ------------------------------------------------------------------------ validation


def _check_value(f: _Failures, metric: dict[str, Any], value: Any) -> None:
    mid, kind = metric["id"], metric["type"]
    label = metric["label"]
    if kind == "count":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            f.add(mid, "not_a_count", f"{label} is a count: a whole number of 0 or more, not {value!r}.")
    elif kind == "money":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            f.add(mid, "not_money", f"{label} is an amount in pence: a whole number of 0 or more, not {value!r}.")
    elif kind == "percent":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            f.add(mid, "not_a_number", f"{label} is a percentage: a number from 0 to 100, not {value!r}.")
        elif not 0 <= value <= 100:
            f.add(mid, "percent_out_of_range", f"{label} is a percentage and must be from 0 to 100, not {value}.")
    elif kind == "text":
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
            f.add(mid, "not_text", f"{label} is text of 1 to {MAX_TEXT} characters.")
    elif kind == "yes_no":
        if not isinstance(value, bool):
            f.add(mid, "not_yes_no", f"{label} is yes or no (true or false), not {value!r}.")
    elif kind == "date":
        if _date_or_none(value) is None:
            f.add(mid, "not_a_date", f"{label} is a date (YYYY-MM-DD), not {value!r}.")
    elif kind == "choice":
        if value not in metric["choices"]:
            f.add(mid, "not_a_choice", f"{label} is one of {', '.join(metric['choices'])}, not {value!r}.")


def validate_return(
    definition: dict[str, Any], period: str, values: dict[str, Any], comments: dict[str, str], answers: dict[str, str]
) -> None:
    """Check a return against its template; raises `ReturnInvalid` listing every failure."""
    f = _Failures()
    metrics = {m["id"]: m for m in definition["metrics"]}
    for key in sorted(set(values) - set(metrics)):
        f.add(key, "unknown_metric", f"{key} is not a metric of {definition['template']} version {definition['version']}.")
    for key in sorted(set(comments) - set(metrics)):
        f.add(f"comments.{key}", "unknown_metric", f"A comment on {key}, which is not a metric of this template.")
    for key, text in sorted(comments.items()):
        if not isinstance(text, str) or len(text) > MAX_COMMENT:
            f.add(f"comments.{key}", "comment_too_long", f"A comment is text of at most {MAX_COMMENT} characters.")
    present: dict[str, Any] = {}
    for mid, metric in metrics.items():
        value = values.get(mid)
        if value is None:
            if metric["required"]:
                f.add(mid, "required", f"{metric['label']} is required.")
            continue
        before = len(f.items)
        _check_value(f, metric, value)
        if len(f.items) == before:
            present[mid] = value
    for rule in definition["subtotals"]:
        total = rule["total"]
        if total in present and any(p in present for p in rule["parts"]):
            parts_sum = sum(present.get(p, 0) for p in rule["parts"])
            if parts_sum != present[total]:
                f.add(
                    total,
                    "subtotal_mismatch",
                    f"{metrics[total]['label']} is {present[total]} but its parts ({', '.join(rule['parts'])}) add up to {parts_sum}.",
                )
    for rule in definition["not_above"]:
        limit = rule["limit"]
        if limit not in present:
            continue
        for mid in rule["fields"]:
            if mid in present and present[mid] > present[limit]:
                f.add(
                    mid,
                    "exceeds_limit",
                    f"{metrics[mid]['label']} ({present[mid]}) cannot be more than {metrics[limit]['label']} ({present[limit]}).",
                )
    asked = {q["id"]: q for q in questions_asked(definition, period)}
    all_questions = {q["id"] for q in definition["questions"]}
    for qid in sorted(set(answers) - set(asked)):
        rule = "question_not_asked" if qid in all_questions else "unknown_question"
        f.add(f"answers.{qid}", rule, f"Question {qid} is not asked in period {period}.")
    for qid in asked:
        text = answers.get(qid)
        if not isinstance(text, str) or not text.strip():
            f.add(f"answers.{qid}", "answer_required", f"Question {qid} is asked in period {period} and needs an answer.")
        elif len(text) > MAX_TEXT:
            f.add(f"answers.{qid}", "answer_too_long", f"An answer is at most {MAX_TEXT} characters.")
    f.raise_if_any("The return")


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


return_template_state = versioned_state


# --------------------------------------------------------------------------- Return

SUBMITTED, MISSED = "submitted", "missed"


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
        f = _Failures()
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


def _clean(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in sorted(mapping.items()) if v is not None}


def _check_submittable(definition: dict[str, Any], period: str, now: datetime) -> None:
    _, end = period_bounds(definition, period)
    if london_day(now) <= end:
        raise _refuse("period_not_ended", f"The period {period} ends on {end}; its return can be submitted from the next day.", field="period")


def return_state(r: Return) -> dict[str, Any]:
    return {
        "reference": r.reference,
        "id": str(r.id),
        "version": r.version,
        "location": r.location,
        "template": {"reference": r.template, "version": r.template_version, "sha256": r.template_sha256},
        "period": {"name": r.period, "starts_on": r.period_start, "ends_on": r.period_end},
        "due_on": r.due_on,
        "status": r.status,
        "lateness": copy.deepcopy(r.lateness),
        "missed_on": r.missed_on,
        "values": copy.deepcopy(r.values),
        "comments": dict(r.comments),
        "answers": dict(r.answers),
        "amendments": copy.deepcopy(r.amendments),
        "reviews": copy.deepcopy(r.reviews),
    }


# ------------------------------------------------------------------ placement returns


def passes_nhs_check_digit(text: str) -> bool:
    """True for a 10-digit value whose last digit is its NHS number modulus-11 check digit."""
    digits = text.replace(" ", "").replace("-", "")
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def month_bounds(period: str) -> tuple[date, date]:
    return period_bounds({"frequency": "monthly"}, period)


def placement_return_reference(location: str, period: str) -> str:
    return f"{location}/placements/{period}"


def validate_placements(
    *,
    period: str,
    placements: list[dict[str, Any]],
    rate_on: Callable[[date, str], int | None],
    previous: list[dict[str, Any]] | None,
    today: date,
) -> list[dict[str, Any]]:
    """Check a month's placements; the placements with the framework rate each was checked against.

    The rate is the framework's rate for the bed type on the later of the placement's start
    and the first day of the month (the rate being paid that month). A different rate needs
    a flagged explanation. Raises `ReturnInvalid` listing every failure.
    """
    f = _Failures()
    start_of_month, end_of_month = month_bounds(period)
    checked = []
    seen: set[str] = set()
    for i, p in enumerate(placements):
        ref = p.get("reference") or ""
        where = f"placements[{i}]"
        if passes_nhs_check_digit(ref):
            f.add(
                f"{where}.reference",
                "nhs_number_refused",
                f"{ref} looks like an NHS number (10 digits passing the NHS number check digit); no patient-identifiable "
                "data may be stored, so use the home's local pseudonymous reference instead.",
            )
            continue
        if not _LOCAL_REF.match(ref):
            f.add(f"{where}.reference", "invalid_reference", "A placement reference is a local code of letters, digits, '.', '_' or '-' (no names).")
            continue
        where = f"placements.{ref}"
        if ref in seen:
            f.add(where, "duplicate_placement", f"Placement {ref} is listed twice.")
            continue
        seen.add(ref)
        bed_type = p.get("bed_type")
        if bed_type not in BED_TYPES:
            f.add(f"{where}.bed_type", "unknown_bed_type", f"Bed type is one of {', '.join(BED_TYPES)}.")
        start, end = _date_or_none(p.get("start_date")), _date_or_none(p.get("end_date"))
        if start is None:
            f.add(f"{where}.start_date", "not_a_date", "start_date is a date (YYYY-MM-DD).")
        elif start > today:
            f.add(f"{where}.start_date", "date_in_future", f"start_date {start} is in the future (today is {today}).")
        elif start > end_of_month:
            f.add(f"{where}.start_date", "after_period", f"start_date {start} is after the month {period} ends.")
        if p.get("end_date") is not None:
            if end is None:
                f.add(f"{where}.end_date", "not_a_date", "end_date is a date (YYYY-MM-DD).")
            elif end > today:
                f.add(f"{where}.end_date", "date_in_future", f"end_date {end} is in the future (today is {today}).")
            elif start is not None and end < start:
                f.add(f"{where}.end_date", "end_before_start", f"end_date {end} is before start_date {start}.")
            if not p.get("end_reason"):
                f.add(f"{where}.end_reason", "end_reason_required", "An ended placement needs an end reason.")
        if p.get("end_reason") is not None:
            if p["end_reason"] not in END_REASONS:
                f.add(f"{where}.end_reason", "unknown_end_reason", f"End reason is one of {', '.join(END_REASONS)}.")
            if p.get("end_date") is None:
                f.add(f"{where}.end_date", "end_date_required", "An end reason needs the end date.")
        rate = p.get("weekly_rate")
        expected = None
        if isinstance(rate, bool) or not isinstance(rate, int) or rate <= 0:
            f.add(f"{where}.weekly_rate", "not_money", "weekly_rate is pence per week, a whole number above 0.")
        elif bed_type in BED_TYPES and start is not None:
            day = max(start, start_of_month)
            expected = rate_on(day, bed_type)
            explanation = (p.get("rate_explanation") or "").strip()
            if expected is None:
                if not explanation:
                    f.add(f"{where}.weekly_rate", "no_framework_rate", f"The framework has no {bed_type} rate on {day}; explain the rate paid.")
            elif rate != expected and not explanation:
                f.add(
                    f"{where}.weekly_rate",
                    "rate_not_framework_rate",
                    f"The AQP rate for {bed_type} on {day} is {expected} pence a week, not {rate}; "
                    "correct it or flag it with a rate_explanation.",
                )
        if not p.get("icb"):
            f.add(f"{where}.icb", "required", "The commissioning ICB is required.")
        checked.append({**p, "framework_rate": expected, "rate_flagged": expected is not None and rate != expected})
    for prior in previous or []:
        ref = prior["reference"]
        ended_before = prior.get("end_date") is not None and prior["end_date"] < start_of_month.isoformat()
        if ref not in seen and not ended_before and prior.get("end_date") is None:
            f.add(
                f"placements.{ref}",
                "placement_disappeared",
                f"Placement {ref} was open in last month's return; it stays in this return until it is given an end date and reason.",
            )
    f.raise_if_any("The placement return", code="placement_return_invalid")
    return [{k: v for k, v in sorted(p.items()) if v is not None} for p in checked]


@stored_as("domain.returns")
class PlacementReturn(LedgerAggregate):
    """One home's placements for one month (seed 000 s.3.2)."""

    KIND = "placement_return"

    def __init__(self) -> None:
        self.reference = ""
        self.location = ""
        self.framework = ""
        self.period = ""
        self.due_on = ""
        self.placements: list[dict[str, Any]] = []
        self.lateness: dict[str, Any] | None = None

    @classmethod
    def submit_new(
        cls,
        *,
        location: str,
        framework: str,
        period: str,
        placements: list[dict[str, Any]],
        rate_on: Callable[[date, str], int | None],
        previous: list[dict[str, Any]] | None,
        now: datetime,
    ) -> PlacementReturn:
        today = london_day(now)
        start, end = month_bounds(period)
        if today <= end:
            raise _refuse("period_not_ended", f"The month {period} ends on {end}; its placements can be returned from the next day.", field="period")
        checked = validate_placements(period=period, placements=placements, rate_on=rate_on, previous=previous, today=today)
        try:
            due = add_working_days(end, PLACEMENT_DEADLINE_WORKING_DAYS)
        except CalendarNotCovered as err:
            raise _refuse("calendar_not_covered", str(err)) from None
        reference = placement_return_reference(location, period)
        return cls._create(
            cls.Submitted,
            id=cls.id_for(reference),
            reference=reference,
            location=location,
            framework=framework,
            period=period,
            placements=checked,
            lateness=lateness(due, today),
        )

    def same_as(self, placements: list[dict[str, Any]]) -> bool:
        strip = ("framework_rate", "rate_flagged")
        mine = [{k: v for k, v in p.items() if k not in strip} for p in self.placements]
        theirs = [{k: v for k, v in sorted(p.items()) if v is not None} for p in placements]
        return mine == theirs

    class Submitted(LedgerAggregate.Created):
        reference: str
        location: str
        framework: str
        period: str
        placements: list
        lateness: dict

        def apply(self, r: PlacementReturn) -> None:
            r.reference, r.location, r.framework, r.period = self.reference, self.location, self.framework, self.period
            r.placements = copy.deepcopy(self.placements)
            r.lateness = dict(self.lateness)
            r.due_on = self.lateness["due_on"]


def previous_month(period: str) -> str:
    start, _ = month_bounds(period)
    before = start - timedelta(days=1)
    return f"{before.year:04d}-{before.month:02d}"


def placement_return_state(r: PlacementReturn) -> dict[str, Any]:
    return {
        "reference": r.reference,
        "id": str(r.id),
        "version": r.version,
        "location": r.location,
        "framework": r.framework,
        "period": r.period,
        "due_on": r.due_on,
        "lateness": copy.deepcopy(r.lateness),
        "placements": copy.deepcopy(r.placements),
        "open": sum(1 for p in r.placements if p.get("end_date") is None),
        "rates_flagged": [p["reference"] for p in r.placements if p.get("rate_flagged")],
    }
