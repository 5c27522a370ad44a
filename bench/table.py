"""The one results table: section, measure, value, target, PASS/FAIL."""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Row:
    section: str
    measure: str
    value: str
    target: str = ""
    ok: bool | None = None  # None: informative, no target

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else ("PASS" if self.ok else "FAIL")


def render(rows: list[Row]) -> str:
    header = Row("section", "measure", "value", "target")
    cells = [(r.section, r.measure, r.value, r.target, r.verdict) for r in [header, *rows]]
    cells[0] = (*cells[0][:4], "result")
    widths = [max(len(c[i]) for c in cells) for i in range(5)]
    lines = []
    previous = None
    for i, c in enumerate(cells):
        section = c[0] if c[0] != previous else ""
        previous = c[0]
        lines.append("  ".join(v.ljust(w) for v, w in zip((section, *c[1:]), widths, strict=True)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> str:
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f", {int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
    except OSError:
        pass
    return (f"{os.cpu_count()} CPU ({cpu_model()}){mem}; {platform.system()} {platform.release()}; "
            f"Python {sys.version.split()[0]}")


def summary(rows: list[Row]) -> str:
    failed = [r for r in rows if r.ok is False]
    checked = [r for r in rows if r.ok is not None]
    if not failed:
        return f"all {len(checked)} targets PASS"
    names = "; ".join(f"{r.section}: {r.measure}" for r in failed)
    return f"{len(checked) - len(failed)}/{len(checked)} targets PASS; FAIL: {names}"


def exit_status(rows: list[Row]) -> int:
    """1 when any target FAILs (``make bench`` then fails), else 0."""
    return 1 if any(r.ok is False for r in rows) else 0
