"""Signing keys for AQP Ledger's signed notes and checkpoints.

Keys and notes use the C2SP signed-note formats (Go's golang.org/x/mod/sumdb/note),
so a private key file is interchangeable with Go's `PRIVATE+KEY+...` text and the
published verifier key is what `audit.verifier.note` (and any other tool) checks.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import ClassVar, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.verifier.note import (
    ALG_ED25519,
    SIGNATURE_PREFIX,
    Checkpoint,
    NoteError,
    VerifierKey,
    check_note_text,
    compute_key_id,
    decode_base64,
    is_valid_key_name,
    parse_checkpoint,
)

PRIVATE_KEY_PREFIX = "PRIVATE+KEY+"


class KeyFileError(Exception):
    """A key file cannot be written or read safely."""


class NoteSigner(Protocol):
    """What sign_note and save_signer need from a key, whatever its algorithm."""

    algorithm: ClassVar[int]
    name: str

    @property
    def key_id(self) -> bytes: ...

    def sign(self, message: bytes) -> bytes: ...

    def verifier_key(self) -> str: ...

    def private_text(self) -> str: ...


class Ed25519NoteSigner:
    """An Ed25519 signed-note key (type 0x01), stored as its 32-byte seed as Go does."""

    algorithm: ClassVar[int] = ALG_ED25519

    def __init__(self, name: str, seed: bytes) -> None:
        if not is_valid_key_name(name):
            raise NoteError(f"invalid key name {name!r}: it must be non-empty, without spaces or '+'")
        if len(seed) != 32:
            raise NoteError(f"Ed25519 seed must be 32 bytes, got {len(seed)}")
        self.name = name
        self._private_key = Ed25519PrivateKey.from_private_bytes(seed)
        self._public_key = self._private_key.public_key().public_bytes_raw()

    @classmethod
    def generate(cls, name: str) -> Ed25519NoteSigner:
        """A fresh key from the operating system's random source."""
        return cls(name, Ed25519PrivateKey.generate().private_bytes_raw())

    def __repr__(self) -> str:
        # Never the seed: signers end up in logs and tracebacks.
        return f"Ed25519NoteSigner(name={self.name!r}, key_id={self.key_id.hex()!r})"

    @property
    def key_id(self) -> bytes:
        return compute_key_id(self.name, self.algorithm, self._public_key)

    def sign(self, message: bytes) -> bytes:
        return self._private_key.sign(message)

    def verifier_key(self) -> str:
        """The public text form `<name>+<hex id>+<base64(0x01 || public key)>` to publish."""
        return str(VerifierKey(self.name, self.key_id, self.algorithm, self._public_key))

    def private_text(self) -> str:
        """Go's `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`; keep it secret."""
        body = bytes([self.algorithm]) + self._private_key.private_bytes_raw()
        return f"{PRIVATE_KEY_PREFIX}{self.name}+{self.key_id.hex()}+{base64.b64encode(body).decode('ascii')}"


# The one place a signer type is added: algorithm byte -> constructor from (name, private key bytes).
SIGNER_TYPES: dict[int, Callable[[str, bytes], NoteSigner]] = {
    ALG_ED25519: Ed25519NoteSigner,
}


def from_private_text(text: str) -> NoteSigner:
    """Load a signer from Go's private key text, checking that the key id matches the key."""
    # Error messages never quote `text`: it is secret.
    parts = text.split("+", 4)  # base64 may itself contain "+"
    if len(parts) != 5 or not text.startswith(PRIVATE_KEY_PREFIX):
        raise NoteError("private key must be PRIVATE+KEY+<name>+<key id>+<key>")
    name, key_id_hex, body = parts[2:]
    if not re.fullmatch(r"[0-9a-fA-F]{8}", key_id_hex):
        raise NoteError("private key id must be 8 hex digits")
    try:
        raw = decode_base64(body, "private key")
    except NoteError:
        raise NoteError("private key is not valid base64") from None
    if not raw or raw[0] not in SIGNER_TYPES:
        raise NoteError("private key has an unsupported signature algorithm")
    signer = SIGNER_TYPES[raw[0]](name, raw[1:])
    if signer.key_id != bytes.fromhex(key_id_hex):
        raise NoteError(f"private key id {key_id_hex} does not match the key for {name!r}")
    return signer


def save_signer(signer: NoteSigner, path: str | os.PathLike[str]) -> None:
    """Write the private key to a new file only its owner can read; never overwrite a key."""
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"refusing to overwrite existing key file {path}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(signer.private_text() + "\n")
        file.flush()
        os.fsync(file.fileno())


def load_signer(path: str | os.PathLike[str]) -> NoteSigner:
    """Read a private key file, refusing one that group or others could read."""
    path = Path(path)
    with open(path, encoding="utf-8") as file:
        mode = os.fstat(file.fileno()).st_mode & 0o777
        if mode & 0o077:
            raise KeyFileError(
                f"key file {path} has mode {mode:04o}, open to group or others; run: chmod 600 {path}"
            )
        text = file.read()
    return from_private_text(text.removesuffix("\n"))


def sign_note(text: str, signers: Sequence[NoteSigner]) -> str:
    """Sign `text` (which must end with a newline) with each signer, in order."""
    check_note_text(text)
    if not signers:
        raise NoteError("a note needs at least one signer")
    keys = [(signer.name, signer.key_id) for signer in signers]
    if len(set(keys)) != len(keys):
        raise NoteError("the same key appears twice among the signers")
    message = text.encode("utf-8")
    lines = [
        f"{SIGNATURE_PREFIX}{signer.name} "
        f"{base64.b64encode(signer.key_id + signer.sign(message)).decode('ascii')}\n"
        for signer in signers
    ]
    return text + "\n" + "".join(lines)


def checkpoint_text(
    origin: str, size: int, root_hash: bytes, extensions: Sequence[str] = ()
) -> str:
    """The tlog-checkpoint note body; it must read back as exactly the checkpoint given."""
    body = [origin, str(size), base64.b64encode(root_hash).decode("ascii"), *extensions]
    text = "\n".join(body) + "\n"
    if parse_checkpoint(text) != Checkpoint(origin, size, bytes(root_hash), list(extensions)):
        raise NoteError("checkpoint fields do not survive a round trip (a newline inside a field?)")
    return text
