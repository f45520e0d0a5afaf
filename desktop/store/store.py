"""``Store``: opens (and migrates) the booth's SQLite file and hands out its parts."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from desktop.domain import utc_now
from desktop.store.blacklist import BlacklistCache
from desktop.store.database import UnitOfWork, create_store_engine
from desktop.store.evidence_files import FOLDER_NAME, OUTBOX_EVIDENCE, EvidenceUploads
from desktop.store.migrations import migrate, schema_version
from desktop.store.outbox import Outbox
from desktop.store.records import Records

logger = logging.getLogger(__name__)


class Store:
    """The booth's local store: one SQLite file in WAL mode, safe to share across threads.

    The store itself holds only the engine (thread-safe, pooled); every call opens its
    own short-lived session or connection. Parts: :attr:`blacklist` (cache and cursor),
    :attr:`outbox` (requests for the server) and :attr:`records` (reads, notices,
    outcomes), whose methods are also available on the store directly.
    :attr:`evidence` is the folder of images waiting for upload (``evidence-outbox``
    next to the file, unless ``evidence_folder`` is given). With ``keep_read_days``, reads
    older than that are forgotten once a day (reads behind a notice are kept).
    """

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], datetime] = utc_now,
        evidence_folder: Path | None = None,
        keep_read_days: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._engine = create_store_engine(self.path)
        try:
            version = migrate(self._engine)
        except BaseException:
            self._engine.dispose()
            raise
        logger.info("store %s open at schema version %d", self.path, version)
        units = UnitOfWork(self._engine)
        self.blacklist = BlacklistCache(self._engine, units)
        self.outbox = Outbox(self._engine, units, clock)
        self.evidence = EvidenceUploads(evidence_folder or self.path.parent / FOLDER_NAME)
        self.evidence.sweep(
            str(payload.get("file")) for payload in self.outbox.pending_payloads(OUTBOX_EVIDENCE)
        )
        self.records = Records(
            self._engine, units, clock, self.evidence, keep_read_days=keep_read_days
        )
        self.record_read = self.records.record_read
        self.record_notice = self.records.record_notice
        self.record_outcome = self.records.record_outcome
        self.settled_session_ids = self.records.settled_session_ids
        self.queue_read_report = self.records.queue_read_report

    @property
    def engine(self) -> Engine:
        """The underlying engine (for tests and maintenance, not for the UI)."""
        return self._engine

    def schema_version(self) -> int:
        """The file's schema version (``PRAGMA user_version``)."""
        with self._engine.connect() as connection:
            return schema_version(connection)

    def close(self) -> None:
        """Close every pooled connection; the store must not be used afterwards."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.close()
