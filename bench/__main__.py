"""``python -m bench``: run every measurement once, print one table (stdout); exit status
1 when any target FAILs.

Progress goes to stderr. ``--quick`` shortens every phase (a smoke run; its figures are
not the reference ones). Every server this starts is stopped on the way out, whatever
happens (``contextlib.ExitStack``); all traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import contextlib
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson

from bench import fallback, healthchain, inprocess, startup
from bench.data import EVALUATION_TIME, hook_request, synthetic_bundle
from bench.http import HOOK_PATH, Interleaved, Soak, interleaved, median_of, sequential_latency, soak, spread
from bench.loadgen import LoadResult, describe, run_load, tool_name
from bench.procs import calf_cds_argv, calf_cds_env, free_port, serve, uvicorn_argv
from bench.stats import mib, ms
from bench.table import Row, exit_status, machine, render, summary

CONCURRENCY = 16
FHIR_DELAY_MS = 50
EVALUATION_TIME_ENV = EVALUATION_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
RSS_LIMIT = 150 * 1024 * 1024
# "No growth": RSS after the soak within 5 MiB (or 5 %) of RSS after warm-up. Allocator
# arenas settle in the first thousand requests; a leak of even 1 KiB per request would
# show as ~10 MiB over 10,000 requests.
GROWTH_ALLOWANCE = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Plan:
    inproc_budget_s: float
    warmup_s: float
    duration_s: float  # one server's run outside the interleaved comparisons (cold cache)
    rounds: int  # interleaved comparisons: rounds of one window per server
    window_s: float
    drain_s: float
    soak_total: int
    extra_startups: int


FULL = Plan(inproc_budget_s=2.5, warmup_s=3, duration_s=10, rounds=7, window_s=2, drain_s=5, soak_total=10_000,
            extra_startups=2)
QUICK = Plan(inproc_budget_s=0.4, warmup_s=1, duration_s=3, rounds=2, window_s=1, drain_s=2, soak_total=1_000,
             extra_startups=0)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def inprocess_rows(results: list[inprocess.SizeResult]) -> list[Row]:
    rows: list[Row] = []
    section = "1 in-process"
    for r in results:
        label = f"n={r.size:,} ({r.body_bytes / 1024:,.0f} KB)"
        per_ours = r.ours.p50 / r.size * 1e6
        per_naive = r.naive.p50 / r.size * 1e6
        target, ok = "", None
        if r.size == inprocess.TYPICAL_SIZE:
            target, ok = "p50 <= 5 ms", r.ours.p50 <= 0.005
        elif r.size == 10_000:
            target, ok = "p50 <= 100 ms", r.ours.p50 <= 0.100
        rows.append(Row(section, f"{label} ours p50/p99",
                        f"{ms(r.ours.p50)} / {ms(r.ours.p99)} ({per_ours:.1f} us/res, {r.ours.n} runs)",
                        target, ok))
        ratio_target, ratio_ok = "", None
        if r.size in (inprocess.TYPICAL_SIZE, 10_000):
            ratio_target, ratio_ok = ">= 20x", r.ratio >= 20
        rows.append(Row(section, f"{label} naive p50/p99",
                        f"{ms(r.naive.p50)} / {ms(r.naive.p99)} ({per_naive:.1f} us/res, {r.naive.n} runs)"))
        rows.append(Row(section, f"{label} naive/ours (p50)", f"{r.ratio:.1f}x", ratio_target, ratio_ok))
    typical = next((r for r in results if r.size == inprocess.TYPICAL_SIZE), None)
    if typical is not None:
        rows.append(Row(section, f"cards fired at n={typical.size}", ", ".join(typical.card_topics) or "none"))
    rows.append(Row(section, "cards per size", ", ".join(f"n={r.size:,}: {len(r.card_topics)}" for r in results)))
    return rows


def order_sign_rows(r: inprocess.OrderResult) -> list[Row]:
    """issue 10: the order-sign service within the patient-view in-process target."""
    section = "1 in-process"
    return [
        Row(section, f"order-sign n={r.size:,}, one draft statin: p50/p99",
            f"{ms(r.timing.p50)} / {ms(r.timing.p99)} ({r.timing.n} runs; cards: "
            f"{', '.join(r.card_topics) or 'none'})", "p50 <= 5 ms", r.timing.p50 <= 0.005),
    ]


def _load_value(r: LoadResult) -> str:
    return (f"{r.rps:,.0f} req/s, p50 {ms(r.p50_s)}, p99 {ms(r.p99_s)}, "
            f"errors {r.errors} ({r.requests:,} req in {r.duration_s:.1f} s)")


def http_rows(tool: str, body_kb: float, typical: Interleaved, plan: Plan, drain: LoadResult,
              single: float, cold: LoadResult) -> list[Row]:
    section = "2 http"
    o, f = typical.total("ours"), typical.total("floor")
    rps, p99 = typical.ratios("ours", "floor"), typical.p99_ratios("ours", "floor")
    rows = [
        Row(section, "load generator", f"{describe(tool)}; {CONCURRENCY} connections"),
        Row(section, "request", f"typical patient-view, n={inprocess.TYPICAL_SIZE} resources, {body_kb:.0f} KB"),
        Row(section, "method", f"interleaved: {plan.rounds} rounds of one {plan.window_s:g} s window per server, "
                               "order rotating; ratios are the median of the rounds'"),
        Row(section, "ours (calf-cds serve, 1 worker)", _load_value(o), "errors = 0", o.errors == 0),
        Row(section, "floor (bare FastAPI, parse + fixed card)", _load_value(f), "errors = 0", f.errors == 0),
        Row(section, "throughput ours/floor", spread(rps), ">= 0.5x", median_of(rps) >= 0.5),
        Row(section, "p99 ours/floor", spread(p99), "<= 2x", median_of(p99) <= 2),
        Row(section, "generator check: /drain (read body only)",
            f"{drain.rps:,.0f} req/s = {drain.rps / o.rps:.1f}x ours, {drain.rps / f.rps:.1f}x floor",
            ">= 2x floor", drain.rps >= 2 * f.rps),
        Row(section, "ours, one request at a time (p50)", ms(single)),
        Row(section, "ours, every chart seen for the first time (verdict cache off)",
            f"{_load_value(cold)}; {cold.rps / f.rps:.2f}x floor throughput, {cold.p99_s / f.p99_s:.2f}x floor p99"),
    ]
    return rows


REALISTIC = Path(__file__).with_name("realistic-request.json")


def _prefetch_keys() -> int:
    return len(json.loads(REALISTIC.read_text())["prefetch"])


def realistic_rows(body_kb: float, real: Interleaved) -> list[Row]:
    section = "2b realistic"
    ours, floor, hc = real.total("ours"), real.total("floor"), real.total("hc")
    of, oh, p99 = real.ratios("ours", "floor"), real.ratios("ours", "hc"), real.p99_ratios("ours", "floor")
    return [
        Row(section, "request", f"Synthea patient on simvastatin + hydrochlorothiazide (every rule runs, none fires), "
                                f"{_prefetch_keys()} prefetch keys, {body_kb:.0f} KB; interleaved like section 2"),
        Row(section, "ours (calf-cds serve, 1 worker, full evaluation)", _load_value(ours), "errors = 0", ours.errors == 0),
        Row(section, "floor (bare FastAPI, parse + fixed card)", _load_value(floor), "errors = 0", floor.errors == 0),
        Row(section, f"HealthChain {healthchain.VERSION}, trivial greeting handler", _load_value(hc), "errors = 0", hc.errors == 0),
        Row(section, "throughput ours/floor", spread(of), ">= 0.5x", median_of(of) >= 0.5),
        Row(section, "throughput ours/HealthChain", spread(oh), ">= 2x", median_of(oh) >= 2),
        Row(section, "p99 ours/floor", spread(p99), "<= 2x", median_of(p99) <= 2),
    ]


def _query_count() -> int:
    """The service's prefetch templates: one FHIR query each when nothing is prefetched."""
    from cds_service.hooks.calf_pain_review import definition
    from cds_service.terminology import Terminology

    return len(definition(Terminology.load().observation_search_codes()).prefetch)


def fallback_rows(result: fallback.Fallback) -> list[Row]:
    section = "3 fallback"
    return [
        Row(section, f"one FHIR round trip (Observation search, +{FHIR_DELAY_MS} ms delay)",
            f"p50 {ms(result.round_trip.p50)}, p99 {ms(result.round_trip.p99)} ({result.round_trip.n} runs)"),
        Row(section, f"hook call without prefetch ({_query_count()} queries)",
            f"p50 {ms(result.fallback.p50)}, p99 {ms(result.fallback.p99)} ({result.fallback.n} runs, "
            f"{result.cards} cards)"),
        Row(section, "fallback / one round trip (p50)", f"{result.ratio:.2f}x", "<= 1.5x", result.ratio <= 1.5),
    ]


def startup_rows(samples: list[float], first_calls: list[float], mem: Soak, plan: Plan) -> list[Row]:
    section = "4 start-up/memory"
    median = sorted(samples)[len(samples) // 2]
    points = ", ".join(f"{mib(rss)} @{n:,}" for n, rss in mem.points)
    allowance = max(GROWTH_ALLOWANCE, mem.rss_start // 20)
    return [
        Row(section, "start-up: process start -> first 200 GET /cds-services",
            f"median {median:.2f} s, worst {max(samples):.2f} s ({len(samples)} starts)",
            "< 2 s", median < 2.0),
        Row(section, "first hook call after start-up", ", ".join(ms(s) for s in first_calls)),
        Row(section, "worker RSS after warm-up", mib(mem.rss_start), "< 150 MiB", mem.rss_start < RSS_LIMIT),
        Row(section, f"worker RSS after {mem.requests:,} requests", mib(mem.rss_end), "< 150 MiB",
            mem.rss_end < RSS_LIMIT),
        Row(section, "RSS growth over the soak", f"{mem.growth / 1024 / 1024:+.1f} MiB ({points})",
            f"<= {mib(allowance)}" + ("" if mem.requests >= plan.soak_total else " (short soak)"),
            mem.growth <= allowance and mem.requests >= plan.soak_total),
        Row(section, "errors during the soak", str(mem.errors), "0", mem.errors == 0),
    ]


def main(argv: list[str] | None = None) -> int:
    """Run, print the table, and exit 1 when any target fails (so ``make bench`` fails)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short smoke run (figures not reference)")
    parser.add_argument("--tool", choices=["wrk", "httpx"], help="load generator (default: wrk if installed)")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    began = time.perf_counter()
    rows = measure(plan, args.tool or tool_name())
    elapsed = time.perf_counter() - began
    print(f"calf-cds benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {'QUICK (smoke) ' if args.quick else ''}"
          f"run took {elapsed:.0f} s")
    print(f"machine: {machine()}")
    print()
    print(render(rows))
    print()
    print(summary(rows))
    return exit_status(rows)


def measure(plan: Plan, tool: str) -> list[Row]:
    """Every measurement once, as table rows (a row with a target carries PASS/FAIL)."""
    rows: list[Row] = []

    log("1/4 in-process evaluation")
    rows += inprocess_rows(inprocess.run(budget_s=plan.inproc_budget_s, log=log))
    rows += order_sign_rows(inprocess.run_orders(budget_s=plan.inproc_budget_s))

    with tempfile.TemporaryDirectory(prefix="calf-bench-") as tmp, contextlib.ExitStack() as stack:
        workdir = Path(tmp)
        typical = orjson.dumps(hook_request(inprocess.TYPICAL_SIZE))
        body_path = workdir / "typical.json"
        body_path.write_bytes(typical)
        bundle_path = workdir / "bundle.json"
        bundle_path.write_bytes(orjson.dumps(synthetic_bundle(inprocess.TYPICAL_SIZE)))

        log("2/4 start-up")
        extra = startup.measure(workdir, typical, EVALUATION_TIME_ENV, plan.extra_startups)

        stub_port, ours_port, floor_port = free_port(), free_port(), free_port()
        stub = stack.enter_context(serve(
            "fhir-stub", uvicorn_argv("bench.fhir_stub:create_app", stub_port, "warning"), port=stub_port,
            ready_path="/fhir/metadata", workdir=workdir,
            env={"BENCH_STUB_BUNDLE": str(bundle_path), "BENCH_STUB_DELAY_MS": str(FHIR_DELAY_MS)}))
        ours_dir = workdir / "ours"
        ours_dir.mkdir()
        ours = stack.enter_context(serve(
            "calf-cds", calf_cds_argv(ours_port), port=ours_port, ready_path="/cds-services",
            workdir=ours_dir, env=calf_cds_env(ours_dir, EVALUATION_TIME_ENV)))
        first_call = sequential_latency(ours.base_url + HOOK_PATH, typical, 1).p50
        floor = stack.enter_context(serve(
            "floor", uvicorn_argv("bench.floor:create_app", floor_port), port=floor_port,
            ready_path="/cds-services", workdir=workdir))
        # The same service with the validation verdict cache off: every request is a
        # chart seen for the first time (the main figures repeat one chart, as a clinic
        # re-opening charts does, so validation verdicts are remembered).
        cold_port = free_port()
        cold_dir = workdir / "cold"
        cold_dir.mkdir()
        cold = stack.enter_context(serve(
            "calf-cds-cold", calf_cds_argv(cold_port), port=cold_port, ready_path="/cds-services",
            workdir=cold_dir, env={**calf_cds_env(cold_dir, EVALUATION_TIME_ENV),
                                   "CALF_CDS_VALIDATION_CACHE_SIZE": "0"}))

        hc_port = free_port()
        hc = stack.enter_context(serve(
            "healthchain", healthchain.argv(hc_port, workdir), port=hc_port,
            ready_path=healthchain.READY_PATH, workdir=workdir))

        log(f"3/4 HTTP ({tool}, {CONCURRENCY} connections, {plan.rounds} interleaved rounds of "
            f"{plan.window_s:g} s per server)")
        common = {"concurrency": CONCURRENCY, "workdir": workdir, "tool": tool}
        run_load(ours.base_url + HOOK_PATH, body_path, duration_s=plan.warmup_s, **common)
        rss_warm = ours.rss()
        typical_runs = interleaved({"ours": ours.base_url + HOOK_PATH, "floor": floor.base_url + HOOK_PATH},
                                   body_path, rounds=plan.rounds, window_s=plan.window_s,
                                   warmup_s=plan.warmup_s, **common)
        drain = run_load(floor.base_url + "/drain", body_path, duration_s=plan.drain_s, **common)
        run_load(cold.base_url + HOOK_PATH, body_path, duration_s=plan.warmup_s, **common)
        cold_run = run_load(cold.base_url + HOOK_PATH, body_path, duration_s=plan.duration_s, **common)
        log("  realistic request: ours, floor, HealthChain")
        real = interleaved({"ours": ours.base_url + HOOK_PATH, "floor": floor.base_url + HOOK_PATH,
                            "hc": hc.base_url + healthchain.HOOK_PATH},
                           REALISTIC, rounds=plan.rounds, window_s=plan.window_s, warmup_s=plan.warmup_s,
                           **common)
        single = sequential_latency(ours.base_url + HOOK_PATH, typical, 20).p50
        ours_typical = typical_runs.total("ours")
        log(f"  ours {ours_typical.rps:,.0f} req/s, floor {typical_runs.total('floor').rps:,.0f} req/s; "
            f"soak to {plan.soak_total:,}")
        mem = soak(ours, body_path, ours_typical, rss_start=rss_warm, total=plan.soak_total, log=log, **common)

        log(f"4/4 fallback fetch (stub FHIR server, {FHIR_DELAY_MS} ms per response)")
        fb = fallback.measure(ours.base_url, f"{stub.base_url}/fhir")

        rows += http_rows(tool, len(typical) / 1024, typical_runs, plan, drain, single, cold_run)
        rows += realistic_rows(REALISTIC.stat().st_size / 1024, real)
        rows += fallback_rows(fb)
        rows += startup_rows([ours.startup_s, *extra.samples], [first_call, *extra.first_call_s], mem, plan)
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
