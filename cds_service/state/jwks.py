"""JWK Set cache shared by workers: the raw document fetched from an allowlisted ``jku``
and when it was fetched, so one fetch serves every worker and replica.

The verifier keeps its own parsed copy per process and consults this cache before it
fetches; a document found here is parsed and checked exactly like a fetched one. The
service writes it only after a successful fetch from the allowlisted URL; whoever else can
write to the database or Redis could vouch keys, so those stores are trusted like the
configuration (credentials, private network). Backends:
:class:`cds_service.state.sql.SqlJwksCache` and
:class:`cds_service.state.redis_backend.RedisJwksCache`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class CachedJwkSet:
    document: bytes
    fetched_at: float  # Unix time of the successful fetch


class JwksCache(Protocol):
    async def get(self, url: str) -> CachedJwkSet | None: ...

    async def put(self, url: str, document: bytes, fetched_at: float) -> None: ...
