"""ServerClient against a real (hostile) HTTP server on 127.0.0.1: no mocks of requests.

Every test that makes the server misbehave also checks that the next valid call works,
because the booth keeps running after a bad answer. An autouse fixture checks that the
token never reaches a log record.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.client import (
    MalformedResponse,
    ResyncRequired,
    ServerClient,
    ServerError,
    ServerRejected,
    ServerUnavailable,
)
from desktop.domain import ChangesPage, OutcomeAnswer, Ping, SnapshotPage, VehicleHistory
from desktop.redaction import redact_url
from tests.desktop.hostile_server import (
    HostileServer,
    StreamRecord,
    declared_huge,
    echo_json,
    endless_chunked,
    gated,
    gzip_bomb,
    hang,
    json_answer,
    raw,
    trickle,
)

TOKEN = "tok-3f9a1c5e7b2d4a6c8e0f1a3b5c7d9e1f"
PING = {"booth_id": "booth-a", "server_time": "2024-05-01T10:00:00+00:00", "latest_seq": 12}
SESSION = {
    "id": 7,
    "lot_id": "north",
    "lot_name": "North Garage",
    "entered_at": "2024-05-01T08:00:00+00:00",
    "exited_at": "2024-05-01T09:00:00+00:00",
    "fee_cents": 1200,
    "paid_cents": 0,
    "unpaid_cents": 1200,
    "status": "unpaid",
}
HISTORY = {
    "plate": "ABC123",
    "currency": "USD",
    "unpaid_cents": 1200,
    "blacklisted": True,
    "status": "active",
    "sessions": [SESSION],
}
ENTRY = {
    "plate": "ABC123",
    "status": "active",
    "unpaid_cents": 1200,
    "currency": "USD",
    "sessions": [SESSION],
    "updated_at": "2024-05-01T09:05:00+00:00",
}
HTML_502 = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
MB = 1024 * 1024

PING_PATH = "/api/v1/ping"
HISTORY_PATH = "/api/v1/vehicles/ABC123/history"
READS_PATH = "/api/v1/reads"
OUTCOMES_PATH = "/api/v1/outcomes"
CHANGES_PATH = "/api/v1/blacklist/changes"


def outcome_payload(**overrides: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "outcome_id": str(uuid.uuid4()),
        "notice_id": str(uuid.uuid4()),
        "plate": "ABC123",
        "lane": "Exit 1",
        "kind": "paid",
        "method": "cash",
        "amount_cents": 1200,
        "session_ids": [7],
        "reason": None,
        "reference": None,
        "attendant": "alice",
        "recorded_at": "2024-05-01T10:00:00+00:00",
    }
    payload.update(overrides)
    return payload


def read_payload(**overrides: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "read_id": str(uuid.uuid4()),
        "plate": "ABC123",
        "lane": "Exit 1",
        "seen_at": "2024-05-01T10:00:00+00:00",
        "confidence": 0.93,
        "source": "camera",
    }
    payload.update(overrides)
    return payload


def outcome_answer(request: dict, status: str = "recorded") -> dict[str, object]:
    collected = request["amount_cents"] if status == "recorded" else 0
    return {
        "outcome_id": request["outcome_id"],
        "status": status,
        "collected_cents": collected,
        "settled_session_ids": request["session_ids"],
        "already_paid_session_ids": [] if status == "recorded" else [7],
        "message": status,
    }


def read_answer(request: dict) -> dict[str, object]:
    return {"read_id": request["read_id"], "plate": request["plate"], "owes": True, "entry": ENTRY}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def token_never_logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture all logging at DEBUG (ours, requests', urllib3's); no record may hold the token."""
    caplog.set_level(logging.DEBUG)
    yield caplog
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        assert TOKEN not in text, f"token leaked into log: {record.name}"
        assert "Bearer " not in text
    assert TOKEN not in caplog.text


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        srv.on("GET", PING_PATH, json_answer(PING))
        yield srv


def make_client(server: HostileServer, **kwargs: object) -> ServerClient:
    options: dict[str, object] = {
        "booth_id": "booth-a",
        "connect_timeout_s": 1.0,
        "read_timeout_s": 2.0,
        "retries": 2,
        "backoff_s": 0.01,
    }
    options.update(kwargs)
    return ServerClient(server.url, TOKEN, **options)  # type: ignore[arg-type]


@pytest.fixture
def client(server: HostileServer) -> Iterator[ServerClient]:
    with make_client(server) as c:
        yield c


def still_works(client: ServerClient) -> None:
    """The booth keeps running: the next valid call succeeds."""
    assert client.ping().latest_seq == 12


def warnings_about(caplog: pytest.LogCaptureFixture, endpoint: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING
        and r.name == "desktop.client"
        and endpoint in r.getMessage()
    ]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- valid answers


def test_ping_sends_bearer_token_and_parses(server: HostileServer, client: ServerClient) -> None:
    ping = client.ping()

    assert isinstance(ping, Ping)
    assert ping.booth_id == "booth-a" and ping.latest_seq == 12
    assert ping.server_time.utcoffset() is not None
    headers = server.seen("GET", PING_PATH)[0].headers
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert "booth-a" in headers["User-Agent"]
    assert headers["Accept"] == "application/json"


def test_history_quotes_a_cjk_plate_in_the_path(
    server: HostileServer, client: ServerClient
) -> None:
    path = "/api/v1/vehicles/%E4%BA%ACA12345/history"
    server.on("GET", path, json_answer({**HISTORY, "plate": "京A12345"}))

    history = client.history("京A·12345")

    assert isinstance(history, VehicleHistory)
    assert history.plate == "京A12345"
    assert history.unpaid_cents == 1200 and history.sessions[0].lot_name == "North Garage"
    assert server.seen("GET", path)[0].path == path


def test_history_refuses_a_plate_without_characters(client: ServerClient) -> None:
    with pytest.raises(ValueError, match="letters or digits"):
        client.history(" ·- ")


def test_changes_and_snapshot_parse_and_send_their_cursor(
    server: HostileServer, client: ServerClient
) -> None:
    server.on(
        "GET",
        CHANGES_PATH,
        json_answer(
            {
                "changes": [
                    {"seq": 41, "plate": "ABC123", "action": "upsert", "entry": ENTRY},
                    {"seq": 42, "plate": "XYZ789", "action": "remove", "entry": None},
                ],
                "next_since": 42,
                "has_more": False,
                "latest_seq": 42,
            }
        ),
    )
    server.on(
        "GET",
        "/api/v1/blacklist",
        json_answer(
            {"entries": [ENTRY], "as_of_seq": 42, "next_after": "ABC123", "has_more": True}
        ),
    )

    changes = client.blacklist_changes(since=40, limit=100)
    snapshot = client.blacklist_snapshot(after="AAA", limit=1)

    assert isinstance(changes, ChangesPage)
    assert [c.seq for c in changes.changes] == [41, 42]
    assert changes.changes[0].entry is not None and changes.changes[1].entry is None
    assert isinstance(snapshot, SnapshotPage)
    assert snapshot.entries[0].plate == "ABC123" and snapshot.has_more
    assert server.seen("GET", CHANGES_PATH)[0].path.endswith("?since=40&limit=100")
    assert server.seen("GET", "/api/v1/blacklist")[0].path.endswith("?limit=1&after=AAA")


def test_report_read_posts_json_and_parses_the_decision(
    server: HostileServer, client: ServerClient
) -> None:
    server.on("POST", READS_PATH, echo_json(read_answer))
    payload = read_payload(plate="京A12345")

    answer = client.report_read(payload)

    assert answer.owes and answer.entry is not None
    assert str(answer.read_id) == payload["read_id"]
    seen = server.seen("POST", READS_PATH)[0]
    assert seen.headers["Content-Type"] == "application/json"
    assert json.loads(seen.body) == payload


def test_post_outcome_returns_200_recorded(server: HostileServer, client: ServerClient) -> None:
    server.on("POST", OUTCOMES_PATH, echo_json(outcome_answer))
    payload = outcome_payload()

    status, answer = client.post_outcome(payload)

    assert status == 200
    assert isinstance(answer, OutcomeAnswer)
    assert answer.status == "recorded" and answer.collected_cents == 1200


def test_post_outcome_returns_409_already_paid_with_its_answer(
    server: HostileServer, client: ServerClient
) -> None:
    server.on(
        "POST", OUTCOMES_PATH, echo_json(lambda r: outcome_answer(r, "already_paid"), status=409)
    )

    status, answer = client.post_outcome(outcome_payload())

    assert status == 409
    assert answer.status == "already_paid" and answer.collected_cents == 0
    assert answer.already_paid_session_ids == [7]
    assert server.count("POST", OUTCOMES_PATH) == 1


# --------------------------------------------------------------------------- malformed answers

MALFORMED = {
    "wrong type": (json_answer({**HISTORY, "unpaid_cents": "lots"}), "unpaid_cents"),
    "missing field": (
        json_answer({k: v for k, v in HISTORY.items() if k != "currency"}),
        "currency",
    ),
    "negative money": (json_answer({**HISTORY, "unpaid_cents": -5}), "unpaid_cents"),
    "bad session": (
        json_answer({**HISTORY, "sessions": [{**SESSION, "entered_at": "soon"}]}),
        "sessions.0.entered_at",
    ),
    "array not object": (json_answer([HISTORY]), "valid dictionary"),
    "not json": (raw(200, b"{'plate': 'ABC123'"), "not valid JSON"),
    "truncated json": (raw(200, json.dumps(HISTORY).encode()[:40]), "not valid JSON"),
    "NaN": (raw(200, b'{"unpaid_cents": NaN}'), "NaN"),
    "deep nesting": (raw(200, b"[" * 200_000 + b"]" * 200_000), "not valid JSON"),
    "html 200 page": (
        raw(200, b"<html><body>Welcome to hotel Wi-Fi</body></html>", content_type="text/html"),
        "text/html",
    ),
    "no content type": (raw(200, json.dumps(HISTORY).encode(), content_type=None), "missing"),
    "empty body": (raw(200, b""), "not valid JSON"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_history_is_rejected_logged_and_not_retried(
    case: str,
    server: HostileServer,
    client: ServerClient,
    token_never_logged: pytest.LogCaptureFixture,
) -> None:
    behaviour, reason = MALFORMED[case]
    server.on("GET", HISTORY_PATH, behaviour)

    with pytest.raises(MalformedResponse) as caught:
        client.history("ABC123")

    assert reason in caught.value.reason
    logged = warnings_about(token_never_logged, "/api/v1/vehicles/{plate}/history")
    assert len(logged) == 1 and reason in logged[0]
    assert len(logged[0]) < 400
    assert server.count("GET", HISTORY_PATH) == 1
    still_works(client)


def test_an_endless_chunked_body_is_cut_off_early(
    server: HostileServer, client: ServerClient
) -> None:
    record = StreamRecord()
    server.on("GET", HISTORY_PATH, endless_chunked(50 * MB, record))

    started = time.monotonic()
    with pytest.raises(MalformedResponse, match="exceeds 8388608 bytes"):
        client.history("ABC123")

    assert record.done.wait(5)
    assert record.broken, "the client should hang up, not drain the body"
    assert record.sent < 30 * MB  # the limit plus what socket buffers absorbed
    assert time.monotonic() - started < 5
    still_works(client)


def test_a_declared_huge_body_is_refused_from_its_length(
    server: HostileServer, client: ServerClient
) -> None:
    record = StreamRecord()
    server.on("GET", HISTORY_PATH, declared_huge(50 * MB, record))

    with pytest.raises(MalformedResponse, match="52428800 bytes exceeds"):
        client.history("ABC123")

    assert record.done.wait(5) and record.sent < 30 * MB
    still_works(client)


def test_a_gzip_bomb_is_cut_off_at_the_limit(server: HostileServer) -> None:
    server.on("GET", HISTORY_PATH, gzip_bomb(4 * MB))

    with (
        make_client(server, max_body_bytes=MB) as client,
        pytest.raises(MalformedResponse, match="exceeds 1048576 bytes"),
    ):
        client.history("ABC123")


def test_a_changes_page_out_of_order_is_malformed(
    server: HostileServer, client: ServerClient
) -> None:
    server.on(
        "GET",
        CHANGES_PATH,
        json_answer(
            {
                "changes": [
                    {"seq": 42, "plate": "XYZ789", "action": "remove", "entry": None},
                    {"seq": 41, "plate": "ABC123", "action": "upsert", "entry": ENTRY},
                ],
                "next_since": 42,
                "has_more": False,
                "latest_seq": 42,
            }
        ),
    )

    with pytest.raises(MalformedResponse, match="not after 42"):
        client.blacklist_changes(since=40, limit=100)


def test_an_outcome_answer_for_another_id_is_malformed(
    server: HostileServer, client: ServerClient
) -> None:
    server.on(
        "POST",
        OUTCOMES_PATH,
        echo_json(lambda r: outcome_answer({**r, "outcome_id": str(uuid.uuid4())})),
    )

    with pytest.raises(MalformedResponse, match="another outcome_id"):
        client.post_outcome(outcome_payload())


def test_a_redirect_is_not_followed(server: HostileServer, client: ServerClient) -> None:
    server.on(
        "GET",
        HISTORY_PATH,
        raw(302, b"", headers={"Location": "http://user:pw@elsewhere.example/steal"}),
    )

    with pytest.raises(MalformedResponse, match="302") as caught:
        client.history("ABC123")

    assert "pw" not in caught.value.message
    still_works(client)


# --------------------------------------------------------------------------- rejections


def test_401_says_the_token_is_bad_without_repeating_it(
    server: HostileServer, client: ServerClient
) -> None:
    server.on(
        "GET",
        HISTORY_PATH,
        json_answer(
            {"detail": f"unknown token {TOKEN}"}, status=401, headers={"WWW-Authenticate": "Bearer"}
        ),
    )

    with pytest.raises(ServerRejected) as caught:
        client.history("ABC123")

    assert caught.value.status == 401 and caught.value.bad_token
    assert "token" in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert server.count("GET", HISTORY_PATH) == 1
    still_works(client)


def test_422_carries_the_detail_code_and_is_not_retried(
    server: HostileServer, client: ServerClient
) -> None:
    server.on(
        "POST",
        OUTCOMES_PATH,
        json_answer(
            {"detail": {"code": "amount_mismatch", "message": "expected 1200"}}, status=422
        ),
    )

    with pytest.raises(ServerRejected) as caught:
        client.post_outcome(outcome_payload(amount_cents=5))

    assert caught.value.status == 422 and caught.value.code == "amount_mismatch"
    assert "expected 1200" in str(caught.value)
    assert server.count("POST", OUTCOMES_PATH) == 1


def test_422_validation_list_gives_a_readable_message(
    server: HostileServer, client: ServerClient
) -> None:
    server.on(
        "POST",
        READS_PATH,
        json_answer(
            {
                "detail": [
                    {
                        "loc": ["body", "confidence"],
                        "msg": "Input should be less than 1",
                        "type": "x",
                    }
                ]
            },
            status=422,
        ),
    )

    with pytest.raises(ServerRejected, match=r"body\.confidence: Input should be") as caught:
        client.report_read(read_payload(confidence=7))

    assert caught.value.code is None


def test_410_resync_required_carries_latest_seq(
    server: HostileServer, client: ServerClient
) -> None:
    server.on(
        "GET",
        CHANGES_PATH,
        json_answer(
            {"detail": {"code": "resync_required", "message": "cursor pruned", "latest_seq": 42}},
            status=410,
        ),
    )

    with pytest.raises(ResyncRequired) as caught:
        client.blacklist_changes(since=3, limit=500)

    assert caught.value.latest_seq == 42
    assert server.count("GET", CHANGES_PATH) == 1
    still_works(client)


def test_410_resync_without_a_valid_seq_is_malformed(
    server: HostileServer, client: ServerClient
) -> None:
    server.on(
        "GET",
        CHANGES_PATH,
        json_answer({"detail": {"code": "resync_required", "latest_seq": "soon"}}, status=410),
    )

    with pytest.raises(MalformedResponse, match="latest_seq"):
        client.blacklist_changes(since=3, limit=500)


def test_a_409_error_detail_on_outcomes_is_a_rejection(
    server: HostileServer, client: ServerClient
) -> None:
    server.on("POST", OUTCOMES_PATH, json_answer({"detail": {"code": "locked"}}, status=409))

    with pytest.raises(ServerRejected) as caught:
        client.post_outcome(outcome_payload())

    assert caught.value.status == 409 and caught.value.code == "locked"


# --------------------------------------------------------------------------- unavailable


def test_an_html_502_from_a_proxy_is_unavailable_and_retried(
    server: HostileServer, client: ServerClient
) -> None:
    server.on("GET", HISTORY_PATH, raw(502, HTML_502, content_type="text/html"))

    with pytest.raises(ServerUnavailable) as caught:
        client.history("ABC123")

    assert caught.value.status == 502
    assert server.count("GET", HISTORY_PATH) == 3  # one attempt + two retries
    still_works(client)


def test_429_rate_limit_is_unavailable_not_a_rejection(
    server: HostileServer, client: ServerClient
) -> None:
    server.on(
        "POST",
        OUTCOMES_PATH,
        json_answer({"detail": "slow down"}, status=429),
        echo_json(outcome_answer),
    )

    assert client.post_outcome(outcome_payload())[0] == 200
    assert server.count("POST", OUTCOMES_PATH) == 2


def test_a_503_then_200_succeeds_after_one_retry(
    server: HostileServer, client: ServerClient
) -> None:
    server.on(
        "GET", HISTORY_PATH, raw(503, b"busy", content_type="text/plain"), json_answer(HISTORY)
    )

    assert client.history("ABC123").plate == "ABC123"
    assert server.count("GET", HISTORY_PATH) == 2


def test_post_outcome_is_retried_because_it_is_keyed(
    server: HostileServer, client: ServerClient
) -> None:
    server.on("POST", OUTCOMES_PATH, raw(503, b"busy"), echo_json(outcome_answer))
    payload = outcome_payload()

    assert client.post_outcome(payload)[0] == 200
    bodies = [s.body for s in server.seen("POST", OUTCOMES_PATH)]
    assert len(bodies) == 2 and bodies[0] == bodies[1]


def test_report_read_without_deadline_is_retried(
    server: HostileServer, client: ServerClient
) -> None:
    server.on("POST", READS_PATH, raw(503, b"busy"), echo_json(read_answer))

    assert client.report_read(read_payload()).owes
    assert server.count("POST", READS_PATH) == 2


def test_report_read_with_a_deadline_is_not_retried(
    server: HostileServer, client: ServerClient
) -> None:
    server.on("POST", READS_PATH, raw(503, b"busy"), echo_json(read_answer))

    with pytest.raises(ServerUnavailable):
        client.report_read(read_payload(), timeout_s=1.0)

    assert server.count("POST", READS_PATH) == 1


def test_report_read_deadline_bounds_a_silent_server(
    server: HostileServer, client: ServerClient
) -> None:
    server.on("POST", READS_PATH, hang())

    started = time.monotonic()
    with pytest.raises(ServerUnavailable, match="no answer"):
        client.report_read(read_payload(), timeout_s=0.3)

    assert 0.25 <= time.monotonic() - started < 1.5
    assert server.count("POST", READS_PATH) == 1
    still_works(client)


def test_a_trickling_body_cannot_outlast_the_deadline(
    server: HostileServer, client: ServerClient
) -> None:
    server.on("POST", READS_PATH, trickle(0.02))

    started = time.monotonic()
    with pytest.raises(ServerUnavailable, match=r"no answer|time allowed"):
        client.report_read(read_payload(), timeout_s=0.3)

    assert time.monotonic() - started < 1.0
    still_works(client)


def test_a_server_that_never_answers_times_out(server: HostileServer) -> None:
    server.on("GET", HISTORY_PATH, hang())

    with make_client(server, read_timeout_s=0.3, retries=0) as client:
        started = time.monotonic()
        with pytest.raises(ServerUnavailable, match="read timeout"):
            client.history("ABC123")
        assert 0.25 <= time.monotonic() - started < 1.5
        still_works(client)


def test_connection_refused_is_unavailable_quickly() -> None:
    port = closed_port()

    with ServerClient(f"http://127.0.0.1:{port}", TOKEN, retries=1, backoff_s=0.01) as client:
        started = time.monotonic()
        with pytest.raises(ServerUnavailable, match="connection refused"):
            client.ping()

    assert time.monotonic() - started < 2


def test_tls_failure_is_unavailable(server: HostileServer) -> None:
    with (
        ServerClient(f"https://127.0.0.1:{server.port}", TOKEN, retries=0) as client,
        pytest.raises(ServerUnavailable, match="TLS failure"),
    ):
        client.ping()


# --------------------------------------------------------------------------- configuration


def test_credentials_in_the_url_are_stripped_and_never_logged(
    server: HostileServer,
    token_never_logged: pytest.LogCaptureFixture,
) -> None:
    url = server.url.replace("http://", "http://admin:hunter2@")

    with ServerClient(url, TOKEN) as client:
        client.ping()
        assert "hunter2" not in repr(client) and "hunter2" not in client.base_url

    assert server.seen("GET", PING_PATH)[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert "hunter2" not in token_never_logged.text
    assert "Ignoring credentials" in token_never_logged.text
    assert redact_url("https://a:b@host/x") == "https://a:***@host/x"


def test_disabling_tls_verification_logs_one_warning(
    server: HostileServer,
    token_never_logged: pytest.LogCaptureFixture,
) -> None:
    with ServerClient(server.url, TOKEN, verify_tls=False) as client:
        client.ping()
        client.ping()

    disabled = [r for r in token_never_logged.records if "DISABLED" in r.getMessage()]
    assert len(disabled) == 1 and disabled[0].levelno == logging.WARNING


def test_a_missing_ca_bundle_fails_at_construction(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        ServerClient("https://ops.example", TOKEN, ca_bundle=tmp_path / "nope.pem")


@pytest.mark.parametrize("url", ["ftp://host", "not a url", "https://"])
def test_a_bad_base_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="server URL"):
        ServerClient(url, TOKEN)


def test_posts_need_their_idempotency_key(client: ServerClient) -> None:
    with pytest.raises(ValueError, match="read_id"):
        client.report_read({"plate": "ABC123"})
    with pytest.raises(ValueError, match="outcome_id"):
        client.post_outcome({"plate": "ABC123"})


def test_a_caller_session_is_used_and_left_open(server: HostileServer) -> None:
    import requests

    with requests.Session() as session:
        with ServerClient(server.url, TOKEN, session=session) as client:
            client.ping()
        session.get(server.url + PING_PATH, timeout=2).close()  # still usable


# --------------------------------------------------------------------------- threads


def test_threads_do_not_wait_for_each_other(server: HostileServer, client: ServerClient) -> None:
    """A stuck sync download must not block the recovery worker's lookup."""
    gate = threading.Event()
    server.on(
        "GET",
        "/api/v1/blacklist",
        gated(
            gate,
            json_answer({"entries": [], "as_of_seq": 1, "next_after": None, "has_more": False}),
        ),
    )
    results: list[object] = []
    worker = threading.Thread(target=lambda: results.append(client.blacklist_snapshot()))
    worker.start()
    try:
        assert server.wait_for("GET", "/api/v1/blacklist")
        server.on("GET", HISTORY_PATH, json_answer(HISTORY))
        assert client.history("ABC123").plate == "ABC123"  # while the snapshot is stuck
        assert not results
    finally:
        gate.set()
        worker.join(5)
    assert isinstance(results[0], SnapshotPage)


def test_concurrent_calls_from_many_threads(server: HostileServer, client: ServerClient) -> None:
    server.on("GET", HISTORY_PATH, json_answer(HISTORY))
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(10):
                assert client.history("ABC123").unpaid_cents == 1200
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not errors
    assert server.count("GET", HISTORY_PATH) == 60


def test_a_closed_client_refuses_calls(server: HostileServer) -> None:
    client = make_client(server)
    client.close()
    with pytest.raises(RuntimeError, match="closed"):
        client.ping()


# --------------------------------------------------------------------------- property


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
HISTORY_LIKE = st.fixed_dictionaries(
    {}, optional={key: JSON_VALUES | st.just(value) for key, value in HISTORY.items()}
)


@pytest.fixture(scope="module")
def shared_server() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        yield srv


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.one_of(JSON_VALUES, HISTORY_LIKE))
def test_any_json_answer_is_a_history_or_malformed(
    shared_server: HostileServer, body: object
) -> None:
    """Whatever JSON the server sends, the caller sees a VehicleHistory or a ServerError."""
    shared_server.on("GET", HISTORY_PATH, json_answer(body))
    with make_client(shared_server, retries=0) as client:
        try:
            result = client.history("ABC123")
        except MalformedResponse:
            return
        assert isinstance(result, VehicleHistory)


def test_every_client_error_shares_one_base() -> None:
    for cls in (ServerUnavailable, ServerRejected, ResyncRequired, MalformedResponse):
        assert issubclass(cls, ServerError)
