"""Load generation in ANOTHER process: ``wrk`` when installed (C, light on the CPU it
shares with the server), else an async httpx client (``python -m bench.loadgen``).

Both are closed-loop: ``concurrency`` connections, each sending the next request when the
previous answer arrived, for ``duration_s``. Both report the same summary (requests,
errors, p50/p99 latency) as one ``BENCH_JSON {...}`` line on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

MARK = "BENCH_JSON "

_WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open("{body}", "rb"))
wrk.body = f:read("*a")
f:close()
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "{mark}{{\\"requests\\":%.0f,\\"duration_s\\":%.6f,\\"socket_errors\\":%.0f," ..
    "\\"bad_status\\":%.0f,\\"timeouts\\":%.0f,\\"p50_s\\":%.6f,\\"p99_s\\":%.6f,\\"max_s\\":%.6f}}\\n",
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write, e.status, e.timeout,
    latency:percentile(50) / 1e6, latency:percentile(99) / 1e6, latency.max / 1e6))
end
"""


@dataclass(frozen=True, slots=True)
class LoadResult:
    tool: str
    requests: int
    duration_s: float
    socket_errors: int
    bad_status: int
    timeouts: int
    p50_s: float
    p99_s: float
    max_s: float

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def errors(self) -> int:
        return self.socket_errors + self.bad_status + self.timeouts


def tool_name() -> str:
    """``wrk`` if it is on PATH, else ``httpx``."""
    return "wrk" if shutil.which("wrk") else "httpx"


def describe(tool: str) -> str:
    if tool == "wrk":
        version = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
        first = (version.stdout or version.stderr).strip().splitlines()
        return f"wrk ({first[0] if first else 'version unknown'}), 1 thread, Lua POST body"
    return "async httpx client in a separate process (bench.loadgen)"


def _parse(tool: str, stdout: str) -> LoadResult:
    for line in stdout.splitlines():
        if line.startswith(MARK):
            return LoadResult(tool=tool, **json.loads(line[len(MARK):]))
    raise RuntimeError(f"{tool} printed no summary:\n{stdout[-2000:]}")


def run_load(
    url: str, body_path: Path, *, concurrency: int, duration_s: float, workdir: Path, tool: str
) -> LoadResult:
    """Drive ``url`` with POSTs of ``body_path`` for ``duration_s`` (bounded by a timeout)."""
    if tool == "wrk":
        script = workdir / "post.lua"
        script.write_text(_WRK_SCRIPT.format(body=str(body_path), mark=MARK))
        argv = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(duration_s))}s", "--timeout", "10s",
                "-s", str(script), url]
    else:
        argv = [sys.executable, "-m", "bench.loadgen", url, str(body_path),
                "--concurrency", str(concurrency), "--duration", str(duration_s)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration_s + 60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr[-2000:]}")
    return _parse(tool, done.stdout)


# --- the httpx generator (run as ``python -m bench.loadgen``) ---------------------------

async def _generate(url: str, body: bytes, concurrency: int, duration_s: float) -> dict[str, float]:
    import httpx

    from bench.stats import percentile

    latencies: list[float] = []
    counts = {"socket_errors": 0, "bad_status": 0, "timeouts": 0}
    headers = {"Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=10.0, trust_env=False) as client:
        start = time.perf_counter()
        deadline = start + duration_s

        async def worker() -> None:
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                try:
                    response = await client.post(url, content=body, headers=headers)
                    await response.aread()
                except httpx.TimeoutException:
                    counts["timeouts"] += 1
                    continue
                except httpx.HTTPError:
                    counts["socket_errors"] += 1
                    continue
                latencies.append(time.perf_counter() - t0)
                if response.status_code >= 400:
                    counts["bad_status"] += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return {
        "requests": len(latencies), "duration_s": elapsed, **counts,
        "p50_s": percentile(latencies, 50), "p99_s": percentile(latencies, 99),
        "max_s": max(latencies, default=0.0),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="closed-loop POST load generator (httpx)")
    parser.add_argument("url")
    parser.add_argument("body", type=Path)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=10.0)
    args = parser.parse_args(argv)
    summary = asyncio.run(_generate(args.url, args.body.read_bytes(), args.concurrency, args.duration))
    print(MARK + json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
