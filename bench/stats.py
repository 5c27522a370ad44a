"""Percentiles and small formatting helpers shared by the benchmark sections."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of a non-empty sample.

    Nearest-rank never interpolates, so with fewer than 100 samples p99 is the maximum:
    the table prints the sample count beside every p99 for that reason.
    """
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class Timing:
    """Wall-clock samples in seconds."""

    samples: tuple[float, ...]

    @property
    def n(self) -> int:
        return len(self.samples)

    @property
    def p50(self) -> float:
        return percentile(self.samples, 50)

    @property
    def p99(self) -> float:
        return percentile(self.samples, 99)


def ms(seconds: float) -> str:
    """Seconds as a short millisecond figure (3 significant digits)."""
    value = seconds * 1000
    if value >= 100:
        return f"{value:.0f} ms"
    if value >= 10:
        return f"{value:.1f} ms"
    return f"{value:.2f} ms"


def mib(n_bytes: float) -> str:
    return f"{n_bytes / 1024 / 1024:.1f} MiB"
