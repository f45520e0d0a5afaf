"""ASGI middleware that answers 503 overloaded before any work when the database queue is full.

The database threads refuse work beyond their queue themselves (``server.db_workers``),
but only once FastAPI has parsed and validated the request. Past that point, under a
flood, the parsing of requests that will be refused anyway takes the CPU the admitted
ones need; this gate refuses them first, for the price of one comparison.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from server.db_workers import DatabaseWorkers
from server.errors import send_error


class OverloadGate:
    """Refuse HTTP requests while ``database`` has a full queue (503, ``Retry-After``)."""

    def __init__(self, app: ASGIApp, *, database: DatabaseWorkers) -> None:
        self.app = app
        self.database = database

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, unless the queue is full."""
        if scope["type"] != "http" or not self.database.full:
            await self.app(scope, receive, send)
            return
        await send_error(
            send,
            503,
            "overloaded",
            "the server is busy; try again later",
            [(b"retry-after", str(self.database.retry_after_s).encode())],
        )
