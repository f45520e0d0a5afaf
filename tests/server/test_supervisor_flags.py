"""Flag review: listing with filters and paging, dismissing, resolving disputes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from server.blacklist import refresh_entry
from server.config import ServerSettings
from server.db import make_engine, make_session_factory
from server.flags import (
    FlagCursor,
    FlagFilter,
    add_history,
    list_flags,
    page_flags,
    rebuild_flag_index,
)
from server.migrate import upgrade_to_head
from server.models import (
    STATE_ROW_ID,
    BlacklistEntry,
    FlagHistory,
    FlagLot,
    FlagLotCount,
    Lot,
    ParkingSession,
    PlateGram,
    ServerState,
)
from tests.server.helpers import API, all_changes, history, outcome_body, unpaid_ids
from tests.server.test_supervisor_common import SUP, audit_rows, sighted, sup_headers


def _flags(client: TestClient, headers: dict, **params) -> dict:
    response = client.get(f"{SUP}/flags", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _plates(page: dict) -> set[str]:
    return {item["plate"] for item in page["items"]}


def _dispute(client: TestClient, auth: dict, plate: str) -> list[int]:
    ids = unpaid_ids(client, auth, plate)
    body = outcome_body(plate, ids, 0, kind="disputed", reason="driver says paid")
    assert client.post(f"{API}/outcomes", json=body, headers=auth).status_code == 200
    return ids


def test_flags_filters_and_paging(client: TestClient, auth_a: dict) -> None:
    sighted(client, auth_a, "ABC123", lane="Exit 2", seen_at="2026-11-21T09:30:00+00:00")
    sighted(client, auth_a, "7XYZ042")
    sup = sup_headers(client)
    everything = _flags(client, sup)
    assert everything["total"] == 4
    assert _plates(everything) == {"PQR789", "B0LT123", "ABC123", "7XYZ042"}
    abc = next(item for item in everything["items"] if item["plate"] == "ABC123")
    assert abc["status"] == "active"
    assert (abc["unpaid_cents"], abc["currency"], abc["sessions"]) == (1850, "USD", 2)
    assert abc["lots"] == ["north", "south"]
    assert abc["last_seen_lane"] == "Exit 2"
    assert abc["last_seen_at"].startswith("2026-11-21T09:30:00")
    assert abc["first_unpaid_at"] < abc["updated_at"]
    pqr = next(item for item in everything["items"] if item["plate"] == "PQR789")
    assert (pqr["last_seen_at"], pqr["last_seen_lane"]) == (None, None)

    assert _plates(_flags(client, sup, lot="south")) == {"PQR789", "ABC123"}
    assert _plates(_flags(client, sup, min_cents=1800)) == {"ABC123", "7XYZ042"}
    assert _plates(_flags(client, sup, plate="xyz 0")) == {"7XYZ042"}
    assert _flags(client, sup, since="2999-01-01T00:00:00Z")["total"] == 0
    assert _flags(client, sup, status="disputed")["total"] == 0

    first = _flags(client, sup, limit=3, offset=0)
    second = _flags(client, sup, limit=3, offset=3)
    assert (first["total"], second["total"]) == (4, 4)
    assert (len(first["items"]), len(second["items"])) == (3, 1)
    assert _plates(first) | _plates(second) == _plates(everything)
    stamps = [item["updated_at"] for item in everything["items"]]
    assert stamps == sorted(stamps, reverse=True)

    for bad in ({"status": "gone"}, {"since": "2026-11-21T09:30:00"}, {"limit": 0}):
        assert client.get(f"{SUP}/flags", params=bad, headers=sup).status_code == 422


def test_dismiss_drops_the_flag_from_every_booth_cache(
    client: TestClient, auth_a: dict, auth_b: dict
) -> None:
    sighted(client, auth_a, "ABC123")
    cursor = all_changes(client, auth_b)[-1]["seq"]
    sessions_before = history(client, auth_b, "ABC123")["sessions"]
    sup = sup_headers(client)
    response = client.post(
        f"{SUP}/flags/abc-123/dismiss", json={"reason": "misread: it was ABC128"}, headers=sup
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["plate"], answer["status"], answer["unpaid_cents"]) == (
        "ABC123",
        "cleared",
        1850,
    )
    # Booth B's next sync removes it from its cache.
    changes = all_changes(client, auth_b, since=cursor)
    assert [(c["plate"], c["action"]) for c in changes] == [("ABC123", "remove")]
    # The sessions themselves are untouched.
    assert history(client, auth_b, "ABC123")["sessions"] == sessions_before
    # It is not listed again at the next sighting.
    again = sighted(client, auth_a, "ABC123")
    assert (again["owes"], again["entry"]) == (False, None)
    assert all_changes(client, auth_b, since=cursor) == changes

    (row,) = audit_rows(client, sup, action="dismiss_flag")
    assert (row["supervisor"], row["plate"], row["reason"]) == (
        "super",
        "ABC123",
        "misread: it was ABC128",
    )
    assert row["id"] == answer["audit_id"]
    assert row["before"]["flag"]["status"] == "active"
    assert row["before"]["flag"]["unpaid_cents"] == 1850
    assert row["after"]["flag"] is None
    assert row["after"]["status"] == "cleared"
    assert sorted(row["after"]["cleared_session_ids"]) == sorted(answer["session_ids"])

    cleared = _flags(client, sup, status="cleared")
    assert [(i["plate"], i["reason"], i["decided_by"]) for i in cleared["items"]] == [
        ("ABC123", "misread: it was ABC128", "super")
    ]
    assert _flags(client, sup)["total"] == 2  # PQR789 and B0LT123 are still listed

    twice = client.post(f"{SUP}/flags/ABC123/dismiss", json={"reason": "again"}, headers=sup)
    assert (twice.status_code, twice.json()["detail"]["code"]) == (409, "already_cleared")


def test_dismiss_needs_a_flag_and_a_reason(client: TestClient) -> None:
    sup = sup_headers(client)
    for plate in ("KLM4455", "NEVERSEEN", "ABC123"):  # ABC123 owes but was never sighted
        response = client.post(f"{SUP}/flags/{plate}/dismiss", json={"reason": "x"}, headers=sup)
        assert (response.status_code, response.json()["detail"]["code"]) == (404, "no_flag")
    for body in ({}, {"reason": "   "}, {"reason": "ok", "extra": 1}):
        response = client.post(f"{SUP}/flags/PQR789/dismiss", json=body, headers=sup)
        assert response.status_code == 422
    assert audit_rows(client, sup, action="dismiss_flag") == []


def test_new_debt_after_a_dismissal_flags_the_plate_again(
    client: TestClient, auth_a: dict, app
) -> None:
    from datetime import timedelta

    from server.db import utcnow
    from server.models import ParkingSession

    sup = sup_headers(client)
    client.post(f"{SUP}/flags/PQR789/dismiss", json={"reason": "misread"}, headers=sup)
    with app.state.session_factory() as session:
        now = utcnow()
        session.add(
            ParkingSession(
                plate="PQR789",
                lot_id="north",
                entered_at=now - timedelta(hours=3),
                exited_at=now - timedelta(hours=1),
                fee_cents=400,
                paid_cents=0,
                status="unpaid",
            )
        )
        session.commit()
    answer = sighted(client, auth_a, "PQR789")
    assert answer["owes"] is True
    assert answer["entry"]["unpaid_cents"] == 400  # only the new session


def test_dispute_upheld_waives_the_sessions(client: TestClient, auth_a: dict, auth_b: dict) -> None:
    sighted(client, auth_a, "ABC123")
    ids = _dispute(client, auth_a, "ABC123")
    assert sighted(client, auth_b, "ABC123")["owes"] is False  # silenced while disputed
    sup = sup_headers(client)
    assert _plates(_flags(client, sup, status="disputed")) == {"ABC123"}
    cursor = all_changes(client, auth_b)[-1]["seq"]
    response = client.post(
        f"{SUP}/disputes/ABC123/resolve",
        json={"decision": "upheld", "reason": "receipt shown"},
        headers=sup,
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["decision"], sorted(answer["session_ids"]), answer["entry"]) == (
        "upheld",
        sorted(ids),
        None,
    )
    assert [c["action"] for c in all_changes(client, auth_b, since=cursor)] == ["remove"]
    statuses = {s["id"]: s["status"] for s in history(client, auth_b, "ABC123")["sessions"]}
    assert {statuses[i] for i in ids} == {"waived"}
    waived = _flags(client, sup, status="waived")["items"]
    assert [(i["plate"], i["unpaid_cents"], i["reason"]) for i in waived] == [
        ("ABC123", 1850, "receipt shown")
    ]
    (row,) = audit_rows(client, sup, action="resolve_dispute")
    assert row["before"]["entry"]["status"] == "disputed"
    assert {s["status"] for s in row["before"]["sessions"]} == {"disputed"}
    assert row["after"]["entry"] is None
    assert {s["status"] for s in row["after"]["sessions"]} == {"waived"}


def test_dispute_rejected_raises_notices_again(
    client: TestClient, auth_a: dict, auth_b: dict
) -> None:
    sighted(client, auth_a, "ABC123")
    ids = _dispute(client, auth_a, "ABC123")
    cursor = all_changes(client, auth_b)[-1]["seq"]
    sup = sup_headers(client)
    response = client.post(
        f"{SUP}/disputes/ABC123/resolve",
        json={"decision": "rejected", "reason": "no receipt"},
        headers=sup,
    )
    assert response.status_code == 200, response.text
    entry = response.json()["entry"]
    assert (entry["status"], entry["unpaid_cents"]) == ("active", 1850)
    (change,) = all_changes(client, auth_b, since=cursor)
    assert (change["action"], change["entry"]["status"]) == ("upsert", "active")
    assert {s["status"] for s in entry["sessions"]} == {"unpaid"}
    assert sorted(s["id"] for s in entry["sessions"]) == sorted(ids)
    answer = sighted(client, auth_b, "ABC123")
    assert answer["owes"] is True
    (row,) = audit_rows(client, sup, action="resolve_dispute")
    assert (row["target"], row["after"]["entry"]["status"]) == ("rejected", "active")
    again = client.post(
        f"{SUP}/disputes/ABC123/resolve",
        json={"decision": "rejected", "reason": "again"},
        headers=sup,
    )
    assert (again.status_code, again.json()["detail"]["code"]) == (409, "no_dispute")


# -- the list, paged in SQL (issue 26) ---------------------------------------------

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
EVERY_STATUS = ("active", "disputed", "waived", "cleared")


@pytest.fixture
def db(settings: ServerSettings) -> Iterator[sessionmaker[Session]]:
    """A session factory on a migrated, empty database (no demo data)."""
    engine = make_engine(settings.database_url)
    upgrade_to_head(engine)
    yield make_session_factory(engine)
    engine.dispose()


def _lots(session: Session, *lot_ids: str) -> None:
    session.add_all(Lot(id=lot_id, name=lot_id.title()) for lot_id in lot_ids)
    session.flush()


def _stays(
    session: Session, plate: str, lots: Sequence[str], *, fee: int, status: str
) -> list[ParkingSession]:
    rows = [
        ParkingSession(
            plate=plate,
            lot_id=lot_id,
            entered_at=T0 - timedelta(days=3, hours=number),
            exited_at=T0 - timedelta(days=3, hours=number - 1),
            fee_cents=fee,
            paid_cents=0,
            status=status,
        )
        for number, lot_id in enumerate(lots)
    ]
    session.add_all(rows)
    session.flush()
    return rows


def _listed(
    session: Session,
    plate: str,
    *lots: str,
    minutes: int,
    fee: int = 500,
    disputed: bool = False,
) -> None:
    """Put ``plate`` on the blacklist, changed ``minutes`` after T0, owing in ``lots``."""
    _stays(session, plate, lots, fee=fee, status="disputed" if disputed else "unpaid")
    refresh_entry(session, plate=plate, currency="USD", now=T0 + timedelta(minutes=minutes))


def _decided(
    session: Session, plate: str, *lots: str, minutes: int, status: str = "waived", fee: int = 500
) -> None:
    """A decided flag of ``plate`` over new sessions in ``lots``, ``minutes`` after T0."""
    rows = _stays(session, plate, lots, fee=fee, status="waived")
    add_history(
        session,
        plate=plate,
        status=status,
        rows=rows,
        currency="USD",
        decided_by="super",
        source="supervisor",
        reason="test",
        now=T0 + timedelta(minutes=minutes),
    )


def _keys(session: Session, flt: FlagFilter, *, limit: int = 100, offset: int = 0) -> list:
    items, _total = list_flags(session, flt, limit=limit, offset=offset)
    return [(item.plate, item.status) for item in items]


def _flags_at_ties(session: Session) -> None:
    """Seven flags, several at one instant: current and decided, one plate twice."""
    _lots(session, "north")
    _listed(session, "AAA111", "north", minutes=1)
    _decided(session, "DDD444", "north", minutes=2)
    _decided(session, "DDD444", "north", minutes=2, status="cleared")  # same instant
    _listed(session, "BBB222", "north", minutes=3)
    _decided(session, "BBB222", "north", minutes=3)  # its own earlier debt, same instant
    _listed(session, "CCC333", "north", minutes=3)
    _decided(session, "EEE555", "north", minutes=4, status="cleared")
    session.commit()


AT_TIES = [
    ("EEE555", "cleared"),
    ("CCC333", "active"),
    ("BBB222", "waived"),  # same time and plate: the decision, then the entry
    ("BBB222", "active"),
    ("DDD444", "cleared"),  # the later of two decisions at one instant first
    ("DDD444", "waived"),
    ("AAA111", "active"),
]


def test_current_and_decided_flags_come_in_one_order_and_page_without_gaps(
    db: sessionmaker[Session],
) -> None:
    with db() as session:
        _flags_at_ties(session)
        everything = FlagFilter(statuses=EVERY_STATUS)
        assert _keys(session, everything) == AT_TIES
        pages = [list_flags(session, everything, limit=3, offset=o) for o in (0, 3, 6, 9)]
        assert [total for _items, total in pages] == [7, 7, 7, 7]
        paged = [(i.plate, i.status) for items, _total in pages for i in items]
        assert paged == AT_TIES
        assert _keys(session, FlagFilter()) == [
            ("CCC333", "active"),
            ("BBB222", "active"),
            ("AAA111", "active"),
        ]


@pytest.mark.parametrize("size", [1, 2, 3])
def test_pages_after_a_cursor_follow_the_same_order(db: sessionmaker[Session], size: int) -> None:
    with db() as session:
        _flags_at_ties(session)
        everything = FlagFilter(statuses=EVERY_STATUS)
        seen, after, totals = [], None, set()
        for _ in range(10):
            page = page_flags(session, everything, limit=size, after=after)
            seen += [(item.plate, item.status) for item in page.items]
            totals.add(page.total)
            if page.next_after is None:
                break
            after = FlagCursor.decode(page.next_after.encode())  # as a client sends it
        assert seen == AT_TIES
        assert totals == {7}
        current = page_flags(session, FlagFilter(), limit=2)
        assert current.next_after is not None
        rest = page_flags(session, FlagFilter(), limit=2, after=current.next_after)
        assert [(i.plate, i.status) for i in rest.items] == [("AAA111", "active")]
        assert rest.next_after is None


def test_a_cursor_is_checked() -> None:
    cursor = FlagCursor(T0, "京A12345", 7)
    assert FlagCursor.decode(cursor.encode()) == cursor
    for bad in ("", "not-base64!", FlagCursor(T0, "X", 1).encode()[:-3], "WzEsMiwzXQ"):
        with pytest.raises(ValueError):
            FlagCursor.decode(bad)


def test_every_filter_applies_to_current_and_decided_flags(db: sessionmaker[Session]) -> None:
    with db() as session:
        _lots(session, "north", "south")
        _listed(session, "ABC123", "north", "south", minutes=10, fee=900)
        _listed(session, "XYZ789", "south", minutes=20, fee=300, disputed=True)
        _decided(session, "ABC900", "south", minutes=30, fee=2000)
        _decided(session, "QRS456", "north", minutes=40, fee=100, status="cleared")
        session.commit()

        def plates(**kwargs: object) -> list[str]:
            flt = FlagFilter(**{"statuses": EVERY_STATUS, **kwargs})  # type: ignore[arg-type]
            items, total = list_flags(session, flt, limit=100, offset=0)
            assert total == len(items)
            return [item.plate for item in items]

        assert plates() == ["QRS456", "ABC900", "XYZ789", "ABC123"]
        assert plates(statuses=("disputed",)) == ["XYZ789"]
        assert plates(statuses=("active",)) == ["ABC123"]
        assert plates(statuses=("active",), lot="south") == ["ABC123"]
        assert plates(statuses=("disputed",), lot="south") == ["XYZ789"]
        assert plates(statuses=("cleared",)) == ["QRS456"]
        assert plates(statuses=("waived", "active")) == ["ABC900", "ABC123"]
        assert plates(lot="south") == ["ABC900", "XYZ789", "ABC123"]
        assert plates(lot="north") == ["QRS456", "ABC123"]
        assert plates(min_cents=1000) == ["ABC900", "ABC123"]  # ABC123 owes 2 x 900
        assert plates(since=T0 + timedelta(minutes=20)) == ["QRS456", "ABC900", "XYZ789"]
        assert plates(plate="ABC") == ["ABC900", "ABC123"]
        assert plates(plate="C12") == ["ABC123"]
        assert plates(lot="south", min_cents=1000, plate="ABC") == ["ABC900", "ABC123"]
        assert plates(lot="north", statuses=("waived",)) == []


def test_the_lot_filter_matches_whole_lot_ids_only(db: sessionmaker[Session]) -> None:
    tricky = ("north", "north-2", "nor", "NORTH", "a|north", "north|", "50%", "5")
    with db() as session:
        _lots(session, *tricky)
        for number, lot_id in enumerate(tricky):
            _listed(session, f"CUR{number}", lot_id, minutes=number)
            _decided(session, f"DEC{number}", lot_id, minutes=number)
        _listed(session, "BOTH", "a|north", "50%", minutes=50)
        session.commit()
        for number, lot_id in enumerate(tricky):
            flt = FlagFilter(statuses=EVERY_STATUS, lot=lot_id)
            found = {plate for plate, _status in _keys(session, flt)}
            expected = {f"CUR{number}", f"DEC{number}"}
            if lot_id in ("a|north", "50%"):
                expected.add("BOTH")
            assert found == expected, lot_id
        assert _keys(session, FlagFilter(statuses=EVERY_STATUS, lot="orth")) == []


def test_a_page_reads_only_its_own_flags(db: sessionmaker[Session]) -> None:
    with db() as session:
        _lots(session, "north")
        for number in range(12):
            _listed(session, f"PAGE{number:02d}", "north", minutes=number)
            _decided(session, f"OLD{number:02d}", "north", minutes=number)
        session.commit()
    with db() as session:
        loaded: list[object] = []
        event.listen(session, "loaded_as_persistent", lambda _s, obj: loaded.append(obj))
        items, total = list_flags(session, FlagFilter(statuses=EVERY_STATUS), limit=3, offset=4)
        assert total == 24
        assert [item.plate for item in items] == ["PAGE09", "OLD09", "PAGE08"]
        # Only the page's three rows were read as objects, not all 24 flags.
        assert sorted(getattr(obj, "plate", None) for obj in loaded) == [
            "OLD09",
            "PAGE08",
            "PAGE09",
        ]


def test_the_lot_filter_follows_the_sessions_still_owed(client: TestClient, auth_a: dict) -> None:
    sighted(client, auth_a, "ABC123")  # owes 1200 in north and 650 in south
    sup = sup_headers(client)
    assert "ABC123" in _plates(_flags(client, sup, lot="south"))
    south = [s for s in history(client, auth_a, "ABC123")["sessions"] if s["lot_id"] == "south"]
    (stay,) = [s for s in south if s["status"] == "unpaid"]
    body = outcome_body("ABC123", [stay["id"]], stay["unpaid_cents"])
    assert client.post(f"{API}/outcomes", json=body, headers=auth_a).status_code == 200
    assert "ABC123" not in _plates(_flags(client, sup, lot="south"))
    north = _flags(client, sup, lot="north")
    (abc,) = [item for item in north["items"] if item["plate"] == "ABC123"]
    assert (abc["lots"], abc["unpaid_cents"]) == (["north"], 1200)


# -- exact totals from counters, deep pages through the route (issue 26) -------------

OWING = ("ABC123", "7XYZ042", "TUV246", "WXY135", "LMN802")  # demo plates not listed yet


def _totals(client: TestClient, sup: dict, **params: object) -> int:
    return _flags(client, sup, **params)["total"]


def _stored_counts(app: FastAPI) -> dict[str, int]:
    """The flags per status as the tables hold them, counted the slow way."""
    with app.state.session_factory() as session:
        counts = dict.fromkeys(EVERY_STATUS, 0)
        for model in (BlacklistEntry, FlagHistory):
            rows = session.execute(select(model.status, func.count()).group_by(model.status))
            counts.update({status: int(n) for status, n in rows})
        return counts


def _side_tables(connection: Connection) -> tuple[object, ...]:
    state = connection.execute(
        select(
            ServerState.active_flags,
            ServerState.disputed_flags,
            ServerState.waived_flags,
            ServerState.cleared_flags,
        ).where(ServerState.id == STATE_ROW_ID)
    ).one()
    lots = sorted(connection.execute(select(FlagLot.__table__)).all())
    in_lots = sorted(
        connection.execute(select(FlagLotCount.__table__).where(FlagLotCount.flags != 0)).all()
    )
    grams = sorted(connection.execute(select(PlateGram.__table__)).all())
    return tuple(state), lots, in_lots, grams


def _assert_totals_are_exact(client: TestClient, sup: dict, app: FastAPI) -> None:
    """Every status's total (from the counters), overall and in each lot, is the number
    of flags the list shows and what a counted filter (min_cents=0 matches every flag)
    reports; the counters and side tables are what rebuilding them from the flags gives."""
    stored = _stored_counts(app)
    for status in EVERY_STATUS:
        page = _flags(client, sup, status=status, limit=500)
        assert page["total"] == len(page["items"]) == stored[status], status
        assert _totals(client, sup, status=status, min_cents=0) == page["total"], status
        for lot in ("north", "south"):
            in_lot = _flags(client, sup, status=status, lot=lot, limit=500)
            assert in_lot["total"] == len(in_lot["items"]), (status, lot)
            counted = _totals(client, sup, status=status, lot=lot, min_cents=0)
            assert in_lot["total"] == counted, (status, lot)
    assert _totals(client, sup) == stored["active"] + stored["disputed"]
    with app.state.engine.connect() as connection:
        kept = _side_tables(connection)
        rebuild_flag_index(connection)
        rebuilt = _side_tables(connection)
        connection.rollback()
    assert kept == rebuilt


def _waive(client: TestClient, auth: dict, sup: dict, plate: str, ids: list[int]) -> None:
    body = {
        "request_id": str(uuid.uuid4()),
        "notice_id": str(uuid.uuid4()),
        "plate": plate,
        "session_ids": ids,
        "reason": "hospital emergency",
        "lane": "Exit 1",
        "attendant": "alice",
    }
    assert client.post(f"{API}/waiver-requests", json=body, headers=auth).status_code == 200
    decided = client.post(
        f"{SUP}/waiver-requests/{body['request_id']}/decide",
        json={"approve": True, "reason": "approved"},
        headers=sup,
    )
    assert decided.status_code == 200, decided.text


def _pay(client: TestClient, auth: dict, plate: str, ids: list[int]) -> None:
    owed = {s["id"]: s["unpaid_cents"] for s in history(client, auth, plate)["sessions"]}
    body = outcome_body(plate, ids, sum(owed[i] for i in ids))
    assert client.post(f"{API}/outcomes", json=body, headers=auth).status_code == 200


def test_the_totals_follow_every_decision_and_payment(
    client: TestClient, auth_a: dict, app: FastAPI
) -> None:
    sup = sup_headers(client)
    _assert_totals_are_exact(client, sup, app)  # the demo's two listed plates
    for plate in OWING:
        sighted(client, auth_a, plate)
    assert _totals(client, sup) == 7
    _assert_totals_are_exact(client, sup, app)

    _dispute(client, auth_a, "TUV246")
    _dispute(client, auth_a, "WXY135")
    assert (_totals(client, sup, status="active"), _totals(client, sup, status="disputed")) == (
        5,
        2,
    )
    _assert_totals_are_exact(client, sup, app)

    dismissed = client.post(f"{SUP}/flags/7XYZ042/dismiss", json={"reason": "x"}, headers=sup)
    assert dismissed.status_code == 200
    for plate, decision in (("TUV246", "upheld"), ("WXY135", "rejected")):
        body = {"decision": decision, "reason": "checked"}
        answer = client.post(f"{SUP}/disputes/{plate}/resolve", json=body, headers=sup)
        assert answer.status_code == 200, answer.text
    assert [_totals(client, sup, status=s) for s in EVERY_STATUS] == [5, 0, 1, 1]
    _assert_totals_are_exact(client, sup, app)

    # ABC123 keeps a debt after one session is waived; LMN802 pays all, WXY135 a part.
    _waive(client, auth_a, sup, "ABC123", unpaid_ids(client, auth_a, "ABC123")[:1])
    _pay(client, auth_a, "LMN802", unpaid_ids(client, auth_a, "LMN802"))
    _pay(client, auth_a, "WXY135", unpaid_ids(client, auth_a, "WXY135")[:1])
    assert [_totals(client, sup, status=s) for s in EVERY_STATUS] == [4, 0, 2, 1]
    _assert_totals_are_exact(client, sup, app)


def test_the_route_pages_after_a_cursor_as_through_offsets(
    client: TestClient, auth_a: dict
) -> None:
    for plate in OWING:
        sighted(client, auth_a, plate)
    sup = sup_headers(client)
    everything = [item["plate"] for item in _flags(client, sup, limit=500)["items"]]
    assert len(everything) == 7
    by_cursor, after, pages = [], None, 0
    while True:
        params = {"limit": 2} if after is None else {"limit": 2, "after": after}
        page = _flags(client, sup, **params)
        by_cursor += [item["plate"] for item in page["items"]]
        pages += 1
        assert page["total"] == 7
        after = page["next_after"]
        if after is None:
            break
    assert (by_cursor, pages) == (everything, 4)
    by_offset = [
        item["plate"]
        for offset in range(0, 8, 2)
        for item in _flags(client, sup, limit=2, offset=offset)["items"]
    ]
    assert by_offset == everything
    # After a cursor, an offset skips from there: the middle of the list either way.
    second = _flags(client, sup, limit=2)["next_after"]
    middle = _flags(client, sup, limit=2, after=second, offset=1)
    assert [item["plate"] for item in middle["items"]] == everything[3:5]
    assert [i["plate"] for i in _flags(client, sup, limit=2, offset=3)["items"]] == everything[3:5]


@pytest.mark.parametrize(
    "after",
    [
        "nope",  # not base64 of JSON
        "not base64!",
        FlagCursor(T0, "ABC123", 1).encode()[:-4],  # cut short
        "WzEsMiwzXQ",  # [1,2,3]
        FlagCursor(T0, "ABC123", 2**40).encode(),  # no such id
        FlagCursor(T0, "A\x00B", 1).encode(),  # NUL
        "A" * 600,
    ],
)
def test_an_after_that_is_not_a_cursor_is_422(client: TestClient, after: str) -> None:
    response = client.get(f"{SUP}/flags", params={"after": after}, headers=sup_headers(client))
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail["code"] == "invalid_request"
    assert [error["loc"] for error in detail["errors"]] == [["query", "after"]]


SEARCHED = ("AB", "XAB", "ABC123", "ZZABCZ", "ABD", "京A12345", "A1", "C1C1C1")


def test_the_plate_search_finds_every_plate_that_contains_the_text(
    db: sessionmaker[Session],
) -> None:
    """Short texts read the plates, longer ones go through the pieces (SQLite) or
    pg_trgm; with a lot, a long text looks each found flag up in flag_lots."""
    with db() as session:
        _lots(session, "north", "south")
        for number, plate in enumerate(SEARCHED):
            lot = "north" if number % 2 else "south"
            _listed(session, plate, lot, minutes=number, disputed=number == 3)
            _decided(session, plate, "north", minutes=number + 10, status="cleared")
        session.commit()
        for needle in ("A", "AB", "ABC", "ZABC", "C1C1", "1C1C1", "京A1", "A12345", "ABCX"):
            for lot in (None, "north", "south"):
                flt = FlagFilter(statuses=EVERY_STATUS, lot=lot, plate=needle)
                items, total = list_flags(session, flt, limit=100, offset=0)
                found = sorted((item.plate, item.status) for item in items)
                expected = sorted(
                    (plate, status)
                    for number, plate in enumerate(SEARCHED)
                    if needle in plate
                    for status, lots in (
                        (
                            "disputed" if number == 3 else "active",
                            "north" if number % 2 else "south",
                        ),
                        ("cleared", "north"),
                    )
                    if lot in (None, lots)
                )
                assert (found, total) == (expected, len(expected)), (needle, lot)
