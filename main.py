"""Recoup's command line: the demo, the reference server, and operator tools.

python main.py --demo                  the booth screen on a local demo server, no config
python main.py [--config PATH]         the booth screen on an operator's configuration
python main.py serve [--seed-demo]     run the reference operator server
python main.py recognize PATH...       read plates in images or videos
python main.py check-config PATH       validate a booth configuration file
python main.py hash-pin                make a supervisor PIN hash for the configuration
python main.py self-test               check this installation works (offline, no screen)
python main.py support-bundle          zip logs, config without secrets and a self-test report
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

from desktop.plates import REGION_NAMES
from desktop.recognition.engine import ENGINE_NAMES

log = logging.getLogger("recoup")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recoup", description="Recover unpaid parking fees at car-park exits."
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="start a local reference server with seeded data and the booth screen on it",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="booth configuration file (default: the per-machine config location)",
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
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes sharing the database (default 1; about one per core)",
    )
    serve.add_argument(
        "--public-url",
        default=None,
        help="address drivers' phones reach this server at, for QR payment links "
        "(without it QR payments are refused)",
    )
    serve.add_argument("--access-log", action="store_true", help="log every request")

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
    commands.add_parser("hash-pin", help="make the hash of a supervisor PIN for the config")

    config_help = "booth configuration file (default: the per-machine config location)"
    self_test = commands.add_parser(
        "self-test", help="check config, database, OCR and Qt of this installation; exit 1 if not"
    )
    self_test.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=config_help)
    bundle = commands.add_parser(
        "support-bundle", help="zip the logs, the config without secrets and a self-test report"
    )
    bundle.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=config_help)
    bundle.add_argument(
        "--output", type=Path, default=None, help="zip file to write (default: in this folder)"
    )
    return parser


def configure_logging(level: str) -> None:
    """Console logging at ``level``; the log file (when one is opened) keeps its own level."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    for handler in logging.getLogger().handlers:
        handler.setLevel(level.upper())


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
    """The booth screen on demo data: reference server on 127.0.0.1, two generated lanes."""
    from desktop.config_writer import save_config
    from desktop.demo_assets import DEMO_SUPERVISOR_PIN, demo_config, demo_videos
    from desktop.logs import log_to_rotating_file
    from ui.app import BoothApp, create_application, run

    with tempfile.TemporaryDirectory(prefix="recoup-demo-") as folder:
        data_dir = Path(folder)
        log_file = log_to_rotating_file(data_dir / "logs")
        print("Preparing the demo lane videos (generated on the first run only) ...")
        videos = demo_videos()
        server = DemoServer(f"sqlite:///{data_dir / 'server.sqlite3'}")
        server.start()
        config = demo_config(server.url, data_dir / "booth", videos)
        config_path = data_dir / "booth.toml"
        save_config(config, config_path)
        print(
            f"Reference server with demo data on {server.url} (this run only).\n"
            f"Supervisor PIN: {DEMO_SUPERVISOR_PIN}. QR payments open a sandbox page.\n"
            f"Log file: {log_file}"
        )
        app = create_application(sys.argv[:1])
        booth_app = BoothApp(
            app,
            config,
            config_path=config_path,
            log_file=log_file,
            title=f"Recoup - demo booth (supervisor PIN {DEMO_SUPERVISOR_PIN})",
            confirm_close=False,
        )
        try:
            return run(app, booth_app)
        finally:
            server.stop()
            logging.shutdown()


def run_booth(config_path: Path) -> int:
    """The booth screen on an operator's configuration file."""
    from desktop.config import ConfigError, load_config
    from desktop.logs import log_to_rotating_file
    from desktop.token_file import token_path
    from ui.app import BoothApp, create_application, run

    try:
        config = load_config(config_path)
    except ConfigError as error:
        # The packaged app has no reference server, hence no demo.
        hint = (
            "see the commented config.example.toml and the operator's guide"
            if getattr(sys, "frozen", False)
            else "see config.example.toml, or try the demo: python main.py --demo"
        )
        return refuse_to_start(f"{error}\n\nFix the file ({hint}).")
    if config.booth.token is None:
        # The settings screen cannot be reached before the booth starts: name the file.
        return refuse_to_start(
            "The booth has no server token: put it on one line in "
            f"{token_path(Path(config.data_dir))}, or set RECOUP_BOOTH__TOKEN in the "
            "environment of the booth's account."
        )
    log_file = log_to_rotating_file(Path(config.data_dir) / "logs", level=config.log_level)
    app = create_application(sys.argv[:1])
    return run(app, BoothApp(app, config, config_path=config_path, log_file=log_file))


def refuse_to_start(message: str) -> int:
    """Say why the booth cannot start, on the console and, for the installed app (which
    has no console window), in a message box; returns the exit code 1."""
    print(message, file=sys.stderr)
    if getattr(sys, "frozen", False):
        from ui.app import show_startup_problem

        show_startup_problem(message)
    return 1


def run_hash_pin() -> int:
    """Ask for a supervisor PIN twice and print the hash to put in the configuration."""
    from getpass import getpass

    from desktop.supervisor_pin import hash_pin

    pin = getpass("New supervisor PIN (4-12 digits): ")
    if getpass("Same PIN again: ") != pin:
        print("The two PINs differ; nothing printed.", file=sys.stderr)
        return 1
    try:
        hashed = hash_pin(pin)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 1
    print(f'[supervisor]\npin_hash = "{hashed}"')
    return 0


def run_serve(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from server.cli import serve

    try:
        serve(
            host=args.host,
            port=args.port,
            database_url=args.database_url,
            seed_demo=args.seed_demo,
            workers=args.workers,
            public_url=args.public_url,
            access_log=args.access_log,
        )
    except ValidationError as error:
        return refuse_to_start(f"The server settings are wrong:\n{error}")
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


def run_self_test(config_path: Path | None) -> int:
    """Check this installation (also the frozen app's): config, database, OCR, Qt offscreen."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before anything imports Qt
    from desktop.self_test import run_self_test as run_checks
    from ui.self_test import qt_checks

    return run_checks(config_path, qt_checks=qt_checks)


def run_support_bundle(config_path: Path | None, output: Path | None) -> int:
    """Write the support zip (logs, config without secrets, self-test report)."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from desktop.support_bundle import write_support_bundle
    from ui.self_test import qt_checks

    try:
        path = write_support_bundle(output, config_path, qt_checks=qt_checks)
    except OSError as error:
        print(f"cannot write the support bundle: {error}", file=sys.stderr)
        return 1
    print(f"Support bundle written: {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    if args.demo:
        return run_demo()
    if args.command is None:
        from desktop.config import default_config_path

        return run_booth(args.config or default_config_path())
    if args.command == "serve":
        return run_serve(args)
    if args.command == "recognize":
        from desktop.recognition.cli import recognize_paths

        return recognize_paths(args.paths, args.region, args.engine, args.json)
    if args.command == "check-config":
        return run_check_config(args.path)
    if args.command == "hash-pin":
        return run_hash_pin()
    if args.command == "self-test":
        return run_self_test(args.config)
    if args.command == "support-bundle":
        return run_support_bundle(args.config, args.output)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
