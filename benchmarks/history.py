"""A ledger with a realistic history of any length, for benchmarks and the projection tests.

The scenario files in `scenarios/` are the most realistic commands we have (a London AQP
procurement to award with contracts following it, Nottingham's escalation to termination,
the April price variation, a novation, the NHS England call-off with milestones and
payments, monthly returns). Each file names its competitions, frameworks and care homes, so
applying it twice would only be refused; `copy_of` renames them for the k-th copy, and
`scenario_history` applies copies until the ledger holds at least the events asked for.

A builder is a plain function `(ledger, events) -> commands sent`, chosen by name from
`SOURCES`, so the demo builder (`api/demo`, being written elsewhere) can be added as another
source, "demo", without touching the callers.

The ContractsFromAwards and PerformanceFailures processes are attached while building, as
the running ledger attaches them, so awards produce contracts as they do in production.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api.scenario import apply_lines, describe
from domain.award_process import ContractsFromAwards
from domain.performance_process import PerformanceFailures

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
#: command fields naming a competition or framework: renamed per copy (contracts are named
#: after their competition, so they follow)
_RENAMED_FIELDS = ("competition", "framework")
_CARE_HOME = re.compile(r'"(1-[0-9]{1,12})"')


def scenario_files() -> list[Path]:
    return sorted(SCENARIOS.glob("*.jsonl"))


def _names(lines: list[str]) -> set[str]:
    found = set()
    for text in lines:
        command = json.loads(text)["command"]
        found.update(command[f] for f in _RENAMED_FIELDS if isinstance(command.get(f), str))
    return found


def copy_of(lines: list[str], k: int) -> list[str]:
    """The scenario's lines for its k-th copy (k = 0 is the file as it is).

    A competition or framework `X` becomes `X-k`, wherever it appears (contract references
    start with their competition's), and a care home `1-N` becomes `1-N` followed by k
    in four digits, so it is still a CQC location id.
    """
    if k == 0:
        return list(lines)
    names = sorted(_names(lines), key=len, reverse=True)  # longest first: one name may start another
    pattern = re.compile('"(' + "|".join(re.escape(n) for n in names) + ')(?=["/])') if names else None
    out = []
    for text in lines:
        if pattern is not None:
            text = pattern.sub(lambda m: f'"{m.group(1)}-{k}', text)
        out.append(_CARE_HOME.sub(lambda m: f'"{m.group(1)}{k:04d}"', text))
    return out


class ScenarioFailed(AssertionError):
    pass


def apply_copy(ledger: Any, k: int, files: list[Path] | None = None) -> int:
    """Apply the k-th copy of every scenario file (every line must meet its expectation); the lines sent."""
    sent = 0
    for path in files or scenario_files():
        lines = copy_of(path.read_text(encoding="utf-8").splitlines(), k)
        outcomes = list(apply_lines(ledger, lines))
        missed = [o for o in outcomes if not o.met]
        if missed:
            raise ScenarioFailed(f"{path.name} copy {k}: {describe(missed[0])}")
        sent += len(outcomes)
    return sent


def with_processes(ledger: Any) -> Any:
    """Attach the processes the running ledger attaches (contracts follow awards), once."""
    if not any(isinstance(h, ContractsFromAwards) for h in ledger.after_save):
        ledger.after_save.append(ContractsFromAwards(ledger))
        ledger.after_save.append(PerformanceFailures(ledger))
    return ledger


def scenario_history(ledger: Any, events: int) -> int:
    """Apply copies of the scenario files until the ledger holds at least `events` events; the commands sent."""
    with_processes(ledger)
    k = _copies_applied(ledger)
    sent = 0
    while (ledger.recorder.max_notification_id() or 0) < events:
        sent += apply_copy(ledger, k)
        k += 1
    return sent


def _copies_applied(ledger: Any) -> int:
    # Copies are applied whole, so the next copy is the first whose competition is not there.
    from domain.procurement import Competition  # noqa: PLC0415 - only needed here

    k = 0
    while ledger.exists(Competition, "AQP-CH-2026" if k == 0 else f"AQP-CH-2026-{k}"):
        k += 1
    return k


#: how to fill a ledger with history, by name: `(ledger, events) -> commands sent`
SOURCES: dict[str, Callable[[Any, int], int]] = {"scenarios": scenario_history}
