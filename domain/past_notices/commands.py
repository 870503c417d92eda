"""The one command of past notices: take a release another publisher published (Contracts Finder...).

Part of the one tagged union (`domain.commands.AnyCommand`). The release travels as the JSON text
it was published as, byte for byte (its SHA-256 is of that text), with where it came from: the
package's address, publisher, licence and date of publication as the package states them. There
is no command to change or remove one: a past notice is a record of what was published.
"""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta, Struct

from domain.kernel.command_types import Command, JsonKey, Sha256, entries

#: one release as published (Contracts Finder's are 2-20 KB; a release with hundreds of items is under 2 MB)
ReleaseText = Annotated[str, Meta(min_length=2, max_length=2_000_000)]
Address = Annotated[str, Meta(max_length=2_000)]


class NoticeSource(Struct, frozen=True, forbid_unknown_fields=True):
    """Where a release came from, as its package states it."""

    #: the package's `uri`
    uri: Address
    #: the package's `publisher`, as published
    publisher: Annotated[dict[JsonKey, Any], entries(max_length=20)]
    #: the package's `publishedDate`, as published
    published_date: Annotated[str, Meta(max_length=100)]
    #: the SHA-256 of the file the package was read from
    package_sha256: Sha256
    #: where the release is in the package: `releases/22`, `records/0/releases/1`
    position: Annotated[str, Meta(max_length=100, pattern=r"^[a-z]+/[0-9]+(/[a-z]+/[0-9]+)?$")]
    #: the package's `license` (an address), where it states one
    license: Address | None = None
    #: the name of the file it was read from
    file: Annotated[str, Meta(max_length=500)] | None = None


class TakePastNotice(Command, tag="past_notice.take"):
    """One release of another publisher's, taken as a past notice; the same release again records nothing."""

    release: ReleaseText
    source: NoticeSource


PAST_NOTICE_COMMANDS = (TakePastNotice,)
