"""Replays are refused across workers and across replicas: real ``calf-cds serve``
processes (uvicorn) sharing one SQLite file, or one PostgreSQL database and one Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from jwt_keys import SigningKey
from state_servers import PostgresServer, RedisServer, free_loopback_port
from support import ROOT

PUBLIC = "https://cds.example.test"
AUD = f"{PUBLIC}/cds-services"
SENDS = 40
STARTUP_S = 60.0


@contextmanager
def _serve_all(envs: list[dict[str, str]], logs: list[Path], workers: int = 1) -> Iterator[list[int]]:
    """``calf-cds serve`` processes started together on free ports; yields their ports once
    every worker of every process has started."""
    ports = [free_loopback_port() for _ in envs]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for port, env, log in zip(ports, envs, logs, strict=True):
            full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                        "CALF_CDS_LOG_LEVEL": "INFO", **env}
            with log.open("wb") as out:
                processes.append(subprocess.Popen(
                    [sys.executable, "-m", "cds_service", "serve", "--port", str(port),
                     "--workers", str(workers)],
                    cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + STARTUP_S
        for process, log in zip(processes, logs, strict=True):
            while log.read_text(errors="replace").count("Application startup complete") < workers:
                assert process.poll() is None, log.read_text(errors="replace")[-3000:]
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.1)
        yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def _send_on_new_connection(port: int, token: str) -> int:
    # A fresh client per request: a new TCP connection, so any worker may take it.
    with httpx.Client(trust_env=False, timeout=10) as client:
        response = client.get(f"http://127.0.0.1:{port}/cds-services",
                              headers={"Authorization": f"Bearer {token}", "Connection": "close"})
        return response.status_code


def test_two_workers_on_sqlite_refuse_a_replayed_jwt(tmp_path: Path) -> None:
    key = SigningKey.generate()
    env = {"CALF_CDS_DATABASE_URL": f"sqlite:///{tmp_path / 'state.sqlite3'}", **key.auth_env(PUBLIC)}
    with _serve_all([env], [tmp_path / "serve.log"], workers=2) as [port]:
        # Both workers answer (each logs its own start-up); the token is then replayed.
        assert _send_on_new_connection(port, key.token(AUD)) == 200
        token = key.token(AUD)
        statuses = [_send_on_new_connection(port, token) for _ in range(SENDS)]
    assert statuses == [200] + [401] * (SENDS - 1)


def test_two_replicas_on_postgres_and_redis_refuse_a_replayed_jwt(
    tmp_path: Path, postgres_server: PostgresServer, redis_server: RedisServer
) -> None:
    redis_server.flush()
    key = SigningKey.generate()
    env = {"CALF_CDS_DATABASE_URL": postgres_server.new_database(),
           "CALF_CDS_REDIS_URL": redis_server.url, **key.auth_env(PUBLIC)}
    logs = [tmp_path / "replica-0.log", tmp_path / "replica-1.log"]
    # Started together on an empty database: the schema is created once (under a lock).
    with _serve_all([env, env], logs) as ports:
        token = key.token(AUD)
        statuses = [_send_on_new_connection(ports[i % 2], token) for i in range(SENDS)]
        # A replayed token is refused by the replica that did not see it first, too.
        fresh = key.token(AUD)
        assert _send_on_new_connection(ports[1], fresh) == 200
        assert _send_on_new_connection(ports[0], fresh) == 401
    assert statuses == [200] + [401] * (SENDS - 1)
