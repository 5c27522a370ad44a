"""GET one document through the guard: bounded in time, bytes, retries and redirects.

* Time: each attempt gets ``min(request_timeout_s, time left in the call)`` for everything
  (connect, headers, body), enforced as one wall-clock bound, so a server dripping a byte
  a second cannot keep a read timeout alive. Nothing outlives the call's deadline.
* Bytes: a declared ``Content-Length`` over the limit is refused before reading; the raw
  bytes on the wire are counted while streaming; ``gzip``/``deflate`` bodies are inflated
  here, incrementally, with the output capped (a gzip bomb stops after the limit, not after
  a gigabyte). Other content encodings are refused. Raw and inflated bytes both count
  against the call's byte budget.
* Retries: 429 and 503 are retried at most ``max_retries`` times, waiting ``Retry-After``
  (seconds or an HTTP date) when it fits in the time left; otherwise the error is final.
* Redirects: followed only to the same scheme, host and port (and re-checked), at most
  ``max_redirects`` hops; a redirect anywhere else is refused.
* A dropped connection (the server closed it before answering, or reset it) is retried
  once: a pooled keep-alive connection the server closes just as it is reused is the
  common cause (uvicorn's and httpx's keep-alive timeouts are both 5 s; seen in the CDS
  Hooks sandbox run between two patients), and a GET is safe to repeat.
"""

from __future__ import annotations

import asyncio
import email.utils
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from ..errors import OutboundBadResponse, OutboundError, OutboundRefused, OutboundUnavailable
from .budget import CallBudget, current_budget

RETRY_STATUSES = frozenset({429, 503})
# The connection went away under the request (no answer, or reset): retried once.
_DROPPED = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_DEFAULT_BACKOFF_S = 0.2


@dataclass(frozen=True, slots=True)
class FetchLimits:
    request_timeout_s: float = 5.0
    max_bytes: int = 8 * 1024 * 1024
    max_retries: int = 2
    max_redirects: int = 3
    # Used when no call budget is open (one request on its own).
    default_deadline_s: float = 8.0


@dataclass(frozen=True, slots=True)
class Fetched:
    status: int
    headers: httpx.Headers
    body: bytearray
    url: str


Check = Callable[[httpx.URL], httpx.URL]


async def fetch(
    client: httpx.AsyncClient,
    url: httpx.URL,
    *,
    check: Check,
    headers: dict[str, str],
    limits: FetchLimits,
    budget: CallBudget | None = None,
) -> Fetched:
    """GET ``url`` (already checked by ``check``) and return status, headers and body."""
    budget = budget or current_budget() or CallBudget(limits.default_deadline_s, limits.max_bytes)
    host = url.host[:100]
    request_headers = {"Accept-Encoding": "gzip, deflate", **headers}
    target = url
    retries = 0
    redirects = 0
    dropped = 0
    while True:
        left = budget.remaining()
        if left <= 0:
            raise OutboundUnavailable(f"{host}: the call's deadline passed before the request")
        window = min(limits.request_timeout_s, left)
        try:
            async with asyncio.timeout(window):
                result = await _attempt(client, target, request_headers, limits, budget, window)
        except TimeoutError:
            which = "deadline" if window < limits.request_timeout_s else "request timeout"
            raise OutboundUnavailable(f"{host}: no complete answer within the {which}") from None
        except OutboundError:
            raise
        except httpx.TimeoutException:
            raise OutboundUnavailable(f"{host}: timed out") from None
        except _DROPPED as exc:
            if dropped == 0:
                dropped += 1
                continue
            raise OutboundUnavailable(f"{host}: unreachable ({type(exc).__name__})") from None
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
            raise OutboundUnavailable(f"{host}: unreachable ({type(exc).__name__})") from None
        if result.status in RETRY_STATUSES and retries < limits.max_retries:
            wait = retry_after_s(result.headers.get("retry-after"), retries)
            if wait is not None and wait < budget.remaining():
                retries += 1
                await asyncio.sleep(wait)
                continue
        if result.status in REDIRECT_STATUSES:
            redirects += 1
            target = _redirect_target(url, target, result, redirects, limits, check)
            continue
        return result


async def _attempt(
    client: httpx.AsyncClient,
    target: httpx.URL,
    headers: dict[str, str],
    limits: FetchLimits,
    budget: CallBudget,
    window: float,
) -> Fetched:
    async with client.stream(
        "GET", target, headers=headers, timeout=window, follow_redirects=False
    ) as response:
        status = response.status_code
        if status != 200:
            # Error and redirect bodies are never needed: do not read them.
            return Fetched(status, response.headers, bytearray(), str(target))
        body = await read_limited(response, limits.max_bytes, budget)
        return Fetched(status, response.headers, body, str(target))


async def read_limited(response: httpx.Response, max_bytes: int, budget: CallBudget) -> bytearray:
    host = response.request.url.host[:100]
    declared = response.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > max_bytes:
        raise budget.too_large(f"{host}: response of {int(declared)} bytes exceeds {max_bytes}")
    decoder = _Inflater.for_encoding(response.headers.get("content-encoding", ""), host)
    raw_seen = 0
    out = bytearray()
    async for chunk in response.aiter_raw():
        raw_seen += len(chunk)
        if raw_seen > max_bytes:
            raise budget.too_large(f"{host}: response exceeds {max_bytes} bytes")
        budget.take(len(chunk))
        before = len(out)
        # Inflate no further than this response's limit or what the call has left,
        # whichever is smaller (concurrent searches cannot each inflate a full limit).
        cap = min(max_bytes, before + max(0, budget.bytes_left)) if decoder.inflates else max_bytes
        try:
            decoder.feed(chunk, out, cap)
        except _Overflow:
            if cap < max_bytes:
                budget.take(cap - before + 1)  # raises: the call's budget is spent
            raise budget.too_large(f"{host}: inflated response exceeds {max_bytes} bytes") from None
        if decoder.inflates:
            budget.take(len(out) - before)
    decoder.finish()
    return out


class _Overflow(Exception):
    pass


class _Inflater:
    """Incremental gzip/zlib inflation with a hard cap on the output size."""

    def __init__(self, inflates: bool, host: str) -> None:
        self.inflates = inflates
        self._host = host
        self._obj = zlib.decompressobj(wbits=47) if inflates else None

    @classmethod
    def for_encoding(cls, encoding: str, host: str) -> _Inflater:
        value = encoding.strip().lower()
        if value in ("", "identity"):
            return cls(False, host)
        if value in ("gzip", "x-gzip", "deflate"):
            return cls(True, host)
        raise OutboundBadResponse(f"{host}: unsupported content-encoding {value[:40]}")

    def feed(self, chunk: bytes, out: bytearray, max_bytes: int) -> None:
        if self._obj is None:
            out += chunk
            return
        data = chunk
        while data:
            room = max_bytes - len(out)
            try:
                piece = self._obj.decompress(data, room + 1)
            except zlib.error:
                raise OutboundBadResponse(f"{self._host}: corrupt compressed body") from None
            out += piece
            if len(out) > max_bytes:
                raise _Overflow
            if self._obj.unconsumed_tail:
                data = self._obj.unconsumed_tail
            elif self._obj.eof and self._obj.unused_data:
                data = self._obj.unused_data  # the next gzip member
                self._obj = zlib.decompressobj(wbits=47)
            else:
                data = b""

    def finish(self) -> None:
        if self._obj is not None and not self._obj.eof:
            raise OutboundBadResponse(f"{self._host}: truncated compressed body")


def retry_after_s(value: str | None, attempt: int) -> float | None:
    """Seconds to wait before retrying (``None``: the value cannot be honoured)."""
    if value is None:
        return _DEFAULT_BACKOFF_S * (2**attempt)
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _redirect_target(
    origin: httpx.URL,
    current: httpx.URL,
    result: Fetched,
    hops: int,
    limits: FetchLimits,
    check: Check,
) -> httpx.URL:
    host = origin.host[:100]
    if hops > limits.max_redirects:
        raise OutboundRefused(f"{host}: more than {limits.max_redirects} redirects")
    location = result.headers.get("location")
    if not location:
        raise OutboundRefused(f"{host}: redirect without a Location")
    try:
        target = current.join(location)
    except (httpx.InvalidURL, ValueError, UnicodeError):
        raise OutboundRefused(f"{host}: redirect to an invalid URL") from None
    if (target.scheme, target.host, target.port) != (origin.scheme, origin.host, origin.port):
        raise OutboundRefused(f"{host}: redirect to another host ({target.host[:100]}) refused")
    return check(target)
