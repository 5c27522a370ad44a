"""Soak: ``calf-cds serve`` under fixed load for N minutes, printing the worker's RSS.

    .venv/bin/python -m bench.soak --minutes 10 --rate 20 --scenario mixed

Every call has no prefetch, so the service fetches from a loopback FHIR server that
answers per scenario: ``normal`` (a small chart), ``gzip-bomb`` (~1 MB → 1 GiB),
``big-body`` (50 MB, chunked), ``many-resources`` (200,000 resources in one page; the
count is ``--resources``), or ``mixed`` (the four in turn). Prints RSS at start (after
warm-up), peak (``VmHWM``), end, and after ``--settle`` seconds without load, and the
answers by status.

Targets (issue 8), checked at the end; the exit status is 1 when one fails:
peak within +64 MiB of the start, back to the start after the settle time (within
max(5 MiB, 5 %), the benchmark's growth allowance), and no answer but 200 or 412.
Not run in CI: it measures memory, tests do not.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import orjson

from .procs import HOST, calf_cds_argv, calf_cds_env, free_port, rss_bytes, serve

MIB = 1024 * 1024
PEAK_ALLOWANCE = 64 * MIB
SCENARIOS = ("normal", "gzip-bomb", "big-body", "many-resources")


def _vm(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0


class FhirStub:
    """A hostile loopback FHIR server on its own thread and event loop."""

    def __init__(self, resources: int = 200_000) -> None:
        self.port = free_port()
        self.scenario = "normal"
        member = gzip.compress(b"\0" * MIB, compresslevel=9)
        self.bomb = member * 1024
        tiny = {"resourceType": "Observation", "id": "o", "status": "final",
                "subject": {"reference": "Patient/p1"}, "code": {"text": "x"}}
        many = {"resourceType": "Bundle", "type": "searchset",
                "entry": [{"resource": tiny}] * resources}
        self.many = orjson.dumps(many)
        self.patient = orjson.dumps({"resourceType": "Patient", "id": "p1", "gender": "male",
                                     "birthDate": "1950-01-01"})
        self.empty = orjson.dumps({"resourceType": "Bundle", "type": "searchset", "entry": []})
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(asyncio.start_server(self._serve, HOST, self.port))
        self._loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                target = head.split(b" ", 2)[1].decode()
                await self._answer(target, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.transport.abort()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _answer(self, target: str, writer: asyncio.StreamWriter) -> None:
        def send(body: bytes, extra: str = "") -> None:
            writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body)

        if "/Patient/" in target:
            send(self.patient)
        elif self.scenario == "gzip-bomb":
            send(self.bomb, "Content-Encoding: gzip\r\n")
        elif self.scenario == "many-resources":
            send(self.many)
        elif self.scenario == "big-body":
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            piece = b"10000\r\n" + b" " * 0x10000 + b"\r\n"
            for _ in range(800):
                writer.write(piece)
                await writer.drain()
            writer.write(b"0\r\n\r\n")
        else:
            send(self.empty)
        await writer.drain()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=20.0, help="hook calls per second")
    parser.add_argument("--scenario", choices=(*SCENARIOS, "mixed"), default="mixed")
    parser.add_argument("--resources", type=int, default=200_000,
                        help="resources in the many-resources page (20,000 is the default "
                             "resource bound and fits the default byte limits)")
    parser.add_argument("--settle", type=float, default=15.0,
                        help="seconds without load before the last RSS reading")
    args = parser.parse_args(argv)
    stub = FhirStub(args.resources)
    body = {"hook": "patient-view", "hookInstance": "soak",
            "fhirServer": f"http://{HOST}:{stub.port}/fhir",
            "context": {"userId": "Practitioner/soak", "patientId": "p1"}}
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        env = calf_cds_env(workdir, "2026-11-21T12:00:00Z")
        with serve("calf-cds", calf_cds_argv(port), port=port, ready_path="/cds-services",
                   workdir=workdir, env=env) as server, httpx.Client(trust_env=False, timeout=30) as client:
            url = f"{server.base_url}/cds-services/calf-pain-review"
            for _ in range(20):  # warm-up
                client.post(url, json=body)
            start_rss = rss_bytes(server.pid)
            print(f"RSS start {start_rss / MIB:.1f} MiB (after warm-up)", flush=True)
            statuses: Counter[str] = Counter()
            interval = 1.0 / args.rate
            ends = time.monotonic() + args.minutes * 60
            sent = 0
            next_report = time.monotonic() + 30
            while time.monotonic() < ends:
                stub.scenario = SCENARIOS[sent % 4] if args.scenario == "mixed" else args.scenario
                t0 = time.monotonic()
                response = client.post(url, json=body)
                statuses[f"{stub.scenario} {response.status_code}"] += 1
                sent += 1
                if time.monotonic() > next_report:
                    print(f"  {sent} calls, RSS {rss_bytes(server.pid) / MIB:.1f} MiB", flush=True)
                    next_report += 30
                time.sleep(max(0.0, interval - (time.monotonic() - t0)))
            end_rss = rss_bytes(server.pid)
            peak = _vm(server.pid, "VmHWM")
            print(f"RSS end   {end_rss / MIB:.1f} MiB; peak {peak / MIB:.1f} MiB; "
                  f"end - start {(end_rss - start_rss) / MIB:+.1f} MiB")
            for waited in sorted({5.0, args.settle}):
                time.sleep(max(0.0, waited - (time.monotonic() - ends)))
                idle_rss = rss_bytes(server.pid)
                print(f"  {time.monotonic() - ends:.0f} s without load: RSS {idle_rss / MIB:.1f} MiB", flush=True)
            for key, count in sorted(statuses.items()):
                print(f"  {key}: {count}")
    allowance = max(5 * MIB, start_rss // 20)
    unexpected = sum(n for key, n in statuses.items() if key.rsplit(" ", 1)[1] not in ("200", "412"))
    checks = [
        (f"peak - start {(peak - start_rss) / MIB:+.1f} MiB", "<= +64 MiB", peak - start_rss <= PEAK_ALLOWANCE),
        (f"after {args.settle:.0f} s without load - start {(idle_rss - start_rss) / MIB:+.1f} MiB",
         f"<= +{allowance / MIB:.1f} MiB", idle_rss - start_rss <= allowance),
        (f"answers other than 200/412: {unexpected}", "0", unexpected == 0),
    ]
    for measure, target, ok in checks:
        print(f"{measure:<52} {target:<14} {'PASS' if ok else 'FAIL'}")
    return 0 if all(ok for *_, ok in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
