"""Check an FOI extract with only our public key:

    python -m audit.verifier extract DIR --key verifier-keys.txt

1. The manifest's checkpoint must carry a valid signature from one of the keys given; its tree
   size and root are read from that signed note, never from the manifest.
2. Every released record (records.json) must have its entry in the manifest, and every entry's
   leaf hash must lead to that root by its inclusion proof.
3. The files must be those the manifest states (SHA-256 of each).

Exit status 0 means every released record is an event the ledger committed to in the signed
log. The leaf hashes the whole stored event, withheld fields included, so what was released is
checked against it by whoever holds the event (see `audit.foi_extract`).
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from audit.verifier.leaf import LEAF_FORMAT
from audit.verifier.merkle import verify_inclusion
from audit.verifier.note import parse_checkpoint, parse_verifier_key, verify_note

EXTRACT_FORMAT = "aqp-foi-extract-v1"


def check_extract(directory: Path, key_lines: list[str]) -> str:
    """A sentence saying what was proven; raises ValueError (or a NoteError / ProofError) saying what failed."""
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("format") != EXTRACT_FORMAT or manifest.get("leaf_format") != LEAF_FORMAT:
        raise ValueError(f"unknown extract format {manifest.get('format')!r} / {manifest.get('leaf_format')!r}")
    for name, digest in manifest.get("files", {}).items():
        if hashlib.sha256((directory / name).read_bytes()).hexdigest() != digest:
            raise ValueError(f"{name} is not the file the manifest states (its SHA-256 differs)")
    records = json.loads((directory / "records.json").read_text(encoding="utf-8"))
    entries = manifest["records"]
    proven = {int(e["position"]) for e in entries}
    unproven = [r["position"] for r in records if int(r["position"]) not in proven]
    if unproven or len(entries) != len(records):
        raise ValueError(f"records without a proof in the manifest: {unproven or 'the counts differ'}")
    if not entries:
        return "OK: the extract releases no records; there is nothing to prove."
    keys = [parse_verifier_key(line.strip()) for line in key_lines if line.strip()]
    if not keys:
        raise ValueError("no verifier key given")
    text, signers = verify_note(manifest["checkpoint"], keys)
    checkpoint = parse_checkpoint(text)
    for entry in entries:
        leaf = base64.b64decode(entry["leaf_hash"], validate=True)
        proof = [base64.b64decode(h, validate=True) for h in entry["inclusion_proof"]]
        try:
            verify_inclusion(int(entry["leaf_index"]), checkpoint.size, leaf, proof, checkpoint.root_hash)
        except ValueError as err:
            raise type(err)(f"record at position {entry['position']} (leaf {entry['leaf_index']}): {err}") from None
    return (
        f"OK: {len(entries)} records of {manifest['about']} verified: each is a leaf of {checkpoint.origin}, whose "
        f"checkpoint of size {checkpoint.size} is signed by {', '.join(signers)}."
    )
