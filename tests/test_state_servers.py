"""The PostgreSQL and Redis test servers: missing binaries skip with the reason, or fail
when CI requires the servers; a running server answers and isolates tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

import state_servers
from state_servers import PostgresServer, RedisServer, ServerUnavailable


@contextlib.contextmanager
def _absent() -> Iterator[None]:
    raise ServerUnavailable("redis-server not found: apt-get install redis-server")
    yield  # pragma: no cover


def test_missing_binaries_skip_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(state_servers.REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install redis-server"):
        with state_servers._or_skip(_absent):
            pass


def test_missing_binaries_fail_when_servers_are_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(state_servers.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="CALF_CDS_TEST_REQUIRE_SERVERS=1"):
        with state_servers._or_skip(_absent):
            pass


def test_each_postgres_database_is_new_and_empty(postgres_server: PostgresServer) -> None:
    import psycopg

    first, second = postgres_server.new_database(), postgres_server.new_database()
    assert first != second
    assert first.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    with psycopg.connect(first.replace("postgresql+psycopg", "postgresql")) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
    assert tables == (0,)


def test_redis_answers_and_flushes(redis_server: RedisServer) -> None:
    import redis

    with redis.Redis.from_url(redis_server.url) as client:
        client.set("k", "v")
        redis_server.flush()
        assert client.get("k") is None
