"""Operations endpoints: ``/healthz`` (process up), ``/readyz`` (able to serve), ``/metrics``.

No authentication: load balancers and Prometheus cannot send an EHR's JWT, and nothing
here carries patient data. ``/readyz`` checks that the card catalogue is loaded and that
the database answers; the shared state layer's ``readiness()`` (database reachable,
migrations current, Redis reachable) is asked when there is one, else a bare ``SELECT 1``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import text

from .outcome import json_response, outcome_response
from .state import AppState

log = logging.getLogger("cds_service.health")

READINESS_TIMEOUT_S = 2.0


def _database_problems(store: Any) -> list[str]:
    """Problems found by the store's own readiness check, or by ``SELECT 1``."""
    readiness = getattr(store, "readiness", None)
    if callable(readiness):
        result = readiness()
        if result is None or result is True:
            return []
        if result is False:
            return ["database: not ready"]
        if isinstance(result, str):
            return [result]
        return [str(p) for p in result]
    engine = store.engine
    if engine.url.get_backend_name() == "sqlite" and (
        engine.url.database in (None, "", ":memory:") or "mode=memory" in str(engine.url)
    ):
        return []  # in-process: reachable by definition (and one shared connection)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return []


async def readiness_problems(state: AppState) -> list[str]:
    problems: list[str] = []
    if not state.pipeline.catalog.topics:
        problems.append("card catalogue: no cards loaded")
    # The state layer's readiness() (database reachable, migrations current, Redis
    # reachable when configured); a bare store gets ``SELECT 1``.
    store: Any = state.shared if state.shared is not None else state.feedback_store
    if store is not None:
        try:
            problems += await asyncio.wait_for(
                run_in_threadpool(_database_problems, store), READINESS_TIMEOUT_S
            )
        except TimeoutError:
            problems.append("database: no answer within the readiness timeout")
        except Exception as exc:  # the probe reports, it never raises
            problems.append(f"database: unreachable ({type(exc).__name__})")
    return problems


def build_health_router(state: AppState) -> APIRouter:
    router = APIRouter()

    @router.get("/healthz")
    async def healthz() -> Response:
        return json_response({"status": "ok"})

    @router.get("/readyz")
    async def readyz() -> Response:
        problems = await readiness_problems(state)
        if problems:
            log.warning("not ready: %s", "; ".join(problems))
            return outcome_response(503, problems, headers={"Retry-After": "5"})
        return json_response({"status": "ready"})

    @router.get("/metrics")
    async def metrics() -> Response:
        body = await run_in_threadpool(state.metrics.render)
        return Response(content=body, media_type=state.metrics.content_type)

    return router
