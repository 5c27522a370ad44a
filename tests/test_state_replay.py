"""The shared replay and JWK Set caches on every backend (SQLite, PostgreSQL, Redis): one
atomic set-if-absent per jti, so a token is accepted once across workers and replicas."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from cds_service.auth import AuthConfig, JwtVerifier
from cds_service.config import Settings
from cds_service.errors import Unauthorized
from cds_service.state import State
from cds_service.state.replay import MemoryReplayCache, ReplayCacheFull
from cds_service.state.sql import SqlReplayCache
from jwt_keys import ISSUER, SigningKey
from state_servers import free_loopback_port

AUD = "https://cds.example.test/cds-services/calf-pain-review"
NOW = time.time()


def _open(backend: tuple[str, str | None]) -> State:
    database_url, redis_url = backend
    return State.open(Settings(database_url=database_url, redis_url=redis_url))


@pytest.fixture
def state(replay_backend: tuple[str, str | None]) -> Iterator[State]:
    s = _open(replay_backend)
    yield s
    s.close()


async def test_a_key_is_claimed_once(state: State) -> None:
    assert await state.replay.first_use("iss\njti-1", NOW + 300, NOW)
    assert not await state.replay.first_use("iss\njti-1", NOW + 300, NOW + 1)
    assert await state.replay.first_use("iss\njti-2", NOW + 300, NOW)
    # Keys of any length and content (a jti is client-chosen).
    odd = "iss\n" + "\u00e9\u0000" * 5000
    assert await state.replay.first_use(odd, NOW + 300, NOW)
    assert not await state.replay.first_use(odd, NOW + 300, NOW)


async def test_the_backend_is_the_configured_one(
    state: State, replay_backend: tuple[str, str | None]
) -> None:
    expected = "RedisReplayCache" if replay_backend[1] else "SqlReplayCache"
    assert type(state.replay).__name__ == expected
    assert state.readiness() == []


def test_concurrent_claims_from_separate_workers_succeed_once(
    replay_backend: tuple[str, str | None],
) -> None:
    # Each "worker" has its own State (own engine / Redis connection), as processes do.
    workers = 12
    states = [_open(replay_backend) for _ in range(workers)]
    start = threading.Barrier(workers)

    def claim(index: int) -> bool:
        cache: Any = states[index].replay
        start.wait()
        return bool(cache.first_use_sync("iss\nraced", NOW + 300, NOW))

    try:
        for _round in range(3):
            with ThreadPoolExecutor(max_workers=workers) as pool:
                results = list(pool.map(claim, range(workers)))
            assert results.count(True) == (1 if _round == 0 else 0)
    finally:
        for s in states:
            s.close()


async def test_expiry_frees_the_key_on_sql(database_url: str) -> None:
    state = State.open(Settings(database_url=database_url))
    try:
        cache = state.replay
        assert isinstance(cache, SqlReplayCache)
        assert await cache.first_use("iss\nj", NOW + 10, NOW)
        assert not await cache.first_use("iss\nj", NOW + 10, NOW + 9)
        # Past its expiry the token cannot be valid any more: the key may be used again.
        assert await cache.first_use("iss\nj", NOW + 30, NOW + 11)
        assert not await cache.first_use("iss\nj", NOW + 30, NOW + 12)
    finally:
        state.close()


async def test_expired_rows_are_purged_on_sql(database_url: str) -> None:
    state = State.open(Settings(database_url=database_url))
    try:
        cache = SqlReplayCache(state.db, purge_interval_s=0.0)
        for i in range(5):
            assert await cache.first_use(f"iss\nold-{i}", NOW + 10, NOW)
        assert cache.count() == 5
        assert await cache.first_use("iss\nnew", NOW + 500, NOW + 100)
        assert cache.count() == 1
    finally:
        state.close()


async def test_redis_keys_expire_with_the_token(redis_server: Any) -> None:
    redis_server.flush()
    state = State.open(Settings(database_url="sqlite://", redis_url=redis_server.url))
    try:
        assert await state.replay.first_use("iss\nttl", NOW + 120, NOW)
        [key] = state.redis.keys("calf-cds:jti:*")
        assert 0 < state.redis.pttl(key) <= 120_000
    finally:
        state.close()


async def test_memory_cache_fails_closed_when_full() -> None:
    cache = MemoryReplayCache(max_entries=1)
    assert await cache.first_use("a", NOW + 10, NOW)
    with pytest.raises(ReplayCacheFull):
        await cache.first_use("b", NOW + 10, NOW)


def _verifier(state: State | None, http: httpx.AsyncClient, key: SigningKey,
              jku: str | None = None) -> JwtVerifier:
    if jku is None:
        config = AuthConfig(trusted_issuers=(ISSUER,),
                            issuer_jwks={ISSUER: json.dumps(key.jwks())}, jku_allowlist=())
    else:
        config = AuthConfig(trusted_issuers=(ISSUER,), issuer_jwks={}, jku_allowlist=(jku,))
    return JwtVerifier(config, http,
                       replay_cache=state.replay if state else None,
                       jwks_cache=state.jwks if state else None)


async def test_a_token_accepted_by_one_worker_is_refused_by_another(
    replay_backend: tuple[str, str | None],
) -> None:
    key = SigningKey.generate()
    first, second = _open(replay_backend), _open(replay_backend)
    try:
        async with httpx.AsyncClient() as http:
            a, b = _verifier(first, http, key), _verifier(second, http, key)
            token = f"Bearer {key.token(AUD)}"
            assert await a.verify(token, AUD)
            with pytest.raises(Unauthorized, match="jti replayed"):
                await b.verify(token, AUD)
            with pytest.raises(Unauthorized, match="jti replayed"):
                await a.verify(token, AUD)
    finally:
        first.close()
        second.close()


async def test_an_unreachable_replay_store_fails_closed() -> None:
    key = SigningKey.generate()
    dead = f"redis://127.0.0.1:{free_loopback_port()}/0"
    state = State.open(Settings(database_url="sqlite://", redis_url=dead))
    try:
        assert any("redis not reachable" in p for p in state.readiness())
        async with httpx.AsyncClient() as http:
            with pytest.raises(Unauthorized, match="replay cache unavailable"):
                await _verifier(state, http, key).verify(f"Bearer {key.token(AUD)}", AUD)
    finally:
        state.close()


class _JwksServer:
    """A real HTTP server publishing one JWK Set, counting the fetches."""

    def __init__(self, document: dict[str, Any]) -> None:
        body = json.dumps(document).encode()
        self.fetches = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                outer.fetches += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


async def test_a_jwk_set_fetched_by_one_worker_serves_the_others(
    replay_backend: tuple[str, str | None],
) -> None:
    key = SigningKey.generate()
    server = _JwksServer(key.jwks())
    first, second = _open(replay_backend), _open(replay_backend)
    try:
        async with httpx.AsyncClient(trust_env=False) as http:
            a = _verifier(first, http, key, jku=server.url)
            b = _verifier(second, http, key, jku=server.url)
            assert await a.verify(f"Bearer {key.token(AUD, jku=server.url)}", AUD)
            assert await b.verify(f"Bearer {key.token(AUD, jku=server.url)}", AUD)
            assert server.fetches == 1
            stored = await second.jwks.get(server.url)
            assert stored is not None and json.loads(stored.document) == key.jwks()
            # Without the shared cache each worker fetches for itself.
            alone = _verifier(None, http, key, jku=server.url)
            assert await alone.verify(f"Bearer {key.token(AUD, jku=server.url)}", AUD)
            assert server.fetches == 2
    finally:
        first.close()
        second.close()
        server.close()


def test_sqlite_caches_skip_the_fsync_but_feedback_keeps_it(tmp_path: Path) -> None:
    state = State.open(Settings(database_url=f"sqlite:///{tmp_path / 'state.sqlite3'}"))
    try:
        cache_db = state.replay._db  # type: ignore[attr-defined]
        assert cache_db is not state.db
        with cache_db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        with state.db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    finally:
        state.close()
