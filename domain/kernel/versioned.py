"""Definitions published as numbered versions that never change once published.

Return templates and KPI sets are data a commissioner publishes: version 1, then 2, ... Each
version is stored with the SHA-256 of its canonical JSON, so a return or a KPI evaluation can
name exactly the definition it used, and republishing an identical version records nothing.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path
from typing import Any, ClassVar

from domain.kernel.errors import RuleBroken
from domain.kernel.metadata import LedgerAggregate


def definition_sha256(definition: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(definition, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


_VERSION_FILE = re.compile(r"^(?P<name>[a-z0-9][a-z0-9-]*?)(?:\.v(?P<version>[0-9]+))?$")


def shipped_files(folder: Path) -> dict[str, dict[int, Path]]:
    """The definitions shipped in `folder`, by name and version: version 1 is NAME.json and each
    later version NAME.vN.json beside it (a published version never changes, so a new version is
    a new file and the old file stays as it was)."""
    found: dict[str, dict[int, Path]] = {}
    for path in folder.glob("*.json"):
        match = _VERSION_FILE.match(path.stem)
        if match:
            found.setdefault(match["name"], {})[int(match["version"] or 1)] = path
    return found


def shipped_definition(folder: Path, name: str, version: int | None = None) -> dict[str, Any]:
    """A shipped definition as raw JSON: its latest shipped version, or `version`."""
    versions = shipped_files(folder).get(name) or {1: folder / f"{name}.json"}
    return json.loads(versions[max(versions) if version is None else version].read_text(encoding="utf-8"))


def shipped_versions(folder: Path, name: str) -> list[dict[str, Any]]:
    """Every shipped version of a definition as raw JSON, oldest first: publish them in this order."""
    versions = shipped_files(folder)[name]
    return [json.loads(versions[v].read_text(encoding="utf-8")) for v in sorted(versions)]


class VersionedDefinition(LedgerAggregate):
    """Base of a versioned definition; subclasses name the reference key and the error prefix."""

    #: the definition's key holding its reference, e.g. "template"
    REFERENCE_KEY: ClassVar[str] = ""
    #: prefix of the refusal codes, e.g. "template" -> "template_version_exists"
    CODE: ClassVar[str] = ""

    def __init__(self) -> None:
        self.reference = ""
        #: version number (as a string key) -> the definition and its sha256
        self.versions: dict[str, dict[str, Any]] = {}

    @classmethod
    def publish_first(cls, definition: dict[str, Any]) -> Any:
        if definition["version"] != 1:
            raise RuleBroken(
                f"The first version of {definition[cls.REFERENCE_KEY]} is version 1, not {definition['version']}.",
                code=f"{cls.CODE}_version_not_next",
                field="version",
            )
        return cls._create(
            cls.Published,
            id=cls.id_for(definition[cls.REFERENCE_KEY]),
            reference=definition[cls.REFERENCE_KEY],
            definition=copy.deepcopy(definition),
            sha256=definition_sha256(definition),
        )

    def publish(self, definition: dict[str, Any]) -> bool:
        """Publish the next version; False when it repeats a published version exactly."""
        version = definition["version"]
        existing = self.versions.get(str(version))
        if existing is not None:
            if existing["sha256"] == definition_sha256(definition):
                return False
            raise RuleBroken(
                f"Version {version} of {self.reference} is published and never changes; publish version {self.latest + 1}.",
                code=f"{self.CODE}_version_exists",
                field="version",
            )
        if version != self.latest + 1:
            raise RuleBroken(
                f"The next version of {self.reference} is {self.latest + 1}, not {version}.",
                code=f"{self.CODE}_version_not_next",
                field="version",
            )
        self.trigger_event(self.VersionPublished, definition=copy.deepcopy(definition), sha256=definition_sha256(definition))
        return True

    class Published(LedgerAggregate.Created):
        reference: str
        definition: dict
        sha256: str

        def apply(self, d: VersionedDefinition) -> None:
            d.reference = self.reference
            d.versions = {"1": {**copy.deepcopy(self.definition), "sha256": self.sha256}}

    class VersionPublished(LedgerAggregate.Event):
        definition: dict
        sha256: str

        def apply(self, d: VersionedDefinition) -> None:
            d.versions[str(self.definition["version"])] = {**copy.deepcopy(self.definition), "sha256": self.sha256}

    @property
    def latest(self) -> int:
        return max((int(v) for v in self.versions), default=0)

    def definition_of(self, number: int | None) -> dict[str, Any]:
        """A published version's definition (the latest when `number` is None)."""
        number = self.latest if number is None else number
        definition = self.versions.get(str(number))
        if definition is None:
            raise RuleBroken(
                f"{self.reference} has no version {number}; the latest is {self.latest}.",
                code=f"{self.CODE}_version_not_found",
                field="version",
            )
        return {k: v for k, v in definition.items() if k != "sha256"}


def versioned_state(d: VersionedDefinition) -> dict[str, Any]:
    return {"reference": d.reference, "id": str(d.id), "version": d.version, "latest": d.latest, "versions": copy.deepcopy(d.versions)}
