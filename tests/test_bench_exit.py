"""``make bench`` exits non-zero when a target fails (issue 9).

The measurements themselves are not run here (speed targets live in ``make bench``, not in
the suite): a failing target is injected in place of ``bench.__main__.measure``, and the
exit status is observed from ``main``, from ``python -m bench``'s process, and from ``make``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import ROOT

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import __main__ as bench_main  # noqa: E402
from bench.table import Row  # noqa: E402

PASSING = [Row("1 in-process", "n=300 ours p50", "4 ms", "p50 <= 5 ms", True), Row("1 in-process", "info", "x")]
FAILING = [*PASSING, Row("2 http", "p99 ours/floor", "3x", "<= 2x", False)]

# A python -m bench whose measurements are replaced by the rows named in BENCH_FAKE_ROWS.
FAKE_PYTHON = """#!{python}
import os, runpy, sys
sys.path.insert(0, {root!r})
if sys.argv[1:3] == ["-m", "bench"]:
    import bench.__main__ as m
    from bench.table import Row
    fail = os.environ["BENCH_FAKE_ROWS"] == "failing"
    m.measure = lambda plan, tool: [Row("s", "m", "v", "t", True), *([Row("s", "bad", "v", "t", False)] if fail else [])]
    raise SystemExit(m.main(sys.argv[3:]))
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.mark.parametrize(("rows", "status"), [(PASSING, 0), (FAILING, 1)], ids=["all-pass", "one-fails"])
def test_main_exit_status_follows_the_targets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], rows: list[Row], status: int
) -> None:
    monkeypatch.setattr(bench_main, "measure", lambda plan, tool: rows)
    assert bench_main.main(["--quick", "--tool", "httpx"]) == status
    out = capsys.readouterr().out
    assert ("FAIL: 2 http: p99 ours/floor" in out) == (status == 1)


@pytest.fixture
def fake_venv(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").write_text(FAKE_PYTHON.format(python=sys.executable, root=str(ROOT)))
    (bin_dir / "pip").write_text("#!/bin/sh\nexit 0\n")  # the recipe's install step: nothing to do
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    return tmp_path / "venv"


@pytest.mark.parametrize(("rows", "status"), [("passing", 0), ("failing", 1)])
def test_python_m_bench_process_exit_status(fake_venv: Path, rows: str, status: int) -> None:
    done = subprocess.run([str(fake_venv / "bin" / "python"), "-m", "bench", "--quick"], cwd=ROOT,
                          env={**os.environ, "BENCH_FAKE_ROWS": rows}, capture_output=True, text=True, timeout=60)
    assert done.returncode == status, done.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize(("rows", "fails"), [("passing", False), ("failing", True)])
def test_make_bench_fails_when_a_target_fails(fake_venv: Path, rows: str, fails: bool) -> None:
    done = subprocess.run(["make", "-s", "-C", str(ROOT), "bench", f"VENV={fake_venv}"],
                          env={**os.environ, "BENCH_FAKE_ROWS": rows}, capture_output=True, text=True, timeout=60)
    assert (done.returncode != 0) == fails, done.stdout + done.stderr


def test_the_order_sign_row_measures_a_firing_order_sign_evaluation() -> None:
    # issue 10: the bench times calf-safe-prescribing on the typical chart with a draft
    # statin; it must reach the order-sign rules (a card), not an empty pass-through
    from bench import inprocess

    result = inprocess.run_orders(budget_s=0.01)
    assert result.card_topics == ("rx-statin-interaction",)
    row = bench_main.order_sign_rows(result)[0]
    assert row.target == "p50 <= 5 ms" and row.ok == (result.timing.p50 <= 0.005)
