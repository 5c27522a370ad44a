"""One exception tree for the service; the web layer maps it to HTTP in one place.

    CdsError
     ├── BadRequest            400  malformed JSON, wrong types, invalid hook context
     ├── UnknownService        404  no service with that id
     ├── PayloadTooLarge       413  body over the configured limit
     ├── Unauthorized          401  JWT missing or invalid (no detail leaves the service)
     ├── PreconditionFailed    412  required data could neither be prefetched nor fetched
     ├── FhirError                  a FHIR server could not give us what we asked for
     │    ├── FhirHostNotAllowed    fhirServer not on the allowlist (or not https)
     │    ├── FhirUnavailable       connection error, timeout, 5xx, deadline exceeded
     │    ├── FhirBadResponse       not JSON, not a FHIR Bundle/resource, too large
     │    └── FhirTruncated         a search cut at the page or resource bound
     └── OutboundError              the outbound guard refused or lost a request
          ├── OutboundRefused       allowlist, address after DNS, redirect, malformed URL
          ├── OutboundUnavailable   connection error, timeout, deadline, 5xx after retries
          └── OutboundBadResponse   body over the byte limit, unknown content-encoding

``FhirError`` never reaches HTTP directly: prefetch turns it into ``PreconditionFailed``.
``OutboundError`` is what ``cds_service.outbound`` raises; the FHIR client maps it to a
``FhirError``, the JWK Set fetcher to a refused token.
"""

from __future__ import annotations


class CdsError(Exception):
    """Base of every error the service raises on purpose."""

    status_code = 500

    def __init__(self, message: str = "", *, issues: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.issues = issues or ([message] if message else [])


class BadRequest(CdsError):
    status_code = 400


class UnknownService(CdsError):
    status_code = 404


class PayloadTooLarge(CdsError):
    status_code = 413


class Unauthorized(CdsError):
    status_code = 401


class PreconditionFailed(CdsError):
    status_code = 412


class FhirError(CdsError):
    status_code = 412


class FhirHostNotAllowed(FhirError):
    pass


class FhirUnavailable(FhirError):
    pass


class FhirBadResponse(FhirError):
    pass


class FhirTruncated(FhirError):
    pass


class OutboundError(CdsError):
    status_code = 412


class OutboundRefused(OutboundError):
    pass


class OutboundUnavailable(OutboundError):
    pass


class OutboundBadResponse(OutboundError):
    pass
