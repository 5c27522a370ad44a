"""Logging: one JSON line per event, the request id on every line, no secrets.

* ``configure(level, fmt)`` sets up the calling process; ``uvicorn_log_config(level, fmt)``
  is the same set-up as a ``logging.config.dictConfig`` dictionary, which ``calf-cds
  serve`` hands to uvicorn so every worker process configures itself identically.
* ``fmt`` is ``json`` (default, ``CALF_CDS_LOG_FORMAT``) or ``text`` (for a terminal).
* The request id lives in a context variable set by the request middleware; a filter copies
  it onto every record, so library lines logged during a request carry it too.
* The code never logs tokens or patient identifiers on purpose; the redacting filter (and
  the JSON formatter, once more) scrubs bearer tokens and JWT-shaped strings from messages
  of libraries (httpx, uvicorn) that might echo a header.
"""

from __future__ import annotations

import contextvars
import logging
import logging.config
import re
from datetime import UTC, datetime
from typing import Any

import orjson

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s,'\"]+")
REDACTED = "[redacted]"
FORMATS = ("json", "text")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

#: Structured fields a log call may pass with ``extra=`` (anything else is not emitted).
EXTRA_FIELDS = ("method", "endpoint", "service", "status", "duration_ms", "path")


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


class RequestIdFilter(logging.Filter):
    """Copies the current request id (``-`` outside a request) onto the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
            entry["traceback"] = scrub(self.formatException(record.exc_info))
        return orjson.dumps(entry, default=str).decode()


def uvicorn_log_config(level: str = "INFO", fmt: str = "json") -> dict[str, Any]:
    """The dictConfig for the service and uvicorn, applied in every worker."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {FORMATS}")
    level = level.upper()
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"} if fmt == "json" else {"format": TEXT_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": f"{__name__}.RequestIdFilter"},
            "redact": {"()": f"{__name__}.RedactingFilter"},
        },
        "formatters": {"default": formatter},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "default",
                "filters": ["request_id", "redact"],
            }
        },
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            # uvicorn's own handlers are replaced by the root one: one format for all.
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            # The service writes its own access line (with the request id, without raw
            # paths); uvicorn's would be a second, differently shaped line per request.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            # httpx/httpcore log every request URL, and FHIR query URLs carry the patient id.
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
        },
    }


def install_redaction(*loggers: str) -> None:
    """Attach the filters to the root handlers and the named loggers (idempotent).

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
            if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
                handler.addFilter(RequestIdFilter())


def configure(level: str, fmt: str = "json") -> None:
    logging.config.dictConfig(uvicorn_log_config(level, fmt))
    install_redaction()
