"""Signed notes (c2sp.org/signed-note) and checkpoints (c2sp.org/tlog-checkpoint).

The wire format is the one Go's golang.org/x/mod/sumdb/note reads and writes, so a
checkpoint signed by AQP Ledger can be checked with any conforming tool, and this
module can check notes written by them. Standard library and `cryptography` only.

A signed note is text ending in a newline, a blank line, then one or more lines

    — <key name> <base64(4-byte key id || signature)>

A verifier key is the text `<name>+<8 hex digit key id>+<base64(algorithm byte || public key)>`
where key id = SHA-256(name || 0x0A || algorithm byte || public key)[:4].
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

try:
    from cryptography.hazmat.primitives.asymmetric.mldsa import MLDSA44PublicKey
except ImportError:  # cryptography < 47 has no ML-DSA; such a verifier knows Ed25519 only
    MLDSA44PublicKey = None  # type: ignore[assignment,misc]

EM_DASH = "\u2014"
SIGNATURE_PREFIX = EM_DASH + " "
ALG_ED25519 = 0x01
ALG_MLDSA44_COSIGNATURE = 0x06
MAX_SIGNATURES = 100  # the spec requires accepting at least 16; this bounds the work per note
MAX_TREE_SIZE = 2**64 - 1  # tree sizes are uint64 wherever they are signed in binary


class NoteError(ValueError):
    """A note, key or checkpoint is malformed or its signatures do not check out."""


@dataclass(frozen=True)
class Algorithm:
    """How to check one signature type: its public key size and its verify function.

    `verify(public_key, key_name, text, signature)` gets the key name and note text
    because some types (tlog-cosignature) sign a statement built from them rather
    than the note text itself.
    """

    name: str
    public_key_size: int
    verify: Callable[[bytes, str, str, bytes], bool]


def _verify_ed25519(public_key: bytes, key_name: str, text: str, signature: bytes) -> bool:
    """signed-note type 0x01: plain Ed25519 (RFC 8032) over the note text."""
    if len(signature) != 64:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, text.encode("utf-8"))
    except (InvalidSignature, ValueError):
        return False
    return True


def _verify_mldsa44_cosignature(
    public_key: bytes, key_name: str, text: str, signature: bytes
) -> bool:
    """tlog-cosignature type 0x06: u64 timestamp || ML-DSA-44 signature over `subtree/v1`.

    The signed message commits to the cosigner's name and the checkpoint's origin,
    size and root hash (not its extension lines), so the note text must be a checkpoint.
    """
    if len(signature) != 8 + 2420:
        return False
    timestamp = signature[:8]
    if timestamp[0] & 0x80:  # the spec caps timestamps at 2^63 - 1
        return False
    checkpoint = parse_checkpoint(text)
    name, origin = key_name.encode("utf-8"), checkpoint.origin.encode("utf-8")
    if len(name) > 255 or len(origin) > 255:
        return False
    message = (
        b"subtree/v1\n\x00"
        + bytes([len(name)]) + name
        + timestamp
        + bytes([len(origin)]) + origin
        + (0).to_bytes(8, "big")  # start: a checkpoint is the subtree [0, size)
        + checkpoint.size.to_bytes(8, "big")
        + checkpoint.root_hash
    )
    try:
        MLDSA44PublicKey.from_public_bytes(public_key).verify(signature[8:], message)
    except (InvalidSignature, ValueError):
        return False
    return True


# The one place a signature type is added: algorithm byte -> how to check it.
ALGORITHMS: dict[int, Algorithm] = {
    ALG_ED25519: Algorithm("Ed25519", 32, _verify_ed25519),
}
if MLDSA44PublicKey is not None:
    ALGORITHMS[ALG_MLDSA44_COSIGNATURE] = Algorithm(
        "ML-DSA-44 cosignature", 1312, _verify_mldsa44_cosignature
    )


def is_valid_key_name(name: str) -> bool:
    """Key names are non-empty with no spaces and no '+', so the text forms split unambiguously."""
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def compute_key_id(name: str, algorithm: int, public_key: bytes) -> bytes:
    """The 4-byte key id: SHA-256(name || 0x0A || algorithm byte || public key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([algorithm]) + public_key).digest()[:4]


def decode_base64(text: str, what: str) -> bytes:
    """Strict standard base64; only the canonical spelling is accepted, so each value has one form."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what} is not valid base64: {text!r}") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise NoteError(f"{what} is not canonical base64: {text!r}")
    return raw


@dataclass(frozen=True)
class VerifierKey:
    """A public key a note may be checked against, named as it appears in signature lines."""

    name: str
    key_id: bytes
    algorithm: int
    public_key: bytes

    def __str__(self) -> str:
        body = base64.b64encode(bytes([self.algorithm]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{body}"


def parse_verifier_key(text: str) -> VerifierKey:
    """Parse `<name>+<hex key id>+<base64(alg || key)>`, rejecting a key id that does not match."""
    parts = text.split("+", 2)  # base64 may itself contain "+"
    if len(parts) != 3:
        raise NoteError(f"verifier key must be <name>+<key id>+<key>, got {text!r}")
    name, key_id_hex, body = parts
    if not is_valid_key_name(name):
        raise NoteError(f"invalid key name {name!r}: it must be non-empty, without spaces or '+'")
    if not re.fullmatch(r"[0-9a-fA-F]{8}", key_id_hex):
        raise NoteError(f"key id must be 8 hex digits, got {key_id_hex!r}")
    raw = decode_base64(body, "verifier key")
    if not raw:
        raise NoteError("verifier key has no algorithm byte")
    algorithm, public_key = raw[0], raw[1:]
    if algorithm not in ALGORITHMS:
        raise NoteError(f"unsupported signature algorithm 0x{algorithm:02x} in key {name!r}")
    expected_size = ALGORITHMS[algorithm].public_key_size
    if len(public_key) != expected_size:
        raise NoteError(
            f"{ALGORITHMS[algorithm].name} public key must be {expected_size} bytes, got {len(public_key)}"
        )
    key_id = bytes.fromhex(key_id_hex)
    if key_id != compute_key_id(name, algorithm, public_key):
        raise NoteError(f"key id {key_id_hex} does not match the name and public key of {name!r}")
    return VerifierKey(name, key_id, algorithm, public_key)


def check_note_text(text: str) -> None:
    """Note text must be valid UTF-8 ending in a newline, with no control characters but newline."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise NoteError("note is not valid UTF-8") from None
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("note contains a control character other than newline")


def verify_note(note: str, keys: list[VerifierKey]) -> tuple[str, list[str]]:
    """Check a signed note against trusted keys; return its text and the names of keys that signed it.

    Signatures from keys not in `keys` (witness cosignatures, rotated-out keys) are
    ignored. A bad signature from a known key rejects the whole note, and so does a
    note that no known key signed.
    """
    check_note_text(note)
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line between its text and its signatures")
    text, signature_block = note[: split + 1], note[split + 2 :]
    lines = signature_block.split("\n")[:-1]  # the block ends with "\n", so the last piece is ""
    if not lines:
        raise NoteError("note has no signature lines")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has more than {MAX_SIGNATURES} signatures")

    known = {(key.name, key.key_id): key for key in keys}
    verified: list[str] = []
    seen: set[tuple[str, bytes]] = set()
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"signature line must start with an em dash and a space: {line!r}")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if not is_valid_key_name(name):
            raise NoteError(f"invalid key name in signature line: {name!r}")
        raw = decode_base64(encoded, f"signature from {name!r}")
        if len(raw) < 5:
            raise NoteError(f"signature from {name!r} is too short to hold a key id and a signature")
        key_id, signature = raw[:4], raw[4:]
        key = known.get((name, key_id))
        if key is None:
            continue
        if (name, key_id) in seen:
            raise NoteError(f"note carries two signatures from key {name!r} {key_id.hex()}")
        seen.add((name, key_id))
        if not ALGORITHMS[key.algorithm].verify(key.public_key, name, text, signature):
            raise NoteError(f"signature from known key {name!r} {key_id.hex()} does not verify")
        verified.append(name)
    if not verified:
        raise NoteError("note is not signed by any known key")
    return text, verified


@dataclass(frozen=True)
class Checkpoint:
    """A log's signed tree head: origin, tree size, RFC 6962 root hash, opaque extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: list[str]


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a tlog-checkpoint note body (the text of a note, before its signatures)."""
    check_note_text(text)
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("checkpoint needs an origin, a tree size and a root hash line")
    origin, size_text, hash_text, *extensions = lines
    if not origin:
        raise NoteError("checkpoint origin is empty")
    if not re.fullmatch(r"0|[1-9][0-9]*", size_text):
        raise NoteError(f"checkpoint tree size must be a decimal without leading zeros, got {size_text!r}")
    size = int(size_text)
    if size > MAX_TREE_SIZE:
        raise NoteError(f"checkpoint tree size {size_text} does not fit in 64 bits")
    root_hash = decode_base64(hash_text, "checkpoint root hash")
    if len(root_hash) != 32:
        raise NoteError(f"checkpoint root hash must be 32 bytes, got {len(root_hash)}")
    if any(not line for line in extensions):
        raise NoteError("checkpoint extension lines must be non-empty")
    return Checkpoint(origin, size, root_hash, extensions)
