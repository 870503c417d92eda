"""KPIs as data: KPI sets, the `KpiSet` aggregate of their published versions, and a KPI evaluated.

A KPI set (seed 003 s.2.2 and s.3.6, seed 000 s.7) is data, shipped in
domain/monitoring/kpi_sets/ and published with `kpi.publish`, versioned like return
templates: each published version is frozen, and republishing a version unchanged records
nothing. Version 1 of a set ships as NAME.json and each later version as NAME.vN.json, so a
shipped version, once published, is never edited in place. Each indicator has an id, the measure (what is counted, as a percentage), a target
(a comparison and a value), a frequency, whether it is critical, and the consequence of a
breach. `evaluate_kpi` is pure: given the figures for a period it says met or breached, and
by how much. A contract manager may record a breach as a critical failure (failures.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from domain.kernel.errors import ValidationFailed
from domain.kernel.topics import stored_as
from domain.kernel.versioned import VersionedDefinition, definition_sha256, shipped_definition, shipped_files, shipped_versions
from domain.monitoring.templates import Failures, ReturnInvalid

SHIPPED_KPIS = Path(__file__).parent / "kpi_sets"
KPI_FREQUENCIES = ("4-weekly", "monthly", "quarterly", "annual", "ongoing")
#: how a figure is compared with its target; the margin is positive when the figure is better
COMPARISONS = ("at_least", "above", "at_most", "below")

_ID = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_REF = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


# ------------------------------------------------------------------ definitions


def parse_kpis(raw: Any) -> dict[str, Any]:
    """A KPI set checked and normalised; every problem is reported at once (`ReturnInvalid`)."""
    f = Failures()
    if not isinstance(raw, dict):
        raise ReturnInvalid("The KPI set", [{"field": "kpis", "rule": "not_an_object", "message": "A KPI set is a JSON object."}], code="kpis_invalid")
    known = {"kpis", "version", "title", "source", "notes", "indicators"}
    for key in sorted(set(raw) - known):
        f.add(key, "unknown_key", f"{key} is not part of a KPI set; the keys are {', '.join(sorted(known))}.")
    ref = raw.get("kpis")
    if not isinstance(ref, str) or not _REF.match(ref):
        f.add("kpis", "invalid_reference", "kpis is the set's name in lower case with hyphens, e.g. cheshire-east-accommodation-with-care.")
    version = raw.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        f.add("version", "invalid_version", "version is a whole number from 1.")
    if not isinstance(raw.get("title"), str) or not raw["title"].strip():
        f.add("title", "required", "title is required.")
    indicators: dict[str, dict[str, Any]] = {}
    raw_indicators = raw.get("indicators")
    if not isinstance(raw_indicators, list) or not raw_indicators:
        f.add("indicators", "required", "A KPI set needs at least one indicator.")
        raw_indicators = []
    for i, k in enumerate(raw_indicators):
        where = f"indicators[{i}]"
        if not isinstance(k, dict):
            f.add(where, "not_an_object", "Each indicator is a JSON object.")
            continue
        kid = k.get("id")
        if not isinstance(kid, str) or not _ID.match(kid):
            f.add(f"{where}.id", "invalid_id", "An indicator id is lower case letters, digits and underscores.")
            continue
        if kid in indicators:
            f.add(f"{where}.id", "duplicate_indicator", f"Indicator {kid} is defined twice.")
            continue
        allowed = {"id", "label", "measure", "definition", "target", "frequency", "critical", "consequence", "source"}
        for key in sorted(set(k) - allowed):
            f.add(f"{kid}.{key}", "unknown_key", f"{key} is not part of an indicator.")
        for key in ("label", "measure", "definition", "consequence"):
            if not isinstance(k.get(key), str) or not k[key].strip():
                f.add(f"{kid}.{key}", "required", f"Every indicator needs a {key}.")
        target = k.get("target")
        if (
            not isinstance(target, dict)
            or target.get("comparison") not in COMPARISONS
            or isinstance(target.get("value"), bool)
            or not isinstance(target.get("value"), (int, float))
            or not 0 <= target["value"] <= 100
            or set(target) - {"comparison", "value"}
        ):
            f.add(f"{kid}.target", "invalid_target", f"target is {{\"comparison\": one of {', '.join(COMPARISONS)}, \"value\": a percentage 0-100}}.")
            target = None
        if k.get("frequency") not in KPI_FREQUENCIES:
            f.add(f"{kid}.frequency", "unknown_frequency", f"frequency is one of {', '.join(KPI_FREQUENCIES)}.")
        if not isinstance(k.get("critical"), bool):
            f.add(f"{kid}.critical", "not_yes_no", "critical is true or false.")
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
    f.raise_if_any("The KPI set", code="kpis_invalid")
    return {
        "kpis": ref,
        "version": version,
        "title": raw["title"].strip(),
        "source": raw.get("source") or "",
        "notes": raw.get("notes") or "",
        "indicators": list(indicators.values()),
    }


kpis_sha256 = definition_sha256


def shipped_kpis(name: str, version: int | None = None) -> dict[str, Any]:
    """A KPI set shipped in domain/monitoring/kpi_sets/ (`name` without .json), as raw JSON: the
    latest shipped version, or `version`."""
    return shipped_definition(SHIPPED_KPIS, name, version)


def shipped_kpi_versions(name: str) -> list[dict[str, Any]]:
    """Every shipped version of a KPI set, oldest first: publish them in this order."""
    return shipped_versions(SHIPPED_KPIS, name)


def shipped_kpi_names() -> list[str]:
    return sorted(shipped_files(SHIPPED_KPIS))


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
    f = Failures()
    if "value" in figures:
        value = figures["value"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
            f.add("value", "not_a_percentage", f"The figure for {kpi['label']} is a percentage from 0 to 100, not {value!r}.")
    else:
        n, d = figures.get("numerator"), figures.get("denominator")
        for name, x in (("numerator", n), ("denominator", d)):
            if isinstance(x, bool) or not isinstance(x, int) or x < 0:
                f.add(name, "not_a_count", f"The {name} of {kpi['label']} is a whole number of 0 or more, not {x!r}.")
        if not f.items and d == 0:
            f.add("denominator", "nothing_to_measure", f"{kpi['label']} has nothing to measure in this period (a denominator of 0).")
        if not f.items and n > d:  # type: ignore[operator]
            f.add("numerator", "exceeds_limit", f"The numerator of {kpi['label']} ({n}) cannot be more than its denominator ({d}).")
        value = round(100 * n / d, 2) if not f.items else None  # type: ignore[operator]
    f.raise_if_any("The KPI figures", code="kpi_figures_invalid")
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
