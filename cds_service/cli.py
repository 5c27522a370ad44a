"""Command line: ``calf-cds serve``, ``calf-cds evaluate FILE`` and ``calf-cds db upgrade``.

``evaluate`` runs a hook request file (or a FHIR Bundle, e.g. a fixture patient) through
the same prefetch → rules → cards code as the service, offline, and prints the response.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from .config import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="calf-cds", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the CDS Hooks service (uvicorn)")
    serve.add_argument("--host", help="bind address (default from settings: 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default from settings: 8080)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes")
    ev = sub.add_parser("evaluate", help="print the cards for a hook request or FHIR Bundle")
    ev.add_argument("file", type=Path)
    ev.add_argument("--patient", help="patient id (Bundle input; default: the Bundle's Patient)")
    ev.add_argument("--encounter", help="encounter id (Bundle input)")
    ev.add_argument("--at", help="evaluation time, ISO 8601 (replays historical data)")
    db = sub.add_parser("db", help="database schema (Alembic migrations)")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="migrate CALF_CDS_DATABASE_URL to this release's schema")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "db":
        return _db_upgrade()
    return _evaluate(args)


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
    import uvicorn

    from .logging_setup import configure

    settings = Settings()
    configure(settings.log_level)
    problem = _check_state(settings)
    if problem:
        print(f"calf-cds: {problem}", file=sys.stderr)
        return 2
    uvicorn.run(
        "cds_service.app:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers,
        log_level=settings.log_level.lower(),
        proxy_headers=False,
        # The stdlib event loop: under uvloop the worker's RSS grew ~1 KiB per request
        # without bound (native memory; 16 connections, 200 KB bodies) and stayed flat
        # under asyncio at the same throughput (docs/benchmark.md, "memory").
        loop="asyncio",
    )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from .errors import CdsError
    from .evaluate import evaluate_document

    try:
        document = orjson.loads(args.file.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        print(f"cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    overrides: dict[str, Any] = {"database_url": "sqlite://"}
    if args.at:
        overrides["evaluation_time"] = datetime.fromisoformat(args.at.replace("Z", "+00:00"))
    settings = Settings(**overrides)
    try:
        response = asyncio.run(
            evaluate_document(document, settings, patient_id=args.patient, encounter_id=args.encounter)
        )
    except CdsError as exc:
        print(f"error {exc.status_code}: {'; '.join(exc.issues)}", file=sys.stderr)
        return 1
    sys.stdout.write(orjson.dumps(response, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
