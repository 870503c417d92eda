"""A ledger with a realistic history of any length, for benchmarks and the projection tests.

The scenario files in `scenarios/` are the most realistic commands we have (a London AQP
procurement to award with contracts following it, Nottingham's escalation to termination,
the April price variation, a novation, the NHS England call-off with milestones and
payments, monthly returns). Each file names its competitions, frameworks and care homes, so
applying it twice would only be refused; `copy_of` renames them for the k-th copy, and
`scenario_history` applies copies until the ledger holds at least the events asked for.

A builder is a plain function `(ledger, events) -> commands sent`, chosen by name from
`SOURCES`. Two sources:

- "scenarios": copies of the scenario files, procurement-heavy (every copy runs a whole
  London AQP round to award, with its evaluation), so the evaluation trail and the event
  index's sealed tenders weigh more than in life;
- "demo": the demo builder (`scenarios.demo.build`, London), a year of a commissioning world
  through the users' commands: mostly daily vacancy reports and monthly returns, the mix a
  running ledger sees. It builds a whole period into an empty ledger, not an event count,
  so `demo_history` picks the number of homes (and years) expected to give about the
  events asked for and the caller reads the actual count from the ledger. A source may
  say how to open its ledger (`open_ledger`): the demo needs an aggregate cache, as
  `aqp demo` opens it, or each vacancy report would replay its home's whole history.

The ContractsFromAwards and PerformanceFailures processes are attached while building, as
the running ledger attaches them, so awards produce contracts as they do in production.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api.processes import ProcessFollower, followers
from api.scenario import apply_lines, describe

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
    if not any(isinstance(h, ProcessFollower) for h in ledger.after_save):
        ledger.after_save.extend(followers(ledger))
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
    from domain.procurement.competition import Competition  # noqa: PLC0415 - only needed here

    k = 0
    while ledger.exists(Competition, "AQP-CH-2026" if k == 0 else f"AQP-CH-2026-{k}"):
        k += 1
    return k


#: events in a London demo of N homes over one year (seed 1, measured): the demo's worlds are
#: not linear in homes (small ones have fewer competitions and contracts per home), so
#: `demo_size` interpolates between these
DEMO_EVENTS_PER_YEAR = ((5, 455), (20, 3_389), (60, 8_756), (120, 12_763), (210, 29_557))


def demo_size(events: int) -> tuple[int, int]:
    """(homes, years) of a London demo expected to hold about `events` events.

    Up to the default world (210 homes) one year with as many homes as it takes; beyond
    it, 210 homes over as many years as it takes (later years hold a little more than the
    first, so this errs on the large side).
    """
    points = DEMO_EVENTS_PER_YEAR
    if events <= points[0][1]:
        return points[0][0], 1
    for (h0, e0), (h1, e1) in zip(points, points[1:], strict=False):
        if events <= e1:
            return h0 + round((events - e0) * (h1 - h0) / (e1 - e0)), 1
    homes, per_year = points[-1]
    return homes, -(-events // per_year)


def demo_history(ledger: Any, events: int) -> int:
    """Build the London demo (seed 1) sized for about `events` events; the commands sent.

    Read the actual number of events from the ledger afterwards. Read models are not caught
    up (`catch_up=False`): whoever measures them rebuilds them.
    """
    from scenarios.demo import build  # noqa: PLC0415 - the demo is a large import only this source needs

    homes, years = demo_size(events)
    return int(build(ledger, scale="london", seed=1, years=years, homes=homes, catch_up=False)["commands"])


def _open_demo_ledger(url: str) -> Any:
    return _bootstrap(url, "demo")


demo_history.open_ledger = _open_demo_ledger  # type: ignore[attr-defined]

#: how to fill a ledger with history, by name: `(ledger, events) -> commands sent`; a source
#: with an `open_ledger(url)` attribute is given a ledger opened by it
SOURCES: dict[str, Callable[[Any, int], int]] = {"scenarios": scenario_history, "demo": demo_history}


def open_ledger(source: str, url: str) -> Any:
    """A ledger on `url` opened as `source` needs it (by default as the bootstrap opens one for a benchmark)."""
    opener = getattr(SOURCES[source], "open_ledger", None)
    return opener(url) if opener is not None else _bootstrap(url, "benchmark")


def _bootstrap(url: str, role: Any) -> Any:
    from api.bootstrap import open_ledger as open_for  # noqa: PLC0415
    from api.settings import Settings  # noqa: PLC0415

    return open_for(Settings(database_url=url), role)
