"""``python -m server.supervisors add --database-url URL --username U``: add a supervisor.

The password (8+ characters) and the offline PIN (4-12 digits) are asked with getpass,
each twice; neither is ever passed on the command line or logged.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable, Sequence

from server.cli import create_supervisor


def _ask_twice(label: str, ask: Callable[[str], str]) -> str:
    first = ask(f"{label}: ")
    if ask(f"{label} again: ") != first:
        raise ValueError(f"the two {label.lower()}s differ")
    return first


def main(argv: Sequence[str] | None = None, *, ask: Callable[[str], str] = getpass.getpass) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m server.supervisors")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="create a supervisor account")
    add.add_argument("--database-url", required=True, help="the server's SQLAlchemy URL")
    add.add_argument("--username", required=True)
    args = parser.parse_args(argv)
    try:
        password = _ask_twice("Password", ask)
        pin = _ask_twice("Offline PIN", ask)
        create_supervisor(args.database_url, args.username, password, pin)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"supervisor {args.username.strip().lower()!r} created")
    return 0


if __name__ == "__main__":
    sys.exit(main())
