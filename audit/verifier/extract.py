"""Check an FOI extract with only our public key:

    python -m audit.verifier extract DIR --key verifier-keys.txt

1. The manifest's checkpoint must carry a valid signature from one of the keys given; its tree
   size and root are read from that signed note, never from the manifest.
2. Every released record (records.json) must have its entry in the manifest, and every entry's
   leaf hash must lead to that root by its inclusion proof.
3. The files must be those the manifest states (SHA-256 of each).
4. The ledger's signed note over the extract (`signature`) must verify with the same keys, name
   this extract and its checkpoint, count its records and withholdings, and give, for every
   released record, its leaf and the digest of the record exactly as released, and the
   schedule's digest: a record rewritten, dropped or added, or the schedule changed, fails here
   even where the manifest's own (unsigned) file hashes were made to match. An extract without
   the signature fails: nothing then ties what was released to the ledger.

Exit status 0 means every released record is an event the ledger committed to in the signed
log, released as the ledger signed it. The leaf hashes the whole stored event, withheld fields included, so what was released is
checked against it by whoever holds the event (see `audit.foi_extract`).
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from audit.verifier.digest import digest
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
    _check_signed_release(manifest, records, json.loads((directory / "schedule.json").read_text(encoding="utf-8")), checkpoint, keys)
    return (
        f"OK: {len(entries)} records of {manifest['about']} verified, as released and scheduled under the ledger's signature: each is a leaf of {checkpoint.origin}, whose "
        f"checkpoint of size {checkpoint.size} is signed by {', '.join(signers)}."
    )


NOTE_HEADER = "aqp-foi-extract-v1"


def _check_signed_release(manifest: dict, records: list, schedule: list, checkpoint: object, keys: list) -> None:
    """Step 4 of the module's docstring; raises ValueError naming the first thing that differs."""
    if not manifest.get("signature"):
        raise ValueError("the extract is not signed by the ledger, so nothing ties the records released to what it held")
    text, _ = verify_note(manifest["signature"], keys)
    lines = text.rstrip("\n").split("\n")
    if len(lines) < 6 or lines[0] != NOTE_HEADER:
        raise ValueError("the extract's signed note is not an extract's")
    root = base64.b64encode(checkpoint.root_hash).decode("ascii")  # type: ignore[attr-defined]
    if not lines[2].startswith(f"about {manifest['about']} "):
        raise ValueError(f"the signed note is about {lines[2].removeprefix('about ')}, not {manifest['about']}")
    if lines[3] != f"checkpoint {checkpoint.size} {root}":  # type: ignore[attr-defined]
        raise ValueError("the signed note names another checkpoint than the manifest's")
    if lines[4] != f"counts records={len(records)} withheld={len(schedule)}":
        raise ValueError(f"the ledger signed {lines[4].removeprefix('counts ')}; the files hold records={len(records)} withheld={len(schedule)}")
    signed = {}
    for line in lines[5:-1]:
        _, position, leaf, record_digest = line.split(" ")
        signed[int(position)] = (leaf, record_digest)
    leaves = {int(e["position"]): e["leaf_hash"] for e in manifest["records"]}
    for record in records:
        position = int(record["position"])
        if position not in signed:
            raise ValueError(f"record at position {position} is not one the ledger signed for this extract")
        leaf, signed_digest = signed[position]
        if leaves.get(position) != leaf:
            raise ValueError(f"record at position {position}: its leaf is not the one the ledger signed")
        if digest(record) != signed_digest:
            raise ValueError(f"record at position {position}: what is released is not what the ledger signed (a value was changed)")
    if not lines[-1].startswith("schedule ") or lines[-1].removeprefix("schedule ") != digest(schedule):
        raise ValueError("the redaction schedule is not the one the ledger signed")
