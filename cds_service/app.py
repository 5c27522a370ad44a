"""create_app(settings): the composition root. No import-time globals.

It loads the value sets and the card catalogue (failing fast on a bad card), opens the
feedback store, registers the services, and maps the error tree to HTTP in one place.
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
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .api.limits import ConcurrencyLimit
from .api.outcome import outcome_response
from .api.routes import build_router
from .api.state import AppState
from .config import Settings
from .errors import CdsError, Unauthorized
from .feedback.store import FeedbackStore
from .hooks import calf_pain_review
from .hooks.base import Registry
from .logging_setup import install_redaction
from .pipeline import Pipeline

log = logging.getLogger("cds_service")


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
    registry = Registry(
        [
            calf_pain_review.definition(
                [*pipeline.terminology.observation_search_codes(), *settings.extra_observation_codes]
            )
        ]
    )
    store = FeedbackStore(settings.database_url)
    store.create_schema()
    state = AppState(settings, registry, pipeline, store, http_client)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Value sets, models and the catalogue live for the whole process: moving them out
        # of the collector's reach keeps full collections short under load (issue #4).
        gc.collect()
        gc.freeze()
        yield
        await state.aclose()

    app = FastAPI(
        title="calf-cds",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.cds = state
    app.include_router(build_router(state))
    _install_error_handlers(app)
    app.add_middleware(
        ConcurrencyLimit,
        limit=settings.server_max_concurrent_requests,
        retry_after_s=settings.server_retry_after_s,
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_allow_origins,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type"],
        allow_credentials=False,
        max_age=600,
    )
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CdsError)
    async def cds_error(_: Request, exc: CdsError) -> Response:
        if isinstance(exc, Unauthorized):
            # best practice: 401 with no detail
            return outcome_response(401, [""], headers={"WWW-Authenticate": "Bearer"})
        if exc.status_code == 412:
            log.warning("412 precondition failed: %s", exc.message)
        return outcome_response(exc.status_code, exc.issues)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> Response:
        text = {404: "not found", 405: "method not allowed"}.get(exc.status_code, "request failed")
        return outcome_response(exc.status_code, [text])

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> Response:
        return outcome_response(400, ["invalid request"])

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> Response:
        log.error("unexpected error: %s", type(exc).__name__, exc_info=exc)
        return outcome_response(500, ["internal error"])
