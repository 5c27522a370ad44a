"""HTTP throughput and latency over loopback, and the memory soak.

The same body goes to the service and to the FLOOR (``bench.floor``), and for the
realistic request to HealthChain, with the same generator and concurrency, INTERLEAVED:
short windows of each server in turn, round after round (:func:`interleaved`). The host
these runs share changes speed by tens of percent within minutes; servers measured one
after another for 10 s each compared different hosts. Each ratio is the median of the
per-round ratios, each from two windows a few seconds apart.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
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
class Interleaved:
    """Per-round results of each server, the same rounds for all."""

    rounds: Mapping[str, tuple[LoadResult, ...]]

    def total(self, name: str) -> LoadResult:
        """All of a server's windows as one result: requests, time and errors summed;
        p50 and p99 the median of the windows' (a window's p99 is its own tail)."""
        runs = self.rounds[name]
        return LoadResult(
            tool=runs[0].tool,
            requests=sum(r.requests for r in runs),
            duration_s=sum(r.duration_s for r in runs),
            socket_errors=sum(r.socket_errors for r in runs),
            bad_status=sum(r.bad_status for r in runs),
            timeouts=sum(r.timeouts for r in runs),
            p50_s=statistics.median(r.p50_s for r in runs),
            p99_s=statistics.median(r.p99_s for r in runs),
            max_s=max(r.max_s for r in runs),
        )

    def ratios(self, a: str, b: str) -> list[float]:
        """Throughput of ``a`` over ``b``, round by round."""
        return [x.rps / y.rps if y.rps else 0.0 for x, y in zip(self.rounds[a], self.rounds[b], strict=True)]

    def p99_ratios(self, a: str, b: str) -> list[float]:
        return [x.p99_s / y.p99_s if y.p99_s else 0.0
                for x, y in zip(self.rounds[a], self.rounds[b], strict=True)]


def median_of(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float]) -> str:
    """``median (min-max, N rounds)`` of per-round ratios, for the table."""
    return f"{median_of(values):.2f}x (rounds {min(values):.2f}-{max(values):.2f}, n={len(values)})"


def interleaved(
    urls: Mapping[str, str], body_path: Path, *, rounds: int, window_s: float, warmup_s: float,
    concurrency: int, workdir: Path, tool: str,
) -> Interleaved:
    """A warm-up window per server (discarded), then ``rounds`` rounds of one ``window_s``
    window per server; the order rotates each round so no server always runs first."""
    names = list(urls)
    for name in names:
        run_load(urls[name], body_path, concurrency=concurrency, duration_s=warmup_s, workdir=workdir, tool=tool)
    results: dict[str, list[LoadResult]] = {name: [] for name in names}
    for index in range(rounds):
        order = names[index % len(names):] + names[:index % len(names)]
        for name in order:
            results[name].append(run_load(urls[name], body_path, concurrency=concurrency, duration_s=window_s,
                                          workdir=workdir, tool=tool))
    return Interleaved({name: tuple(runs) for name, runs in results.items()})


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
