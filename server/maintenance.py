"""``python -m server.maintenance purge-evidence --database-url URL``: delete old evidence.

The server also purges at every start-up; this is for a cron job on a long-running one.
``--evidence-dir`` and ``--retention-days`` override the settings (environment
``RECOUP_SERVER_EVIDENCE_DIR`` / ``RECOUP_SERVER_EVIDENCE_RETENTION_DAYS``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from server.cli import purge_evidence
from server.config import ServerSettings


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m server.maintenance")
    commands = parser.add_subparsers(dest="command", required=True)
    purge = commands.add_parser("purge-evidence", help="delete expired evidence")
    purge.add_argument("--database-url", required=True)
    purge.add_argument("--evidence-dir", type=Path)
    purge.add_argument("--retention-days", type=int)
    args = parser.parse_args(argv)
    overrides: dict[str, Any] = {"database_url": args.database_url}
    if args.evidence_dir is not None:
        overrides["evidence_dir"] = args.evidence_dir
    if args.retention_days is not None:
        overrides["evidence_retention_days"] = args.retention_days
    deleted = purge_evidence(ServerSettings(**overrides))
    print(f"deleted {deleted} expired evidence item(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
