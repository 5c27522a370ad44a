"""What the service may contact: hosts by name (before DNS) and addresses (after DNS).

Two checks, both needed:

* :class:`TargetPolicy` looks at the URL as httpx parses it (the same parser that makes the
  request, so ``127。0。0。1`` or ``LOCALHOST.`` cannot slip past a different parser): http(s)
  only, https when required, no userinfo, a port in 1-65535, no IPv6 zone, no non-canonical
  IPv4 literal (``2130706433``, ``0x7f.1``, ``0177.0.0.1``, ``127.1``), and the host on the
  allowlist (exact names or ``*.example.org``). Outside the ``dev`` profile the allowlist has
  no default: nothing is contacted until it is configured.
* :class:`AddressPolicy` looks at every address a name resolved to, in the network backend,
  right before connecting to that very address (no second lookup, so no DNS-rebinding gap).
  Public unicast addresses pass. Loopback and private ranges pass only when
  ``allow_private`` (the ``dev`` profile's default) or an explicitly allowed network covers
  them. Link-local, cloud metadata, multicast, broadcast, unspecified and reserved addresses
  pass only when an explicitly allowed network covers them. Addresses embedded in IPv6
  (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo) are judged by the IPv4 inside.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import httpx

from ..errors import OutboundRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Loopback and private ranges a developer's FHIR server lives on (RFC 1918, RFC 4193).
_PRIVATE = tuple(
    ipaddress.ip_network(n)
    for n in ("127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7")
)
# Cloud instance metadata endpoints: refused even where private ranges are allowed
# (AWS/GCP/Azure 169.254.169.254, AWS IPv6 fd00:ec2::254, Alibaba 100.100.100.200,
# Oracle 192.0.0.192).
_METADATA = tuple(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
_GLOBAL_UNICAST_V6 = ipaddress.ip_network("2000::/3")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_V4_COMPATIBLE = ipaddress.ip_network("::/96")
# A host whose last label is numeric (or hex) is an IPv4 literal in the URL standard.
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64 or (ip in _V4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


@dataclass(frozen=True)
class AddressPolicy:
    """Which resolved addresses may be connected to."""

    allow_private: bool = False
    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def build(cls, *, allow_private: bool, networks: Iterable[str] = ()) -> AddressPolicy:
        return cls(allow_private, tuple(ipaddress.ip_network(n, strict=False) for n in networks))

    def reason_refused(self, address: str) -> str | None:
        """``None`` when ``address`` may be connected to, else why not."""
        try:
            ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return "not an IP address"
        if any(ip in net for net in self.allowed_networks if net.version == ip.version):
            return None
        if isinstance(ip, ipaddress.IPv6Address):
            inner = _embedded_v4(ip)
            if inner is not None:
                return self.reason_refused(str(inner))
        if ip in _METADATA:
            return "cloud metadata address"
        if ip.is_link_local:
            return "link-local address"
        if any(ip in net for net in _PRIVATE if net.version == ip.version):
            return None if self.allow_private else "loopback or private address"
        if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
            return "multicast, unspecified or reserved address"
        if isinstance(ip, ipaddress.IPv6Address) and ip not in _GLOBAL_UNICAST_V6:
            return "non-global IPv6 address"
        if not ip.is_global or ip == ipaddress.IPv4Address("255.255.255.255"):
            return "non-global address"
        return None


def _canonical_host(host: str) -> str:
    return host.lower().rstrip(".")


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class TargetPolicy:
    """Which URLs may be requested at all (checked before any DNS lookup)."""

    allowed_hosts: Sequence[str] = field(default_factory=tuple)
    require_https: bool = True

    def check(self, url: str | httpx.URL) -> httpx.URL:
        """The parsed URL, or :class:`OutboundRefused` naming the host and the reason."""
        parsed = parse_url(url, require_https=self.require_https)
        host = _canonical_host(parsed.host)
        if not self.host_allowed(host):
            raise OutboundRefused(f"host {host[:100]} is not on the allowlist")
        return parsed

    def host_allowed(self, host: str) -> bool:
        host = _canonical_host(host)
        for entry in self.allowed_hosts:
            pattern = _canonical_host(entry.strip("[]"))
            if pattern.startswith("*."):
                if host.endswith(pattern[1:]) and host != pattern[2:] and not _is_ip_literal(host):
                    return True
            elif host == pattern:
                return True
        return False


def parse_url(url: str | httpx.URL, *, require_https: bool) -> httpx.URL:
    """Parse with httpx and refuse every form the guard does not want to reason about."""
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError, UnicodeError) as exc:
        raise OutboundRefused(f"invalid URL ({_short(exc)})") from None
    if parsed.scheme not in ("http", "https"):
        raise OutboundRefused("URL scheme must be http or https")
    if require_https and parsed.scheme != "https":
        raise OutboundRefused("https is required")
    if parsed.userinfo:
        raise OutboundRefused("URL must not carry a user or password")
    host = _canonical_host(parsed.host)
    if not host:
        raise OutboundRefused("URL has no host")
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise OutboundRefused(f"invalid URL (port {parsed.port} out of range)")
    if "%" in host:
        raise OutboundRefused(f"host {host[:100]}: percent-encoding or IPv6 zone not allowed")
    last_label = host.rsplit(".", 1)[-1]
    if ":" not in host and _NUMERIC_LABEL.match(last_label):
        try:
            canonical = str(ipaddress.IPv4Address(host))
        except ValueError:
            canonical = ""
        if canonical != host:
            raise OutboundRefused(f"host {host[:100]}: non-canonical IPv4 address")
    return parsed


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[:120]
