"""HTTP throughput and latency over loopback, and the memory soak, for one server.

The same body (the typical patient-view request) goes to the service and to the FLOOR
(``bench.floor``) with the same generator, concurrency and duration, back to back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.loadgen import LoadResult, run_load
from bench.procs import Server
from bench.stats import Timing

HOOK_PATH = "/cds-services/calf-pain-review"
SOAK_REQUESTS = 10_000
_SOAK_ROUNDS = 4  # bounded: at most this many generator runs to reach SOAK_REQUESTS
_SOAK_MAX_S = 150.0


@dataclass(frozen=True, slots=True)
class Throughput:
    warmup: LoadResult
    measured: LoadResult


def throughput(
    server: Server, body_path: Path, *, path: str = HOOK_PATH, concurrency: int, warmup_s: float,
    duration_s: float, workdir: Path, tool: str,
) -> Throughput:
    """A warm-up run (discarded), then the measured run."""
    url = server.base_url + path
    warm = run_load(url, body_path, concurrency=concurrency, duration_s=warmup_s, workdir=workdir, tool=tool)
    measured = run_load(url, body_path, concurrency=concurrency, duration_s=duration_s, workdir=workdir, tool=tool)
    return Throughput(warm, measured)


@dataclass(frozen=True, slots=True)
class Soak:
    points: tuple[tuple[int, int], ...]  # (requests served since warm-up, worker RSS bytes)
    errors: int

    @property
    def requests(self) -> int:
        return self.points[-1][0]

    @property
    def rss_start(self) -> int:
        return self.points[0][1]

    @property
    def rss_end(self) -> int:
        return self.points[-1][1]

    @property
    def growth(self) -> int:
        return self.rss_end - self.rss_start


def soak(
    server: Server, body_path: Path, first: LoadResult, *, concurrency: int, workdir: Path, tool: str,
    rss_start: int, total: int = SOAK_REQUESTS, log: Callable[[str], None] = lambda _: None,
) -> Soak:
    """Keep loading until ``total`` requests have been served since ``rss_start`` was read.

    ``first`` (the measured throughput run, already served) counts toward the total; the
    rest is sized from its rate, in a bounded number of runs. RSS is read after each run.
    """
    url = server.base_url + HOOK_PATH
    done, errors = first.requests, first.errors
    rate = max(first.rps, 1.0)
    points = [(0, rss_start), (done, server.rss())]
    for _ in range(_SOAK_ROUNDS):
        remaining = total - done
        if remaining <= 0:
            break
        seconds = min(_SOAK_MAX_S, remaining / rate * 1.05 + 1)
        log(f"  soak: {done} served, {remaining} to go (~{seconds:.0f} s)")
        result = run_load(url, body_path, concurrency=concurrency, duration_s=seconds, workdir=workdir, tool=tool)
        done += result.requests
        errors += result.errors
        points.append((done, server.rss()))
    return Soak(tuple(points), errors)


def sequential_latency(url: str, body: bytes, n: int) -> Timing:
    """``n`` single requests one after the other (no concurrency), for context figures."""
    samples: list[float] = []
    with httpx.Client(trust_env=False, timeout=30.0) as client:
        for _ in range(n):
            start = time.perf_counter()
            response = client.post(url, content=body, headers={"Content-Type": "application/json"})
            elapsed = time.perf_counter() - start
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:300]}")
            samples.append(elapsed)
    return Timing(tuple(samples))
