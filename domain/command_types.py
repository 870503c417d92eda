"""The building blocks of every command: the base class and the constrained value types.

Kept apart from domain/commands.py so that each area's commands (procurement, contracts,
providers) can build on them while domain/commands.py gathers every command into the union.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import Meta, Struct

Reference = Annotated[str, Meta(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")]
Text = Annotated[str, Meta(min_length=1, max_length=20_000)]
ShortText = Annotated[str, Meta(min_length=1, max_length=500)]
Sha256 = Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$")]
Pence = Annotated[int, Meta(ge=0)]
Instant = Annotated[datetime, Meta(tz=True)]


class Command(Struct, tag_field="type", forbid_unknown_fields=True, kw_only=True):
    """Base of every command. `reason` is recorded in the events' metadata."""

    reason: str | None = None
