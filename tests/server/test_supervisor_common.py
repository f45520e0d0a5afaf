"""Helpers shared by the supervisor API tests (no tests here)."""

from __future__ import annotations

import io
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image

from tests.server.helpers import API, read_body

SUP = f"{API}/supervisor"
DEMO_USER = "super"
DEMO_PASSWORD = "demo-supervisor"
DEMO_PIN = "1234"


def login(client: TestClient, username: str = DEMO_USER, password: str = DEMO_PASSWORD) -> dict:
    """Log in and return the answer (asserting 200)."""
    response = client.post(f"{SUP}/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def sup_headers(client: TestClient) -> dict[str, str]:
    """Bearer headers of a fresh demo supervisor login."""
    return {"Authorization": f"Bearer {login(client)['token']}"}


def sighted(client: TestClient, headers: dict[str, str], plate: str, **overrides: Any) -> dict:
    """Report a read of ``plate`` (lists it when it owes) and return the answer."""
    response = client.post(f"{API}/reads", json=read_body(plate, **overrides), headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def jpeg_bytes(size: tuple[int, int] = (64, 40), quality: int = 80) -> bytes:
    """A real JPEG image of ``size``."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def png_bytes() -> bytes:
    """A real PNG image (not a JPEG)."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (0, 0, 0)).save(buffer, "PNG")
    return buffer.getvalue()


def audit_rows(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict]:
    """The audit log's items for ``params`` (asserting 200)."""
    response = client.get(f"{SUP}/audit", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]
