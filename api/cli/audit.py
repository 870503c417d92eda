"""The Merkle log and its signing keys.

    aqp keys init|public|rotate [--name N]   the checkpoint signing key (var/keys, or $AQP_KEY_DIR)
    aqp audit follow|checkpoint|checkpoints|verify|prove
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.cli.common import open_ledger, progress, settings

if TYPE_CHECKING:
    from audit.checkpoints import KeyRing
    from domain.application import Ledger


def cmd_keys(args: argparse.Namespace) -> int:
    from api.bootstrap import key_ring  # noqa: PLC0415 - the verb's imports, not its parser's
    from audit.signing import KeyFileError  # noqa: PLC0415
    from audit.verifier.note import NoteError  # noqa: PLC0415

    ring = key_ring(settings(args))
    try:
        if args.action == "init":
            signer = ring.init(args.name)
            print(f"created {ring.signing_key_file} (mode 0600); verifier keys in {ring.verifier_keys_file}", file=sys.stderr)
            print(signer.verifier_key())
        elif args.action == "rotate":
            signer = ring.rotate(args.name)
            print(f"new signing key {signer.key_id.hex()}; earlier verifier keys kept in {ring.verifier_keys_file}", file=sys.stderr)
            print(signer.verifier_key())
        else:
            print(ring.signer().verifier_key())
    except (KeyFileError, NoteError, FileNotFoundError) as err:
        print(f"aqp keys: {err}", file=sys.stderr)
        return 1
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from api.bootstrap import key_ring  # noqa: PLC0415 - the verb's imports, not its parser's
    from audit.bundle import ProveError, prove  # noqa: PLC0415
    from audit.checkpoints import Checkpoints, InconsistentLog  # noqa: PLC0415
    from audit.log import AuditLog  # noqa: PLC0415
    from audit.signing import KeyFileError  # noqa: PLC0415
    from audit.verifier.note import NoteError  # noqa: PLC0415

    ledger = open_ledger(args)
    log = AuditLog(ledger)
    checkpoints = Checkpoints(log)
    ring = key_ring(settings(args))
    try:
        if args.action == "follow":
            added = log.catch_up(progress=progress("following"))
            print(f"audit log: {log.size()} events ({added} new)")
        elif args.action == "checkpoint":
            cp = checkpoints.write(ring.signer(), origin=ring.origin)
            print(cp.note, end="")
        elif args.action == "checkpoints":
            if args.export:
                for path in checkpoints.export(Path(args.export)):
                    print(path)
            else:
                for cp in checkpoints.all():
                    print(f"{cp.seq:>6}  size {cp.tree_size:>9}  key {cp.key_id}  {cp.created_at}")
        elif args.action == "verify":
            return _verify(ledger, ring, args)
        elif args.action == "snapshots":
            return _check_snapshots(ledger, ring)
        elif args.action == "prove":
            signer = ring.signer() if ring.signing_key_file.exists() else None
            bundle = prove(ledger, args.event, signer=signer, origin=ring.origin)
            text = json.dumps(bundle, indent=2) + "\n"
            if args.out:
                Path(args.out).write_text(text, encoding="utf-8")
                print(f"wrote {args.out}: notification {bundle['record']['notification_id']}, leaf {bundle['leaf_index']}", file=sys.stderr)
            else:
                sys.stdout.write(text)
    except (InconsistentLog, ProveError, FileNotFoundError, KeyFileError, NoteError) as err:
        print(f"aqp audit {args.action}: {err}", file=sys.stderr)
        return 1
    return 0


def _verify(ledger: Ledger, ring: KeyRing, args: argparse.Namespace) -> int:
    from audit.verifier.note import parse_verifier_key  # noqa: PLC0415
    from audit.verify import verify  # noqa: PLC0415

    keys = ring.verifier_keys()
    for key_file in args.key or []:
        keys += [parse_verifier_key(line) for line in Path(key_file).read_text().splitlines() if line.strip()]
    report = verify(ledger, keys, since_checkpoint=args.since_checkpoint, progress=progress("verifying"))
    if sys.stderr.isatty():
        print(file=sys.stderr)
    summary = (
        f"{report.events} stored events, {report.leaves} logged, {report.checkpoints} checkpoints"
        f"{f', {report.unlogged} not yet logged' if report.unlogged else ''}"
    )
    if report.ok:
        print(f"OK: {summary}; every leaf, root, signature and consistency proof holds.")
        return 0
    first = report.problems[0]
    print(f"FAILED: {summary}; {len(report.problems)} problem(s). First: {first.kind}: {first.message}")
    for problem in report.problems[1:]:
        print(f"  {problem.kind}: {problem.message}")
    return 1


def _check_snapshots(ledger: Ledger, ring: KeyRing) -> int:
    from audit.snapshots import SealedSnapshots, seal_key  # noqa: PLC0415

    snapshots = SealedSnapshots(ledger, seal_key(ring.directory))
    def tick(done: int, total: int) -> None:
        print(f"\rchecking snapshots: {done}/{total}", end="", file=sys.stderr, flush=True)

    checked, problems = snapshots.check(ledger.events, progress=tick if sys.stderr.isatty() else None)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    if not problems:
        print(f"OK: {checked} snapshots, each sealed and equal to its record replayed from the events to its version.")
        return 0
    print(f"FAILED: {checked} snapshots, {len(problems)} do not hold. First: {problems[0]}")
    for problem in problems[1:]:
        print(f"  {problem}")
    return 1


def keys_arguments(keys: argparse.ArgumentParser, defaults: Any) -> None:
    keys.add_argument("action", choices=["init", "public", "rotate"])
    keys.add_argument("--name", default=None, help="the key name (default: $AQP_LOG_ORIGIN)")
    keys.set_defaults(func=cmd_keys)


def audit_arguments(audit: argparse.ArgumentParser, defaults: Any) -> None:
    audit_sub = audit.add_subparsers(dest="action", required=True)
    audit_sub.add_parser("follow", help="bring the Merkle log up to date with the stored events")
    audit_sub.add_parser("checkpoint", help="sign a checkpoint of the log now")
    listing = audit_sub.add_parser("checkpoints", help="list checkpoints, or --export DIR for witnesses")
    listing.add_argument("--export", metavar="DIR")
    check = audit_sub.add_parser("verify", help="recompute and check everything; exit 0 only if all holds")
    check.add_argument("--since-checkpoint", type=int, metavar="N")
    check.add_argument("--key", action="append", metavar="FILE", help="extra trusted verifier keys (one per line)")
    audit_sub.add_parser("snapshots", help="check every sealed snapshot against its record replayed from the events")
    proof = audit_sub.add_parser("prove", help="write a proof bundle for one event")
    proof.add_argument("event", help="a notification id, or KIND/REFERENCE@VERSION")
    proof.add_argument("--out", metavar="FILE")
    audit.set_defaults(func=cmd_audit)
