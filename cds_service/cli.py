"""Command line: ``calf-cds serve``, ``calf-cds evaluate FILE|DIR|-``, ``calf-cds db upgrade`` and ``calf-cds --version``.

``evaluate`` runs a hook request file, or charts (a FHIR Bundle of any type with
``urn:uuid:`` or absolute references, bulk-export NDJSON, or a directory of them; ``-``
reads standard input) through the same prefetch → rules → cards code as the service,
offline, and prints the response(s). Standard error says per chart how many resources were
used and ignored and why; ``--summary`` prints cards per topic over all charts instead.

Bad input never shows a traceback: a setting that cannot work, an unreadable or non-object
document, or an ``--at`` that is not a date-time is one line on standard error and exit
status 2; the service's own refusals (400, 412) are exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from . import __version__
from .config import Settings
from .settings_checks import ConfigError, load_settings

USAGE_ERROR = 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="calf-cds", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"calf-cds {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the CDS Hooks service (uvicorn)")
    serve.add_argument("--host", help="bind address (default from settings: 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default from settings: 8080)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes")
    ev = sub.add_parser("evaluate", help="print the cards for a hook request, Bundle, NDJSON or folder")
    ev.add_argument("file", help="a JSON file (hook request or FHIR Bundle), an .ndjson file "
                    "(bulk export), a directory of them, or - for standard input")
    ev.add_argument("--patient", help="patient id (chart input; default: every Patient in it)")
    ev.add_argument("--encounter", help="encounter id (Bundle input)")
    ev.add_argument("--at", help="evaluation time, ISO 8601 (replays historical data)")
    ev.add_argument("--summary", action="store_true",
                    help="print cards per topic over all charts (progress bar on stderr)")
    db = sub.add_parser("db", help="database schema (Alembic migrations)")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="migrate CALF_CDS_DATABASE_URL to this release's schema")
    args = parser.parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "db":
            return _db_upgrade()
        return _evaluate(args)
    except ConfigError as exc:
        print(f"calf-cds: configuration error: {exc}", file=sys.stderr)
        return USAGE_ERROR


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("calf-cds")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return __version__


def _db_upgrade() -> int:
    from .state import migrate
    from .state.layer import StateError, open_database

    try:
        db = open_database(Settings().database_url)
        try:
            before, after = migrate.upgrade(db)
        finally:
            db.dispose()
    except (StateError, migrate.SchemaError) as exc:
        print(f"calf-cds: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback with a URL in it
        print(f"calf-cds: database upgrade failed: {type(exc).__name__}", file=sys.stderr)
        return 1
    if before == after:
        print(f"database schema already at revision {after}")
    else:
        print(f"database schema upgraded from {before or 'nothing'} to revision {after}")
    return 0


def _check_state(settings: Settings) -> str | None:
    """Open the shared state once before the workers start: an empty database is created
    at head here (not by N workers at once), and one that is behind stops ``serve`` with
    one line. None when fine, else the line."""
    from .state import State, StateError

    try:
        State.open(settings).close()
    except StateError as exc:
        return str(exc)
    return None


def _serve(args: argparse.Namespace) -> int:
    from .catalog import Catalog, CatalogError
    from .logging_setup import configure
    from .pipeline import DEFAULT_CARDS_DIR

    if args.workers < 1:
        raise ConfigError("workers", f"--workers must be at least 1, got {args.workers}")
    settings = load_settings()
    try:  # the card catalogue is checked here too, before any worker starts
        Catalog.load(settings.cards_dir or DEFAULT_CARDS_DIR)
    except CatalogError as exc:
        raise ConfigError("cards_dir", str(exc).splitlines()[0]) from None
    configure(settings.log_level, settings.log_format)
    problem = _check_state(settings)
    if problem:
        print(f"calf-cds: {problem}", file=sys.stderr)
        return 2
    # Before uvicorn (and prometheus_client) load: workers inherit the variable and write
    # their samples under it, so /metrics on any worker counts all of them.
    metrics_dir = prepare_metrics_dir()
    try:
        return _run_uvicorn(args, settings)
    finally:
        if metrics_dir.owned:
            shutil.rmtree(metrics_dir.path, ignore_errors=True)


@dataclass(frozen=True)
class MetricsDir:
    path: Path
    owned: bool  # created here (removed at exit) rather than given by the operator


def prepare_metrics_dir() -> MetricsDir:
    """``PROMETHEUS_MULTIPROC_DIR``: the operator's (emptied of old samples) or a new one."""
    from .metrics import MULTIPROC_ENV

    given = os.environ.get(MULTIPROC_ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):  # samples of an earlier run would be counted again
            stale.unlink()
        return MetricsDir(path, owned=False)
    path = Path(tempfile.mkdtemp(prefix="calf-cds-metrics-"))
    os.environ[MULTIPROC_ENV] = str(path)
    return MetricsDir(path, owned=True)


def _run_uvicorn(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from .logging_setup import uvicorn_log_config
    from .server import uvicorn_options

    _fixed_mmap_threshold()
    uvicorn.run(
        "cds_service.app:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers,
        log_level=settings.log_level.lower(),
        # Applied by uvicorn in every worker process: one format, the request id on every
        # line, the redacting filter; the service writes the access line itself.
        log_config=uvicorn_log_config(settings.log_level, settings.log_format),
        access_log=False,
        proxy_headers=False,
        # The stdlib event loop: under uvloop the worker's RSS grew ~1 KiB per request
        # without bound (native memory; 16 connections, 200 KB bodies) and stayed flat
        # under asyncio at the same throughput (docs/benchmark.md, "memory").
        loop="asyncio",
        # httptools with head/body read timeouts, a header size limit and a connection cap
        # (cds_service/server.py; settings CALF_CDS_SERVER_*).
        **uvicorn_options(settings),
    )
    return 0


def _read_document(name: str) -> dict[str, Any] | str:
    """The parsed JSON object, or the one-line reason it cannot be used."""
    label = "standard input" if name == "-" else name
    try:
        raw = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
        document = orjson.loads(raw)
    except (OSError, orjson.JSONDecodeError) as exc:
        return f"cannot read {label}: {exc}"
    if not isinstance(document, dict):
        kind = "an array" if isinstance(document, list) else f"a {type(document).__name__}"
        return f"cannot read {label}: expected a JSON object (a hook request or a FHIR Bundle), got {kind}"
    return document


def _parse_at(text: str) -> datetime | str:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return f"--at {text!r} is not an ISO 8601 date-time (e.g. 2026-11-21T12:00:00Z)"


MMAP_THRESHOLD_ENV = "MALLOC_MMAP_THRESHOLD_"


def _fixed_mmap_threshold(threshold: int = 256 * 1024) -> None:
    """Large buffers (response bodies, inflated gzip) go straight to mmap and back to the
    OS when freed. glibc otherwise raises its mmap threshold after the first large free,
    and a gzip bomb's 8 MiB buffers then stay in the heap for good (bench/soak.py).

    Set here with ``mallopt`` (this process: the only one with ``--workers 1``) and, for
    the processes ``--workers N`` spawns, as glibc's ``MALLOC_MMAP_THRESHOLD_`` variable,
    which every new process reads when its allocator starts (glibc manual, "Memory
    Allocation Tunables"; a fixed value also stops the dynamic rise). An operator's own
    value of the variable is kept.
    """
    from .heap import libc

    value = os.environ.setdefault(MMAP_THRESHOLD_ENV, str(threshold))
    threshold = int(value) if value.isdigit() else threshold

    lib = libc()
    if lib is None:
        return
    try:
        lib.mallopt(-3, threshold)  # M_MMAP_THRESHOLD; setting it stops the dynamic rise
    except AttributeError:
        pass


def _evaluate(args: argparse.Namespace) -> int:
    from .chart_input import InputError
    from .errors import CdsError
    from .evaluate_run import execute, plan_document, plan_path

    path = Path(args.file)
    try:
        if args.file != "-" and (path.is_dir() or path.suffix == ".ndjson"):
            run = plan_path(path, args.patient)
        else:
            document = _read_document(args.file)
            if isinstance(document, str):
                print(document, file=sys.stderr)
                return USAGE_ERROR
            label = "standard input" if args.file == "-" else path.name
            run = plan_document(label, document, args.patient)
    except InputError as exc:
        print(f"cannot read {exc}", file=sys.stderr)
        return USAGE_ERROR
    except CdsError as exc:
        print(f"error {exc.status_code}: {exc.message}", file=sys.stderr)
        return 1
    # Offline: no JWT to check and an in-memory feedback store, whatever the environment says.
    overrides: dict[str, Any] = {"database_url": "sqlite://", "auth_enabled": False}
    if args.at:
        at = _parse_at(args.at)
        if isinstance(at, str):
            print(at, file=sys.stderr)
            return USAGE_ERROR
        overrides["evaluation_time"] = at
    settings: Settings = load_settings(**overrides)
    return asyncio.run(execute(run, settings, encounter_id=args.encounter, summary=args.summary))

if __name__ == "__main__":
    raise SystemExit(main())
