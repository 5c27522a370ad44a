"""``/openapi.json``: the service's HTTP surface, with the CDS Hooks bodies described exactly.

Built once per app from what the service really uses, so it cannot drift:

* request bodies from the pydantic models that validate them (``HookRequest`` with each
  service's own hook name and context model, ``FeedbackRequest``), plus the cross-field
  rules the models check in code (``fhirAuthorization`` needs ``fhirServer``; an
  ``accepted`` outcome needs ``acceptedSuggestions``; an override reason is not empty);
* response bodies from the project's JSON Schemas derived from CDS Hooks 2.0.1
  (``cds_service/data/schemas``: discovery and service responses);
* one path per registered service (``/cds-services/calf-pain-review``), not a template:
  any other id is a 404;
* every error as a FHIR OperationOutcome (``application/fhir+json``).
"""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

from fastapi import FastAPI
from fastapi.responses import Response
from pydantic.json_schema import models_json_schema

from ..models.feedback import FeedbackRequest
from ..models.request import HookRequest
from .outcome import FHIR_JSON
from .state import AppState

REF = "#/components/schemas/{model}"
JSON = "application/json"

OPERATION_OUTCOME: dict[str, Any] = {
    "type": "object",
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {"const": "OperationOutcome"},
        "issue": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["severity", "code"],
                "properties": {
                    "severity": {"enum": ["fatal", "error", "warning", "information"]},
                    "code": {"type": "string", "minLength": 1},
                    "diagnostics": {"type": "string"},
                },
            },
        },
    },
}

FEEDBACK_RESPONSE: dict[str, Any] = {
    "type": "object",
    "required": ["received", "stored"],
    "properties": {
        "received": {"type": "integer", "minimum": 0},
        "stored": {"type": "integer", "minimum": 0},
    },
    "additionalProperties": False,
}

STATUS_RESPONSE: dict[str, Any] = {
    "type": "object",
    "required": ["status"],
    "properties": {"status": {"type": "string"}},
}

_ERRORS = {
    "400": "malformed JSON, wrong types, an invalid context, or a hook this service does not serve",
    "401": "missing or invalid JWT (no detail is given)",
    "404": "no such service or path",
    "405": "method not allowed",
    "413": "body larger than the configured limit",
}


def _derived_schema(name: str, prefix: str, components: dict[str, Any]) -> dict[str, Any]:
    """Load a derived JSON Schema; move its ``$defs`` into components under ``prefix``."""
    text = resources.files("cds_service.data").joinpath(f"schemas/{name}.schema.json").read_text()
    text = text.replace('"#/$defs/', f'"#/components/schemas/{prefix}')
    schema = json.loads(text)
    for key in ("$schema", "$id"):
        schema.pop(key, None)
    for def_name, definition in schema.pop("$defs", {}).items():
        components[prefix + def_name] = definition
    return schema


def _outcome(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {FHIR_JSON: {"schema": {"$ref": REF.format(model="OperationOutcome")}}},
    }


def _json(description: str, ref: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": {"$ref": REF.format(model=ref)}}}}


def _errors(*codes: str) -> dict[str, Any]:
    return {code: _outcome(_ERRORS[code]) for code in codes}


def _tighten(components: dict[str, Any]) -> None:
    """Cross-field rules the models check in validators, stated in the schema too."""
    hook = components["HookRequest"]
    hook["dependentRequired"] = {"fhirAuthorization": ["fhirServer"]}
    components["FhirAuthorization"]["properties"]["token_type"] = {
        "type": "string", "pattern": "^[Bb][Ee][Aa][Rr][Ee][Rr]$"
    }
    components["FhirAuthorization"]["properties"]["access_token"]["minLength"] = 1
    components["OverrideReason"]["anyOf"] = [{"required": ["reason"]}, {"required": ["userComment"]}]
    components["FeedbackEntry"]["if"] = {
        "properties": {"outcome": {"const": "accepted"}}, "required": ["outcome"]
    }
    components["FeedbackEntry"]["then"] = {"required": ["acceptedSuggestions"]}


def build_openapi(state: AppState, version: str) -> dict[str, Any]:
    definitions = state.registry.definitions
    models = [(HookRequest, "validation"), (FeedbackRequest, "validation")]
    models += [(d.context_model, "validation") for d in definitions]
    _, top = models_json_schema(models, ref_template=REF)  # type: ignore[arg-type]
    components: dict[str, Any] = dict(top.get("$defs", {}))
    _tighten(components)
    components["OperationOutcome"] = OPERATION_OUTCOME
    components["FeedbackResponse"] = FEEDBACK_RESPONSE
    components["Status"] = STATUS_RESPONSE
    components["ServiceResponse"] = _derived_schema("service-response", "ServiceResponse_", components)
    components["DiscoveryResponse"] = _derived_schema("discovery-response", "Discovery_", components)

    paths: dict[str, Any] = {
        "/cds-services": {
            "get": {
                "operationId": "discovery",
                "summary": "CDS Hooks discovery",
                "responses": {"200": _json("the services", "DiscoveryResponse"), **_errors("401")},
            }
        },
        "/healthz": {"get": _probe("healthz", "the process is up")},
        "/readyz": {
            "get": {
                **_probe("readyz", "ready: card catalogue loaded, database reachable"),
            }
        },
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "summary": "Prometheus metrics (text exposition format)",
                "responses": {
                    "200": {"description": "metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}
                },
            }
        },
    }
    paths["/readyz"]["get"]["responses"]["503"] = _outcome("not ready (each problem is an issue)")

    for definition in definitions:
        request_name = f"{definition.id}.request"
        request = copy.deepcopy(components["HookRequest"])
        request["title"] = f"{definition.id} ({definition.hook}) request"
        request["properties"]["hook"] = {"const": definition.hook}
        request["properties"]["context"] = {"$ref": REF.format(model=definition.context_model.__name__)}
        components[request_name] = request
        paths[f"/cds-services/{definition.id}"] = {
            "post": {
                "operationId": f"call-{definition.id}",
                "summary": definition.title,
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": {"$ref": REF.format(model=request_name)}}},
                },
                "responses": {
                    "200": _json("cards", "ServiceResponse"),
                    **_errors("400", "401", "413"),
                    "412": _outcome("required data neither prefetched nor obtainable from fhirServer"),
                },
            }
        }
        paths[f"/cds-services/{definition.id}/feedback"] = {
            "post": {
                "operationId": f"feedback-{definition.id}",
                "summary": f"Feedback on {definition.id} cards",
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": {"$ref": REF.format(model="FeedbackRequest")}}},
                },
                "responses": {
                    "200": _json("received and newly stored entries", "FeedbackResponse"),
                    **_errors("400", "401", "413"),
                },
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "calf-cds",
            "version": version,
            "description": "CDS Hooks 2.0 service: hidden, treatable and dangerous causes of calf pain.",
        },
        "paths": paths,
        "components": {"schemas": components},
    }


def _probe(operation_id: str, description: str) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "summary": description,
        "responses": {"200": _json(description, "Status")},
    }


def install_openapi(app: FastAPI, state: AppState) -> None:
    document = build_openapi(state, app.version)
    body = json.dumps(document).encode()

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi() -> Response:
        return Response(content=body, media_type=JSON)
