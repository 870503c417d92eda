"""Where the tests find the shared fixtures: ../shared beside the project, or AQP_SHARED_DIR.

Every engineer and every CI run has them at ../shared from the project root (its README.md
says what is there); set AQP_SHARED_DIR to the directory where it lives elsewhere. A test
that needs one fails, saying where it looked, when it is missing: it never skips silently.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

#: the shared directory: AQP_SHARED_DIR, else ../shared beside the project
SHARED_DIR = Path(os.environ.get("AQP_SHARED_DIR") or Path(__file__).resolve().parents[2] / "shared")


def shared_path(*parts: str) -> Path:
    """Where a shared fixture is (there or not: see `shared_file`)."""
    return SHARED_DIR.joinpath(*parts)


def shared_file(*parts: str) -> Path:
    """A shared fixture's path; the test fails with a clear message if it is not there."""
    path = shared_path(*parts)
    if not path.exists():
        missing(path)
    return path


def missing(path: Path, need: str = "") -> NoReturn:
    """Fail the test: `path`, a shared fixture, is not there (`need`: what it is for)."""
    pytest.fail(
        f"{path} is missing{': ' + need if need else ''}. The shared fixtures ship in ../shared beside the "
        "project (see its README.md); set AQP_SHARED_DIR to that directory if it lives elsewhere. "
        "A test that needs them fails rather than skips, so the check is never silently lost.",
        pytrace=False,
    )
