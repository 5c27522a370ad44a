"""One deadline and one byte budget per hook call, shared by every outbound request.

The web layer opens a :func:`call_scope` when a call arrives; the JWK Set fetch, the FHIR
searches, their pages and the Medication reads all draw on the same budget (a context
variable, so tasks started inside the call see it). Code running outside any call (the
``evaluate`` command, unit tests) gets a fresh budget per request.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from ..errors import OutboundBadResponse


class CallBudget:
    """Time left until one absolute deadline, and bytes left for all responses of a call."""

    __slots__ = ("deadline_s", "expires_at", "bytes_left", "max_bytes", "over_limit")

    def __init__(self, deadline_s: float, max_bytes: int) -> None:
        self.deadline_s = deadline_s
        self.expires_at = time.monotonic() + deadline_s
        self.max_bytes = max_bytes
        self.bytes_left = max_bytes
        # A response of this call was refused for its size (it may have been buffered
        # in part before that was known): see ``heap.release_after_call``.
        self.over_limit = False

    def held_bytes(self) -> int:
        """Bytes of responses (raw and inflated) this call has taken so far."""
        return self.max_bytes - self.bytes_left

    def remaining(self) -> float:
        return max(0.0, self.expires_at - time.monotonic())

    def take(self, count: int) -> None:
        """Account for ``count`` more bytes (raw or inflated) held for this call."""
        self.bytes_left -= count
        if self.bytes_left < 0:
            raise self.too_large(f"responses of this call exceed {self.max_bytes} bytes in total")

    def too_large(self, message: str) -> OutboundBadResponse:
        """The error for a response refused for its size, noted on the call (``over_limit``)."""
        self.over_limit = True
        return OutboundBadResponse(message)


_CURRENT: ContextVar[CallBudget | None] = ContextVar("calf_cds_call_budget", default=None)


def current_budget() -> CallBudget | None:
    return _CURRENT.get()


@contextmanager
def call_scope(deadline_s: float, max_bytes: int) -> Iterator[CallBudget]:
    """Run the block with a fresh budget, unless one is already open (then reuse it)."""
    existing = _CURRENT.get()
    if existing is not None:
        yield existing
        return
    budget = CallBudget(deadline_s, max_bytes)
    token = _CURRENT.set(budget)
    try:
        yield budget
    finally:
        _CURRENT.reset(token)
