"""Redis backend (``CALF_CDS_REDIS_URL``, driver from the ``redis`` extra): the replay and
JWK Set caches, for deployments whose replicas share one Redis.

The replay claim is ``SET key 1 NX PX ttl`` (https://redis.io/docs/latest/commands/set/):
atomic on the server, so of two workers or replicas claiming one ``jti`` exactly one
succeeds, and Redis forgets the key when the token can no longer be valid. The client is
the synchronous one, called from the thread pool, so it is not bound to an event loop.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import anyio.to_thread

from .jwks import CachedJwkSet

KEY_PREFIX = "calf-cds:"
SOCKET_TIMEOUT_S = 2.0


def connect(url: str) -> Any:
    """A client for ``url`` (connections are opened on first use)."""
    import redis

    return redis.Redis.from_url(
        url, socket_timeout=SOCKET_TIMEOUT_S, socket_connect_timeout=SOCKET_TIMEOUT_S
    )


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def ping(client: Any) -> str | None:
    """None when Redis answers, else a one-line problem (never the URL: it may hold a password)."""
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure is "not reachable"
        return f"redis not reachable: {type(exc).__name__}"
    return None


class RedisReplayCache:
    def __init__(self, client: Any) -> None:
        self._client = client

    async def first_use(self, key: str, expires_at: float, now: float) -> bool:
        return await anyio.to_thread.run_sync(self.first_use_sync, key, expires_at, now)

    def first_use_sync(self, key: str, expires_at: float, now: float) -> bool:
        ttl_ms = max(1, math.ceil((expires_at - now) * 1000))
        done = self._client.set(f"{KEY_PREFIX}jti:{_digest(key)}", b"1", nx=True, px=ttl_ms)
        return bool(done)


class RedisJwksCache:
    """Documents kept for ``ttl_s`` (the JWK Set cache lifetime), then forgotten by Redis."""

    def __init__(self, client: Any, ttl_s: float) -> None:
        self._client = client
        self._ttl_ms = max(1, math.ceil(ttl_s * 1000))

    async def get(self, url: str) -> CachedJwkSet | None:
        return await anyio.to_thread.run_sync(self._get, url)

    async def put(self, url: str, document: bytes, fetched_at: float) -> None:
        await anyio.to_thread.run_sync(self._put, url, document, fetched_at)

    def _get(self, url: str) -> CachedJwkSet | None:
        raw = self._client.get(f"{KEY_PREFIX}jwks:{_digest(url)}")
        if not isinstance(raw, bytes):
            return None
        stamp, sep, document = raw.partition(b"\n")
        try:
            fetched_at = float(stamp)
        except ValueError:
            return None
        return CachedJwkSet(document, fetched_at) if sep else None

    def _put(self, url: str, document: bytes, fetched_at: float) -> None:
        value = repr(float(fetched_at)).encode() + b"\n" + document
        self._client.set(f"{KEY_PREFIX}jwks:{_digest(url)}", value, px=self._ttl_ms)
