"""The network backend that checks every address right before connecting to it.

httpcore asks its network backend to ``connect_tcp(host, port)``. This backend resolves
the host once, refuses the connection if any resolved address fails the
:class:`~cds_service.outbound.policy.AddressPolicy`, and connects to the checked address
itself (never to the name), so a second DNS answer cannot change where the socket goes.
TLS still verifies the certificate against the URL's host name (httpcore passes it as
``server_hostname``).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpcore
import httpx
from httpcore import AsyncNetworkBackend, AsyncNetworkStream
from httpcore._backends.auto import AutoBackend

from ..errors import OutboundRefused
from .policy import AddressPolicy

log = logging.getLogger(__name__)

Resolver = Callable[[str, int], Awaitable[list[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    """Addresses of ``host`` from the system resolver (IP literals come back as they are)."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    seen: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in seen:
            seen.append(address)
    return seen


class GuardedBackend(AsyncNetworkBackend):
    """Resolve, check, connect to the checked address; refuse everything else."""

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        resolver: Resolver = system_resolver,
        inner: AsyncNetworkBackend | None = None,
    ) -> None:
        self.policy = policy
        self._resolve = resolver
        self._inner = inner or AutoBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await self._resolve(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"DNS lookup of {host[:100]} timed out") from None
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"DNS lookup of {host[:100]} failed") from exc
        if not addresses:
            raise httpcore.ConnectError(f"{host[:100]} has no address")
        for address in addresses:
            reason = self.policy.reason_refused(address)
            if reason is not None:
                log.warning("outbound connection refused: %s resolves to a %s", host[:100], reason)
                raise OutboundRefused(f"host {host[:100]} resolves to a {reason}")
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> AsyncNetworkStream:
        raise OutboundRefused("unix sockets are never used for outbound requests")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def guarded_client(
    policy: AddressPolicy,
    *,
    max_connections: int = 100,
    max_keepalive: int = 20,
    verify: ssl.SSLContext | bool = True,
    resolver: Resolver = system_resolver,
    inner: AsyncNetworkBackend | None = None,
) -> httpx.AsyncClient:
    """An httpx client whose every connection goes through :class:`GuardedBackend`.

    No proxies from the environment, no redirects followed by httpx (the fetcher decides).
    """
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_keepalive)
    transport = httpx.AsyncHTTPTransport(verify=verify, limits=limits, trust_env=False)
    ssl_context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify)
    # httpx has no public knob for the network backend; the pool it builds is replaced by
    # the same pool with ours (tests/test_outbound_ssrf.py holds this in place).
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=ssl_context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=GuardedBackend(policy, resolver=resolver, inner=inner),
    )
    return httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False)


def backend_of(client: httpx.AsyncClient) -> GuardedBackend | None:
    """The guard behind a client made by :func:`guarded_client` (``None`` for any other)."""
    transport: Any = getattr(client, "_transport", None)
    while hasattr(transport, "_inner"):  # wrappers such as the metrics' timing transport
        transport = transport._inner
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    return backend if isinstance(backend, GuardedBackend) else None
