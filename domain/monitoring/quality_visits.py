"""Quality monitoring visits (seed 004, issue 5 item 5): scored against a framework kept as data.

A quality monitoring framework (domain/monitoring/templates/quality-visits/*.json) is data: indicators in
groups, each with a definition and the evidence expected; a score scale; the standard (the
lowest score that meets it); and the RAG thresholds that turn the scores into the visit's
Red, Amber or Green outcome. Nottingham's 43-indicator framework ships with the ledger. The
framework files live in a folder of their own because they are not return templates: every
file in domain/monitoring/templates/ is published as a return template by `aqp templates publish`.

A `QualityVisit` is one annual visit to one location on one day (its reference is
`LOCATION/quality-visit/DATE`, so the same visit cannot be scheduled twice):

    scheduled (location, date, the visitors' roles; the framework version frozen into it)
      -> indicators scored with evidence (only the framework's indicators, only on its scale,
         evidence required for any score below the top; rescoring allowed until concluded)
      -> concluded with the RAG outcome computed from the scores and the thresholds
         (refused while any indicator is unscored)
      -> an action plan: one or more actions for every indicator below standard, and only
         for those; where the location's contract is escalated, the plan is linked to the
         contract's improvement action plan (the contract reference and plan id recorded).

Every failure of a scoring or an action plan is reported at once (field, rule, message), and
nothing is recorded when anything fails. Public methods decide; the events' `apply` assign.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from datetime import date, datetime
from typing import Any

from domain.kernel.errors import RuleBroken, ValidationFailed
from domain.kernel.metadata import LedgerAggregate
from domain.providers.location import london_day
from domain.monitoring.templates import SHIPPED_TEMPLATES, Failures, ReturnInvalid, template_sha256
from domain.kernel.topics import stored_as

VISIT_FRAMEWORKS = SHIPPED_TEMPLATES / "quality-visits"
NOTTINGHAM = "nottingham-quality-monitoring-visit"
RAG = ("red", "amber", "green")
MAX_EVIDENCE = 5_000
SCHEDULED, SCORING, CONCLUDED, ACTION_PLAN_AGREED = "scheduled", "scoring", "concluded", "action_plan_agreed"

_ID = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_REF = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def _refuse(code: str, message: str, **context: Any) -> RuleBroken:
    return RuleBroken(message, code=code, **context)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# -------------------------------------------------------------------- the framework


def parse_visit_framework(raw: Any) -> dict[str, Any]:
    """A framework definition checked and normalised; every problem is reported at once."""
    f = Failures()
    if not isinstance(raw, dict):
        raise ReturnInvalid("The framework", [{"field": "framework", "rule": "not_an_object", "message": "A framework is a JSON object."}], code="visit_framework_invalid")
    known = {"framework", "version", "title", "source", "notes", "indicator_count", "scale", "standard", "rag", "groups"}
    for key in sorted(set(raw) - known):
        f.add(key, "unknown_key", f"{key} is not part of a quality monitoring framework; the keys are {', '.join(sorted(known))}.")
    if not isinstance(raw.get("framework"), str) or not _REF.match(raw["framework"]):
        f.add("framework", "invalid_reference", "framework is its name in lower case with hyphens.")
    if not _whole(raw.get("version")) or raw["version"] < 1:
        f.add("version", "invalid_version", "version is a whole number from 1.")
    if not isinstance(raw.get("title"), str) or not raw["title"].strip():
        f.add("title", "required", "title is required.")
    scale: list[dict[str, Any]] = []
    for i, step in enumerate(raw.get("scale") or []):
        if not isinstance(step, dict) or not _whole(step.get("score")) or not isinstance(step.get("label"), str):
            f.add(f"scale[{i}]", "invalid_score", "A scale step is {\"score\": whole number, \"label\": text, \"meaning\": text}.")
            continue
        scale.append({"score": step["score"], "label": step["label"], "meaning": step.get("meaning") or ""})
    scores = [s["score"] for s in scale]
    if len(scale) < 2 or scores != sorted(set(scores)):
        f.add("scale", "invalid_scale", "The scale has at least two steps with distinct scores, lowest first.")
    standard = raw.get("standard")
    if standard not in scores or (scores and standard == scores[0]):
        f.add("standard", "invalid_standard", "standard is a score on the scale above the lowest: the lowest score that meets the standard.")
    rag = raw.get("rag")
    if not _valid_rag(rag, scores):
        f.add(
            "rag",
            "invalid_thresholds",
            "rag is {\"green\": {\"min_percent\", \"max_below_standard\"}, \"amber\": {...}, \"red_if_critical_scored_at_most\": a score or null}, "
            "with percentages 0-100 and green at least as strict as amber.",
        )
    groups: list[dict[str, Any]] = []
    seen: set[str] = set()
    for g_i, group in enumerate(raw.get("groups") or []):
        gid = group.get("id") if isinstance(group, dict) else None
        if not isinstance(gid, str) or not _ID.match(gid) or not isinstance(group.get("title"), str):
            f.add(f"groups[{g_i}]", "invalid_group", "A group has an id (lower case, digits, underscores), a title and indicators.")
            continue
        indicators = []
        for i_i, ind in enumerate(group.get("indicators") or []):
            where = f"{gid}.indicators[{i_i}]"
            iid = ind.get("id") if isinstance(ind, dict) else None
            if not isinstance(iid, str) or not _ID.match(iid):
                f.add(f"{where}.id", "invalid_id", "An indicator id is lower case letters, digits and underscores.")
                continue
            if iid in seen:
                f.add(f"{where}.id", "duplicate_indicator", f"Indicator {iid} is defined twice.")
                continue
            seen.add(iid)
            for key in sorted(set(ind) - {"id", "title", "definition", "evidence_expected", "critical"}):
                f.add(f"{iid}.{key}", "unknown_key", f"{key} is not part of an indicator.")
            for key in ("title", "definition", "evidence_expected"):
                if not isinstance(ind.get(key), str) or not ind[key].strip():
                    f.add(f"{iid}.{key}", "required", f"Every indicator needs its {key.replace('_', ' ')}.")
            if not isinstance(ind.get("critical", False), bool):
                f.add(f"{iid}.critical", "not_yes_no", "critical is true or false.")
            indicators.append(
                {
                    "id": iid,
                    "title": ind.get("title"),
                    "definition": ind.get("definition"),
                    "evidence_expected": ind.get("evidence_expected"),
                    "critical": bool(ind.get("critical", False)),
                }
            )
        if not indicators:
            f.add(f"groups[{g_i}].indicators", "required", f"Group {gid} has no indicators.")
        groups.append({"id": gid, "title": group["title"], "indicators": indicators})
    if not groups:
        f.add("groups", "required", "A framework has at least one group of indicators.")
    count = raw.get("indicator_count")
    if count is not None and count != len(seen):
        f.add("indicator_count", "count_mismatch", f"The framework says it has {count} indicators but defines {len(seen)}.")
    f.raise_if_any("The quality monitoring framework", code="visit_framework_invalid")
    return {
        "framework": raw["framework"],
        "version": raw["version"],
        "title": raw["title"].strip(),
        "source": raw.get("source") or "",
        "notes": raw.get("notes") or "",
        "scale": scale,
        "standard": standard,
        "rag": copy.deepcopy(rag),
        "groups": groups,
    }


def _valid_rag(rag: Any, scores: list[int]) -> bool:
    if not isinstance(rag, dict) or set(rag) - {"green", "amber", "red_if_critical_scored_at_most"}:
        return False
    bands = [rag.get("green"), rag.get("amber")]
    for band in bands:
        if not isinstance(band, dict) or set(band) != {"min_percent", "max_below_standard"}:
            return False
        if isinstance(band["min_percent"], bool) or not isinstance(band["min_percent"], (int, float)) or not 0 <= band["min_percent"] <= 100:
            return False
        if not _whole(band["max_below_standard"]) or band["max_below_standard"] < 0:
            return False
    green, amber = bands
    if green["min_percent"] < amber["min_percent"] or green["max_below_standard"] > amber["max_below_standard"]:
        return False
    critical = rag.get("red_if_critical_scored_at_most")
    return critical is None or critical in scores


def shipped_visit_framework(name: str) -> dict[str, Any]:
    """A framework shipped in domain/monitoring/templates/quality-visits/ (`name` without .json), as raw JSON."""
    path = VISIT_FRAMEWORKS / f"{name}.json"
    if not _REF.match(name) or not path.is_file():
        raise ValidationFailed(f"There is no quality monitoring framework {name}.", code="unknown_visit_framework", field="framework")
    return json.loads(path.read_text(encoding="utf-8"))


def shipped_visit_framework_names() -> list[str]:
    return sorted(p.stem for p in VISIT_FRAMEWORKS.glob("*.json"))


def frozen_framework(definition: dict[str, Any]) -> dict[str, Any]:
    """What a visit keeps of its framework: enough to decide every rule without the file."""
    return {
        "reference": definition["framework"],
        "version": definition["version"],
        "sha256": template_sha256(definition),
        "scale": [s["score"] for s in definition["scale"]],
        "labels": {str(s["score"]): s["label"] for s in definition["scale"]},
        "standard": definition["standard"],
        "rag": copy.deepcopy(definition["rag"]),
        "indicators": {
            ind["id"]: {"group": g["id"], "title": ind["title"], "critical": ind["critical"]}
            for g in definition["groups"]
            for ind in g["indicators"]
        },
    }


def rag_outcome(framework: dict[str, Any], scores: dict[str, int]) -> dict[str, Any]:
    """The visit's outcome from every indicator's score and the framework's thresholds.

    Green: at least green.min_percent of the maximum score, at most green.max_below_standard
    indicators below standard and no critical indicator at or below the critical floor;
    Amber likewise with amber's thresholds; otherwise Red.
    """
    top, standard, rag = max(framework["scale"]), framework["standard"], framework["rag"]
    total = sum(scores.values())
    maximum = top * len(framework["indicators"])
    percent = round(100 * total / maximum, 1)
    below = sorted(i for i, s in scores.items() if s < standard)
    floor = rag.get("red_if_critical_scored_at_most")
    critical = sorted(i for i, s in scores.items() if floor is not None and framework["indicators"][i]["critical"] and s <= floor)

    def meets(band: dict[str, Any]) -> bool:
        return percent >= band["min_percent"] and len(below) <= band["max_below_standard"] and not critical

    outcome = "green" if meets(rag["green"]) else "amber" if meets(rag["amber"]) else "red"
    return {
        "rag": outcome,
        "total": total,
        "maximum": maximum,
        "percent": percent,
        "below_standard": below,
        "critical_failures": critical,
        "by_group": _by_group(framework, scores),
    }


def _by_group(framework: dict[str, Any], scores: dict[str, int]) -> dict[str, dict[str, int]]:
    top = max(framework["scale"])
    groups: dict[str, dict[str, int]] = {}
    for iid, meta in framework["indicators"].items():
        g = groups.setdefault(meta["group"], {"total": 0, "maximum": 0})
        g["total"] += scores.get(iid, 0)
        g["maximum"] += top
    return groups


# ------------------------------------------------------------------- QualityVisit


def visit_reference(location: str, visit_date: date | str) -> str:
    return f"{location}/quality-visit/{visit_date if isinstance(visit_date, str) else visit_date.isoformat()}"


@stored_as("domain.quality_visits")
class QualityVisit(LedgerAggregate):
    """One quality monitoring visit to one location on one day."""

    KIND = "quality_visit"

    def __init__(self) -> None:
        self.reference = ""
        self.location = ""
        self.category: str | None = None
        self.visit_date = ""
        self.visitors: list[str] = []
        self.contract: str | None = None
        self.framework: dict[str, Any] = {}
        self.status = ""
        #: indicator -> {"score", "evidence", "scored_on"}
        self.scores: dict[str, dict[str, Any]] = {}
        self.rescored: list[dict[str, Any]] = []
        self.outcome: dict[str, Any] | None = None
        self.concluded_on: str | None = None
        self.action_plan: dict[str, Any] | None = None

    # -------------------------------------------------------------- scheduling

    @classmethod
    def schedule(
        cls,
        *,
        location: str,
        category: str | None,
        visit_date: date,
        visitors: list[str],
        framework: dict[str, Any],
        contract: str | None,
        now: datetime,
    ) -> QualityVisit:
        """Schedule a visit; `framework` is a parsed definition, frozen into the visit."""
        _check_schedule(visit_date, visitors, now)
        reference = visit_reference(location, visit_date)
        return cls._create(
            cls.Scheduled,
            id=cls.id_for(reference),
            reference=reference,
            location=location,
            category=category,
            visit_date=visit_date.isoformat(),
            visitors=_clean_visitors(visitors),
            contract=contract,
            framework=frozen_framework(framework),
        )

    def same_schedule(self, *, visitors: list[str], framework: dict[str, Any], contract: str | None) -> bool:
        return (self.visitors, self.framework["sha256"], self.contract) == (
            _clean_visitors(visitors), template_sha256(framework), contract,
        )

    class Scheduled(LedgerAggregate.Created):
        reference: str
        location: str
        category: str | None
        visit_date: str
        visitors: list
        contract: str | None
        framework: dict

        def apply(self, v: QualityVisit) -> None:
            v.reference, v.location, v.category, v.visit_date = self.reference, self.location, self.category, self.visit_date
            v.visitors, v.contract = list(self.visitors), self.contract
            v.framework = copy.deepcopy(self.framework)
            v.status = SCHEDULED

    # ------------------------------------------------------------------ scoring

    def score(self, *, scores: list[dict[str, Any]], now: datetime) -> bool:
        """Score indicators with evidence; False when every score repeats what is recorded."""
        if self.status not in (SCHEDULED, SCORING):
            raise _refuse("visit_concluded", f"The visit {self.reference} was concluded on {self.concluded_on}; its scores are final.")
        today = london_day(now)
        if today < date.fromisoformat(self.visit_date):
            raise _refuse("visit_not_held", f"The visit {self.reference} is on {self.visit_date}; it cannot be scored before then.", field="scores")
        f = Failures()
        if not scores:
            f.add("scores", "required", "A scoring needs at least one indicator's score.")
        indicators, scale = self.framework["indicators"], self.framework["scale"]
        top = max(scale)
        accepted: dict[str, dict[str, Any]] = {}
        seen: set[str] = set()
        for i, item in enumerate(scores):
            iid = item.get("indicator")
            where = f"scores.{iid}" if isinstance(iid, str) else f"scores[{i}]"
            if iid not in indicators:
                f.add(where, "unknown_indicator", f"{iid!r} is not an indicator of {self.framework['reference']} version {self.framework['version']}.")
                continue
            if iid in seen:
                f.add(where, "duplicate_indicator", f"{iid} is scored twice in one scoring.")
                continue
            seen.add(iid)
            value = item.get("score")
            raw_evidence = item.get("evidence")
            evidence = "" if raw_evidence is None else raw_evidence.strip() if isinstance(raw_evidence, str) else None
            ok = True
            if not _whole(value) or value not in scale:
                f.add(f"{where}.score", "not_on_scale", f"{indicators[iid]['title']} is scored on {', '.join(map(str, scale))}, not {value!r}.")
                ok = False
            if evidence is None or len(evidence) > MAX_EVIDENCE:
                f.add(f"{where}.evidence", "evidence_invalid", f"Evidence is text of at most {MAX_EVIDENCE} characters.")
                ok = False
            elif ok and value < top and not evidence:
                f.add(
                    f"{where}.evidence",
                    "evidence_required",
                    f"{indicators[iid]['title']} scored {value} ({self.framework['labels'][str(value)]}), below the top of the scale: "
                    "record the evidence seen.",
                )
                ok = False
            if ok:
                accepted[iid] = {"score": value, "evidence": evidence}
        f.raise_if_any("The scoring", code="scoring_invalid")
        changed = {
            iid: s for iid, s in sorted(accepted.items())
            if iid not in self.scores or (self.scores[iid]["score"], self.scores[iid]["evidence"]) != (s["score"], s["evidence"])
        }
        if not changed:
            return False
        self.trigger_event(self.Scored, scores=changed, scored_on=today.isoformat())
        return True

    class Scored(LedgerAggregate.Event):
        scores: dict
        scored_on: str

        def apply(self, v: QualityVisit) -> None:
            for iid, s in self.scores.items():
                if iid in v.scores:
                    v.rescored.append({"indicator": iid, "previous": dict(v.scores[iid]), "on": self.scored_on})
                v.scores[iid] = {**s, "scored_on": self.scored_on}
            v.status = SCORING

    def unscored(self) -> list[str]:
        return sorted(set(self.framework["indicators"]) - set(self.scores))

    # -------------------------------------------------------------- conclusion

    def conclude(self, *, now: datetime) -> bool:
        """Conclude with the RAG outcome; False if already concluded."""
        if self.status in (CONCLUDED, ACTION_PLAN_AGREED):
            return False
        missing = self.unscored()
        if missing:
            shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            raise _refuse(
                "indicators_unscored",
                f"{len(missing)} of the {len(self.framework['indicators'])} indicators are not scored ({shown}); "
                "score every indicator before concluding the visit.",
                field="scores",
                unscored=missing,
            )
        outcome = rag_outcome(self.framework, {i: s["score"] for i, s in self.scores.items()})
        self.trigger_event(self.Concluded, outcome=outcome, concluded_on=london_day(now).isoformat())
        return True

    class Concluded(LedgerAggregate.Event):
        outcome: dict
        concluded_on: str

        def apply(self, v: QualityVisit) -> None:
            v.outcome, v.concluded_on = copy.deepcopy(self.outcome), self.concluded_on
            v.status = CONCLUDED

    # ------------------------------------------------------------- action plan

    def check_action_plan(self, actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The plan's actions checked (every failure at once), each with an id of its own."""
        if self.status == ACTION_PLAN_AGREED:
            raise _refuse("action_plan_exists", f"The visit {self.reference} already has its action plan.")
        if self.status != CONCLUDED:
            raise _refuse("visit_not_concluded", f"The visit {self.reference} is not concluded; conclude it before agreeing its action plan.")
        assert self.outcome is not None
        below = self.outcome["below_standard"]
        if not below:
            raise _refuse("nothing_below_standard", f"Every indicator of {self.reference} meets the standard; there is nothing to plan.")
        f = Failures()
        visit_day = date.fromisoformat(self.visit_date)
        planned: list[dict[str, Any]] = []
        counts: Counter[str] = Counter()
        for i, a in enumerate(actions):
            iid = a.get("indicator")
            where = f"actions[{i}]"
            if iid not in self.framework["indicators"]:
                f.add(f"{where}.indicator", "unknown_indicator", f"{iid!r} is not an indicator of this visit's framework.")
                continue
            if iid not in below:
                f.add(f"{where}.indicator", "indicator_meets_standard", f"{iid} scored {self.scores[iid]['score']}, which meets the standard; it needs no action.")
                continue
            due = a.get("due")
            due_day = date.fromisoformat(due) if isinstance(due, str) and _is_date(due) else due if isinstance(due, date) else None
            if due_day is None:
                f.add(f"{where}.due", "not_a_date", "due is a date (YYYY-MM-DD).")
            elif due_day <= visit_day:
                f.add(f"{where}.due", "due_before_visit", f"An action is due after the visit ({self.visit_date}), not on {due_day}.")
            for key in ("description", "owner_role"):
                if not isinstance(a.get(key), str) or not a[key].strip():
                    f.add(f"{where}.{key}", "required", f"Every action needs its {key.replace('_', ' ')}.")
            counts[iid] += 1
            planned.append(
                {
                    "id": f"{iid}-{counts[iid]}",
                    "indicator": iid,
                    "description": (a.get("description") or "").strip(),
                    "owner_role": (a.get("owner_role") or "").strip(),
                    "due": due_day.isoformat() if due_day else None,
                }
            )
        for iid in below:
            if iid not in counts:
                f.add(
                    f"actions.{iid}",
                    "action_required",
                    f"{self.framework['indicators'][iid]['title']} scored {self.scores[iid]['score']}, below standard: it needs an action.",
                )
        f.raise_if_any("The action plan", code="action_plan_invalid")
        return planned

    def agree_action_plan(self, *, actions: list[dict[str, Any]], linked: dict[str, str] | None, now: datetime) -> None:
        """Record the plan; `linked` is the escalated contract's improvement plan ({"contract", "plan"})."""
        planned = self.check_action_plan(actions)
        self.trigger_event(self.ActionPlanAgreed, actions=planned, linked=linked, agreed_on=london_day(now).isoformat())

    class ActionPlanAgreed(LedgerAggregate.Event):
        actions: list
        linked: dict | None
        agreed_on: str

        def apply(self, v: QualityVisit) -> None:
            v.action_plan = {"actions": copy.deepcopy(self.actions), "linked_to": copy.deepcopy(self.linked), "agreed_on": self.agreed_on}
            v.status = ACTION_PLAN_AGREED


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _clean_visitors(visitors: list[str]) -> list[str]:
    return [v.strip() for v in visitors]


def _check_schedule(visit_date: date, visitors: list[str], now: datetime) -> None:
    f = Failures()
    if visit_date < london_day(now):
        f.add("visit_date", "date_in_past", f"A visit is scheduled for today or later, not {visit_date} (today is {london_day(now)}).")
    cleaned = [v.strip() if isinstance(v, str) else "" for v in visitors]
    if not cleaned:
        f.add("visitors", "required", "A visit needs the roles of the visitors (e.g. NCC quality monitoring officer, CCG quality nurse).")
    if any(not v for v in cleaned):
        f.add("visitors", "invalid_role", "Each visitor is named by role: non-empty text.")
    if len(set(cleaned)) != len(cleaned):
        f.add("visitors", "duplicate_role", "Each visitor's role is listed once.")
    f.raise_if_any("The visit", code="visit_invalid")


def contract_plan_actions(visit: QualityVisit, planned: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The visit's actions in the shape of a contract's improvement action plan."""
    return [
        {
            "id": a["id"],
            "description": f"{visit.framework['indicators'][a['indicator']]['title']}: {a['description']}"[:500],
            "owner_role": a["owner_role"],
            "due": a["due"],
        }
        for a in planned
    ]


def default_contract_plan(visit: QualityVisit) -> str:
    return f"quality-visit-{visit.visit_date}"


def financial_year(day: str) -> str:
    d = date.fromisoformat(day)
    start = d.year if d.month >= 4 else d.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def rag_table(visits: list[QualityVisit]) -> dict[str, dict[str, dict[str, int]]]:
    """Concluded visits counted by financial year, category and RAG outcome (seed 004's table)."""
    table: dict[str, dict[str, dict[str, int]]] = {}
    for v in visits:
        if v.outcome is None:
            continue
        year = table.setdefault(financial_year(v.visit_date), {})
        for row in (v.category or "uncategorised", "total"):
            counts = year.setdefault(row, {k: 0 for k in RAG})
            counts[v.outcome["rag"]] += 1
    return table
