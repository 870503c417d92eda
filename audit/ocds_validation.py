"""The official OCDS 1.1.5 schemas, offline: one validator for what we publish and what we take in.

    problems(document, "release-schema.json") -> [Problem(path, rule, message)]   (none: it validates)
    errors(package, "release-package-schema.json") -> ["/path: message"]          (jsonschema's own words)

jsonschema's Draft 4 validator (the schemas' own draft), a local `referencing.Registry` holding
each schema shipped in `ocds_schema/` under its `id` (the package schemas refer to the release
schema by its web address; nothing is fetched), and a FormatChecker, which checks date-times only
where rfc3339-validator is installed: without it `format_checker` refuses to run, since a
validator that silently passed every date would not be the official schema's.

Our exports (`audit.ocds`) are checked against these in the tests; past notices from other
publishers (`api.ocds_import`) are checked release by release before any is taken, and each
failure is said as a `Problem` a person reads: the field's path (`tender/status`), the rule
(`enum`, `required`, `type`, `format`...) and a sentence ("tender/status is "InvalidStatus",
which is not one of the codes the standard allows: planning, planned, ...").

The extensions a publisher declares are NOT local: releases are validated against the core
schema alone, which allows extension fields as additional properties, so an extension's own
rules are not checked.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
from referencing import Registry
from referencing.jsonschema import DRAFT4

SCHEMA_DIR = Path(__file__).resolve().parent / "ocds_schema"
RELEASE_SCHEMA = "release-schema.json"
RELEASE_PACKAGE_SCHEMA = "release-package-schema.json"
RECORD_PACKAGE_SCHEMA = "record-package-schema.json"
SCHEMAS = (RELEASE_SCHEMA, RELEASE_PACKAGE_SCHEMA, RECORD_PACKAGE_SCHEMA, "versioned-release-validation-schema.json")


class Problem(msgspec.Struct, frozen=True):
    #: where, as a path of keys and indexes from the document's top (`tender/status`, `awards/0/value`)
    path: str
    #: the schema's rule that fails: required, enum, type, format, pattern, minItems, uniqueItems...
    rule: str
    message: str


@cache
def schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


@cache
def registry() -> Registry:
    return Registry().with_resources((schema(name)["id"], DRAFT4.create_resource(schema(name))) for name in SCHEMAS)


@cache
def format_checker() -> jsonschema.FormatChecker:
    checker = jsonschema.Draft4Validator.FORMAT_CHECKER
    if "date-time" not in checker.checkers:
        raise RuntimeError("date-times cannot be checked: the rfc3339-validator package is missing")
    return checker


@cache
def validator(name: str) -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(schema(name), registry=registry(), format_checker=format_checker())


def errors(document: Any, name: str) -> list[str]:
    """Every way `document` breaks the schema `name`, as `/path: message` in jsonschema's words."""
    return [f"/{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in validator(name).iter_errors(document)]


def problems(document: Any, name: str = RELEASE_SCHEMA) -> list[Problem]:
    """Every way `document` breaks the schema `name`, in words (sorted by path; none: it validates)."""
    found: list[Problem] = []
    for error in validator(name).iter_errors(document):
        found.extend(_said(error))
    return sorted(set(found), key=lambda p: (p.path, p.rule, p.message))


_TYPES = {"string": "text", "number": "a number", "integer": "a whole number", "boolean": "true or false",
          "array": "a list", "object": "an object", "null": "null"}


def _type_words(kinds: Any) -> str:
    named = [_TYPES.get(k, k) for k in (kinds if isinstance(kinds, list) else [kinds])]
    return " or ".join(named)


def _found(value: Any) -> str:
    if value is None:
        return "null"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def _said(error: jsonschema.ValidationError) -> list[Problem]:
    path = "/".join(str(p) for p in error.absolute_path)
    at = path or "the document"
    rule, value, instance = str(error.validator), error.validator_value, error.instance
    if rule == "required":
        missing = [name for name in value if isinstance(instance, dict) and name not in instance]
        return [Problem(f"{path}/{name}" if path else name, "required", f"{f'{path}/{name}' if path else name} is required and missing.")
                for name in missing]
    if rule == "enum":
        allowed = ", ".join(str(v) for v in value if v is not None)
        return [Problem(path, rule, f"{at} is {_found(instance)}, which is not one of the codes the standard allows: {allowed}.")]
    if rule == "type":
        return [Problem(path, rule, f"{at} must be {_type_words(value)}, not {_found(instance)}.")]
    if rule == "format":
        words = {"date-time": "a date and time with its zone (RFC 3339, e.g. 2022-10-20T09:27:24+01:00)",
                 "uri": "a web address", "email": "an e-mail address"}.get(str(value), f"in the format {value}")
        return [Problem(path, rule, f"{at} must be {words}, not {_found(instance)}.")]
    if rule == "minItems":
        return [Problem(path, rule, f"{at} must list at least {value} {'item' if value == 1 else 'items'}.")]
    if rule == "uniqueItems":
        return [Problem(path, rule, f"{at} lists the same item twice.")]
    if rule == "minLength":
        return [Problem(path, rule, f"{at} must not be empty." if value == 1 else f"{at} must be at least {value} characters.")]
    if rule == "pattern":
        return [Problem(path, rule, f"{at} is {_found(instance)}, which does not have the form the standard requires ({value}).")]
    if rule in ("minimum", "maximum"):
        return [Problem(path, rule, f"{at} must be {'at least' if rule == 'minimum' else 'at most'} {value}, not {_found(instance)}.")]
    if rule in ("oneOf", "anyOf"):
        return [Problem(path, rule, f"{at} is not in any of the forms the standard allows here.")]
    return [Problem(path, rule, f"{at}: {error.message}")]
