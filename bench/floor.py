"""The FLOOR: a bare FastAPI app doing the least any CDS service must do per call.

``POST /cds-services/calf-pain-review`` reads the whole body, parses it as JSON (orjson,
as the service does) and answers one fixed card; ``POST /drain`` reads the body without
parsing it (the load generator's sanity check); ``GET /cds-services`` is the ready probe.
Run by uvicorn with the same settings as ``calf-cds serve`` (see ``bench.procs``).
"""

from __future__ import annotations

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response

_CARD = orjson.dumps({
    "cards": [{
        "uuid": "00000000-0000-4000-8000-000000000001",
        "summary": "Statin-associated muscle symptoms possible",
        "indicator": "warning",
        "detail": "Calf pain on atorvastatin: check CK, review the statin.",
        "source": {"label": "calf-cds", "topic": {"code": "statin-muscle-symptoms"}},
    }]
})
_EMPTY = b'{"services":[]}'


def create_app() -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/cds-services")
    async def discovery() -> Response:
        return Response(_EMPTY, media_type="application/json")

    @app.post("/cds-services/calf-pain-review")
    async def call(request: Request) -> Response:
        body = orjson.loads(await request.body())
        if not isinstance(body, dict) or "prefetch" not in body:
            return Response(b"{}", status_code=400, media_type="application/json")
        return Response(_CARD, media_type="application/json")

    @app.post("/drain")
    async def drain(request: Request) -> Response:
        await request.body()
        return Response(b"{}", media_type="application/json")

    return app
