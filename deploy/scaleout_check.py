"""Scale-out proven on one machine: two replicas x two workers behind HAProxy.

    .venv/bin/python -m deploy.scaleout_check [--posts 5000] [--clients 16]

Starts PostgreSQL and Redis (Debian packages, temporary directories, free loopback ports),
migrates the database, starts two ``calf-cds serve --workers 2`` replicas sharing them,
and HAProxy in front with a ``/readyz`` health check. Then it shows:

1. a JWT accepted by replica A is refused when replayed to replica B (and through the
   load balancer);
2. feedback posts from concurrent clients are stored exactly once: each post's body is
   deterministic per card, so a client that retries after a failure stores nothing twice;
3. replica B killed with SIGKILL mid-run costs only its in-flight requests: HAProxy's
   health check marks it DOWN, every later post succeeds, and no acknowledged feedback is
   missing from the database.

Prints one line per check and exits non-zero when any fails. ``tests/test_deploy.py`` runs
it (slow-marked) in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from state_servers import postgres_server, redis_server  # noqa: E402

from cds_service.evaluate import request_from_bundle  # noqa: E402

ISSUER = "https://ehr.scaleout.example.org"
KID = "scaleout-1"
SERVICE = "calf-pain-review"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Checks:
    lines: list[tuple[bool, str]] = field(default_factory=list)

    def check(self, ok: bool, text: str) -> None:
        self.lines.append((ok, text))
        print(("PASS " if ok else "FAIL ") + text, flush=True)

    @property
    def ok(self) -> bool:
        return all(ok for ok, _ in self.lines)


class Signer:
    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP384R1())
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        public.update({"kid": KID, "alg": "ES384", "use": "sig"})
        self.jwks = {"keys": [public]}

    def token(self, aud: str) -> str:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": aud, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4())}
        return jwt.encode(claims, self.key, algorithm="ES384", headers={"kid": KID, "typ": "JWT"})


def wait_http(url: str, timeout_s: float = 60.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            log = getattr(proc, "log_path", None)
            tail = Path(log).read_text(errors="replace")[-2000:] if log else ""
            raise RuntimeError(f"process for {url} exited with {proc.returncode}\n{tail}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not become ready in {timeout_s:.0f} s")


@contextlib.contextmanager
def replicas(env: dict[str, str], ports: list[int], logdir: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    calf = str(Path(sys.executable).with_name("calf-cds"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for i, port in enumerate(ports):
            log_path = logdir / f"replica-{i}.log"
            log = open(log_path, "wb")  # noqa: SIM115 (closed with the process)
            proc = subprocess.Popen(
                [calf, "serve", "--port", str(port), "--workers", "2"],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
            proc.log_path = log_path  # type: ignore[attr-defined]
            procs.append(proc)
        for port, proc in zip(ports, procs, strict=True):
            wait_http(f"http://127.0.0.1:{port}/readyz", proc=proc)
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@contextlib.contextmanager
def haproxy(port: int, backends: list[int], workdir: Path) -> Iterator[Path]:
    sock = workdir / "haproxy.sock"
    servers = "\n".join(
        f"    server r{i} 127.0.0.1:{p} check inter 300ms fall 2 rise 2" for i, p in enumerate(backends)
    )
    cfg = workdir / "haproxy.cfg"
    cfg.write_text(
        f"""global
    maxconn 2048
    stats socket {sock} mode 600 level admin

defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    # Without it a check times out after `inter` (300 ms): a /readyz slowed by the
    # 16-client load on a 2-core host counted as a failure and took the survivor out.
    timeout check 2s
    retries 0

frontend cds
    bind 127.0.0.1:{port}
    default_backend calf_cds

backend calf_cds
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
{servers}
"""
    )
    proc = subprocess.Popen(
        ["haproxy", "-f", str(cfg), "-db"], stdout=open(workdir / "haproxy.log", "wb"),  # noqa: SIM115
        stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc=proc)
        yield sock
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def server_states(sock: Path) -> dict[str, str]:
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(sock))
        s.sendall(b"show stat\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    states: dict[str, str] = {}
    for line in data.decode().splitlines():
        cols = line.split(",")
        if len(cols) > 17 and cols[0] == "calf_cds" and cols[1] not in ("FRONTEND", "BACKEND"):
            states[cols[1]] = cols[17]
    return states


def hook_body() -> dict[str, Any]:
    bundle = json.loads((ROOT / "fixtures/patients/01-statin-diuretic-multi-card.json").read_text())
    return request_from_bundle(bundle)


def feedback_body(card: str, outcome_at: str) -> dict[str, Any]:
    return {"feedback": [{"card": card, "outcome": "overridden", "outcomeTimestamp": outcome_at}]}


async def post_feedback(
    lb: str, signer: Signer, cards: list[str], clients: int, kill_at: int, kill: Any
) -> tuple[int, int, set[str], int]:
    """Returns (stored total, failed attempts, acknowledged cards, posts after the kill)."""
    path = f"/cds-services/{SERVICE}/feedback"
    queue: asyncio.Queue[str] = asyncio.Queue()
    for card in cards:
        queue.put_nowait(card)
    stored = 0
    failures = 0
    acknowledged: set[str] = set()
    done = 0
    after_kill = 0
    killed = asyncio.Event()
    statuses: list[str] = []

    async def worker() -> None:
        nonlocal stored, failures, done, after_kill
        async with httpx.AsyncClient(base_url=lb, timeout=10.0) as client:
            while True:
                try:
                    card = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                body = feedback_body(card, "2026-11-21T10:05:31Z")
                for _attempt in range(20):
                    headers = {"Authorization": f"Bearer {signer.token('http://scaleout' + path)}"}
                    try:
                        response = await client.post(path, json=body, headers=headers)
                    except httpx.HTTPError:
                        failures += 1
                        await asyncio.sleep(0.2)
                        continue
                    if response.status_code == 200:
                        stored += int(response.json()["stored"])
                        acknowledged.add(card)
                        break
                    failures += 1
                    if response.status_code < 500:  # a refusal is final: never retried
                        statuses.append(f"{response.status_code} {response.text[:200]}")
                        break
                    if len(statuses) < 5:
                        statuses.append(f"{response.status_code} {response.text[:200]}")
                    await asyncio.sleep(0.2)
                done += 1
                if killed.is_set():
                    after_kill += 1
                if done == kill_at and not killed.is_set():
                    killed.set()
                    kill()

    await asyncio.gather(*(worker() for _ in range(clients)))
    for status in statuses:
        print(f"  refused feedback post: {status}", flush=True)
    return stored, failures, acknowledged, after_kill


def count_feedback(database_url: str, cards: list[str]) -> int:
    import sqlalchemy

    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sqlalchemy.text("SELECT card_uuid FROM feedback")).scalars().all()
    finally:
        engine.dispose()
    wanted = set(cards)
    return sum(1 for r in rows if str(r) in wanted)


def run(posts: int, clients: int) -> bool:
    checks = Checks()
    signer = Signer()
    with tempfile.TemporaryDirectory(prefix="calf-scaleout-") as tmp, postgres_server() as pg, redis_server() as rd:
        work = Path(tmp)
        jwks = work / "jwks.json"
        jwks.write_text(json.dumps(signer.jwks))
        lb_port = free_port()
        ports = [free_port(), free_port()]
        env = dict(os.environ)
        database_url = pg.new_database()
        env.update({
            "CALF_CDS_PROFILE": "prod",
            "CALF_CDS_DATABASE_URL": database_url,
            "CALF_CDS_REDIS_URL": rd.url,
            # The EHR addresses the load balancer; every replica checks aud against it.
            "CALF_CDS_PUBLIC_BASE_URL": "http://scaleout",
            "CALF_CDS_AUTH_TRUSTED_ISSUERS": json.dumps([ISSUER]),
            "CALF_CDS_AUTH_ISSUER_JWKS": json.dumps({ISSUER: str(jwks)}),
            "CALF_CDS_FHIR_ALLOWED_HOSTS": json.dumps(["fhir.scaleout.example.org"]),
            "CALF_CDS_EVALUATION_TIME": "2026-11-21T12:00:00Z",
            "CALF_CDS_LOG_FORMAT": "json",
        })
        upgrade = subprocess.run(
            [str(Path(sys.executable).with_name("calf-cds")), "db", "upgrade"],
            env=env, capture_output=True, text=True, timeout=120,
        )
        checks.check(upgrade.returncode == 0, f"calf-cds db upgrade on PostgreSQL (exit {upgrade.returncode})")
        with replicas(env, ports, work) as procs, haproxy(lb_port, ports, work) as stats:
            lb = f"http://127.0.0.1:{lb_port}"
            a, b = (f"http://127.0.0.1:{p}" for p in ports)
            service_path = f"/cds-services/{SERVICE}"
            body = hook_body()
            token = signer.token("http://scaleout" + service_path)
            first = httpx.post(a + service_path, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30)
            replay = httpx.post(b + service_path, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30)
            checks.check(first.status_code == 200 and replay.status_code == 401,
                         f"JWT accepted by replica A ({first.status_code}), replay to replica B refused ({replay.status_code})")
            token = signer.token("http://scaleout" + service_path)
            via_lb = [httpx.post(lb + service_path, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30).status_code for _ in range(4)]
            checks.check(via_lb.count(200) == 1 and via_lb.count(401) == 3,
                         f"one JWT sent 4 times through HAProxy (both replicas): {via_lb}")
            cards = [c["uuid"] for c in first.json().get("cards", [])]
            checks.check(len(cards) > 0, f"replica A issued {len(cards)} cards for the fixture chart")
            # Feedback needs one card uuid per post: the issued ones, then fresh uuids
            # (stored with the topic their UUIDv8 carries, or none).
            post_cards = (cards + [str(uuid.uuid4()) for _ in range(posts)])[:posts]

            states_before = server_states(stats)
            checks.check(set(states_before.values()) == {"UP"}, f"HAProxy sees both replicas UP: {states_before}")

            started = time.monotonic()

            def kill_b() -> None:
                os.killpg(procs[1].pid, signal.SIGKILL)

            stored, failures, acknowledged, after_kill = asyncio.run(
                post_feedback(lb, signer, post_cards, clients, posts // 2, kill_b)
            )
            elapsed = time.monotonic() - started
            in_db = count_feedback(database_url, post_cards)
            checks.check(
                in_db == posts and len(acknowledged) == posts and posts - failures <= stored <= posts,
                f"{posts} feedback posts from {clients} clients in {elapsed:.1f} s: "
                f"stored {stored}, in the database {in_db}, acknowledged {len(acknowledged)}",
            )
            checks.check(after_kill > 0, f"{after_kill} posts completed after replica B was killed")
            checks.check(failures <= clients * 4,
                         f"killing replica B cost {failures} failed attempts (in-flight and before the health check; bound {clients * 4})")
            deadline = time.monotonic() + 10
            states_after = server_states(stats)
            while states_after.get("r1") == "UP" and time.monotonic() < deadline:
                time.sleep(0.3)
                states_after = server_states(stats)
            checks.check(states_after.get("r0") == "UP" and states_after.get("r1", "").startswith("DOWN"),
                         f"HAProxy health check took replica B out: {states_after}")
            after = [httpx.post(lb + f"/cds-services/{SERVICE}/feedback", json=feedback_body(str(uuid.uuid4()), "2026-11-21T11:00:00Z"),
                                headers={"Authorization": f"Bearer {signer.token('http://scaleout/cds-services/' + SERVICE + '/feedback')}"},
                                timeout=10).status_code for _ in range(50)]
            checks.check(after.count(200) == 50, f"50 posts after the health check: {after.count(200)} answered 200")
    print(("scale-out check passed" if checks.ok else "scale-out check FAILED") + f" ({sum(ok for ok, _ in checks.lines)}/{len(checks.lines)})")
    return checks.ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args(argv)
    return 0 if run(args.posts, args.clients) else 1


if __name__ == "__main__":
    raise SystemExit(main())
