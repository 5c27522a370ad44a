"""``python -m bench.profile``: pyinstrument profiles of the two hot paths (not run by
``python -m bench``; about 40 s).

1. in-process evaluation at 10,000 resources (``bench.inprocess`` OURS path);
2. the HTTP path: ``cds_service.app:create_app`` under uvicorn exactly as ``calf-cds serve``
   runs it, in a subprocess (``python -m bench.profile serve``) whose main thread — the
   event loop — is sampled only while ``wrk``/httpx drives 16 connections at it
   (SIGUSR1 starts the profiler, SIGUSR2 stops it and writes the report).

Prints, for each: self time by function (top N), time by package, and the call tree.
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

TOP = 15
INTERVAL_S = 0.0005


def _key(frame: Any) -> str:
    return f"{frame.function}  {frame.file_path_short or '?'}:{frame.line_no or 0}"


def _package(frame: Any) -> str:
    path = (frame.file_path or "").replace("\\", "/")
    if "/site-packages/" in path:
        return path.split("/site-packages/", 1)[1].split("/", 1)[0]
    if "/cds_service/" in path:
        return "cds_service/" + path.split("/cds_service/", 1)[1]
    if "/bench/" in path:
        return "bench"
    return "stdlib/other" if path else "[native]"


def summarise(session: Any, title: str, top: int = TOP) -> str:
    """Self time by function and by package, then pyinstrument's trimmed call tree."""
    from pyinstrument.renderers import ConsoleRenderer

    root = session.root_frame()
    by_function: Counter[str] = Counter()
    by_package: Counter[str] = Counter()

    def walk(frame: Any) -> None:
        real = [c for c in frame.children if not c.is_synthetic]
        own = frame.time - sum(c.time for c in real)
        if own > 0:
            by_function[_key(frame)] += own
            by_package[_package(frame)] += own
        for child in real:
            walk(child)

    total = root.time if root is not None else 0.0
    if root is not None:
        walk(root)
    lines = [f"### {title}", "", f"sampled {total:.2f} s of wall time", "", "self time by function (top):", ""]
    for name, seconds in by_function.most_common(top):
        lines.append(f"  {seconds / total * 100:5.1f}%  {seconds:7.3f} s  {name}")
    lines += ["", "self time by package/module:", ""]
    for name, seconds in by_package.most_common(12):
        lines.append(f"  {seconds / total * 100:5.1f}%  {seconds:7.3f} s  {name}")
    renderer = ConsoleRenderer(unicode=False, color=False, show_all=False, short_mode=True)
    tree = renderer.render(session)
    lines += ["", "call tree (pyinstrument, library frames folded):", "", tree]
    return "\n".join(lines)


# --- 1. in-process -----------------------------------------------------------------------

def profile_inprocess(size: int = 10_000, reps: int = 15) -> str:
    from pyinstrument import Profiler

    from bench.data import hook_request
    from bench.inprocess import Evaluator

    evaluator = Evaluator()
    try:
        body = orjson.dumps(hook_request(size))
        evaluator.ours(body)  # warm-up: imports, caches
        requests = [orjson.loads(body) for _ in range(reps)]
        profiler = Profiler(interval=INTERVAL_S)
        profiler.start()
        for request in requests:
            evaluator.loop.run_until_complete(evaluator._ours(request))
        session = profiler.stop()
    finally:
        evaluator.close()
    return summarise(session, f"in-process OURS path, n={size:,}, {reps} evaluations")


# --- 2. HTTP path --------------------------------------------------------------------------

def serve_profiled(port: int, report: Path) -> None:
    """Run the service like ``calf-cds serve``; profile between SIGUSR1 and SIGUSR2."""
    import uvicorn
    from pyinstrument import Profiler

    from cds_service.config import Settings
    from cds_service.logging_setup import configure

    settings = Settings()
    configure(settings.log_level)
    profiler = Profiler(interval=INTERVAL_S * 2, async_mode="disabled")
    # Garbage-collector pauses are invisible to a sampling profiler (charged to whatever
    # allocated last), so they are timed separately with gc.callbacks.
    pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
    began: list[float] = [0.0]
    active: list[bool] = [False]
    window: list[float] = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        elif active[0]:
            pauses[info["generation"]].append(time.perf_counter() - began[0])

    gc.callbacks.append(on_gc)

    def start(*_: object) -> None:
        window[0] = time.perf_counter()
        active[0] = True
        profiler.start()

    def stop(*_: object) -> None:
        session = profiler.stop()
        active[0] = False
        elapsed = time.perf_counter() - window[0]
        lines = ["", "garbage collector pauses while profiled (gc.callbacks):", ""]
        for generation, samples in pauses.items():
            total = sum(samples)
            lines.append(f"  gen{generation}: {len(samples):5d} collections, total {total:6.3f} s "
                         f"({total / elapsed * 100:4.1f}% of wall), max {max(samples, default=0) * 1000:6.1f} ms")
        report.write_text(summarise(session, "HTTP path: calf-cds worker under 16 connections")
                          + "\n" + "\n".join(lines) + "\n")

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    uvicorn.run("cds_service.app:create_app", factory=True, host="127.0.0.1", port=port, workers=1,
                log_level=settings.log_level.lower(), proxy_headers=False)


def profile_http(duration_s: float = 10.0, request: str = "typical") -> str:
    from bench.data import hook_request
    from bench.inprocess import TYPICAL_SIZE
    from bench.loadgen import run_load, tool_name
    from bench.procs import calf_cds_env, free_port, serve

    from bench.__main__ import EVALUATION_TIME_ENV

    with tempfile.TemporaryDirectory(prefix="calf-profile-") as tmp:
        workdir = Path(tmp)
        if request == "realistic":
            body_path = Path(__file__).with_name("realistic-request.json")
        else:
            body_path = workdir / "typical.json"
            body_path.write_bytes(orjson.dumps(hook_request(TYPICAL_SIZE)))
        report = workdir / "http-profile.txt"
        port = free_port()
        argv = [sys.executable, "-m", "bench.profile", "serve", "--port", str(port), "--report", str(report)]
        env = {**calf_cds_env(workdir, EVALUATION_TIME_ENV), "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        tool = tool_name()
        with serve("profiled", argv, port=port, ready_path="/cds-services", workdir=workdir, env=env) as server:
            url = server.base_url + "/cds-services/calf-pain-review"
            run_load(url, body_path, concurrency=16, duration_s=3, workdir=workdir, tool=tool)  # warm-up
            os.kill(server.pid, signal.SIGUSR1)
            load = run_load(url, body_path, concurrency=16, duration_s=duration_s, workdir=workdir, tool=tool)
            os.kill(server.pid, signal.SIGUSR2)
            deadline = time.monotonic() + 30
            while not report.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(0.5)  # let the write finish
        text = report.read_text() if report.exists() else "(no report written)"
        return (f"request: {request} ({body_path.stat().st_size / 1024:.0f} KB)\n"
                f"load during the profile: {tool}, {load.rps:,.0f} req/s, p50 {load.p50_s * 1000:.1f} ms, "
                f"p99 {load.p99_s * 1000:.1f} ms (profiling slows the worker)\n\n" + text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    srv = sub.add_parser("serve", help="(internal) the profiled server process")
    srv.add_argument("--port", type=int, required=True)
    srv.add_argument("--report", type=Path, required=True)
    parser.add_argument("--only", choices=["inprocess", "http"])
    parser.add_argument("--request", choices=["typical", "realistic"], default="typical",
                        help="the HTTP profile's body: the 300-resource one or bench/realistic-request.json")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve_profiled(args.port, args.report)
        return 0
    if args.only in (None, "inprocess"):
        print(profile_inprocess(), flush=True)
        print()
    if args.only in (None, "http"):
        print(profile_http(request=args.request), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
