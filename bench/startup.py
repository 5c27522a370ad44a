"""Start-up time of ``calf-cds serve``: process start → first 200 on ``GET /cds-services``.

Started a few times (each on a fresh port and database) and the median reported; the
first hook call after start-up is timed as well, since some imports (the R4B models) are
deferred until a rule first validates a resource.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.http import HOOK_PATH
from bench.procs import calf_cds_argv, calf_cds_env, free_port, serve


@dataclass(frozen=True, slots=True)
class Startup:
    samples: tuple[float, ...]
    first_call_s: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def worst(self) -> float:
        return max(self.samples)


def measure(workdir: Path, body: bytes, evaluation_time: str, runs: int) -> Startup:
    samples: list[float] = []
    first: list[float] = []
    for i in range(runs):
        run_dir = workdir / f"startup-{i}"
        run_dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        with serve(f"startup-{i}", calf_cds_argv(port), port=port, ready_path="/cds-services",
                   workdir=run_dir, env=calf_cds_env(run_dir, evaluation_time)) as server:
            samples.append(server.startup_s)
            with httpx.Client(trust_env=False, timeout=30.0) as client:
                start = time.perf_counter()
                response = client.post(server.base_url + HOOK_PATH, content=body,
                                       headers={"Content-Type": "application/json"})
                first.append(time.perf_counter() - start)
                if response.status_code != 200:
                    raise RuntimeError(f"first call answered {response.status_code}: {response.text[:300]}")
    return Startup(tuple(samples), tuple(first))
