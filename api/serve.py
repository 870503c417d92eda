"""`aqp serve`: the HTTP API under uvicorn.

Defaults to 127.0.0.1:8000 (loopback: put a TLS-terminating proxy in front to expose it).
On SIGTERM or SIGINT uvicorn stops accepting connections, lets in-flight requests finish
(up to `--graceful-seconds`), then the app's lifespan closes the ledger. Access logs are the
app's own structured lines (`aqp.http.access`), so uvicorn's are turned off. The ledger is
opened by the caller, as the bootstrap opens it for the API server (`open_ledger(settings, "api")`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import uvicorn

from api.http.app import create_app
from api.settings import Settings
from domain.application import Ledger


class _Server(uvicorn.Server):
    """uvicorn's server, stopping what runs beside it (`on_shutdown`) once its requests are done:
    uvicorn raises the signal it caught again as it returns, which would end them mid-way."""

    def __init__(self, config: uvicorn.Config, on_shutdown: Sequence[Callable[[], None]]) -> None:
        super().__init__(config)
        self.on_shutdown = on_shutdown

    async def shutdown(self, sockets: object = None) -> None:
        await super().shutdown(sockets)  # type: ignore[arg-type]
        for stop in self.on_shutdown:
            await asyncio.to_thread(stop)


def serve(
    ledger: Ledger,
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    graceful_seconds: float = 30.0,
    on_shutdown: Sequence[Callable[[], None]] = (),
) -> None:
    """Serve the API over `ledger` until told to stop; the ledger is closed when the server stops,
    and each of `on_shutdown` called (the scheduler beside the server in `aqp run`)."""
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
    _Server(config, on_shutdown).run()
