"""`aqp serve`: the HTTP API under uvicorn.

Defaults to 127.0.0.1:8000 (loopback: put a TLS-terminating proxy in front to expose it).
On SIGTERM or SIGINT uvicorn stops accepting connections, lets in-flight requests finish
(up to `--graceful-seconds`), then the app's lifespan closes the ledger. Access logs are the
app's own structured lines (`aqp.http.access`), so uvicorn's are turned off. The ledger is
opened by the caller, as the bootstrap opens it for the API server (`open_ledger(settings, "api")`).
"""

from __future__ import annotations

import uvicorn

from api.http.app import create_app
from api.settings import Settings
from domain.application import Ledger


def serve(ledger: Ledger, settings: Settings, *, host: str = "127.0.0.1", port: int = 8000, graceful_seconds: float = 30.0) -> None:
    """Serve the API over `ledger` until told to stop; the ledger is closed when the server stops."""
    app = create_app(ledger, settings=settings, owns_ledger=True)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=graceful_seconds,
        server_header=False,
    )
    uvicorn.Server(config).run()
