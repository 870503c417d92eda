"""Taking in other publishers' OCDS files as past notices: each release judged on its own.

    import_file(ledger, path, actor, at) -> FileReport (how the file was read, an outcome per release)

A file is read as a release package (its `releases`) or a record package (the releases embedded
in each record; a linked release, which is only an address, is reported and not taken, and a
record's `compiledRelease` is not taken either: the ledger compiles its own from the releases it
holds, so a defect in the publisher's compilation is reported as a note). The package's envelope
(uri, publisher, publishedDate, version...) is checked against the official package schema: a
file that is not readable JSON, not an OCDS package at all, or whose envelope fails is refused
whole, naming the file and what is wrong, since a release without its provenance is not one we
could stand behind. Then each release is checked against the official release schema
(`audit.ocds_validation`): one that fails is reported (its position, ocid, id, and every field in
error with its rule) and not taken; the rest go on, each as one `past_notice.take` command, so a
release already held is "held" and records nothing, and one held with other content is refused
(`release_changed`). Every command of one file shares a correlation id, so an auditor sees one run.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import msgspec

from audit.ocds_validation import RECORD_PACKAGE_SCHEMA, RELEASE_PACKAGE_SCHEMA, Problem, problems
from domain.application import Ledger
from domain.kernel.metadata import Actor
from domain.past_notices.commands import TakePastNotice

Outcome = Literal["taken", "held", "refused"]
FileOutcome = Literal["read", "unreadable", "not_a_package", "package_invalid"]


class ReleaseReport(msgspec.Struct, omit_defaults=True):
    file: str
    #: the release's index in the package's `releases` (in a record package: in its record's)
    index: int
    #: where it is in the package: releases/22, records/0/releases/1
    position: str
    outcome: Outcome
    ocid: str | None = None
    release: str | None = None
    #: why it was refused: a code (release_invalid, release_changed, linked_release, not_permitted...) ...
    code: str | None = None
    message: str | None = None
    #: ... and every field in error, with its rule, in words
    problems: list[Problem] = []


class FileReport(msgspec.Struct, omit_defaults=True):
    file: str
    outcome: FileOutcome
    #: release_package or record_package, once read
    kind: str | None = None
    message: str | None = None
    #: what is wrong with the file as a whole (a refused file), or noted beside its releases
    #: (a record's compiledRelease failing the schema)
    problems: list[Problem] = []
    notes: list[Problem] = []
    releases: list[ReleaseReport] = []

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.releases if r.outcome == outcome)


class _Record(msgspec.Struct):
    releases: list[msgspec.Raw] = []


class _ReleasePackage(msgspec.Struct):
    releases: list[msgspec.Raw]


class _RecordPackage(msgspec.Struct):
    records: list[_Record]


#: the releases' own paths: each release is judged alone, not as part of its package's envelope
_RELEASE_PATH = re.compile(r"^(releases/\d+|records/\d+/releases)(/|$)")
_COMPILED_PATH = re.compile(r"^records/\d+/(compiledRelease|versionedRelease)(/|$)")


def _refused_file(name: str, outcome: FileOutcome, message: str, found: list[Problem] | None = None) -> FileReport:
    return FileReport(file=name, outcome=outcome, message=message, problems=found or [])


def _releases(data: bytes, kind: str) -> Iterator[tuple[int, str, bytes]]:
    """(index, position, the release's bytes exactly as in the file)."""
    if kind == "release_package":
        for i, raw in enumerate(msgspec.json.decode(data, type=_ReleasePackage).releases):
            yield i, f"releases/{i}", bytes(raw)
    else:
        for r, record in enumerate(msgspec.json.decode(data, type=_RecordPackage).records):
            for i, raw in enumerate(record.releases):
                yield i, f"records/{r}/releases/{i}", bytes(raw)


def read_package(path: Path) -> tuple[FileReport, bytes, dict[str, Any]]:
    """The file read and its envelope judged (a report whose outcome is "read" when its releases may be taken)."""
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        return _refused_file(name, "unreadable", f"{name} cannot be read: {err.strerror or err}."), b"", {}
    try:
        package = json.loads(data)
    except UnicodeDecodeError:
        return _refused_file(name, "unreadable", f"{name} is not text in UTF-8, as OCDS JSON must be."), b"", {}
    except json.JSONDecodeError as err:
        return _refused_file(name, "unreadable", f"{name} is not readable JSON: {err.msg} at line {err.lineno}, column {err.colno}."), b"", {}
    if not isinstance(package, dict) or not ({"releases", "records"} & package.keys()):
        what = "a JSON object" if isinstance(package, dict) else f"a JSON {type(package).__name__}"
        return _refused_file(name, "not_a_package", f"{name} is not an OCDS release package or record package: it is {what} "
                             "with neither `releases` nor `records`."), b"", {}
    kind = "release_package" if "releases" in package else "record_package"
    found = problems(package, RELEASE_PACKAGE_SCHEMA if kind == "release_package" else RECORD_PACKAGE_SCHEMA)
    envelope = [p for p in found if not _RELEASE_PATH.match(p.path) and not _COMPILED_PATH.match(p.path)]
    notes = [p for p in found if _COMPILED_PATH.match(p.path)]
    if envelope:
        return FileReport(file=name, outcome="package_invalid", kind=kind, problems=envelope, message=(
            f"{name} is not a valid OCDS {kind.replace('_', ' ')}: {envelope[0].message}"
            + (f" (and {len(envelope) - 1} more)" if len(envelope) > 1 else ""))), b"", {}
    return FileReport(file=name, outcome="read", kind=kind, notes=notes), data, package


def _source(path: Path, package: dict[str, Any], digest: str, position: str) -> dict[str, Any]:
    source = {"uri": package["uri"], "publisher": package["publisher"], "published_date": package["publishedDate"],
              "package_sha256": digest, "position": position, "license": package.get("license"), "file": path.name}
    return {k: v for k, v in source.items() if v is not None}


def import_file(
    ledger: Ledger,
    path: Path,
    actor: Actor,
    at: datetime,
    *,
    correlation_id: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_release: Callable[[ReleaseReport], None] | None = None,
) -> FileReport:
    report, data, package = read_package(path)
    if report.outcome != "read":
        return report
    batch = correlation_id or f"ocds-import-{uuid.uuid4()}"
    digest = hashlib.sha256(data).hexdigest()
    found = list(_releases(data, report.kind or ""))
    for done, (index, position, raw) in enumerate(found, start=1):
        outcome = _take(ledger, path, package, digest, index, position, raw, actor, at, batch)
        report.releases.append(outcome)
        if on_release is not None:
            on_release(outcome)
        if progress is not None:
            progress(done, len(found))
    return report


def _take(
    ledger: Ledger, path: Path, package: dict[str, Any], digest: str, index: int, position: str, raw: bytes, actor: Actor,
    at: datetime, batch: str,
) -> ReleaseReport:
    said = {"file": str(path), "index": index, "position": position}
    release = json.loads(raw)
    if isinstance(release, dict):
        said |= {k: v for k, v in (("ocid", release.get("ocid")), ("release", release.get("id"))) if isinstance(v, str)}
    if isinstance(release, dict) and "url" in release and "ocid" not in release:
        return ReleaseReport(**said, outcome="refused", code="linked_release", message=(
            f"{position} is a linked release (only its address, {release.get('url')}): import the release package it links to."))
    found = problems(release)
    if found:
        return ReleaseReport(**said, outcome="refused", code="release_invalid", problems=found, message=(
            f"{position} ({said.get('ocid', 'no ocid')}, release {said.get('release', 'with no id')}) breaks the OCDS 1.1.5 "
            f"release schema: {found[0].message}" + (f" (and {len(found) - 1} more)" if len(found) > 1 else "")))
    try:
        # Converted, not constructed, so the command's own bounds (its size, the source's fields) are checked here too.
        command = msgspec.convert({"release": raw.decode("utf-8"), "source": _source(path, package, digest, position)}, TakePastNotice)
    except msgspec.ValidationError as err:
        return ReleaseReport(**said, outcome="refused", code="release_too_large" if "length" in str(err) else "validation_failed",
                             message=f"{position} cannot be taken as it is: {err}.")
    result = ledger.handle(command, actor, at=at, correlation_id=batch)
    if not result.ok:
        assert result.error is not None
        return ReleaseReport(**said, outcome="refused", code=result.error.code, message=result.error.message,
                             problems=[Problem(f.field or "", f.rule, f.message) for f in result.error.fields])
    return ReleaseReport(**said, outcome="taken" if result.events else "held")
