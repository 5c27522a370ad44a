"""``python -m bench.leakcheck``: where does the worker's memory grow under load?

Runs the service under uvicorn exactly as ``calf-cds serve`` does, in a subprocess
(``python -m bench.leakcheck serve``) with ``tracemalloc`` on; after a warm-up, SIGUSR1
takes a first snapshot, the load generator sends ``--seconds`` of the typical request at
16 connections, SIGUSR2 takes a second snapshot and writes the biggest differences (by
allocation traceback), the RSS and thread count before/after, and how much RSS glibc's
``malloc_trim(0)`` gives back: growth that trimming returns is freed memory the allocator
kept (fragmentation), not live objects. About 40 s.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import gc
import os
import signal
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import orjson

FRAMES = 8
TOP = 6


def _describe(obj: Any) -> str:
    kind = type(obj)
    name = f"{kind.__module__}.{kind.__qualname__}"
    if isinstance(obj, dict):
        return f"{name} (len {len(obj)}, keys e.g. {[str(k)[:40] for k in list(obj)[:3]]})"
    if isinstance(obj, (list, tuple, set, frozenset)):
        return f"{name} (len {len(obj)})"
    return name


def _live_responses() -> list[str]:
    """How many Starlette Response objects are alive, and what holds the oldest ones."""
    from starlette.responses import Response

    alive = [o for o in gc.get_objects() if isinstance(o, Response)]
    lines = ["", f"live starlette Response objects: {len(alive)}"]
    if not alive:
        return lines
    # Walk referrers up a few levels from one of them (the first found), skipping frames
    # and this function's own containers.
    here = {id(alive)}
    target: Any = alive[0]
    for depth in range(6):
        referrers = [r for r in gc.get_referrers(target) if id(r) not in here and not isinstance(r, type(sys._getframe()))]
        here.add(id(referrers))
        if not referrers:
            break
        lines.append(f"  {'  ' * depth}held by: " + "; ".join(_describe(r) for r in referrers[:4]))
        target = referrers[0]
    return lines


def _threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


def _trimmed_rss() -> str:
    """RSS after ``malloc_trim(0)`` (glibc only), as a report line."""
    from bench.procs import rss_bytes

    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        trim = None
    if trim is None:
        return "malloc_trim: not available (not glibc)"
    trim(0)
    return f"RSS after malloc_trim(0): {rss_bytes(os.getpid()) / 2**20:.1f} MiB"


def serve_traced(port: int, report: Path) -> None:
    import uvicorn

    from bench.procs import rss_bytes
    from cds_service.config import Settings
    from cds_service.logging_setup import configure

    settings = Settings()
    configure(settings.log_level)
    tracemalloc.start(FRAMES)
    first: list[Any] = []

    def before(*_: object) -> None:
        gc.collect()
        first[:] = [tracemalloc.take_snapshot(), rss_bytes(os.getpid()), _threads(os.getpid())]

    def after(*_: object) -> None:
        gc.collect()
        snapshot, rss = tracemalloc.take_snapshot(), rss_bytes(os.getpid())
        old, old_rss, old_threads = first
        traced_now, _ = tracemalloc.get_traced_memory()
        lines = [f"RSS {old_rss / 2**20:.1f} -> {rss / 2**20:.1f} MiB; traced Python heap now "
                 f"{traced_now / 2**20:.1f} MiB; threads {old_threads} -> {_threads(os.getpid())}",
                 _trimmed_rss(), ""]
        filters = [tracemalloc.Filter(False, tracemalloc.__file__)]
        for stat in snapshot.filter_traces(filters).compare_to(old.filter_traces(filters), "traceback")[:TOP]:
            lines.append(f"{stat.size_diff / 1024:+,.0f} KiB in {stat.count_diff:+,} blocks, allocated at:")
            lines += ["    " + line for line in stat.traceback.format(most_recent_first=True)]
            lines.append("")
        lines += _live_responses()
        report.write_text("\n".join(lines))

    signal.signal(signal.SIGUSR1, before)
    signal.signal(signal.SIGUSR2, after)
    uvicorn.run("cds_service.app:create_app", factory=True, host="127.0.0.1", port=port, workers=1,
                log_level=settings.log_level.lower(), proxy_headers=False)


def check(seconds: float) -> str:
    from bench.__main__ import EVALUATION_TIME_ENV
    from bench.data import hook_request
    from bench.inprocess import TYPICAL_SIZE
    from bench.loadgen import run_load, tool_name
    from bench.procs import REPO_ROOT, calf_cds_env, free_port, serve

    with tempfile.TemporaryDirectory(prefix="calf-leak-") as tmp:
        workdir = Path(tmp)
        body_path = workdir / "typical.json"
        body_path.write_bytes(orjson.dumps(hook_request(TYPICAL_SIZE)))
        report = workdir / "leak.txt"
        port = free_port()
        argv = [sys.executable, "-m", "bench.leakcheck", "serve", "--port", str(port), "--report", str(report)]
        env = {**calf_cds_env(workdir, EVALUATION_TIME_ENV), "PYTHONPATH": str(REPO_ROOT)}
        tool = tool_name()
        with serve("leakcheck", argv, port=port, ready_path="/cds-services", workdir=workdir, env=env) as server:
            url = server.base_url + "/cds-services/calf-pain-review"
            run_load(url, body_path, concurrency=16, duration_s=3, workdir=workdir, tool=tool)
            os.kill(server.pid, signal.SIGUSR1)
            time.sleep(2)
            load = run_load(url, body_path, concurrency=16, duration_s=seconds, workdir=workdir, tool=tool)
            os.kill(server.pid, signal.SIGUSR2)
            deadline = time.monotonic() + 150
            while not report.exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(1.0)
        text = report.read_text() if report.exists() else "(no report written)"
    return f"{load.requests:,} requests ({tool}, 16 connections, tracemalloc on)\n\n{text}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.leakcheck", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    srv = sub.add_parser("serve", help="(internal) the traced server process")
    srv.add_argument("--port", type=int, required=True)
    srv.add_argument("--report", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve_traced(args.port, args.report)
        return 0
    print(check(args.seconds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
