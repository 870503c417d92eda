"""Return templates as data: what a template may say, the shipped ones, and a return checked against one.

A return template (seed 000 s.6.2.1, seed 003 s.3.1) is data, shipped in
domain/monitoring/templates/ and published with `template.publish`: metrics (type, unit,
required, a definition), subtotal rules (these parts sum to that total), consistency rules
(this count is not above that one, e.g. the number of residents), a frequency (monthly,
4-weekly, quarterly, annual), a deadline rule (e.g. the 10th working day after the period
ends) and up to three qualitative questions. `parse_template` checks and normalises one;
`validate_return` checks a return's values, comments and answers against it.

Every failure is reported at once (field, rule, message) in one `ReturnInvalid`, collected
with `Failures`; the other checks of the monitoring context (placement returns, KPI sets,
quality visit frameworks) report theirs the same way.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from domain.kernel.errors import ValidationFailed
from domain.kernel.versioned import definition_sha256, shipped_definition, shipped_files, shipped_versions
from domain.monitoring.periods import date_or_none, period_bounds

METRIC_TYPES = ("count", "money", "percent", "text", "yes_no", "date", "choice")
FREQUENCIES = ("monthly", "4-weekly", "quarterly", "annual")
DEADLINE_RULES = ("working_days_after_period_end", "calendar_days_after_period_end")
MAX_QUESTIONS = 3
MAX_COMMENT = 2_000
MAX_TEXT = 20_000
SHIPPED_TEMPLATES = Path(__file__).parent / "templates"

_ID = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_TEMPLATE_REF = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


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


class Failures:
    """The failures of one check, collected so that all are reported at once."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, field: str, rule: str, message: str) -> None:
        self.items.append({"field": field, "rule": rule, "message": message})

    def raise_if_any(self, what: str, code: str | None = None) -> None:
        if self.items:
            raise ReturnInvalid(what, self.items, code=code)



# ------------------------------------------------------------------------ templates


def parse_template(raw: Any) -> dict[str, Any]:
    """A template definition checked and normalised; every problem is reported at once."""
    f = Failures()
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
        if not isinstance(anchor, str) or date_or_none(anchor) is None:
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


def shipped_template(name: str, version: int | None = None) -> dict[str, Any]:
    """A template shipped in domain/monitoring/templates/ (`name` without .json), as raw JSON: the
    latest shipped version (NAME.json is version 1, NAME.vN.json version N), or `version`."""
    return shipped_definition(SHIPPED_TEMPLATES, name, version)


def shipped_template_versions(name: str) -> list[dict[str, Any]]:
    """Every shipped version of a template, oldest first: publish them in this order."""
    return shipped_versions(SHIPPED_TEMPLATES, name)


def shipped_template_names() -> list[str]:
    return sorted(shipped_files(SHIPPED_TEMPLATES))



def questions_asked(definition: dict[str, Any], period: str) -> list[dict[str, Any]]:
    """The qualitative questions asked in `period`: those for every period, and those for the month it ends in."""
    _, end = period_bounds(definition, period)
    return [q for q in definition["questions"] if not q["ask_in_months"] or end.month in q["ask_in_months"]]



# ------------------------------------------------------------------------ validation


def _check_value(f: Failures, metric: dict[str, Any], value: Any) -> None:
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
        if date_or_none(value) is None:
            f.add(mid, "not_a_date", f"{label} is a date (YYYY-MM-DD), not {value!r}.")
    elif kind == "choice":
        if value not in metric["choices"]:
            f.add(mid, "not_a_choice", f"{label} is one of {', '.join(metric['choices'])}, not {value!r}.")


def validate_return(
    definition: dict[str, Any], period: str, values: dict[str, Any], comments: dict[str, str], answers: dict[str, str]
) -> None:
    """Check a return against its template; raises `ReturnInvalid` listing every failure."""
    f = Failures()
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
