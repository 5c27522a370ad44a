"""Reading a JSON body safely: size-limited, strict JSON, clear 4xx errors."""

from __future__ import annotations

import json
import logging
from typing import Any, TypeVar

import orjson
from fastapi import Request
from starlette.requests import ClientDisconnect
from pydantic import BaseModel, ValidationError

from ..errors import BadRequest, PayloadTooLarge

M = TypeVar("M", bound=BaseModel)
log = logging.getLogger("cds_service.api")


async def read_json(request: Request, max_bytes: int) -> Any:
    return (await read_json_sized(request, max_bytes))[0]


async def read_json_sized(request: Request, max_bytes: int) -> tuple[Any, int]:
    """The parsed body and its size in bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > max_bytes:
                raise PayloadTooLarge(f"body larger than {max_bytes} bytes")
        except ValueError as exc:
            raise BadRequest("invalid Content-Length") from exc
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if content_type and not (content_type == "application/json" or content_type.endswith("+json")):
        raise BadRequest("Content-Type must be application/json")
    body = bytearray()
    try:
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > max_bytes:
                raise PayloadTooLarge(f"body larger than {max_bytes} bytes")
    except ClientDisconnect:
        # Gone mid-body (or cut by the server's body timeout): nobody reads the answer.
        log.info("client disconnected before the request body was complete")
        raise BadRequest("client disconnected before the body was complete") from None
    if not body:
        raise BadRequest("empty body: a JSON object is required")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON: {exc.msg} at position {exc.pos}") from exc
    reject_duplicate_keys(body, data)
    return data, len(body)


def reject_duplicate_keys(raw: bytes | bytearray, parsed: Any) -> None:
    """400 when an object in ``raw`` repeats a key (parsers disagree on which one wins).

    Exact, and cheap on the common inputs (no second object tree is built for them):

    1. ``raw`` equal to the compact re-serialisation of ``parsed``: no duplicates, since
       that serialisation has none (one dump and a byte comparison; a compact body
       written the way orjson writes it, as the benchmark's are).
    2. Otherwise the colon count: parsing keeps the last of repeated keys and drops the
       others, and a dropped member always takes at least one ``:`` byte with it (the one
       after its key). Every other ``:`` of the input survives into the re-serialisation,
       inside the same strings, unless the input spelled one as ``\\u003a``: so without
       that escape, equal colon counts mean no duplicates. The escape needs a backslash,
       and a body without one skips the search for it (``memchr``).
    3. Inputs with that escape take the slow exact path (the stdlib parser, every object's
       key pairs).
    """
    try:
        dumped = orjson.dumps(parsed)
    except (TypeError, orjson.JSONEncodeError):
        dumped = None
    if dumped is not None:
        if dumped == raw:
            return
        if (b"\\" not in raw or b"\\u003" not in raw) and raw.count(b":") == dumped.count(b":"):
            return
    try:
        json.loads(raw, object_pairs_hook=_unique_object)
    except _DuplicateKey as exc:
        raise BadRequest(f"duplicate JSON key {exc.key[:64]!r}") from None
    except ValueError:
        pass  # the input parsed already; any disagreement here is not a duplicate


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return obj


def validate(model: type[M], data: Any, where: str = "") -> M:
    """Validate into a pydantic model; turn errors into a BadRequest listing each problem."""
    if not isinstance(data, dict):
        raise BadRequest(f"{where or 'body'} must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        issues = []
        for err in exc.errors(include_input=False, include_url=False):
            path = ".".join(str(p) for p in (where, *err["loc"]) if p != "")
            issues.append(f"{path or 'body'}: {err['msg']}")
        raise BadRequest("invalid request", issues=issues) from exc
