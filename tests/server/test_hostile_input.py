"""Hostile input gets a 4xx in the one error shape, never a 500, on SQLite and PostgreSQL.

Each case is one the fuzzer found (schemathesis, with a booth token), replayed here.
"""

from __future__ import annotations

import struct
import uuid

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from server.config import ServerSettings
from tests.server.helpers import API, outcome_body, read_body, unpaid_ids

HUGE = 10**20


def _error(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    """Assert the answer is ``status`` with ``detail.code == code``; return the detail."""
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert detail["code"] == code, detail
    assert isinstance(detail["message"], str) and detail["message"]
    return detail


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/blacklist/changes", {"since": HUGE}),
        ("/blacklist/changes", {"limit": HUGE}),
        ("/supervisor/flags", {"min_cents": HUGE}),
        ("/supervisor/flags", {"offset": HUGE}),
        ("/supervisor/audit", {"offset": HUGE}),
    ],
)
def test_integers_too_large_for_the_database_are_refused(
    client: TestClient, auth_a: dict, path: str, params: dict
) -> None:
    # Supervisor routes refuse the booth token first; the value is checked before either.
    response = client.get(f"{API}{path}", params=params, headers=auth_a)
    assert response.status_code in (403, 422), response.text
    if path.startswith("/blacklist"):
        _error(response, 422, "invalid_request")


def test_huge_amounts_and_session_ids_in_bodies_are_refused(
    client: TestClient, auth_a: dict
) -> None:
    ids = unpaid_ids(client, auth_a, "ABC123")
    for body in (
        outcome_body("ABC123", ids, HUGE),
        outcome_body("ABC123", [HUGE], 100),
    ):
        detail = _error(client.post(f"{API}/outcomes", json=body, headers=auth_a), 422,
                        "invalid_request")  # fmt: skip
        assert detail["errors"]


def test_true_and_false_are_not_read_as_numbers(client: TestClient, auth_a: dict) -> None:
    ids = unpaid_ids(client, auth_a, "ABC123")
    for path, body in (
        ("/reads", read_body("ABC123", confidence=False)),
        ("/outcomes", outcome_body("ABC123", ids, True)),
        ("/outcomes", outcome_body("ABC123", [True], 100)),
    ):
        detail = _error(client.post(f"{API}{path}", json=body, headers=auth_a), 422,
                        "invalid_request")  # fmt: skip
        assert detail["errors"]
    assert unpaid_ids(client, auth_a, "ABC123") == ids


def test_a_non_finite_number_is_not_echoed(client: TestClient, auth_a: dict) -> None:
    response = client.post(
        f"{API}/reads",
        content=b'{"read_id": 1e309}',
        headers={**auth_a, "Content-Type": "application/json"},
    )
    detail = _error(response, 422, "invalid_request")
    assert "inf" not in response.text.lower().replace("info", "")
    assert all("input" not in error for error in detail["errors"])


def test_a_plate_that_grows_past_32_characters_when_normalized_is_refused(
    client: TestClient, auth_a: dict
) -> None:
    plate = "\ufdfa" * 32  # 32 characters, 576 once NFKC-normalized
    response = client.post(f"{API}/reads", json=read_body(plate), headers=auth_a)
    detail = _error(response, 422, "invalid_request")
    assert "32" in detail["message"]


def test_text_with_a_nul_character_is_refused(client: TestClient, auth_a: dict) -> None:
    response = client.post(
        f"{API}/reads", json=read_body("AB123", lane="Exit\x001"), headers=auth_a
    )
    _error(response, 422, "invalid_request")


@pytest.mark.parametrize("when", ["0.5", "1700000000", "2026-11-20T10:00:00"])
def test_times_must_be_iso_8601_with_an_offset(client: TestClient, auth_a: dict, when: str) -> None:
    response = client.post(f"{API}/reads", json=read_body("AB123", seen_at=when), headers=auth_a)
    _error(response, 422, "invalid_request")


def test_a_plate_with_no_letter_or_digit_is_refused_and_other_scripts_are_not(
    client: TestClient, auth_a: dict
) -> None:
    response = client.post(f"{API}/reads", json=read_body("--- ..."), headers=auth_a)
    _error(response, 422, "invalid_request")
    # JSON Schema reads a pattern's \w as ASCII only: the schema must not promise one.
    schema = client.get("/openapi.json").json()["components"]["schemas"]["ReadIn"]
    assert "pattern" not in schema["properties"]["plate"]
    accepted = client.post(f"{API}/reads", json=read_body("\x13Ü-Ö"), headers=auth_a)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["plate"] == "ÜÖ"


def _bomb_jpeg(width: int, height: int) -> bytes:
    """A tiny JPEG whose header claims ``width`` x ``height`` pixels."""
    start_of_frame = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    quant = b"\xff\xdb" + struct.pack(">H", 67) + b"\x00" + bytes([1] * 64)
    huffman = b"\xff\xc4" + struct.pack(">H", 20) + b"\x00" + bytes([1] + [0] * 15) + b"\x00"
    scan = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00\x00\x3f\x00"
    return b"\xff\xd8" + quant + start_of_frame + huffman + scan + b"\x00" * 500 + b"\xff\xd9"


def test_an_image_claiming_billions_of_pixels_is_refused_without_decoding(
    client: TestClient, auth_a: dict
) -> None:
    response = client.post(
        f"{API}/evidence",
        params={"evidence_id": str(uuid.uuid4()), "kind": "snapshot", "plate": "ABC123",
                "read_id": str(uuid.uuid4())},
        content=_bomb_jpeg(65500, 65500),
        headers={**auth_a, "Content-Type": "image/jpeg"},
    )  # fmt: skip
    _error(response, 422, "image_too_large")


def test_an_unreadable_body_and_unknown_routes_answer_in_the_error_shape(
    client: TestClient, auth_a: dict
) -> None:
    broken = client.post(
        f"{API}/reads", content=b"{not json", headers={**auth_a, "Content-Type": "application/json"}
    )
    _error(broken, 422, "invalid_request")
    _error(client.get(f"{API}/no-such-thing", headers=auth_a), 404, "not_found")
    _error(client.delete(f"{API}/reads", headers=auth_a), 405, "method_not_allowed")


def test_every_operation_documents_the_errors_it_can_answer(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            expected = {"422", "503"} if path.endswith("/login") else {
                "401", "403", "413", "422", "503"}  # fmt: skip
            assert expected <= codes, (method, path, codes)
            for code in codes - {"200", "201", "204"}:
                content = operation["responses"][code].get("content", {})
                schema = content.get("application/json", {}).get("schema", {})
                if code != "409" or "ErrorOut" in str(schema):
                    assert "ErrorOut" in schema.get("$ref", ""), (method, path, code)


def test_api_docs_can_be_turned_off(settings: ServerSettings) -> None:
    from server.app import create_app

    app: FastAPI = create_app(settings.model_copy(update={"api_docs": False}))
    try:
        with TestClient(app) as client:
            for path in ("/docs", "/redoc", "/openapi.json"):
                assert client.get(path).status_code == 404
    finally:
        app.state.engine.dispose()
