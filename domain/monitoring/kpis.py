"""KPIs as data, and the performance record a contract manager watches.

A KPI set (seed 003 s.2.2 and s.3.6, seed 000 s.7) is data, shipped in domain/monitoring/kpi_sets/ and
published with `kpi.publish`, versioned like return templates: each published version is
frozen, and republishing a version unchanged records nothing. Each indicator has an id, the
measure (what is counted, as a percentage), a target (a comparison and a value), a frequency,
whether it is critical, and the consequence of a breach. `evaluate_kpi` is pure: given the
figures for a period it says met or breached, and by how much.

A `PerformanceRecord` is one contract's record of performance failures (its reference is the
contract's): critical performance failures (e.g. a home on the contract rated Inadequate by
CQC) and service failures (the same return missed for three consecutive periods). Each is
recorded once per cause, so the process that records them (domain/performance_process.py)
can run again over the same log and record nothing twice.

Public methods decide; the nested events' `apply` only assign state.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from domain.kernel.errors import ValidationFailed
from domain.kernel.metadata import LedgerAggregate
from domain.monitoring.returns import ReturnInvalid
from domain.kernel.versioned import VersionedDefinition, definition_sha256, versioned_state
from domain.kernel.topics import stored_as

SHIPPED_KPIS = Path(__file__).parent / "kpi_sets"
KPI_FREQUENCIES = ("4-weekly", "monthly", "quarterly", "annual", "ongoing")
#: how a figure is compared with its target; the margin is positive when the figure is better
COMPARISONS = ("at_least", "above", "at_most", "below")
CRITICAL_KINDS = ("cqc_inadequate", "kpi_breach", "inaccurate_data", "other")

_ID = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_REF = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def _failures() -> list[dict[str, str]]:
    return []


def _add(f: list[dict[str, str]], field: str, rule: str, message: str) -> None:
    f.append({"field": field, "rule": rule, "message": message})


# ------------------------------------------------------------------ definitions


def parse_kpis(raw: Any) -> dict[str, Any]:
    """A KPI set checked and normalised; every problem is reported at once (`ReturnInvalid`)."""
    f = _failures()
    if not isinstance(raw, dict):
        raise ReturnInvalid("The KPI set", [{"field": "kpis", "rule": "not_an_object", "message": "A KPI set is a JSON object."}], code="kpis_invalid")
    known = {"kpis", "version", "title", "source", "notes", "indicators"}
    for key in sorted(set(raw) - known):
        _add(f, key, "unknown_key", f"{key} is not part of a KPI set; the keys are {', '.join(sorted(known))}.")
    ref = raw.get("kpis")
    if not isinstance(ref, str) or not _REF.match(ref):
        _add(f, "kpis", "invalid_reference", "kpis is the set's name in lower case with hyphens, e.g. cheshire-east-accommodation-with-care.")
    version = raw.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        _add(f, "version", "invalid_version", "version is a whole number from 1.")
    if not isinstance(raw.get("title"), str) or not raw["title"].strip():
        _add(f, "title", "required", "title is required.")
    indicators: dict[str, dict[str, Any]] = {}
    raw_indicators = raw.get("indicators")
    if not isinstance(raw_indicators, list) or not raw_indicators:
        _add(f, "indicators", "required", "A KPI set needs at least one indicator.")
        raw_indicators = []
    for i, k in enumerate(raw_indicators):
        where = f"indicators[{i}]"
        if not isinstance(k, dict):
            _add(f, where, "not_an_object", "Each indicator is a JSON object.")
            continue
        kid = k.get("id")
        if not isinstance(kid, str) or not _ID.match(kid):
            _add(f, f"{where}.id", "invalid_id", "An indicator id is lower case letters, digits and underscores.")
            continue
        if kid in indicators:
            _add(f, f"{where}.id", "duplicate_indicator", f"Indicator {kid} is defined twice.")
            continue
        allowed = {"id", "label", "measure", "definition", "target", "frequency", "critical", "consequence", "source"}
        for key in sorted(set(k) - allowed):
            _add(f, f"{kid}.{key}", "unknown_key", f"{key} is not part of an indicator.")
        for key in ("label", "measure", "definition", "consequence"):
            if not isinstance(k.get(key), str) or not k[key].strip():
                _add(f, f"{kid}.{key}", "required", f"Every indicator needs a {key}.")
        target = k.get("target")
        if (
            not isinstance(target, dict)
            or target.get("comparison") not in COMPARISONS
            or isinstance(target.get("value"), bool)
            or not isinstance(target.get("value"), (int, float))
            or not 0 <= target["value"] <= 100
            or set(target) - {"comparison", "value"}
        ):
            _add(f, f"{kid}.target", "invalid_target", f"target is {{\"comparison\": one of {', '.join(COMPARISONS)}, \"value\": a percentage 0-100}}.")
            target = None
        if k.get("frequency") not in KPI_FREQUENCIES:
            _add(f, f"{kid}.frequency", "unknown_frequency", f"frequency is one of {', '.join(KPI_FREQUENCIES)}.")
        if not isinstance(k.get("critical"), bool):
            _add(f, f"{kid}.critical", "not_yes_no", "critical is true or false.")
        indicators[kid] = {
            "id": kid,
            "label": k.get("label"),
            "measure": k.get("measure"),
            "definition": k.get("definition"),
            "target": dict(target) if target else None,
            "frequency": k.get("frequency"),
            "critical": k.get("critical"),
            "consequence": k.get("consequence"),
            "source": k.get("source") or "",
        }
    if f:
        raise ReturnInvalid("The KPI set", f, code="kpis_invalid")
    return {
        "kpis": ref,
        "version": version,
        "title": raw["title"].strip(),
        "source": raw.get("source") or "",
        "notes": raw.get("notes") or "",
        "indicators": list(indicators.values()),
    }


kpis_sha256 = definition_sha256


def shipped_kpis(name: str) -> dict[str, Any]:
    """A KPI set shipped in domain/monitoring/kpi_sets/ (`name` without .json), as raw JSON."""
    return json.loads((SHIPPED_KPIS / f"{name}.json").read_text(encoding="utf-8"))


def shipped_kpi_names() -> list[str]:
    return sorted(p.stem for p in SHIPPED_KPIS.glob("*.json"))


def indicator(definition: dict[str, Any], kpi: str) -> dict[str, Any]:
    for k in definition["indicators"]:
        if k["id"] == kpi:
            return k
    raise ValidationFailed(f"{definition['kpis']} version {definition['version']} has no indicator {kpi}.", code="unknown_kpi", field="kpi")


# ------------------------------------------------------------------ evaluation


def evaluate_kpi(kpi: dict[str, Any], figures: dict[str, Any]) -> dict[str, Any]:
    """Met or breached, and the margin: pure, from the figures for one period.

    `figures` is either {"value": a percentage} or {"numerator": n, "denominator": d} (the
    percentage is n / d x 100, e.g. returns received by the deadline / returns due). The
    margin is in percentage points, positive when the figure is better than the target
    (for at_least / above: figure - target; for at_most / below: target - figure); a
    figure exactly on an "above" or "below" target is breached with a margin of 0.
    """
    f = _failures()
    if "value" in figures:
        value = figures["value"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
            _add(f, "value", "not_a_percentage", f"The figure for {kpi['label']} is a percentage from 0 to 100, not {value!r}.")
    else:
        n, d = figures.get("numerator"), figures.get("denominator")
        for name, x in (("numerator", n), ("denominator", d)):
            if isinstance(x, bool) or not isinstance(x, int) or x < 0:
                _add(f, name, "not_a_count", f"The {name} of {kpi['label']} is a whole number of 0 or more, not {x!r}.")
        if not f and d == 0:
            _add(f, "denominator", "nothing_to_measure", f"{kpi['label']} has nothing to measure in this period (a denominator of 0).")
        if not f and n > d:  # type: ignore[operator]
            _add(f, "numerator", "exceeds_limit", f"The numerator of {kpi['label']} ({n}) cannot be more than its denominator ({d}).")
        value = round(100 * n / d, 2) if not f else None  # type: ignore[operator]
    if f:
        raise ReturnInvalid("The KPI figures", f, code="kpi_figures_invalid")
    target = kpi["target"]
    comparison, goal = target["comparison"], target["value"]
    margin = round(value - goal if comparison in ("at_least", "above") else goal - value, 2)  # type: ignore[operator]
    met = margin >= 0 if comparison in ("at_least", "at_most") else margin > 0
    return {
        "kpi": kpi["id"],
        "value": value,
        "target": dict(target),
        "outcome": "met" if met else "breached",
        "margin": margin,
        "critical": kpi["critical"],
        "consequence": None if met else kpi["consequence"],
    }


# --------------------------------------------------------------------- KpiSet


@stored_as("domain.kpis")
class KpiSet(VersionedDefinition):
    """A KPI set and its published versions (each frozen once published)."""

    KIND = "kpi_set"
    REFERENCE_KEY = "kpis"
    CODE = "kpis"

    # Own event classes, so the stored topics name the KPI set.
    class Published(VersionedDefinition.Published):
        pass

    class VersionPublished(VersionedDefinition.VersionPublished):
        pass


kpi_set_state = versioned_state


# --------------------------------------------------------- PerformanceRecord


@stored_as("domain.kpis")
class PerformanceRecord(LedgerAggregate):
    """One contract's performance failures, each recorded once per cause."""

    KIND = "performance_record"

    def __init__(self) -> None:
        self.reference = ""
        #: cause -> the failure
        self.critical_failures: dict[str, dict[str, Any]] = {}
        self.service_failures: dict[str, dict[str, Any]] = {}

    @classmethod
    def open(cls, *, contract: str) -> PerformanceRecord:
        return cls._create(cls.Opened, id=cls.id_for(contract), reference=contract)

    def record_critical_failure(self, *, cause: str, kind: str, location: str | None, description: str, occurred_on: str) -> bool:
        """False when this cause is already recorded."""
        if kind not in CRITICAL_KINDS:
            raise ValidationFailed(f"A critical failure's kind is one of {', '.join(CRITICAL_KINDS)}.", code="unknown_kind", field="kind")
        if not description or not description.strip():
            raise ValidationFailed("A critical failure needs a description.", code="required", field="description")
        if cause in self.critical_failures:
            return False
        self.trigger_event(
            self.CriticalFailureRecorded, cause=cause, kind=kind, location=location, description=description.strip(), occurred_on=occurred_on
        )
        return True

    def record_service_failure(self, *, cause: str, location: str, template: str, periods: list[str], description: str) -> bool:
        """False when this cause is already recorded."""
        if len(periods) < 3 or len(set(periods)) != len(periods):
            raise ValidationFailed("A service failure names three or more distinct consecutive periods missed.", code="too_few_periods", field="periods")
        if not description or not description.strip():
            raise ValidationFailed("A service failure needs a description.", code="required", field="description")
        if cause in self.service_failures:
            return False
        self.trigger_event(
            self.ServiceFailureRecorded, cause=cause, location=location, template=template, periods=list(periods), description=description.strip()
        )
        return True

    def missed_periods_recorded(self, location: str, template: str) -> set[str]:
        """The periods of `location`'s `template` return already counted in a service failure."""
        return {
            p for s in self.service_failures.values() if (s["location"], s["template"]) == (location, template) for p in s["periods"]
        }

    class Opened(LedgerAggregate.Created):
        reference: str

        def apply(self, r: PerformanceRecord) -> None:
            r.reference = self.reference

    class CriticalFailureRecorded(LedgerAggregate.Event):
        cause: str
        kind: str
        location: str | None
        description: str
        occurred_on: str

        def apply(self, r: PerformanceRecord) -> None:
            r.critical_failures[self.cause] = {
                "kind": self.kind,
                "location": self.location,
                "description": self.description,
                "occurred_on": self.occurred_on,
                "recorded_at": self.timestamp.isoformat(),
            }

    class ServiceFailureRecorded(LedgerAggregate.Event):
        cause: str
        location: str
        template: str
        periods: list
        description: str

        def apply(self, r: PerformanceRecord) -> None:
            r.service_failures[self.cause] = {
                "location": self.location,
                "template": self.template,
                "periods": list(self.periods),
                "description": self.description,
                "recorded_at": self.timestamp.isoformat(),
            }


def performance_record_state(r: PerformanceRecord) -> dict[str, Any]:
    return {
        "contract": r.reference,
        "id": str(r.id),
        "version": r.version,
        "critical_failures": copy.deepcopy(r.critical_failures),
        "service_failures": copy.deepcopy(r.service_failures),
    }
