"""CDS Hooks 2.0 request wire types (spec field names; unknown fields kept).

Strict types: a number where the spec says string is a 400, not a coercion.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from ..errors import OutboundRefused
from ..outbound.policy import parse_url

FHIR_ID = r"[A-Za-z0-9\-\.]{1,64}"
_ID_RE = re.compile(rf"^{FHIR_ID}$")

NonEmptyStr = Annotated[StrictStr, Field(min_length=1, max_length=2048)]
FhirId = Annotated[StrictStr, Field(pattern=rf"^{FHIR_ID}$")]


class FhirAuthorization(BaseModel):
    """``fhirAuthorization``: the access token is a SecretStr so it never prints."""

    model_config = ConfigDict(extra="allow", hide_input_in_errors=True)

    access_token: SecretStr
    token_type: NonEmptyStr
    expires_in: StrictInt
    scope: NonEmptyStr
    subject: NonEmptyStr
    patient: StrictStr | None = None

    @model_validator(mode="after")
    def _bearer_only(self) -> FhirAuthorization:
        if self.token_type.lower() != "bearer":
            raise ValueError("token_type must be 'Bearer'")
        if not self.access_token.get_secret_value():
            raise ValueError("access_token must not be empty")
        return self


class HookRequest(BaseModel):
    """The body POSTed to ``/cds-services/{id}``."""

    model_config = ConfigDict(extra="allow", hide_input_in_errors=True)

    hook: NonEmptyStr
    hookInstance: NonEmptyStr
    fhirServer: Annotated[StrictStr, Field(pattern=r"^https?://[^\s]+$", max_length=2048)] | None = (
        None
    )
    fhirAuthorization: FhirAuthorization | None = None
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None
    extension: dict[str, Any] | None = None

    @field_validator("fhirServer")
    @classmethod
    def _fhir_server_is_a_url(cls, value: str | None) -> str | None:
        # Parsed as the outbound guard will parse it: a bad port or host is a 400 here,
        # not an exception inside the fetch (issue 8, hole 1).
        if value is not None:
            try:
                parse_url(value, require_https=False)
            except OutboundRefused as exc:
                raise ValueError(exc.message) from None
        return value

    @model_validator(mode="after")
    def _authorization_needs_server(self) -> HookRequest:
        # 2.0 "fhirServer: CONDITIONAL, REQUIRED if fhirAuthorization is present"
        if self.fhirAuthorization is not None and self.fhirServer is None:
            raise ValueError("fhirAuthorization requires fhirServer")
        return self

    @property
    def access_token(self) -> str | None:
        if self.fhirAuthorization is None:
            return None
        return self.fhirAuthorization.access_token.get_secret_value()


USER_ID = r"^(Practitioner|PractitionerRole|Patient|RelatedPerson)/" + FHIR_ID + "$"


class PatientViewContext(BaseModel):
    """patient-view 1.0 context (HL7 cds-hooks-library)."""

    model_config = ConfigDict(extra="allow", hide_input_in_errors=True)

    userId: Annotated[StrictStr, Field(pattern=USER_ID)]
    patientId: FhirId
    encounterId: FhirId | None = None


def is_fhir_id(value: object) -> bool:
    return isinstance(value, str) and bool(_ID_RE.match(value))
