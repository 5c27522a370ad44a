"""Reading a JSON body safely: size-limited, strict JSON, clear 4xx errors."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from fastapi import Request
from pydantic import BaseModel, ValidationError

from ..errors import BadRequest, PayloadTooLarge

M = TypeVar("M", bound=BaseModel)


async def read_json(request: Request, max_bytes: int) -> Any:
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
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > max_bytes:
            raise PayloadTooLarge(f"body larger than {max_bytes} bytes")
    if not body:
        raise BadRequest("empty body: a JSON object is required")
    try:
        return orjson.loads(bytes(body))
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON: {exc.msg} at position {exc.pos}") from exc


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
