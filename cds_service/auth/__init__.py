"""Verification of the JWT a CDS Client (EHR) sends with every call.

CDS Hooks 2.0 §"Trusting CDS Clients"; reference notes: ``shared/reference/cds-hooks-2.0.md``
§8.1 and checklist S1-S4.

What is checked, in order (every failure raises :class:`~cds_service.errors.Unauthorized`
with a short fixed reason that never contains the token or claim values):

1. ``Authorization: Bearer <compact JWS>`` (size-limited, three base64url segments) and its
   header: ``alg`` on :data:`ALLOWED_ALGORITHMS` (never ``none`` nor ``HS*``: 2.0 "SHALL
   NOT"), ``typ`` = ``JWT``, ``kid`` present, no ``crit``/``b64`` extensions (:mod:`.token`).
2. ``iss`` (unverified at this point) is on the allowlist - before any key lookup or network
   call (:mod:`.claims`).
3. Key (:mod:`.key_sources`): ``kid`` in the issuer's configured JWK Set; else, if the
   header's ``jku`` is *exactly* on the allowlist, in the JWK Set fetched from it through
   the outbound guard (:mod:`.jku`). The key type/curve must fit ``alg`` (:mod:`.jwk`): the
   token never chooses the kind of key.
4. Signature (PyJWT with a single-element algorithm list) and claims with the injected
   clock (:mod:`.claims`): ``aud`` contains the endpoint URL (trailing slash tolerated),
   ``exp``/``iat`` present and sane, lifetime bounded, ``jti`` present.
5. ``jti`` not seen before while the token could still be valid (:mod:`.replay_guard`,
   backed by the shared ``cds_service.state.replay`` cache).

:class:`JwtVerifier` (:mod:`.verifier`) runs these steps; each module's docstring gives
its design choices.
"""

from .config import AuthConfig
from .jku import JKU_FETCH_TIMEOUT_S, JKU_MAX_BYTES, JKU_REFETCH_MIN_INTERVAL_S
from .jwk import ALLOWED_ALGORITHMS, MIN_RSA_BITS
from .token import MAX_TOKEN_CHARS
from .verifier import JwtVerifier

__all__ = [
    "ALLOWED_ALGORITHMS",
    "JKU_FETCH_TIMEOUT_S",
    "JKU_MAX_BYTES",
    "JKU_REFETCH_MIN_INTERVAL_S",
    "MAX_TOKEN_CHARS",
    "MIN_RSA_BITS",
    "AuthConfig",
    "JwtVerifier",
]
