"""Trust configuration for client JWTs (the ``CALF_CDS_AUTH_*`` settings)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cds_service.config import Settings


@dataclass(frozen=True)
class AuthConfig:
    """Trust configuration for client JWTs.

    ``issuer_jwks`` maps an issuer to either a path of a JWK Set file or an inline JWK Set
    JSON string (a value starting with ``{`` is taken as inline JSON).
    """

    trusted_issuers: tuple[str, ...]
    issuer_jwks: Mapping[str, str]
    jku_allowlist: tuple[str, ...]
    jwks_cache_s: int = 3600
    clock_skew_s: int = 60
    max_token_lifetime_s: int = 3600
    # issuer -> the only jku URLs its tokens may name. A jku bound to one issuer is never
    # accepted for another, so one trusted client cannot vouch keys for another.
    issuer_jku: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthConfig:
        """Build the config from the ``CALF_CDS_AUTH_*`` settings."""
        return cls(
            trusted_issuers=tuple(settings.auth_trusted_issuers),
            issuer_jwks=MappingProxyType(dict(settings.auth_issuer_jwks)),
            jku_allowlist=tuple(settings.auth_jku_allowlist),
            jwks_cache_s=settings.auth_jwks_cache_s,
            clock_skew_s=settings.auth_clock_skew_s,
            max_token_lifetime_s=settings.auth_max_token_lifetime_s,
            issuer_jku=MappingProxyType(
                {iss: tuple(urls) for iss, urls in settings.auth_issuer_jku.items()}
            ),
        )
