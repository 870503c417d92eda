"""A past procurement: one contracting process (an ocid) as another publisher published it.

Each release taken is one event holding the release exactly as published (its JSON text, the
SHA-256 of that text) and where it came from (`NoticeSource`). What makes two releases the same is
their content, not their bytes: a publisher that serves the same release with other whitespace or
key order has not changed it, so the comparison is of the canonical form's SHA-256 (keys sorted,
no spaces), while the bytes' own SHA-256 is kept to say which copy was read. A release id already
held with other content is refused (`release_changed`): OCDS releases are immutable, so a
publisher that changed one has a defect a person should look at, not a fact to overwrite.

There is no way to change or remove a past notice: it is a record of what was published.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any

from domain.kernel.errors import RuleBroken, ValidationFailed
from domain.kernel.metadata import LedgerAggregate
from domain.kernel.topics import stored_as

#: the closed releaseTag codelist of OCDS 1.1.5, less `compiled` (a compilation, not a release as published)
RELEASE_TAGS = (
    "planning", "planningUpdate", "tender", "tenderAmendment", "tenderUpdate", "tenderCancellation", "award",
    "awardUpdate", "awardCancellation", "contract", "contractUpdate", "contractAmendment", "implementation",
    "implementationUpdate", "contractTermination",
)


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical(release: dict[str, Any]) -> str:
    """The release's content, written one way whatever the publisher's whitespace and key order."""
    return json.dumps(release, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _problem(field: str, rule: str, message: str) -> dict[str, str]:
    return {"field": f"release/{field}" if field else "release", "rule": rule, "message": message}


def _nul_in(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_nul_in(k) or _nul_in(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_nul_in(v) for v in value)
    return False


def parse_release(text: str) -> dict[str, Any]:
    """The release a command carries, with the facts every past notice needs checked.

    The whole release is checked against the official schema before it is sent
    (`audit.ocds_validation`); these are the rules the ledger itself stands on, whoever sends it."""
    try:
        release = json.loads(text)
    except ValueError as err:
        raise ValidationFailed(f"The release is not readable JSON: {err}.", code="release_unreadable", field="release") from None
    if not isinstance(release, dict):
        raise ValidationFailed("A release is a JSON object.", code="not_a_release", field="release")
    found = []
    for name in ("ocid", "id", "date"):
        if not isinstance(release.get(name), str) or not release[name].strip():
            found.append(_problem(name, "required", f"release/{name} is required: a release without it cannot be told apart."))
    tags = release.get("tag")
    if not isinstance(tags, list) or not tags:
        found.append(_problem("tag", "required", "release/tag must list at least one release tag."))
    else:
        for i, tag in enumerate(tags):
            if tag not in RELEASE_TAGS:
                found.append(_problem(f"tag/{i}", "enum", f"release/tag/{i} is {json.dumps(tag)}, which is not a tag of a "
                                      f"published release: {', '.join(RELEASE_TAGS)}."))
    if _nul_in(release):
        found.append(_problem("", "nul_character", "The release holds a NUL character (U+0000), which no notice means."))
    if found:
        raise ValidationFailed(found[0]["message"], code=found[0]["rule"] if len(found) == 1 else "release_invalid", fields=found)
    return release


@stored_as("domain.past_notices")
class PastProcurement(LedgerAggregate):
    """A contracting process another publisher published, by its ocid (e.g. ocds-b5fd17-9acd68ad-...)."""

    KIND = "past_procurement"

    def __init__(self) -> None:
        self.ocid = ""
        #: release id -> the release as taken: its text, hashes, date, tags, source and when it was taken
        self.releases: dict[str, dict[str, Any]] = {}

    @classmethod
    def start(cls, ocid: str) -> PastProcurement:
        return cls._create(cls.Started, id=cls.id_for(ocid), ocid=ocid)

    class Started(LedgerAggregate.Created):
        ocid: str

        def apply(self, aggregate: PastProcurement) -> None:
            aggregate.ocid = self.ocid

    def take(self, release: dict[str, Any], text: str, source: dict[str, Any]) -> str:
        """Take `release` (parsed from `text`): "taken", or "held" where the same release is already here."""
        release_id = release["id"]
        content = sha256_of(canonical(release))
        held = self.releases.get(release_id)
        if held is not None:
            if held["content_sha256"] == content:
                return "held"
            raise RuleBroken(
                f"Release {release_id} of {self.ocid} is already held with other content (taken {held['taken_at']} from "
                f"{held['source'].get('uri')}); a published release does not change, so this one is not taken.",
                code="release_changed", ocid=self.ocid, release=release_id, held_sha256=held["content_sha256"], offered_sha256=content,
            )
        self.trigger_event(
            self.ReleaseTaken, release_id=release_id, release=text, sha256=sha256_of(text), content_sha256=content,
            date=release["date"], tags=list(release["tag"]), source=source,
        )
        return "taken"

    class ReleaseTaken(LedgerAggregate.Event):
        release_id: str
        #: the release's JSON text as published
        release: str
        #: SHA-256 of that text (UTF-8)
        sha256: str
        #: SHA-256 of its canonical form (what "the same release" means)
        content_sha256: str
        date: str
        tags: list
        #: `NoticeSource` as a dict: the package's uri, publisher, licence, publishedDate, position, file
        source: dict

        def apply(self, aggregate: PastProcurement) -> None:
            aggregate.releases[self.release_id] = {
                "release": self.release, "sha256": self.sha256, "content_sha256": self.content_sha256, "date": self.date,
                "tags": list(self.tags), "source": dict(self.source), "taken_at": self.timestamp.isoformat(),
            }

    def releases_in_date_order(self) -> list[dict[str, Any]]:
        """The releases held, oldest first (ties by id), each with its `id` and parsed `data`."""
        held = [{"id": rid, **r, "data": json.loads(r["release"])} for rid, r in self.releases.items()]
        return sorted(held, key=lambda r: (instant_of(r["date"]), r["id"]))


def instant_of(text: str) -> str:
    """A release's date as UTC text, so that +01:00 and Z times order as times, not as text."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is None:
        return text
    try:
        return moment.astimezone(timezone.utc).isoformat()
    except (OverflowError, ValueError):
        return text


def past_procurement_state(p: PastProcurement) -> dict[str, Any]:
    """A past procurement as `aqp show`, `replay` and `diff` give it: its ocid and each release held,
    in date order, with its hashes, source and when it was taken (the release text as published)."""
    return {
        "ocid": p.ocid,
        "releases": [
            {key: r[key] for key in ("id", "date", "tags", "sha256", "content_sha256", "source", "taken_at", "release")}
            for r in p.releases_in_date_order()
        ],
    }
