"""Command line: ``calf-cds serve`` and ``calf-cds evaluate FILE``.

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
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    return _evaluate(args)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .logging_setup import configure
    from .server import uvicorn_options

    settings = Settings()
    configure(settings.log_level)
    _fixed_mmap_threshold()
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
        # h11 with head/body read timeouts, a header size limit and a connection cap
        # (cds_service/server.py; settings CALF_CDS_SERVER_*).
        **uvicorn_options(settings),
    )
    return 0


def _fixed_mmap_threshold(threshold: int = 256 * 1024) -> None:
    """Large buffers (response bodies, inflated gzip) go straight to mmap and back to the
    OS when freed. glibc otherwise raises its mmap threshold after the first large free,
    and a gzip bomb's 8 MiB buffers then stay in the heap for good (bench/soak.py)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt(-3, threshold)  # M_MMAP_THRESHOLD; setting it stops the dynamic rise
    except (OSError, AttributeError):
        pass


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
