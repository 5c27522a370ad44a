"""The benchmark's HTTP comparisons are interleaved (issue 8): short windows of each server
in turn, the order rotating, each ratio the median of the per-round ratios.

No load is generated here: ``bench.http.run_load`` is replaced by a recorder that returns
fixed results, so the schedule and the arithmetic are what is tested.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from support import ROOT

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import http  # noqa: E402
from bench.loadgen import LoadResult  # noqa: E402


def _result(requests: int, p99_s: float = 0.01, errors: int = 0) -> LoadResult:
    return LoadResult(tool="fake", requests=requests, duration_s=1.0, socket_errors=errors, bad_status=0,
                      timeouts=0, p50_s=p99_s / 2, p99_s=p99_s, max_s=p99_s * 2)


def test_windows_alternate_with_the_order_rotating(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[tuple[str, float]] = []

    def fake_run_load(url: str, body: Path, *, duration_s: float, **_: Any) -> LoadResult:
        calls.append((url, duration_s))
        return _result(100)

    monkeypatch.setattr(http, "run_load", fake_run_load)
    runs = http.interleaved({"a": "A", "b": "B", "c": "C"}, tmp_path / "body.json", rounds=3, window_s=2,
                            warmup_s=1, concurrency=16, workdir=tmp_path, tool="fake")
    # one warm-up window each (discarded), then one window per server per round
    assert calls[:3] == [("A", 1), ("B", 1), ("C", 1)]
    assert [url for url, _ in calls[3:]] == ["A", "B", "C", "B", "C", "A", "C", "A", "B"]
    assert all(duration == 2 for _, duration in calls[3:])
    assert {name: len(results) for name, results in runs.rounds.items()} == {"a": 3, "b": 3, "c": 3}


def test_ratio_is_the_median_of_the_rounds_and_totals_sum_the_windows() -> None:
    runs = http.Interleaved({
        "ours": (_result(50, 0.02), _result(60, 0.03), _result(10, 0.5, errors=1)),
        "floor": (_result(100, 0.01), _result(100, 0.01), _result(100, 0.01)),
    })
    # one slow window (0.1x) does not decide the result: the median of 0.5, 0.6, 0.1
    assert runs.ratios("ours", "floor") == pytest.approx([0.5, 0.6, 0.1])
    assert http.median_of(runs.ratios("ours", "floor")) == pytest.approx(0.5)
    assert http.median_of(runs.p99_ratios("ours", "floor")) == pytest.approx(3.0)
    total = runs.total("ours")
    assert (total.requests, total.duration_s, total.errors) == (120, 3.0, 1)
    assert total.p99_s == pytest.approx(0.03)  # the median window's tail, not the worst
    assert total.max_s == pytest.approx(1.0)
    assert http.spread([0.5, 0.6, 0.1]) == "0.50x (rounds 0.10-0.60, n=3)"
