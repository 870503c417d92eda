"""The official OCDS 1.1.5 package schemas, offline: what our exports are validated against.

The one validator of the project (`audit.ocds_validation`: Draft 4, a local `referencing.Registry`
of the schemas shipped in `audit/ocds_schema/`, a FormatChecker that refuses to run without
rfc3339-validator), the same that checks past notices before they are taken. The shipped copies
are checked byte for byte against `../shared/ocds/schema/` (tests/integration/test_ocds.py).

The extensions our releases use (lots, enquiries, the UK extension's noticeType) are NOT local:
the packages are validated against the core schemas alone, which allow extension fields as
additional properties, so an extension's own rules are not checked here.
"""

from __future__ import annotations

from audit.ocds_validation import SCHEMAS, errors, format_checker, registry, validator

__all__ = ["SCHEMAS", "errors", "format_checker", "registry", "validator"]
