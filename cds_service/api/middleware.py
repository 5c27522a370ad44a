"""The outermost request layer: request id, access log line, request latency metric.

Pure ASGI (no BaseHTTPMiddleware), so streaming bodies and client disconnects pass
through untouched. The request id is taken from an incoming ``X-Request-ID`` when it is
short and made of safe characters, otherwise generated; it is set in the logging context
for the whole request and returned as ``X-Request-ID``.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..logging_setup import request_id_var
from ..metrics import Metrics

log = logging.getLogger("cds_service.access")

REQUEST_ID_HEADER = "x-request-id"
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_QUIET = frozenset({"health", "ready", "metrics"})


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name.lower() == b"x-request-id":
            try:
                text = value.decode("ascii")
            except UnicodeDecodeError:
                break
            if _SAFE_ID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


def classify(path: str) -> tuple[str, str | None]:
    """(endpoint label, service id or None) for a request path; never the raw path."""
    fixed = {"/cds-services": "discovery", "/healthz": "health", "/readyz": "ready",
             "/metrics": "metrics", "/openapi.json": "openapi"}
    if path in fixed:
        return fixed[path], None
    parts = path.split("/")
    # "", "cds-services", id[, "feedback"]
    if len(parts) == 3 and parts[1] == "cds-services" and parts[2]:
        return "service", parts[2]
    if len(parts) == 4 and parts[1] == "cds-services" and parts[2] and parts[3] == "feedback":
        return "feedback", parts[2]
    return "other", None


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, metrics_of: Callable[[], Metrics]) -> None:
        self.app = app
        self._metrics_of = metrics_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope.get("headers", []))
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500  # if the app raises before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            endpoint, service_id = classify(scope.get("path", ""))
            metrics = self._metrics_of()
            metrics.observe_request(endpoint, service_id, status, elapsed)
            level = logging.DEBUG if endpoint in _QUIET and status < 400 else logging.INFO
            log.log(
                level,
                "%s %s -> %d",
                scope.get("method", "-"),
                endpoint,
                status,
                extra={
                    "method": scope.get("method"),
                    "endpoint": endpoint,
                    "service": metrics.service_label(service_id) if service_id else None,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            request_id_var.reset(token)
