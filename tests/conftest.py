"""Shared pytest fixtures. Implementations live in their own modules; this file only registers them."""

from fhir_server import fhir_server

__all__ = ["fhir_server"]
