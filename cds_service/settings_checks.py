"""Start-up checks of every setting: refuse to start with one line naming the setting.

A misconfigured service used to start and answer 401 to everything (a JWK Set path that
does not exist, the ``prod`` profile with no trusted issuer). :func:`check_settings` runs
inside ``Settings`` validation, so every way of building settings (the CLI, ``create_app()``
in a uvicorn worker, tests) is checked; :func:`load_settings` turns any failure, including
pydantic's own type errors (``CALF_CDS_PORT=abc``), into one :class:`ConfigError` line.
Messages never echo a value that may hold a secret (database URLs, inline key sets).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import ValidationError

if TYPE_CHECKING:
    from .config import Settings

ENV_PREFIX = "CALF_CDS_"
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
# Values short and harmless enough to repeat in an error message.
_ECHOED = {"profile", "host", "port", "log_level", "public_base_url", "cards_dir"}


class ConfigError(ValueError):
    """A setting is invalid. ``str(error)`` is the single line shown to the operator."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{env_name(setting)}: {problem}")
        self.setting = setting


def env_name(setting: str) -> str:
    """``port`` -> ``CALF_CDS_PORT``; ``clinical__ck_window_days`` -> ``CALF_CDS_CLINICAL__CK_WINDOW_DAYS``."""
    return ENV_PREFIX + setting.upper()


def load_settings(**overrides: Any) -> Settings:
    """``Settings(**overrides)`` (and the environment), or :class:`ConfigError` with one line."""
    from pydantic_settings import SettingsError

    from .config import Settings

    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise _from_validation(exc) from None
    except SettingsError as exc:  # a complex value (list, dict) that is not JSON
        match = re.search(r'field "([^"]+)"', str(exc))
        raise ConfigError(match.group(1) if match else "settings", "not valid JSON") from None


def _from_validation(exc: ValidationError) -> ConfigError:
    errors = exc.errors()
    first = errors[0]
    loc = [str(p) for p in first.get("loc") or () if not isinstance(p, int)]
    message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    raised = (first.get("ctx") or {}).get("error")
    if isinstance(raised, ConfigError):  # from check_settings: it names its setting
        return raised
    if not loc:
        return ConfigError("settings", message)
    if loc[0] in _ECHOED and isinstance(first.get("input"), str | int | float):
        message += f" (got {first['input']!r})"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more)"
    return ConfigError("__".join(loc), message)


def check_settings(settings: Settings) -> None:
    """Raise :class:`ConfigError` for the first setting that cannot work."""
    for check in _CHECKS:
        check(settings)


def _absolute_url(setting: str, url: str, what: str = "URL") -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(setting, f"{what} must be an absolute http(s) URL, got {url!r}")


def _check_server(s: Settings) -> None:
    if not s.host.strip():
        raise ConfigError("host", "must not be empty")
    if not 1 <= s.port <= 65535:
        raise ConfigError("port", f"must be a TCP port 1-65535, got {s.port}")
    if s.log_level.upper() not in LOG_LEVELS:
        raise ConfigError("log_level", f"unknown log level {s.log_level!r}; use one of {', '.join(LOG_LEVELS)}")
    _absolute_url("public_base_url", s.public_base_url, "the URL EHRs call (JWT aud)")
    parts = urlsplit(s.public_base_url)
    if parts.query or parts.fragment:
        raise ConfigError("public_base_url", "must not have a query or fragment")
    if s.cards_dir is not None and not Path(s.cards_dir).is_dir():
        raise ConfigError("cards_dir", f"card directory not found: {s.cards_dir}")


def _check_database(s: Settings) -> None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(s.database_url)
    except (ArgumentError, ValueError):  # ValueError: e.g. a port that is not a number
        raise ConfigError("database_url", "not a database URL (e.g. sqlite:///./var/calf_cds.sqlite3)") from None


def _check_limits(s: Settings) -> None:
    positive = ("max_body_bytes", "fhir_request_timeout_s", "fhir_overall_deadline_s", "fhir_max_pages",
                "fhir_max_resources", "fhir_max_response_bytes", "auth_max_token_lifetime_s")
    for name in positive:
        if getattr(s, name) <= 0:
            raise ConfigError(name, f"must be greater than 0, got {getattr(s, name)}")
    for name in ("validation_cache_size", "auth_jwks_cache_s", "auth_clock_skew_s"):
        if getattr(s, name) < 0:
            raise ConfigError(name, f"must not be negative, got {getattr(s, name)}")
    for name, value in s.clinical:
        if isinstance(value, int | float) and value <= 0:
            raise ConfigError(f"clinical__{name}", f"must be greater than 0, got {value}")


def _check_fhir(s: Settings) -> None:
    for host in s.fhir_allowed_hosts or []:
        if not host.strip() or any(c in host for c in "/@ \t"):
            raise ConfigError("fhir_allowed_hosts", f"{host!r} is not a host name (no scheme, port or path)")
    for token in s.extra_observation_codes:
        system, bar, code = token.partition("|")
        if not bar or not system or not code:
            raise ConfigError("extra_observation_codes", f"{token!r} is not a system|code token")


def _check_cors(s: Settings) -> None:
    for origin in s.cors_allow_origins:
        if origin == "*":
            continue
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
            raise ConfigError("cors_allow_origins", f"{origin!r} is not an origin (scheme://host[:port], no path)")


def _jwk_set_problem(text: str) -> str | None:
    try:
        document = json.loads(text)
    except ValueError:
        return "is not JSON"
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        return 'is not a JWK Set (an object with a "keys" list)'
    return None


def _check_auth(s: Settings) -> None:
    for issuer in s.auth_trusted_issuers:
        if not issuer.strip():
            raise ConfigError("auth_trusted_issuers", "an issuer must not be empty")
    for issuer, source in s.auth_issuer_jwks.items():
        if source.lstrip().startswith("{"):
            problem = _jwk_set_problem(source)
            if problem:
                raise ConfigError("auth_issuer_jwks", f"the inline JWK Set of {issuer!r} {problem}")
            continue
        path = Path(source)
        if not path.is_file():
            raise ConfigError("auth_issuer_jwks", f"JWK Set file of {issuer!r} not found: {source}")
        try:
            problem = _jwk_set_problem(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            problem = f"cannot be read ({type(exc).__name__})"
        if problem:
            raise ConfigError("auth_issuer_jwks", f"JWK Set file of {issuer!r} ({source}) {problem}")
    for url in s.auth_jku_allowlist:
        _absolute_url("auth_jku_allowlist", url, "a jku")
    for issuer, urls in s.auth_issuer_jku.items():
        for url in urls:
            _absolute_url("auth_issuer_jku", url, f"a jku of {issuer!r}")
    if not s.auth_is_enabled:
        return
    if not s.auth_trusted_issuers:
        where = "the prod profile" if s.profile == "prod" else "CALF_CDS_AUTH_ENABLED"
        raise ConfigError(
            "auth_trusted_issuers",
            f"{where} verifies every call's JWT, so at least one trusted issuer is needed "
            '(JSON list, e.g. ["https://ehr.example.org"])',
        )
    for issuer in s.auth_trusted_issuers:
        if issuer not in s.auth_issuer_jwks and not s.auth_jku_allowlist and not s.auth_issuer_jku.get(issuer):
            raise ConfigError(
                "auth_issuer_jwks",
                f"trusted issuer {issuer!r} has no JWK Set and no jku URL is allowed: its tokens could never verify",
            )


_CHECKS: tuple[Callable[[Settings], None], ...] = (
    _check_server, _check_database, _check_limits, _check_fhir, _check_cors, _check_auth,
)

