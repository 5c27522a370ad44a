"""HTTP surface: discovery, service calls, feedback. Thin: parse, authenticate, delegate.

The two POST endpoints are plain Starlette routes (an ``async def`` taking the request):
FastAPI's parameter resolution costs about 25 us per call and they take no parameters
but the path's service id. ``/openapi.json`` is built from the registry and the models
(``api.openapi``), not from the routes, so it describes them the same either way.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.background import BackgroundTask
from starlette.routing import Route

from ..acquisition import acquire
from ..errors import BadRequest, UnknownService
from ..heap import release_after_call
from ..hooks.base import ServiceDefinition
from ..models.feedback import FeedbackEntry, FeedbackRequest
from ..models.request import HookRequest
from ..outbound import call_scope
from ..pipeline import IssuedCardInfo
from ..prefetch import belongs_to_or_unlinked
from .body import read_json, read_json_sized, validate
from .outcome import json_response
from .state import AppState

log = logging.getLogger("cds_service.api")


def build_router(state: AppState) -> APIRouter:
    router = APIRouter()
    settings = state.settings

    @router.get("/cds-services")
    async def discovery(request: Request) -> Response:
        await state.authenticate(request)
        return Response(content=state.discovery_body, media_type="application/json")

    async def call_service(request: Request) -> Response:
        service_id: str = request.path_params["service_id"]
        hooks = state.registry.hooks_for(service_id)
        if hooks is None:
            raise UnknownService(f"no CDS service with id '{service_id[:64]}'")
        # One deadline and byte budget for every outbound request of this call (jku, FHIR).
        body_bytes = 0
        with call_scope(settings.fhir_overall_deadline_s, settings.fhir_max_call_bytes) as budget:
            try:
                await state.authenticate(request)
                body, body_bytes = await read_json_sized(request, settings.max_body_bytes)
                hook_request = validate(HookRequest, body)
                definition = hooks.get(hook_request.hook)
                if definition is None:
                    raise BadRequest(
                        f"service '{service_id}' is not registered for hook '{hook_request.hook[:64]}'"
                    )
                context = validate(definition.context_model, hook_request.context, "context")
                cards, issued = await _evaluate(state, definition, hook_request, context.model_dump())
                for card, info in zip(cards, issued, strict=True):
                    state.metrics.card_issued(service_id, info.topic, str(card.get("indicator")))
            finally:
                # After a call that held megabytes, freed heap goes back to the OS (heap.py).
                release_after_call(body_bytes + budget.held_bytes(), budget.over_limit)
        response = json_response({"cards": cards})
        if issued and state.feedback_store is not None:
            response.background = BackgroundTask(
                state.record_issued, service_id, hook_request.hookInstance, issued
            )
        return response

    async def feedback(request: Request) -> Response:
        service_id: str = request.path_params["service_id"]
        if state.registry.hooks_for(service_id) is None:
            raise UnknownService(f"no CDS service with id '{service_id[:64]}'")
        await state.authenticate(request)
        body = await read_json(request, settings.max_body_bytes)
        parsed = validate(FeedbackRequest, body)
        store = state.feedback_store
        stored = 0
        if store is not None and parsed.feedback:
            stored = await run_in_threadpool(
                store.record_feedback, service_id, parsed.feedback, datetime.now(UTC)
            )
        if store is not None and parsed.feedback:
            await _count_feedback(state, service_id, parsed.feedback)
        log.info("feedback received: %d entries, %d new", len(parsed.feedback), stored)
        return json_response({"received": len(parsed.feedback), "stored": stored})

    router.routes.append(Route("/cds-services/{service_id}", call_service, methods=["POST"]))
    router.routes.append(Route("/cds-services/{service_id}/feedback", feedback, methods=["POST"]))
    return router


async def _count_feedback(
    state: AppState, service_id: str, entries: Sequence[FeedbackEntry]
) -> None:
    """Feedback metrics by the topic and version of the card each entry is about."""
    store = state.feedback_store
    assert store is not None
    try:
        known = await run_in_threadpool(
            store.card_attribution, service_id, [e.card for e in entries]
        )
    except Exception:  # metrics never fail a request that was stored
        log.warning("could not attribute feedback to cards for metrics", exc_info=True)
        known = {}
    for entry in entries:
        topic, version = known.get(entry.card, (None, None))
        reason = entry.overrideReason.reason if entry.overrideReason is not None else None
        state.metrics.feedback_received(
            service_id, topic, version, entry.outcome, reason.code if reason is not None else None
        )


async def _evaluate(
    state: AppState,
    definition: ServiceDefinition,
    hook_request: HookRequest,
    context: dict[str, Any],
) -> tuple[list[dict[str, Any]], list[IssuedCardInfo]]:
    record = await acquire(
        state.settings,
        state.http(),
        definition.prefetch,
        context,
        hook_request.prefetch,
        hook_request.fhirServer,
        hook_request.access_token,
    )
    if definition.draft_orders:
        drafts = context["draftOrders"].get("entry") or []
        record.drafts = [e["resource"] for e in drafts if belongs_to_or_unlinked(e["resource"], record.patient_id)]
    if record.ignored_other_patient:
        log.warning("ignored %d prefetched resources of other patients", record.ignored_other_patient)
    cards, issued = state.pipeline.cards(record, orders=definition.draft_orders)
    return cards, list(issued)
