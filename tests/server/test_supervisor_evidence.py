"""Evidence images: upload (idempotent, JPEG only, size-limited), supervisor-only view, purge."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.app import create_app
from server.config import ServerSettings
from server.db import utcnow
from server.evidence import evidence_root, purge_expired
from server.maintenance import main as maintenance_main
from server.models import Evidence
from server.seed import seed_demo
from tests.server.helpers import API
from tests.server.test_supervisor_common import (
    SUP,
    audit_rows,
    jpeg_bytes,
    png_bytes,
    sighted,
    sup_headers,
)

LIMIT = 64 * 1024


@pytest.fixture
def evidence_dir(tmp_path: Path) -> Path:
    """Where this test's evidence goes."""
    return tmp_path / "evidence-store"


@pytest.fixture
def app(settings: ServerSettings, evidence_dir: Path) -> Iterator[FastAPI]:
    """The demo app storing evidence in ``evidence_dir`` with a 64 KiB upload limit."""
    configured = settings.model_copy(
        update={"evidence_dir": evidence_dir, "evidence_max_bytes": LIMIT}
    )
    app = create_app(configured)
    with app.state.session_factory() as session:
        seed_demo(session)
    yield app
    app.state.engine.dispose()


def _upload(
    client: TestClient,
    auth: dict,
    data: bytes,
    *,
    evidence_id: str | None = None,
    content_type: str = "image/jpeg",
    **params,
):
    query = {"evidence_id": evidence_id or str(uuid.uuid4()), "kind": "snapshot", "plate": "ABC123"}
    query.update(params)
    return client.post(
        f"{API}/evidence",
        params=query,
        content=data,
        headers={**auth, "Content-Type": content_type},
    )


def test_upload_is_idempotent_and_linked_to_the_read(
    client: TestClient, auth_a: dict, evidence_dir: Path
) -> None:
    read = sighted(client, auth_a, "ABC123")
    image = jpeg_bytes()
    evidence_id = str(uuid.uuid4())
    first = _upload(client, auth_a, image, evidence_id=evidence_id, read_id=read["read_id"])
    assert first.status_code == 201, first.text
    stored = first.json()
    assert (stored["plate"], stored["kind"], stored["size_bytes"]) == (
        "ABC123",
        "snapshot",
        len(image),
    )
    again = _upload(client, auth_a, image, evidence_id=evidence_id, read_id=read["read_id"])
    assert (again.status_code, again.json()) == (200, stored)
    assert len(list(evidence_dir.glob("*.jpg"))) == 1
    other = _upload(
        client, auth_a, jpeg_bytes((80, 50)), evidence_id=evidence_id, read_id=read["read_id"]
    )
    assert (other.status_code, other.json()["detail"]["code"]) == (422, "idempotency_key_reused")

    sup = sup_headers(client)
    file = client.get(f"{SUP}/vehicles/ABC123", headers=sup).json()
    (sighting,) = file["sightings"]
    assert [e["evidence_id"] for e in sighting["evidence"]] == [evidence_id]
    assert [e["evidence_id"] for e in file["evidence"]] == [evidence_id]


def test_non_jpeg_and_too_large_are_refused(client: TestClient, auth_a: dict) -> None:
    notice = {"notice_id": str(uuid.uuid4())}
    png = _upload(client, auth_a, png_bytes(), **notice)
    assert (png.status_code, png.json()["detail"]["code"]) == (415, "not_jpeg")
    disguised = _upload(client, auth_a, png_bytes(), content_type="image/png", **notice)
    assert (disguised.status_code, disguised.json()["detail"]["code"]) == (415, "not_jpeg")
    garbage = _upload(client, auth_a, b"\xff\xd8\xff" + b"x" * 100, **notice)
    assert (garbage.status_code, garbage.json()["detail"]["code"]) == (415, "not_jpeg")
    big = _upload(client, auth_a, b"\xff\xd8\xff" + bytes(LIMIT), **notice)
    assert (big.status_code, big.json()["detail"]["code"]) == (413, "payload_too_large")
    # A JPEG over the default 64 KiB JSON limit is fine under the evidence limit.
    noisy = jpeg_bytes((400, 300), quality=95)
    assert _upload(client, auth_a, noisy, **notice).status_code == 201
    no_subject = _upload(client, auth_a, jpeg_bytes())
    assert (no_subject.status_code, no_subject.json()["detail"]["code"]) == (
        422,
        "missing_subject",
    )
    for bad in ({"kind": "video"}, {"evidence_id": "nope"}, {"plate": "--"}):
        assert _upload(client, auth_a, jpeg_bytes(), **notice, **bad).status_code == 422


def test_evidence_is_served_to_supervisors_only(client: TestClient, auth_a: dict) -> None:
    image = jpeg_bytes()
    evidence_id = str(uuid.uuid4())
    assert (
        _upload(
            client, auth_a, image, evidence_id=evidence_id, kind="crop", notice_id=str(uuid.uuid4())
        ).status_code
        == 201
    )
    booth = client.get(f"{SUP}/evidence/{evidence_id}", headers=auth_a)
    assert (booth.status_code, booth.json()["detail"]["code"]) == (403, "supervisor_only")
    sup = sup_headers(client)
    response = client.get(f"{SUP}/evidence/{evidence_id}", headers=sup)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.content == image
    (row,) = audit_rows(client, sup, action="view_evidence")
    assert (row["target"], row["plate"], row["after"]["kind"]) == (evidence_id, "ABC123", "crop")
    missing = client.get(f"{SUP}/evidence/{uuid.uuid4()}", headers=sup)
    assert (missing.status_code, missing.json()["detail"]["code"]) == (404, "unknown_evidence")


def _age(app: FastAPI, evidence_id: str, days: int) -> None:
    with app.state.session_factory() as session:
        row = session.scalar(select(Evidence).where(Evidence.evidence_id == uuid.UUID(evidence_id)))
        assert row is not None
        row.received_at = utcnow() - timedelta(days=days)
        session.commit()


def test_retention_purge_deletes_expired_files_and_rows(
    client: TestClient, auth_a: dict, app: FastAPI, evidence_dir: Path
) -> None:
    ids = [str(uuid.uuid4()) for _ in range(4)]
    for evidence_id in ids:
        _upload(client, auth_a, jpeg_bytes(), evidence_id=evidence_id, notice_id=str(uuid.uuid4()))
    assert len(list(evidence_dir.glob("*.jpg"))) == 4
    settings = app.state.settings
    expired = settings.evidence_retention_days + 1
    with app.state.session_factory() as session:
        assert purge_expired(session, root=evidence_dir, retention_days=90) == 0
    _age(app, ids[0], expired)
    with app.state.session_factory() as session:
        assert purge_expired(session, root=evidence_dir, retention_days=90) == 1
    sup = sup_headers(client)
    assert client.get(f"{SUP}/evidence/{ids[0]}", headers=sup).status_code == 404
    assert client.get(f"{SUP}/evidence/{ids[1]}", headers=sup).status_code == 200
    # From the command line.
    _age(app, ids[1], expired)
    argv = ["purge-evidence", "--database-url", settings.database_url]
    assert maintenance_main([*argv, "--evidence-dir", str(evidence_dir)]) == 0
    # At the next start-up.
    _age(app, ids[2], expired)
    create_app(settings).state.engine.dispose()
    remaining = list(evidence_dir.glob("*.jpg"))
    assert [path.name.split("-")[:5] for path in remaining] == [ids[3].split("-")]


def test_default_evidence_dir_is_next_to_the_sqlite_file(tmp_path: Path) -> None:
    settings = ServerSettings(database_url=f"sqlite:///{tmp_path / 'db' / 'server.sqlite3'}")
    assert evidence_root(settings) == (tmp_path / "db" / "evidence").resolve()
    explicit = settings.model_copy(update={"evidence_dir": tmp_path / "x"})
    assert evidence_root(explicit) == tmp_path / "x"
