"""Logging that cannot leak secrets: a filter scrubs bearer tokens and JWT-shaped strings.

The code never logs tokens or patient identifiers on purpose; this filter is the second
line of defence for messages from libraries (httpx, uvicorn) that might echo a header.
"""

from __future__ import annotations

import logging
import re

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s,'\"]+")
REDACTED = "[redacted]"


def scrub(text: str) -> str:
    return _BEARER.sub(lambda m: m.group(1) + REDACTED, _JWT.sub(REDACTED, text))


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


def install_redaction(*loggers: str) -> None:
    """Attach the filter to the root handlers and the named loggers (idempotent).

    httpx/httpcore log every request URL at INFO/DEBUG, and our FHIR query URLs carry the
    patient id: they are held at WARNING.
    """
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    names = ("", "uvicorn", "uvicorn.access", "uvicorn.error", "httpx", "cds_service") + loggers
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
        for handler in logger.handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())


def configure(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    install_redaction()
