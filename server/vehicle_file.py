"""A vehicle's file for supervisors: sessions, sightings, outcomes, waivers, evidence, audit."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import audit
from server.evidence import evidence_out
from server.flags import dismissed_session_ids, entry_flag, history_flag, with_sightings
from server.models import (
    BlacklistEntry,
    Evidence,
    FlagHistory,
    Outcome,
    PlateRead,
    WaiverRequest,
)
from server.schemas import AuditOut, EvidenceOut, OutcomeRecordOut, SightingOut, VehicleFileOut
from server.vehicles import open_sessions, session_out, sessions_for_plate, vehicle_status
from server.waivers import waiver_out


def _count(session: Session, model: Any, plate: str) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(model.plate == plate)))


def _newest(session: Session, model: Any, plate: str, order: Any, limit: int) -> list[Any]:
    query = select(model).where(model.plate == plate).order_by(order.desc(), model.id.desc())
    return list(session.scalars(query.limit(limit)))


def _evidence_by(
    session: Session, column: Any, ids: Iterable[uuid.UUID | None]
) -> dict[uuid.UUID, list[EvidenceOut]]:
    wanted = sorted({i for i in ids if i is not None}, key=str)
    found: dict[uuid.UUID, list[EvidenceOut]] = defaultdict(list)
    if wanted:
        rows = session.scalars(select(Evidence).where(column.in_(wanted)).order_by(Evidence.id))
        for row in rows:
            found[getattr(row, column.key)].append(evidence_out(row))
    return found


def _sighting(row: PlateRead, evidence: list[EvidenceOut]) -> SightingOut:
    return SightingOut(
        read_id=row.read_id,
        plate=row.plate,
        lane=row.lane,
        booth_id=row.booth_id,
        seen_at=row.seen_at,
        confidence=row.confidence,
        source=row.source,
        owes=bool(row.answer.get("owes")),
        evidence=evidence,
    )


def _notice_id(row: Outcome) -> uuid.UUID | None:
    value = row.request.get("notice_id")
    return None if value is None else uuid.UUID(value)


def _for_notice(
    found: dict[uuid.UUID, list[EvidenceOut]], notice_id: uuid.UUID | None
) -> list[EvidenceOut]:
    return [] if notice_id is None else found.get(notice_id, [])


def _outcome(row: Outcome, evidence: list[EvidenceOut]) -> OutcomeRecordOut:
    request = row.request
    return OutcomeRecordOut(
        outcome_id=row.outcome_id,
        notice_id=_notice_id(row),
        kind=row.kind,  # type: ignore[arg-type]
        method=row.method,
        amount_cents=row.amount_cents,
        session_ids=request.get("session_ids", []),
        reason=request.get("reason"),
        attendant=request.get("attendant"),
        booth_id=row.booth_id,
        lane=request.get("lane", ""),
        recorded_at=request["recorded_at"],
        received_at=row.received_at,
        status=row.answer.get("status", "recorded"),
        evidence=evidence,
    )


def vehicle_file(
    session: Session, *, plate: str, currency: str, limit: int
) -> VehicleFileOut | None:
    """The file of ``plate`` (normalized), lists capped at ``limit``; None if unknown."""
    sessions = sessions_for_plate(session, plate=plate)
    totals = {
        "sessions": len(sessions),
        "sightings": _count(session, PlateRead, plate),
        "outcomes": _count(session, Outcome, plate),
        "waiver_requests": _count(session, WaiverRequest, plate),
        "evidence": _count(session, Evidence, plate),
        "flag_history": _count(session, FlagHistory, plate),
    }
    if not any(totals.values()):
        return None
    reads = _newest(session, PlateRead, plate, PlateRead.seen_at, limit)
    outcomes = _newest(session, Outcome, plate, Outcome.received_at, limit)
    by_read = _evidence_by(session, Evidence.read_id, (r.read_id for r in reads))
    by_notice = _evidence_by(session, Evidence.notice_id, (_notice_id(o) for o in outcomes))
    entry = session.get(BlacklistEntry, plate)
    history = _newest(session, FlagHistory, plate, FlagHistory.decided_at, limit)
    flags = with_sightings(
        session,
        ([entry_flag(entry)] if entry is not None else []) + [history_flag(h) for h in history],
    )
    audit_rows, totals["audit"] = audit.page(session, plate=plate, limit=limit)
    dismissed = dismissed_session_ids(session, plate=plate)
    owing = [row for row in open_sessions(sessions) if row.id not in dismissed]
    return VehicleFileOut(
        plate=plate,
        currency=currency,
        status=vehicle_status(owing),  # type: ignore[arg-type]
        unpaid_cents=sum(row.unpaid_cents for row in owing),
        flag=flags[0] if entry is not None else None,
        sessions=[session_out(row) for row in sessions],
        sightings=[_sighting(r, by_read.get(r.read_id, [])) for r in reads],
        outcomes=[_outcome(o, _for_notice(by_notice, _notice_id(o))) for o in outcomes],
        waiver_requests=[
            waiver_out(w)
            for w in _newest(session, WaiverRequest, plate, WaiverRequest.created_at, limit)
        ],
        evidence=[
            evidence_out(e) for e in _newest(session, Evidence, plate, Evidence.received_at, limit)
        ],
        flag_history=flags[1:] if entry is not None else flags,
        audit=[AuditOut.model_validate(row, from_attributes=True) for row in audit_rows],
        totals=totals,
    )
