"""The one byte form of a value that the ledger signs and the verifier recomputes: canonical JSON
(keys sorted, no spaces, UTF-8) and its SHA-256 in base64. The procurement report's facts and the
FOI extract's records are digested here on both sides, so the two cannot drift apart."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def digest(value: Any) -> str:
    return base64.b64encode(hashlib.sha256(canonical(value)).digest()).decode("ascii")
