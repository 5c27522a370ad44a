"""At most N requests handled at once; the next ones get 503 with ``Retry-After``.

A plain ASGI middleware (one counter on the event loop, no lock needed): a request counts
from the moment its head is complete until its response is sent, so slow bodies count too.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

log = logging.getLogger("cds_service.api")

Scope = dict[str, Any]


class ConcurrencyLimit:
    def __init__(self, app: Any, *, limit: int, retry_after_s: int) -> None:
        self.app = app
        self.limit = limit
        self.retry_after = str(retry_after_s).encode()
        self.active = 0
        self._body = orjson.dumps(
            {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "transient",
                           "diagnostics": "too many requests in progress; retry later"}],
            }
        )

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.active >= self.limit:
            log.warning("503: %d requests in progress (limit)", self.active)
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(self._body)).encode()),
                        (b"retry-after", self.retry_after),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": self._body})
            return
        self.active += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.active -= 1
