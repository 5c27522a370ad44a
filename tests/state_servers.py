"""Real PostgreSQL and Redis servers for the state-layer tests (Debian ``postgresql`` and
``redis-server``), started on free loopback ports under a temporary directory.

* ``postgres_server()`` / ``redis_server()``: plain context managers, for scripts.
* the session fixtures ``postgres_server`` / ``redis_server`` (registered in conftest):
  the same servers, started once per session. Without the binaries the tests that need
  them skip with the reason, unless ``CALF_CDS_TEST_REQUIRE_SERVERS=1`` (CI): then they
  fail.
* ``database_url`` / ``replay_backend``: parametrised over sqlite / postgres (/ redis),
  a fresh database (or a flushed Redis) per test.

PostgreSQL refuses to run as root, so as root the data directory is handed to the
``postgres`` user and every server command runs through ``runuser -u postgres``.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

STARTUP_TIMEOUT_S = 30.0
_POLL_S = 0.05
REQUIRE_ENV = "CALF_CDS_TEST_REQUIRE_SERVERS"


class ServerUnavailable(RuntimeError):
    """The server's binaries are not installed (the reason is in the message)."""


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _postgres_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return candidates[-1] if candidates else None


def _wait_for(check: object, process: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited early: {log.read_text(errors='replace')[-2000:]}")
        try:
            if check():  # type: ignore[operator]
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(_POLL_S)
    raise RuntimeError(f"{what} did not start in {STARTUP_TIMEOUT_S} s")


def _stop(process: subprocess.Popen[bytes], sig: int) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@dataclass
class PostgresServer:
    host: str
    port: int
    user: str = "postgres"
    _counter: itertools.count[int] = field(default_factory=itertools.count)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def new_database(self) -> str:
        """Create an empty database; return its SQLAlchemy URL."""
        import psycopg

        name = f"calf_test_{os.getpid()}_{next(self._counter)}"
        with psycopg.connect(host=self.host, port=self.port, user=self.user,
                             dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A throw-away PostgreSQL cluster on a free loopback port (trust auth, no fsync)."""
    initdb, postgres = _postgres_bin("initdb"), _postgres_bin("postgres")
    if not initdb or not postgres:
        raise ServerUnavailable("PostgreSQL binaries (initdb, postgres) not found: "
                                "apt-get install postgresql")
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    root = Path(tempfile.mkdtemp(prefix="calf-pg-"))
    data, log = root / "data", root / "postgres.log"
    if as_root:
        shutil.chown(root, "postgres")
    process = None
    try:
        subprocess.run([*prefix, initdb, "-D", str(data), "-U", "postgres", "--auth=trust",
                        "-E", "UTF8", "--no-sync"], check=True, capture_output=True)
        port = free_loopback_port()
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                [*prefix, postgres, "-D", str(data), "-p", str(port), "-h", "127.0.0.1",
                 "-k", str(root), "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off", "-c", "max_connections=200"],
                stdout=log_file, stderr=subprocess.STDOUT)
        server = PostgresServer("127.0.0.1", port)

        def ready() -> bool:
            import psycopg

            with psycopg.connect(host=server.host, port=port, user="postgres",
                                 dbname="postgres", connect_timeout=2):
                return True

        _wait_for(ready, process, log, "postgres")
        yield server
    finally:
        if process is not None and process.poll() is None:
            # runuser does not pass signals on: ask the server itself (a throw-away cluster:
            # immediate shutdown, no checkpoint).
            pg_ctl = _postgres_bin("pg_ctl")
            if pg_ctl:
                subprocess.run([*prefix, pg_ctl, "stop", "-D", str(data), "-m", "immediate", "-w"],
                               capture_output=True, timeout=30, check=False)
            import signal

            _stop(process, signal.SIGINT)
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class RedisServer:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def flush(self) -> None:
        import redis

        with redis.Redis(host=self.host, port=self.port) as client:
            client.flushall()


@contextlib.contextmanager
def redis_server() -> Iterator[RedisServer]:
    """A throw-away redis-server on a free loopback port, persisting nothing."""
    binary = shutil.which("redis-server")
    if not binary:
        raise ServerUnavailable("redis-server not found: apt-get install redis-server")
    root = Path(tempfile.mkdtemp(prefix="calf-redis-"))
    log = root / "redis.log"
    port = free_loopback_port()
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(root)],
            stdout=log_file, stderr=subprocess.STDOUT)
    try:
        server = RedisServer("127.0.0.1", port)

        def ready() -> bool:
            import redis

            with redis.Redis(host=server.host, port=port, socket_timeout=1) as client:
                return bool(client.ping())

        _wait_for(ready, process, log, "redis-server")
        yield server
    finally:
        import signal

        _stop(process, signal.SIGTERM)
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def _or_skip(starter: object) -> Iterator[object]:
    try:
        with starter() as server:  # type: ignore[operator]
            yield server
    except ServerUnavailable as exc:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{exc} ({REQUIRE_ENV}=1)")
        pytest.skip(str(exc))


@pytest.fixture(scope="session", name="postgres_server")
def postgres_server_fixture() -> Iterator[PostgresServer]:
    with _or_skip(postgres_server) as server:
        yield server  # type: ignore[misc]


@pytest.fixture(scope="session", name="redis_server")
def redis_server_fixture() -> Iterator[RedisServer]:
    with _or_skip(redis_server) as server:
        yield server  # type: ignore[misc]


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_database()


@pytest.fixture(params=["sqlite", "postgres", "redis"])
def replay_backend(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str | None]:
    """(database URL, Redis URL or None) for each place the replay cache can live."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.sqlite3'}", None
    if request.param == "postgres":
        return request.getfixturevalue("postgres_server").new_database(), None
    redis: RedisServer = request.getfixturevalue("redis_server")
    redis.flush()
    return f"sqlite:///{tmp_path / 'state.sqlite3'}", redis.url
