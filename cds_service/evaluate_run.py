"""``calf-cds evaluate``: one input or a directory of them, counts on stderr, ``--summary``.

Every chart goes through the same ASGI app (one instance for the whole run), so offline
evaluation takes exactly the service's path. Standard error gets, per chart, how many
resources were used and how many ignored and why (never a patient id); with ``--summary``
it gets a progress bar instead, and standard output a table of cards per topic.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import orjson

from .chart_input import Chart, InputError, charts_from_bundle, read_inputs
from .config import Settings
from .errors import BadRequest, CdsError
from .evaluate import Evaluator, request_from_chart

BAR_WIDTH = 30


@dataclass
class Outcome:
    source: str
    patient_id: str | None
    response: dict[str, Any] | None = None
    error: str | None = None
    chart: Chart | None = None
    label: str = ""


@dataclass
class Run:
    """What ``evaluate`` has to do, already read from its input."""

    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)


def plan_document(name: str, document: dict[str, Any], patient_id: str | None) -> Run:
    """A single JSON object: a hook request, or a Bundle (any type)."""
    if "hook" in document or document.get("resourceType") != "Bundle":
        return Run(requests=[(name, document)])
    try:
        charts = charts_from_bundle(name, document, patient_id)
    except InputError as exc:
        raise BadRequest(str(exc)) from None
    if not charts:
        raise BadRequest("the Bundle must hold a Patient, or pass --patient")
    return Run(charts=charts)


def plan_path(path: Path, patient_id: str | None) -> Run:
    inputs = read_inputs(path, patient_id)
    if not inputs.charts and not inputs.requests:
        raise InputError(f"{path}: no Patient and no hook request found; pass --patient")
    return Run(requests=inputs.requests, charts=inputs.charts)


async def execute(
    run: Run,
    settings: Settings,
    *,
    encounter_id: str | None = None,
    summary: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Evaluate everything in ``run``; 0 when every chart was answered, else 1."""
    out = out or sys.stdout
    err = err or sys.stderr
    total = len(run.requests) + len(run.charts)
    outcomes: list[Outcome] = []
    async with Evaluator(settings) as evaluator:
        work: list[tuple[Outcome, dict[str, Any]]] = [
            (Outcome(name, None), request) for name, request in run.requests
        ]
        for chart in run.charts:
            request = request_from_chart(chart, encounter_id)
            work.append((Outcome(chart.source, chart.patient_id, chart=chart), request))
        per_source = Counter(o.source for o, _ in work)
        seen: Counter[str] = Counter()
        for done, (outcome, request) in enumerate(work, start=1):
            seen[outcome.source] += 1
            if per_source[outcome.source] > 1:  # several patients in one source: number them
                outcome.label = f"{outcome.source} [patient {seen[outcome.source]} of {per_source[outcome.source]}]"
            try:
                outcome.response = await evaluator.evaluate(request)
            except CdsError as exc:
                outcome.error = f"error {exc.status_code}: {'; '.join(exc.issues) or exc.message}"
            outcomes.append(outcome)
            if summary:
                _progress(err, done, total)
            else:
                _report(err, outcome, len(work) > 1)
    if summary:
        err.write("\n")
        out.write(summary_table(outcomes))
    else:
        _print_responses(out, outcomes)
    return 0 if all(o.error is None for o in outcomes) else 1


def _progress(err: TextIO, done: int, total: int) -> None:
    filled = BAR_WIDTH * done // max(total, 1)
    err.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} charts")
    err.flush()


def _report(err: TextIO, outcome: Outcome, several: bool) -> None:
    """One line per chart: its counts, or the service's refusal (no patient id)."""
    name = outcome.label or outcome.source
    if outcome.error is not None:
        err.write(f"{name + ': ' if several else ''}{outcome.error}\n")
    elif outcome.chart is not None:
        err.write(f"{name}: {outcome.chart.report()}\n")


def _print_responses(out: TextIO, outcomes: list[Outcome]) -> None:
    answered = [o for o in outcomes if o.response is not None]
    if len(outcomes) == 1:
        if answered:
            out.write(orjson.dumps(answered[0].response, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    listing = [{"source": o.source, "patientId": o.patient_id, "response": o.response} for o in answered]
    out.write(orjson.dumps(listing, option=orjson.OPT_INDENT_2).decode() + "\n")


def summary_table(outcomes: list[Outcome]) -> str:
    """Charts, resources used/ignored, and per topic the charts with a card and a critical one."""
    charts = [o for o in outcomes if o.response is not None]
    used = sum(sum(o.chart.used.values()) for o in charts if o.chart is not None)
    ignored = sum(sum(o.chart.ignored.values()) for o in charts if o.chart is not None)
    with_card = sum(1 for o in charts if o.response and o.response.get("cards"))
    with_critical = 0
    per_topic: Counter[str] = Counter()
    critical: Counter[str] = Counter()
    for o in charts:
        cards = (o.response or {}).get("cards", [])
        topics = {c["source"]["topic"]["code"] for c in cards}
        per_topic.update(topics)
        crit = {c["source"]["topic"]["code"] for c in cards if c.get("indicator") == "critical"}
        critical.update(crit)
        with_critical += bool(crit)
    n = len(charts)

    def share(count: int) -> str:
        return f"{100 * count / n:.1f}%" if n else "-"

    lines = [
        f"charts evaluated: {n} (failed: {len(outcomes) - n}); "
        f"resources used: {used}, ignored: {ignored}",
        f"charts with any card: {with_card} ({share(with_card)}); "
        f"with a critical card: {with_critical} ({share(with_critical)})",
        "",
        f"{'topic':<34} {'charts':>7} {'share':>7} {'critical':>9}",
    ]
    for topic, count in sorted(per_topic.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"{topic:<34} {count:>7} {share(count):>7} {critical[topic]:>9}")
    if not per_topic:
        lines.append("(no cards)")
    return "\n".join(lines) + "\n"
