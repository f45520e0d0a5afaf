"""The booth's local store: blacklist cache, reads, notices, outcomes and outbox.

One SQLite file through SQLAlchemy 2 (WAL mode, one short-lived session per unit of
work), schema versioned with ``PRAGMA user_version`` and migrated in place.
"""

from desktop.store.blacklist import BlacklistCache, CacheHit
from desktop.store.migrations import HEAD_VERSION, SchemaTooNewError
from desktop.store.outbox import Outbox, OutboxItem, UnknownOutboxItemError
from desktop.store.records import Records, UnknownNoticeError
from desktop.store.store import Store

__all__ = [
    "HEAD_VERSION",
    "BlacklistCache",
    "CacheHit",
    "Outbox",
    "OutboxItem",
    "Records",
    "SchemaTooNewError",
    "Store",
    "UnknownNoticeError",
    "UnknownOutboxItemError",
]
