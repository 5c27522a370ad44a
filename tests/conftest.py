"""Shared pytest fixtures. Implementations live in their own modules; this file only registers them."""

from fhir_server import fhir_server
from state_servers import (
    database_url,
    postgres_server_fixture,
    redis_server_fixture,
    replay_backend,
)

__all__ = [
    "database_url",
    "fhir_server",
    "postgres_server_fixture",
    "redis_server_fixture",
    "replay_backend",
]
