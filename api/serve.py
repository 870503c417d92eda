"""`aqp serve`: the HTTP API under uvicorn.

Defaults to 127.0.0.1:8000 (loopback: put a TLS-terminating proxy in front to expose it).
On SIGTERM or SIGINT uvicorn stops accepting connections, lets in-flight requests finish
(up to `--graceful-seconds`), then the app's lifespan closes the ledger. Access logs are the
app's own structured lines (`aqp.http.access`), so uvicorn's are turned off.
"""

from __future__ import annotations

import uvicorn

from api.http import create_app


def serve(database_url: str, *, host: str = "127.0.0.1", port: int = 8000, graceful_seconds: float = 30.0) -> None:
    app = create_app(database_url)
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
