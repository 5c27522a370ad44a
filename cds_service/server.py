"""The HTTP server ``calf-cds serve`` runs: uvicorn's httptools protocol with connection hygiene.

uvicorn closes idle keep-alive connections but has no limit on how long a client may take
to send its request head or body, and its httptools parser has no header size limit. Here
(httptools: its C parser costs a fraction of h11's pure-Python one per request, see
docs/benchmark.md):

* ``server_max_header_bytes``: a request line plus headers larger than that is answered
  400 (an OperationOutcome) and closed; counted on the bytes received while the head is
  incomplete (so nothing larger is ever buffered) and on the parsed line and headers;
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

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .config import Settings

log = logging.getLogger("cds_service.server")


_ISSUE_CODES = {400: "too-long", 408: "timeout"}
# Per header line beyond its name and value (": " and CRLF), and the request line's own.
_LINE_OVERHEAD = 4
_REQUEST_LINE_OVERHEAD = 16


class _HeadTooLarge(Exception):
    """Raised from a parser callback: the head passed ``max_header_bytes``."""


def _raw_answer(status: int, reason: str, text: str, extra: str = "") -> bytes:
    body = orjson.dumps(
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": _ISSUE_CODES.get(status, "transient"),
                       "diagnostics": text}],
        }
    )
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n{extra}\r\n"
    )
    return head.encode("ascii") + body


class GuardedProtocol(HttpToolsProtocol):
    """HttpToolsProtocol plus a head size limit, head/body read timeouts and a connection
    cap (set per server)."""

    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    max_connections: int = 1024
    max_header_bytes: int = 32 * 1024
    retry_after_s: int = 1

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._phase: str | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._in_head = True  # until the first request's head is complete
        self._raw_head = 0  # bytes received while the head is incomplete
        self._head_size = _REQUEST_LINE_OVERHEAD  # parsed request line + headers

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

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_head:  # this chunk starts inside a head (reset when the head completes)
            self._raw_head += len(data)
        super().data_received(data)
        if self._in_head and self._raw_head > self.max_header_bytes and not self.transport.is_closing():
            # no end of the head within the limit: never buffer more of it
            self._refuse_head()

    def send_400_response(self, msg: str) -> None:
        # uvicorn calls this for any parser error, ours (head too large) included.
        if self._head_size > self.max_header_bytes:
            self._refuse_head()
            return
        self._cancel()
        log.info("closing a connection: invalid HTTP request")
        self.transport.write(_raw_answer(400, "Bad Request", "invalid HTTP request"))
        self.transport.close()

    def _refuse_head(self) -> None:
        self._cancel()
        log.info("closing a connection: request head larger than %d bytes", self.max_header_bytes)
        self.transport.write(_raw_answer(
            400, "Bad Request", f"request line and headers larger than {self.max_header_bytes} bytes"))
        self.transport.close()

    # -- parser callbacks ----------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_size = _REQUEST_LINE_OVERHEAD
        self._arm("head")  # a keep-alive request's first byte (kept if already armed)

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + _LINE_OVERHEAD)
        super().on_header(name, value)

    def _count(self, size: int) -> None:
        self._head_size += size
        if self._head_size > self.max_header_bytes:
            raise _HeadTooLarge

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._raw_head = 0
        self._arm("body")  # cancelled by on_message_complete (at once when there is none)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._cancel()  # the application has the whole request
        super().on_message_complete()

    # -- timers ----------------------------------------------------------------------

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
        self._phase = None
        if self.transport.is_closing():
            return
        log.info("closing a connection: request %s not complete in time", phase)
        answering = self.cycle is not None and not self.cycle.response_complete
        if phase == "head" and not answering:
            self.transport.write(_raw_answer(408, "Request Timeout", "request head not complete in time"))
        self.transport.close()


class CalfCdsProtocol(GuardedProtocol):
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
        cls.max_header_bytes = settings.server_max_header_bytes
        cls.retry_after_s = settings.server_retry_after_s
        cls._configured = True


PROTOCOL_PATH = f"{__name__}:CalfCdsProtocol"


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run`` that enforce the connection settings."""
    return {
        "http": PROTOCOL_PATH,
        "timeout_keep_alive": settings.server_keepalive_timeout_s,
    }
