"""An httpx transport that times every outbound request for the metrics.

It wraps whatever transport the shared client uses, so the FHIR client and the JWK Set
fetcher are measured without knowing about metrics. The time runs from sending the request
to the end of the body (or to the error); the outcome is the status class (``2xx``,
``4xx``...) or the transport error's kind (``timeout``, ``connect``, ``error``).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx

from .metrics import Metrics


def _target(request: httpx.Request) -> str:
    # The JWK Set fetcher asks for jwk-set+json; everything else is the FHIR client.
    return "jwks" if "jwk-set" in request.headers.get("accept", "") else "fhir"


def _error_kind(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connect"
    return "error"


class _TimedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, done: "_Done") -> None:
        self._inner = inner
        self._done = done

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except Exception as exc:
            self._done.finish(_error_kind(exc), failed=True)
            raise

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._done.finish(None, failed=False)


class _Done:
    """Records one request exactly once, whichever way it ends."""

    def __init__(self, metrics: Metrics, target: str, started: float) -> None:
        self._metrics = metrics
        self._target = target
        self._started = started
        self.status_outcome = "error"
        self.status_failed = True
        self._recorded = False

    def finish(self, error: str | None, *, failed: bool) -> None:
        if self._recorded:
            return
        self._recorded = True
        outcome = error or self.status_outcome
        self._metrics.observe_fetch(
            self._target, outcome, time.perf_counter() - self._started,
            failed=failed or (error is None and self.status_failed),
        )


class InstrumentedTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        done = _Done(self._metrics, _target(request), time.perf_counter())
        try:
            response = await self._inner.handle_async_request(request)
        except Exception as exc:
            done.finish(_error_kind(exc), failed=True)
            raise
        done.status_outcome = f"{response.status_code // 100}xx"
        done.status_failed = response.status_code >= 400
        stream = response.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        response.stream = _TimedStream(stream, done)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()
