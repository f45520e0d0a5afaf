"""The settings screen's connection test: one ping with the values being edited (no Qt)."""

from __future__ import annotations

from desktop.client import ServerClient
from desktop.config import ServerConfig
from desktop.domain import Ping


def ping_server(url: str, token: str, booth_id: str, server: ServerConfig) -> Ping:
    """``GET /ping`` on ``url`` with ``token``, once (no retries), with ``server``'s timeouts.

    Blocking: call it off the GUI thread. Raises ``ServerError`` subclasses, or ValueError
    for a URL or token the client refuses.
    """
    client = ServerClient(
        url.strip(),
        token,
        booth_id=booth_id,
        connect_timeout_s=server.connect_timeout_s,
        read_timeout_s=server.read_timeout_s,
        verify_tls=server.verify_tls,
        ca_bundle=server.ca_bundle,
        retries=0,
        total_timeout_s=max(server.connect_timeout_s + server.read_timeout_s, 5.0),
    )
    try:
        return client.ping()
    finally:
        client.close()
