"""The HTTP API: `create_app(ledger)` (see `api/http/app.py`)."""

from api.http.app import create_app

__all__ = ["create_app"]
