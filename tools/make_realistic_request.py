"""Build ``bench/realistic-request.json``: the patient-view request an EHR would send.

    .venv/bin/python tools/make_realistic_request.py SYNTHEA_TRANSACTION_BUNDLE

Loads the Bundle into a real FHIR server (sekmet-fhir, as in the tests), reads the service's
discovery document in-process, resolves every prefetch template against the server the way
an EHR does (code-filtered Observations, active Conditions, ...), and writes the hook
request with every prefetch key (10: recentEncounters and procedureObservations included). Run at build time; the bench
only reads the output. The committed file was made from the Synthea patient
``synthea-smart-sandbox-r4/Angelic_Mueller_29d755a6-32fa-482e-8fdd-081300209df8.json``
(smart-on-fhir/generated-sample-data, Apache-2.0; synthetic): alive, born 1978, on
simvastatin and hydrochlorothiazide, no muscle symptoms, so every rule runs over her chart
and, as on most charts, none fires. (The earlier body, Christopher Abshire, is deceased
in the source data: the engine skipped him and the bench measured almost no rule work.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fhir_server import post_transaction, start_fhir_server  # noqa: E402

from cds_service.app import create_app  # noqa: E402
from cds_service.config import Settings  # noqa: E402

OUTPUT = ROOT / "bench" / "realistic-request.json"


async def discovery() -> dict[str, Any]:
    app = create_app(Settings(database_url="sqlite://", auth_enabled=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
            body: dict[str, Any] = (await client.get("/cds-services")).json()
            return body


def resolve(server: Any, template: str, context: dict[str, str]) -> Any:
    for key, value in context.items():
        template = template.replace("{{context.%s}}" % key, value)
    with server.client() as client:
        response = client.get(f"{server.base_url}/{template}")
    response.raise_for_status()
    result = response.json()
    if result.get("resourceType") == "Bundle":
        result.pop("link", None)  # the server's own paging URLs mean nothing to the service
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    bundle = json.loads(args.bundle.read_text())
    templates = asyncio.run(discovery())["services"][0]["prefetch"]
    with tempfile.TemporaryDirectory() as tmp, start_fhir_server(Path(tmp)) as server:
        post_transaction(server, bundle)
        with server.client() as client:
            patient = client.get(f"{server.base_url}/Patient").json()["entry"][0]["resource"]
            encounters = client.get(f"{server.base_url}/Encounter?patient={patient['id']}&_sort=-date&_count=1").json()
        encounter_id = encounters["entry"][0]["resource"]["id"]
        context = {"userId": "Practitioner/example", "patientId": patient["id"], "encounterId": encounter_id}
        prefetch = {key: resolve(server, t, context) for key, t in templates.items()}
    request = {
        "hook": "patient-view",
        "hookInstance": str(uuid.UUID(int=0x5EED)),
        "context": context,
        "prefetch": prefetch,
    }
    args.output.write_text(json.dumps(request, separators=(",", ":")))
    sizes = {k: len(v.get("entry", [])) if v.get("resourceType") == "Bundle" else 1 for k, v in prefetch.items()}
    print(f"wrote {args.output} ({args.output.stat().st_size} bytes): {sizes}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
