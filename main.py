"""Recoup's command line: the demo, the reference server, and operator tools.

python main.py --demo                  reference server + scripted booths, no config
python main.py serve [--seed-demo]     run the reference operator server
python main.py check-config [PATH]     validate a booth configuration file
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

from desktop.plates import REGION_NAMES
from desktop.recognition.engine import ENGINE_NAMES

log = logging.getLogger("recoup")

DEMO_BOOTHS = (
    ("booth-a", "demo-booth-a-token", "Exit 1"),
    ("booth-b", "demo-booth-b-token", "Exit 2"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recoup", description="Recover unpaid parking fees at car-park exits."
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="start a local reference server with seeded data and run the booth demo",
    )
    parser.add_argument("--log-level", default="WARNING", help="console log level")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the reference operator server")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8765, help="port to listen on")
    serve.add_argument(
        "--database-url",
        default="sqlite:///recoup-server.sqlite3",
        help="SQLAlchemy URL: sqlite:///FILE or postgresql+psycopg://USER:PASS@HOST/DB",
    )
    serve.add_argument(
        "--seed-demo", action="store_true", help="create demo lots, booths and vehicles"
    )

    recognize = commands.add_parser(
        "recognize", help="read plates in image or video files (offline, local OCR)"
    )
    recognize.add_argument(
        "--region", default="us", choices=REGION_NAMES, help="plate region profile (default us)"
    )
    recognize.add_argument(
        "--engine", default="rapidocr", choices=ENGINE_NAMES, help="OCR engine (default rapidocr)"
    )
    recognize.add_argument(
        "--json", action="store_true", help="one JSON line per image: plates, boxes, ms"
    )
    recognize.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="images or videos")

    check = commands.add_parser("check-config", help="validate a booth configuration file")
    check.add_argument("path", type=Path, help="TOML configuration file")
    return parser


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )


class DemoServer:
    """The reference server in this process on a fixed port, stoppable and restartable."""

    def __init__(self, database_url: str) -> None:
        from server.cli import ServerThread

        self._database_url = database_url
        self._thread: ServerThread | None = ServerThread(database_url=database_url, seed_demo=True)
        self.url = self._thread.url
        self._port = int(self.url.rsplit(":", 1)[1])

    def start(self) -> None:
        from server.cli import ServerThread

        if self._thread is None:
            self._thread = ServerThread(database_url=self._database_url, port=self._port)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.stop()
            self._thread = None


def run_demo() -> int:
    """The headless demo: reference server on 127.0.0.1 and two scripted booths."""
    from desktop.headless_demo import DemoBooth, HeadlessDemo

    with tempfile.TemporaryDirectory(prefix="recoup-demo-") as folder:
        data_dir = Path(folder)
        log_file = data_dir / "demo.log"
        log_to_file(log_file)
        server = DemoServer(f"sqlite:///{data_dir / 'server.sqlite3'}")
        server.start()
        print(f"Reference server with demo data on {server.url} (this run only).")
        demo = HeadlessDemo(
            server,
            [DemoBooth(booth_id, token, lane) for booth_id, token, lane in DEMO_BOOTHS],
            data_dir,
        )
        try:
            demo.run()
        finally:
            demo.close()
            server.stop()
            logging.shutdown()
    print("Demo finished.")
    return 0


def log_to_file(path: Path) -> None:
    """Send INFO and above to ``path`` and keep the console for the demo's own lines."""
    root = logging.getLogger()
    for handler in root.handlers:
        handler.setLevel(logging.ERROR)
    file_handler = logging.FileHandler(path, encoding="utf-8")
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(file_handler)
    root.setLevel(logging.INFO)


def run_serve(args: argparse.Namespace) -> int:
    from server.cli import serve

    serve(host=args.host, port=args.port, database_url=args.database_url, seed_demo=args.seed_demo)
    return 0


def run_check_config(path: Path) -> int:
    from desktop.config import ConfigError, load_config

    try:
        config = load_config(path)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 1
    lanes = ", ".join(lane.name for lane in config.lanes) or "none (manual entry only)"
    print(f"{path}: valid. Booth {config.booth.id} -> {config.server.url}; lanes: {lanes}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    if args.demo:
        return run_demo()
    if args.command == "serve":
        return run_serve(args)
    if args.command == "recognize":
        from desktop.recognition.cli import recognize_paths

        return recognize_paths(args.paths, args.region, args.engine, args.json)
    if args.command == "check-config":
        return run_check_config(args.path)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
