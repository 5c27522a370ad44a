"""The HTTP server ``calf-cds serve`` runs: uvicorn's h11 protocol with connection hygiene.

uvicorn closes idle keep-alive connections but has no limit on how long a client may take
to send its request head or body, and its httptools parser has no header size limit. Here:

* h11 with ``server_max_header_bytes`` as its max incomplete event size: a request line
  plus headers larger than that is answered 400 and closed;
* ``server_header_timeout_s``: from connect (or the first byte of a keep-alive request)
  until the head is complete; past it the connection gets a 408 and is closed;
* ``server_body_timeout_s``: from the end of the head until the body is complete; past it
  the connection is closed (the handler sees a disconnect, logged as one INFO line);
* ``server_max_connections``: a connection beyond it gets 503 with ``Retry-After`` and is
  closed at once. Requests beyond ``server_max_concurrent_requests`` get the same answer
  from :class:`cds_service.api.limits.ConcurrencyLimit`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
import orjson
from uvicorn.protocols.http.h11_impl import H11Protocol

from .config import Settings

log = logging.getLogger("cds_service.server")


def _raw_answer(status: int, reason: str, text: str, extra: str = "") -> bytes:
    body = orjson.dumps(
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "timeout" if status == 408 else "transient",
                       "diagnostics": text}],
        }
    )
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n{extra}\r\n"
    )
    return head.encode("ascii") + body


class GuardedH11Protocol(H11Protocol):
    """H11Protocol plus head/body read timeouts and a connection cap (set per server)."""

    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    max_connections: int = 1024
    retry_after_s: int = 1

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._phase: str | None = None
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            log.warning("connection refused: %d open connections (limit)", len(self.connections) - 1)
            transport.write(
                _raw_answer(503, "Service Unavailable", "too many connections",
                            f"Retry-After: {self.retry_after_s}\r\n")
            )
            transport.close()
            return
        self._arm("head")

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._follow()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    # -- timers ----------------------------------------------------------------------

    def _follow(self) -> None:
        """Arm the timer that fits where the client is in its request."""
        if self.transport is None or self.transport.is_closing():
            self._cancel()
            return
        state = self.conn.their_state
        if state is h11.IDLE:
            if self.conn.trailing_data[0]:
                self._arm("head")  # part of the next request head has arrived
            elif self.timeout_keep_alive_task is not None:
                self._cancel()  # idle between requests: uvicorn's keep-alive timeout
        elif state is h11.SEND_BODY:
            self._arm("body")
        else:
            self._cancel()

    def _arm(self, phase: str) -> None:
        if self._phase == phase and self._timer is not None:
            return
        self._cancel()
        delay = self.header_timeout_s if phase == "head" else self.body_timeout_s
        self._phase = phase
        self._timer = self.loop.call_later(delay, self._expired, phase)

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._phase = None

    def _expired(self, phase: str) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        log.info("closing a connection: request %s not complete in time", phase)
        if phase == "head" and self.conn.our_state in (h11.IDLE, h11.DONE):
            self.transport.write(_raw_answer(408, "Request Timeout", "request head not complete in time"))
        self.transport.close()


class CalfCdsH11Protocol(GuardedH11Protocol):
    """The protocol ``calf-cds serve`` names by import path (``PROTOCOL_PATH``).

    uvicorn pickles a protocol *class* into every spawned worker, which a class made at run
    time cannot survive; a path is imported afresh in each worker instead. The limits are
    read once per process from that process's settings (the same environment the app
    factory reads), on the first connection.
    """

    _configured = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        if not cls._configured:
            cls.configure(Settings())
        super().__init__(*args, **kwargs)

    @classmethod
    def configure(cls, settings: Settings) -> None:
        cls.header_timeout_s = settings.server_header_timeout_s
        cls.body_timeout_s = settings.server_body_timeout_s
        cls.max_connections = settings.server_max_connections
        cls.retry_after_s = settings.server_retry_after_s
        cls._configured = True


PROTOCOL_PATH = f"{__name__}:CalfCdsH11Protocol"


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run`` that enforce the connection settings."""
    return {
        "http": PROTOCOL_PATH,
        "h11_max_incomplete_event_size": settings.server_max_header_bytes,
        "timeout_keep_alive": settings.server_keepalive_timeout_s,
    }
