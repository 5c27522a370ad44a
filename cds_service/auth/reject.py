"""The internal failure every verification step raises."""

from __future__ import annotations


class Reject(Exception):
    """Verification failed for ``reason`` (a short fixed text, never token content).

    :class:`~cds_service.auth.verifier.JwtVerifier` logs it once and turns it into
    :class:`~cds_service.errors.Unauthorized`.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
