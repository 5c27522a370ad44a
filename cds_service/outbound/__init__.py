"""The outbound guard: every request the service makes to another server goes through here.

``policy`` decides what may be contacted (host allowlist before DNS, address policy after
it), ``backend`` enforces the address policy on the socket actually opened, ``budget``
holds the one deadline and byte budget of a hook call, and ``fetch`` performs a bounded
GET. The FHIR client and the JWK Set (``jku``) fetcher both use it.
"""

from .backend import GuardedBackend, backend_of, guarded_client, system_resolver
from .budget import CallBudget, call_scope, current_budget
from .fetch import Fetched, FetchLimits, fetch, retry_after_s
from .policy import AddressPolicy, TargetPolicy, parse_url

__all__ = [
    "AddressPolicy",
    "CallBudget",
    "FetchLimits",
    "Fetched",
    "GuardedBackend",
    "TargetPolicy",
    "backend_of",
    "call_scope",
    "current_budget",
    "fetch",
    "guarded_client",
    "parse_url",
    "retry_after_s",
    "system_resolver",
]
