"""Check a proof bundle, or a procurement report (defence pack), with only our public key:

    python -m audit.verifier BUNDLE.json --key verifier-keys.txt
    python -m audit.verifier pack DIR --key verifier-keys.txt      (DIR/pack.json, from `aqp defend`; see pack.py)
    python -m audit.verifier extract DIR --key verifier-keys.txt    an FOI extract (audit/verifier/extract.py)

1. The checkpoint in the bundle must carry a valid signature from one of the keys given.
2. The tree size and root are read from that signed checkpoint, never from the bundle.
3. The record is re-encoded as a leaf (leaf.py) and its inclusion proof must lead to that root.

Exit status 0 means the record is, byte for byte, the one the ledger committed to. A bundle
whose record is withheld from its reader (a sealed tender before the opening) carries only the
leaf's hash: exit 0 then means that leaf is in the signed tree, and says so.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from audit.verifier.extract import check_extract
from audit.verifier.leaf import LEAF_FORMAT, leaf_bytes
from audit.verifier.merkle import ProofError, leaf_hash, verify_inclusion
from audit.verifier.note import NoteError, parse_checkpoint, parse_verifier_key, verify_note
from audit.verifier.pack import FactFailed, check_pack


def check(bundle: dict, key_lines: list[str]) -> str:
    """A sentence saying what was proven; raises ValueError saying what failed."""
    if bundle.get("leaf_format") != LEAF_FORMAT:
        raise ValueError(f"unknown leaf format {bundle.get('leaf_format')!r}; this verifier knows {LEAF_FORMAT}")
    keys = [parse_verifier_key(line.strip()) for line in key_lines if line.strip()]
    if not keys:
        raise ValueError("no verifier key given")
    text, signers = verify_note(bundle["checkpoint"], keys)
    checkpoint = parse_checkpoint(text)
    record = bundle["record"]
    proof = [base64.b64decode(h, validate=True) for h in bundle["inclusion_proof"]]
    signed = f"of {checkpoint.origin}, whose checkpoint of size {checkpoint.size} is signed by {', '.join(signers)}"
    if record is None:
        # The record is withheld from this bundle's reader: the leaf's hash alone is proven.
        leaf = base64.b64decode(bundle["leaf_hash"], validate=True)
        verify_inclusion(int(bundle["leaf_index"]), checkpoint.size, leaf, proof, checkpoint.root_hash)
        return (
            f"OK: leaf {bundle['leaf_index']} {signed}, is in the signed tree; its record is withheld until it may be "
            f"shown ({bundle.get('withheld')}): ask for the bundle again then, and its record will give this leaf."
        )
    leaf = leaf_hash(
        leaf_bytes(
            int(record["notification_id"]),
            record["originator_id"],
            int(record["originator_version"]),
            record["topic"],
            base64.b64decode(record["state"], validate=True),
        )
    )
    if bundle.get("leaf_hash") is not None and base64.b64decode(bundle["leaf_hash"], validate=True) != leaf:
        raise ValueError("the record does not give the leaf hash the bundle states")
    verify_inclusion(int(bundle["leaf_index"]), checkpoint.size, leaf, proof, checkpoint.root_hash)
    return (
        f"OK: notification {record['notification_id']} ({record['topic']}, {record['originator_id']} "
        f"version {record['originator_version']}) is leaf {bundle['leaf_index']} {signed}."
    )


def read_json(path: str) -> dict:
    with open(path, encoding="utf-8") as file:
        return json.load(file)  # type: ignore[no-any-return]


def read_keys(path: str) -> list[str]:
    with open(path, encoding="utf-8") as file:
        return file.read().splitlines()


def reported(what: str, check_it: Callable[[], list[str]]) -> int:
    """Run a check, print what it verified; on failure print why (the first that fails) and answer 1."""
    try:
        for line in check_it():
            print(line)
    except FactFailed as err:
        print(f"FAILED: fact {err}", file=sys.stderr)
        return 1
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError, binascii.Error) as err:
        print(f"FAILED: the {what} or key file cannot be read: {err!r}", file=sys.stderr)
        return 1
    except (NoteError, ProofError, ValueError) as err:
        print(f"FAILED: {err}", file=sys.stderr)
        return 1
    return 0


def arguments(prog: str, description: str, thing: str, help_: str, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument(thing, help=help_)
    parser.add_argument("--key", required=True, help="a file of verifier keys, one per line (`aqp keys public`)")
    return parser.parse_args(argv)


def main_pack(argv: list[str]) -> int:
    args = arguments("python -m audit.verifier pack", "Check a procurement report offline.", "pack",
                     "the directory `aqp defend` wrote (its pack.json), or the pack's JSON file", argv)
    path = os.path.join(args.pack, "pack.json") if os.path.isdir(args.pack) else args.pack
    return reported("pack", lambda: list(check_pack(read_json(path), read_keys(args.key))))


def main_extract(argv: list[str]) -> int:
    args = arguments("python -m audit.verifier extract", "Check an FOI extract's manifest and proofs.", "directory",
                     "the extract's directory (`aqp foi extract --out DIR`)", argv)
    return reported("extract", lambda: [check_extract(Path(args.directory), read_keys(args.key))])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["pack"]:
        return main_pack(argv[1:])
    if argv[:1] == ["extract"]:
        return main_extract(argv[1:])
    args = arguments("python -m audit.verifier", __doc__.splitlines()[0], "bundle", "the proof bundle (JSON) from `aqp audit prove`", argv)
    return reported("bundle", lambda: [check(read_json(args.bundle), read_keys(args.key))])


if __name__ == "__main__":
    sys.exit(main())
