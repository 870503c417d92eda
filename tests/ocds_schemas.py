"""The official OCDS 1.1.5 package schemas, offline: what our exports are validated against.

jsonschema's Draft 4 validator (the schemas' own draft), a local `referencing.Registry` holding
each schema file of `../shared/ocds/schema/` under its `id` (the package schemas refer to the
release schema by its web address; nothing is fetched), and a FormatChecker, which checks
date-times only where rfc3339-validator is installed (`FORMAT_CHECKER` is refused otherwise).

The extensions our releases use (lots, enquiries, the UK extension's noticeType) are NOT local:
the packages are validated against the core schemas alone, which allow extension fields as
additional properties, so an extension's own rules are not checked here.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema
from referencing import Registry
from referencing.jsonschema import DRAFT4

from tests.shared import shared_file

SCHEMAS = ("release-schema.json", "release-package-schema.json", "record-package-schema.json",
           "versioned-release-validation-schema.json")


@cache
def registry() -> Registry:
    resources = []
    for name in SCHEMAS:
        schema = json.loads(shared_file("ocds", "schema", name).read_text(encoding="utf-8"))
        resources.append((schema["id"], DRAFT4.create_resource(schema)))
    return Registry().with_resources(resources)


@cache
def format_checker() -> jsonschema.FormatChecker:
    checker = jsonschema.Draft4Validator.FORMAT_CHECKER
    if "date-time" not in checker.checkers:
        raise AssertionError("date-times are not checked: rfc3339-validator is missing")
    return checker


def validator(package_schema: str) -> jsonschema.Draft4Validator:
    schema = json.loads(shared_file("ocds", "schema", package_schema).read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema, registry=registry(), format_checker=format_checker())


def errors(package: dict[str, Any], package_schema: str) -> list[str]:
    """Every way `package` breaks the package schema, as `path: message` (none: it validates)."""
    found = validator(package_schema).iter_errors(package)
    return [f"/{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in found]
