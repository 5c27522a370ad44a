"""Everything a request handler needs, built once per app (no import-time globals)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import httpx
import orjson
from fastapi import Request

from ..auth import AuthConfig, JwtVerifier
from ..config import Settings
from ..errors import Unauthorized
from ..state import IssuedCard, State
from ..hooks.base import Registry
from ..instrumented_http import InstrumentedTransport
from ..metrics import Metrics
from ..outbound import AddressPolicy, guarded_client
from ..pipeline import IssuedCardInfo, Pipeline

log = logging.getLogger("cds_service.api")


class AppState:
    def __init__(
        self,
        settings: Settings,
        registry: Registry,
        pipeline: Pipeline,
        shared: State | None,
        http_client: httpx.AsyncClient | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.pipeline = pipeline
        # Shared state: feedback, issued cards, replay and JWK Set caches (``readiness()``).
        self.shared = shared
        self.feedback_store = shared.feedback if shared is not None else None
        self._http = http_client
        self._owns_http = http_client is None
        self.discovery_body = orjson.dumps(
            {"services": [d.discovery_entry() for d in registry.definitions]}
        )
        self._verifier: JwtVerifier | None = None
        self.metrics = metrics or Metrics(
            known_services=[d.id for d in registry.definitions],
            known_topics=pipeline.catalog.topics,
        )

    def http(self) -> httpx.AsyncClient:
        """One shared client per app (FHIR and jku): every connection passes the guard."""
        if self._http is None:
            client = guarded_client(
                AddressPolicy.build(
                    allow_private=self.settings.outbound_private_allowed,
                    networks=self.settings.outbound_allowed_networks,
                )
            )
            # Every outbound request (FHIR, jku) is timed for the metrics, behind the guard.
            client._transport = InstrumentedTransport(client._transport, self.metrics)
            self._http = client
        return self._http

    async def aclose(self) -> None:
        if self._http is not None and self._owns_http:
            await self._http.aclose()
            self._http = None
        if self.shared is not None:
            self.shared.close()

    def audience(self, request: Request) -> str:
        return self.settings.public_base_url.rstrip("/") + request.url.path

    async def authenticate(self, request: Request) -> None:
        if not self.settings.auth_is_enabled:
            return
        if self._verifier is None:
            shared = self.shared
            self._verifier = JwtVerifier(
                AuthConfig.from_settings(self.settings),
                self.http(),
                replay_cache=shared.replay if shared is not None else None,
                jwks_cache=shared.jwks if shared is not None else None,
            )
        try:
            claims = await self._verifier.verify(
                request.headers.get("authorization"), self.audience(request)
            )
        except Unauthorized as exc:
            log.info("rejected client JWT: %s", exc.message)
            raise
        log.debug("client authenticated: iss=%s", claims.get("iss"))

    async def record_issued(
        self, service_id: str, hook_instance: str, issued: Sequence[IssuedCardInfo]
    ) -> None:
        """Queue the issued cards on the store's writer (run as a background task).

        Async on purpose: Starlette runs a sync background task in the thread pool, and one
        pool thread per request, each writing to SQLite, is what starved writers past the
        busy timeout and grew the worker's native memory under load. Queueing is
        non-blocking, so it runs on the event loop; the store writes in batches.
        """
        if self.feedback_store is None:
            return
        now = datetime.now(UTC)
        try:
            self.feedback_store.enqueue_issued(
                [
                    IssuedCard(
                        card_uuid=i.uuid,
                        service_id=service_id,
                        topic=i.topic,
                        card_version=i.version,
                        hook_instance=hook_instance,
                        issued_at=now,
                    )
                    for i in issued
                ]
            )
        except Exception:  # a storage hiccup must never break the clinical answer
            log.exception("could not record issued cards")
