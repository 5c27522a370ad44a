"""create_app(settings): the composition root. No import-time globals.

It loads the value sets and the card catalogue (failing fast on a bad card), opens the
shared state (database, Redis), registers the services, and maps the error tree to HTTP
in one place.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match

from .api.cors import OutcomeCORSMiddleware
from .api.health import build_health_router
from .api.middleware import RequestContextMiddleware
from .api.openapi import install_openapi
from .api.limits import ConcurrencyLimit
from .api.outcome import outcome_response
from .api.routes import build_router
from .api.state import AppState
from .config import Settings
from .errors import CdsError, Unauthorized
from .state import State
from .hooks import calf_pain_review, calf_safe_prescribing
from .hooks.base import Registry
from .logging_setup import install_redaction
from .pipeline import Pipeline

log = logging.getLogger("cds_service")

GC_YOUNG_THRESHOLD = 20_000


def create_app(
    settings: Settings | None = None,
    *,
    cards_dir: Path | None = None,
    http_client: httpx.AsyncClient | None = None,
    pipeline: Pipeline | None = None,
) -> FastAPI:
    """Build the ASGI app. ``settings=None`` reads the environment (``CALF_CDS_*``)."""
    settings = settings or Settings()
    install_redaction()
    pipeline = pipeline or Pipeline.load(settings, cards_dir)
    observation_codes = [
        *pipeline.terminology.observation_search_codes(), *settings.extra_observation_codes
    ]
    registry = Registry(
        [
            calf_pain_review.definition(observation_codes),
            calf_safe_prescribing.definition(observation_codes),
        ]
    )
    # Refuses (StateError, one line) a database whose schema is behind; creates an empty one.
    shared = State.open(settings, attribution=pipeline.card_ids)
    state = AppState(settings, registry, pipeline, shared, http_client)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Value sets, models and the catalogue live for the whole process: moving them out
        # of the collector's reach keeps full collections short under load (issue #4).
        gc.collect()
        gc.freeze()
        # One hook call parses a few thousand JSON containers that live until it answers;
        # at the default 700 allocations a young collection ran several times per call and
        # traversed them each time. Collections every GC_YOUNG_THRESHOLD allocations cost
        # ~10 % less CPU per realistic call (docs/benchmark.md); cycles are still collected.
        gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
        yield
        await state.aclose()

    app = FastAPI(
        title="calf-cds",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served by install_openapi, built from the registry
        # "/cds-services/" is a 404 naming "/cds-services", not a 307 with an empty body
        redirect_slashes=False,
    )
    app.state.cds = state
    app.include_router(build_router(state))
    app.include_router(build_health_router(state))
    install_openapi(app, state)
    _install_error_handlers(app, state)
    app.add_middleware(
        ConcurrencyLimit,
        limit=settings.server_max_concurrent_requests,
        retry_after_s=settings.server_retry_after_s,
    )
    app.add_middleware(
        OutcomeCORSMiddleware,
        allow_origins=settings.cors_allow_origins,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type"],
        allow_credentials=False,
        # Private Network Access (Chrome): a public page such as the hosted CDS Hooks sandbox
        # calling this service on a private address preflights with
        # Access-Control-Request-Private-Network: true; answered (true) for allowed origins.
        # WICG "Private Network Access" §CORS preflight; Starlette >= 0.51.
        allow_private_network=True,
        max_age=600,
    )
    # Outermost: every answer (CORS refusals included) carries the request id.
    app.add_middleware(RequestContextMiddleware, metrics_of=lambda: state.metrics)
    return app


def _install_error_handlers(app: FastAPI, state: AppState) -> None:
    metrics = state.metrics

    @app.exception_handler(CdsError)
    async def cds_error(request: Request, exc: CdsError) -> Response:
        if isinstance(exc, Unauthorized):
            metrics.unauthorized_request(exc.message)
            # best practice: 401 with no detail
            return outcome_response(401, [""], headers={"WWW-Authenticate": "Bearer"})
        if exc.status_code == 412:
            metrics.precondition_failed(request.path_params.get("service_id"))
            log.warning("412 precondition failed: %s", exc.message)
        return outcome_response(exc.status_code, exc.issues)

    @app.exception_handler(ClientDisconnect)
    async def client_gone(_: Request, exc: ClientDisconnect) -> Response:
        # Nobody is left to read an answer: one line, no traceback (issue #8, hole 6).
        log.info("client disconnected before the request body was complete")
        return outcome_response(499, ["client closed the connection"])

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return outcome_response(404, [_not_found_text(app, request)])
        text = {405: "method not allowed"}.get(exc.status_code, "request failed")
        return outcome_response(exc.status_code, [text])

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> Response:
        return outcome_response(400, ["invalid request"])

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> Response:
        log.error("unexpected error: %s", type(exc).__name__, exc_info=exc)
        return outcome_response(500, ["internal error"])


def _not_found_text(app: FastAPI, request: Request) -> str:
    """"not found", naming the right path when the request differs by a trailing slash."""
    path = request.url.path
    if path.endswith("/") and path != "/":
        candidate = path.rstrip("/") or "/"
        scope = {**request.scope, "path": candidate}
        for route in app.router.routes:
            match, _ = route.matches(scope)
            if match is not Match.NONE:
                return f"not found: no path {path[:200]}; did you mean {candidate[:200]} (no trailing slash)?"
    return "not found"
