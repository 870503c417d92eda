"""The ledger's records: `apply` a scenario file, the `example`, `show` any record, `replay` a read model, `diff`.

    aqp apply FILE.jsonl                     apply a scenario file; exit 0 only if every line met its expectation
    aqp example                              the example procurement and its outcome
    aqp show competition REF [--as-of TIME] [--viewer ROLE:ORG:ID]
    aqp show KIND REF [--as-of TIME]         any record's state, now or as of a time
    aqp replay --as-of TIME --projection NAME [--table T] [--format json|csv]
    aqp diff KIND REF --from T1 --to T2 [--format json|text]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import msgspec

from api.bootstrap import redact_url
from api.cli.common import database_url, open_ledger, parse_instant, parse_viewer, refusal_said
from api.scenario import apply_lines, describe
from audit.replay import READ_MODELS, aggregate_kinds, describe_diff, diff, replay_projection, rows_as_csv, rows_as_json, state_as_of
from domain.contracts.framework import Framework
from domain.kernel.errors import DomainError

EXAMPLE_SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "london-aqp-care-homes-2026.jsonl"
EXAMPLE_COMPETITION = "AQP-CH-2026"


def cmd_apply(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"aqp apply: no such file {path}", file=sys.stderr)
        return 2
    ledger = open_ledger(args)
    lines = path.read_text(encoding="utf-8").splitlines()
    progress = sys.stderr.isatty() and not args.quiet
    failures = 0
    for outcome in apply_lines(ledger, lines):
        sys.stdout.write(msgspec.json.encode(outcome).decode() + "\n")
        if not outcome.met:
            failures += 1
            print(f"{path.name}: {describe(outcome)}", file=sys.stderr)
        if progress:
            print(f"\r{path.name}: line {outcome.line}/{len(lines)}", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    if failures:
        print(f"{path.name}: {failures} line(s) did not meet their expectation", file=sys.stderr)
        return 1
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    ledger = open_ledger(args)
    with refusal_said("aqp show"):
        state = ledger.show_competition(args.reference, as_of=args.as_of, viewer=args.viewer)
    sys.stdout.write(msgspec.json.encode(state, order="sorted").decode() + "\n")
    return 0


def outcome_summary(state: dict[str, Any]) -> str:
    """The outcome of a competition as a procurement lead would read it."""
    lines = [f"{state['reference']}: {state['title']}", f"status: {state['status']}"]
    outcome = state.get("outcome")
    if state.get("award"):
        lines.append(f"award concluded at {state['award']['concluded_at']}")
    if state.get("standstill"):
        lines.append(f"standstill ({state['standstill']['regime']}) ended with {state['standstill']['last_day']}")
    if not outcome:
        lines.append("no outcome decided yet")
        return "\n".join(lines)
    for lot_id, lot in outcome["lots"].items():
        name = state["lots"][lot_id]["name"]
        lines.append("")
        lines.append(f"Lot {lot_id} - {name}: {len(lot['successful'])} successful, {len(lot['unsuccessful'])} unsuccessful")
        for bidder in lot["successful"]:
            result = outcome["bidders"][bidder]
            lines.append(f"  {lot['ranks'][bidder]:>3}  {bidder:<28} {result['weighted_score']:>7}  successful")
        for bidder, reasons in lot["unsuccessful"].items():
            score = outcome["bidders"][bidder]["weighted_score"] or "-"
            lines.append(f"  {'-':>3}  {bidder:<28} {score:>7}  unsuccessful: {'; '.join(reasons)}")
    return "\n".join(lines)


def cmd_example(args: argparse.Namespace) -> int:
    """Run the example procurement (scenarios/london-aqp-care-homes-2026.jsonl) and print its outcome."""
    url = database_url(args)
    ledger = open_ledger(args)
    print(f"AQP Ledger at {redact_url(url)}", file=sys.stderr)
    try:
        ledger.competition(EXAMPLE_COMPETITION)
        print(f"{EXAMPLE_COMPETITION} is already in this ledger; showing its outcome.", file=sys.stderr)
    except DomainError:
        lines = EXAMPLE_SCENARIO.read_text(encoding="utf-8").splitlines()
        print(f"Applying {EXAMPLE_SCENARIO.name} ({len(lines)} commands)...", file=sys.stderr)
        unmet = [o for o in apply_lines(ledger, lines) if not o.met]
        refused = sum(1 for line in lines if '"expect": {' in line or '"expect":{' in line)
        for outcome in unmet:
            print(describe(outcome), file=sys.stderr)
        if unmet:
            return 1
        print(f"All {len(lines)} commands met their expectations ({refused} refused by the rules, as expected).", file=sys.stderr)
    state = ledger.show_competition(EXAMPLE_COMPETITION)
    print(outcome_summary(state))
    if state.get("framework") and state.get("award"):
        contracts = ledger.aggregate(Framework, state["framework"]).contracts
        print(f"\n{len(contracts)} contracts awarded under framework {state['framework']}, e.g. {contracts[0]}")
        print(f"  (aqp show contract {contracts[0]})")
    return 0


def cmd_show_kind(args: argparse.Namespace) -> int:
    """`aqp show KIND REF`: any aggregate's full state, now or as of a time."""
    ledger = open_ledger(args)
    with refusal_said("aqp show"):
        state = state_as_of(ledger, args.kind, args.reference, args.as_of)
    sys.stdout.write(msgspec.json.encode(state, order="sorted").decode() + "\n")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """`aqp replay`: a read model as it stood at a time, rebuilt in a scratch store."""
    ledger = open_ledger(args)
    with refusal_said("aqp replay"):
        rows = replay_projection(ledger, args.projection, args.as_of, args.table)
    if args.format == "csv":
        model = READ_MODELS[args.projection]
        shown = next((t.shown for t in model.tables if t.name == args.table), model.columns)
        sys.stdout.write(rows_as_csv(rows, shown))
    else:
        sys.stdout.write(rows_as_json(rows, projection=args.projection, as_of=args.as_of))
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    """`aqp diff`: what changed in an aggregate between two times, and the events between."""
    ledger = open_ledger(args)
    with refusal_said("aqp diff"):
        result = diff(ledger, args.kind, args.reference, args.t1, args.t2)
    if args.format == "text":
        sys.stdout.write(describe_diff(result))
    else:
        sys.stdout.write(msgspec.json.format(msgspec.json.encode(result), indent=2).decode() + "\n")
    return 0



def example_arguments(example: argparse.ArgumentParser, defaults: Any) -> None:
    example.set_defaults(func=cmd_example)


def apply_arguments(apply: argparse.ArgumentParser, defaults: Any) -> None:
    apply.add_argument("file")
    apply.add_argument("--quiet", action="store_true", help="no progress on the terminal")
    apply.set_defaults(func=cmd_apply)


def show_arguments(show: argparse.ArgumentParser, defaults: Any) -> None:
    """`show competition`, and `show KIND` for every other kind of record."""
    show_sub = show.add_subparsers(dest="kind", required=True)
    show_competition = show_sub.add_parser("competition")
    show_competition.add_argument("reference")
    show_competition.add_argument("--as-of", type=parse_instant, help="ISO 8601 time, e.g. 2026-03-01T12:00:00Z")
    show_competition.add_argument("--viewer", type=parse_viewer, help="ROLE:ORG:ID - show only what they may see")
    show_competition.set_defaults(func=cmd_show)

    # Replay (audit): `show` for every kind of aggregate.
    for kind in aggregate_kinds():
        if kind in show_sub.choices:
            continue  # `show competition` keeps its own verb (and --viewer)
        show_kind = show_sub.add_parser(kind, help=f"a {kind.replace('_', ' ')}'s state as JSON")
        show_kind.add_argument("reference")
        show_kind.add_argument("--as-of", type=parse_instant, help="ISO 8601 time, e.g. 2026-03-01T12:00:00Z")
        show_kind.set_defaults(func=cmd_show_kind)


def replay_arguments(replay: argparse.ArgumentParser, defaults: Any) -> None:
    """Replay (audit): a read model as of a time."""
    replay.add_argument("--as-of", type=parse_instant, required=True, help="ISO 8601 time, e.g. 2026-03-01T12:00:00Z")
    replay.add_argument("--projection", required=True, help=f"the read model: {', '.join(sorted(READ_MODELS))}")
    replay.add_argument("--table", help="one of the read model's tables (default: its first)")
    replay.add_argument("--format", choices=["json", "csv"], default="json")
    replay.set_defaults(func=cmd_replay)


def diff_arguments(changed: argparse.ArgumentParser, defaults: Any) -> None:
    """Replay (audit): what changed in a record between two times."""
    changed.add_argument("kind", help=f"the kind of record: {', '.join(aggregate_kinds())}")
    changed.add_argument("reference")
    changed.add_argument("--from", dest="t1", type=parse_instant, required=True, metavar="T1", help="ISO 8601 time (exclusive)")
    changed.add_argument("--to", dest="t2", type=parse_instant, required=True, metavar="T2", help="ISO 8601 time (inclusive)")
    changed.add_argument("--format", choices=["json", "text"], default="json", help="text: a readable listing")
    changed.set_defaults(func=cmd_diff)
