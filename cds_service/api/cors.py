"""CORS whose refusals are OperationOutcomes like every other error of the service.

Starlette answers a refused preflight (disallowed origin, method or header) with a
``text/plain`` 400; here the same 400 carries an OperationOutcome naming what was refused.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from .outcome import outcome_response


class OutcomeCORSMiddleware(CORSMiddleware):
    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        refused = bytes(response.body).decode("utf-8", "replace")  # "Disallowed CORS method, ..."
        keep = {k: v for k, v in response.headers.items()
                if k.lower() not in ("content-type", "content-length")}
        return outcome_response(
            response.status_code, [f"CORS preflight refused: {refused.removeprefix('Disallowed CORS ')}"],
            headers=keep,
        )
