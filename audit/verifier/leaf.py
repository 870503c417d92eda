"""The leaf: how one stored event becomes the bytes the Merkle log hashes.

    i64 notification id | i64 originator version |
    u32 n | originator id: n bytes, the UUID as lower-case hyphenated ASCII |
    u32 n | topic: n bytes of UTF-8 |
    u32 n | state: the n bytes exactly as stored

Integers are big-endian (i64 two's complement, u32 lengths). Length prefixes make the
encoding unambiguous, and the notification id is inside the leaf, so renumbering or reordering stored events changes
the leaves. The leaf hash is SHA-256(0x00 || these bytes) (RFC 9162 2.1.1).
"""

from __future__ import annotations

import struct
from uuid import UUID

LEAF_FORMAT = "aqp-leaf-v1"


def canonical_originator_id(value: object) -> str:
    """The UUID as hyphenated text, however a store keeps it (hex text, or a uuid type)."""
    if isinstance(value, UUID):
        return str(value)
    try:
        return str(UUID(str(value)))
    except ValueError:
        return str(value)  # no longer a UUID: it was altered, and the leaf will show it


def leaf_bytes(notification_id: int, originator_id: object, originator_version: int, topic: str, state: bytes) -> bytes:
    oid = canonical_originator_id(originator_id).encode("ascii", "replace")
    topic_bytes = topic.encode("utf-8", "surrogatepass")
    return b"".join(
        (
            struct.pack(">qq", notification_id, originator_version),
            struct.pack(">I", len(oid)),
            oid,
            struct.pack(">I", len(topic_bytes)),
            topic_bytes,
            struct.pack(">I", len(state)),
            bytes(state),
        )
    )
