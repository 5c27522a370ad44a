"""The SSRF matrix (issue 8): outside the dev profile no URL form, DNS answer or redirect
reaches loopback, private, link-local or metadata addresses; real loopback listeners
count connections to prove none was made.

Names that must resolve to given addresses use an injected resolver (a real DNS server
is the one component these tests do not start); everything else is real: the app, its
guarded httpx client, the sockets.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest

from cds_service.auth import AuthConfig, JwtVerifier
from cds_service.auth.jku import JkuKeySets
from cds_service.errors import OutboundRefused
from cds_service.outbound import AddressPolicy, GuardedBackend, backend_of, guarded_client, system_resolver
from cds_service.outbound.policy import TargetPolicy
from hostile_server import HostileServer, Request, hostile, respond, respond_json, searchset
from support import make_settings, patient_view, service

FAKE_DNS = {
    "internal.example.test": ["127.0.0.1"],
    "mixed.example.test": ["93.184.216.34", "127.0.0.1"],
    "v6.example.test": ["::1"],
    "mapped.example.test": ["::ffff:127.0.0.1"],
    "metadata.example.test": ["169.254.169.254"],
    "intranet.example.test": ["10.1.2.3"],
}


async def resolver(host: str, port: int) -> list[str]:
    return FAKE_DNS[host] if host in FAKE_DNS else await system_resolver(host, port)


FORMS = [
    "http://127.0.0.1:{p}/fhir",
    "http://localhost:{p}/fhir",
    "http://LOCALHOST:{p}/fhir",
    "http://localhost.:{p}/fhir",
    "http://127.0.0.2:{p}/fhir",
    "http://127.1:{p}/fhir",
    "http://2130706433:{p}/fhir",  # decimal
    "http://0x7f000001:{p}/fhir",  # hex
    "http://0x7f.0.0.1:{p}/fhir",
    "http://0177.0.0.1:{p}/fhir",  # octal
    "http://017700000001:{p}/fhir",
    "http://127.000.000.001:{p}/fhir",
    "http://0:{p}/fhir",
    "http://0.0.0.0:{p}/fhir",
    "http://127。0。0。1:{p}/fhir",  # ideographic full stops
    "http://[::1]:{p}/fhir",
    "http://[::]:{p}/fhir",
    "http://[::ffff:127.0.0.1]:{p}/fhir",  # IPv4-mapped
    "http://[::ffff:7f00:1]:{p}/fhir",
    "http://[0:0:0:0:0:ffff:127.0.0.1]:{p}/fhir",
    "http://[::127.0.0.1]:{p}/fhir",  # IPv4-compatible
    "http://[64:ff9b::7f00:1]:{p}/fhir",  # NAT64
    "http://[2002:7f00:1::]:{p}/fhir",  # 6to4
    "http://[fe80::1%25lo]:{p}/fhir",  # zone id
    "http://user:pw@127.0.0.1:{p}/fhir",
    "http://fhir.example.org@127.0.0.1:{p}/fhir",
    "http://internal.example.test:{p}/fhir",  # DNS name -> loopback
    "http://mixed.example.test:{p}/fhir",  # one public, one loopback answer
    "http://v6.example.test:{p}/fhir",
    "http://mapped.example.test:{p}/fhir",
    "http://metadata.example.test:{p}/latest/meta-data",
    "http://intranet.example.test:{p}/fhir",
    "http://10.0.0.1:{p}/fhir",
    "http://172.16.0.1:{p}/fhir",
    "http://192.168.0.1:{p}/fhir",
    "http://100.64.0.1:{p}/fhir",  # carrier-grade NAT
    "http://169.254.169.254:{p}/latest/meta-data",
    "http://100.100.100.200:{p}/fhir",
    "http://[fd00:ec2::254]:{p}/fhir",
    "http://[fd12::1]:{p}/fhir",
    "http://224.0.0.1:{p}/fhir",
    "http://255.255.255.255:{p}/fhir",
]


def host_of(url: str) -> str:
    try:
        return httpx.URL(url).host
    except httpx.InvalidURL:
        return "unparseable"


@asynccontextmanager
async def listeners() -> AsyncIterator[list[HostileServer]]:
    """Loopback listeners on one port (127.0.0.1, 127.0.0.2, ::1) answering like FHIR."""

    async def answer(request: Request, writer: Any) -> bool:
        if "/Patient/" in request.target:
            return await respond_json(writer, {"resourceType": "Patient", "id": "p1"})
        return await respond_json(writer, searchset())

    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(hostile(answer, "127.0.0.1"))
        second = await stack.enter_async_context(hostile(answer, "127.0.0.2", first.port))
        third = await stack.enter_async_context(hostile(answer, "::1", first.port))
        yield [first, second, third]


def prod_settings(tmp_path: Path, hosts: list[str], **extra: Any):
    return make_settings(
        tmp_path,
        profile="prod",
        auth_enabled=False,
        fhir_require_https=False,  # so the address guard, not https, is what refuses
        fhir_allowed_hosts=hosts,
        fhir_overall_deadline_s=1.0,
        **extra,
    )


def prod_client(**extra: Any) -> httpx.AsyncClient:
    return guarded_client(AddressPolicy.build(allow_private=False, **extra), resolver=resolver)


async def test_ssrf_matrix_makes_no_connection(tmp_path: Path) -> None:
    assert len(FORMS) >= 27
    async with listeners() as servers:
        urls = [form.format(p=servers[0].port) for form in FORMS]
        hosts = sorted({host_of(u) for u in urls})
        http = prod_client()
        async with service(prod_settings(tmp_path, hosts), http_client=http) as client:
            outcomes = {}
            for url in urls:
                response = await client.post(
                    "/cds-services/calf-pain-review", json=patient_view(fhirServer=url)
                )
                outcomes[url] = (response.status_code, response.json())
        await http.aclose()
        connections = sum(s.connections for s in servers)
    for url, (code, body) in outcomes.items():
        assert code in (400, 412), (url, code, body)
        assert body["resourceType"] == "OperationOutcome", url
    assert connections == 0


async def test_the_listeners_do_count_when_a_network_is_explicitly_allowed(tmp_path: Path) -> None:
    """Positive control: the same call reaches the listener once 127.0.0.0/8 is allowed."""
    async with listeners() as servers:
        http = prod_client(networks=["127.0.0.0/8"])
        settings = prod_settings(tmp_path, ["127.0.0.1"])
        async with service(settings, http_client=http) as client:
            response = await client.post(
                "/cds-services/calf-pain-review",
                json=patient_view(fhirServer=f"http://127.0.0.1:{servers[0].port}/fhir"),
            )
        await http.aclose()
    assert response.status_code == 200, response.text
    assert servers[0].connections >= 1


async def test_prod_has_no_default_allowlist_and_refuses_loopback(tmp_path: Path) -> None:
    async with listeners() as servers:
        settings = make_settings(
            tmp_path, profile="prod", auth_enabled=False, fhir_allowed_hosts=None,
            fhir_require_https=False,
        )
        assert settings.fhir_hosts == [] and not settings.outbound_private_allowed
        async with service(settings) as client:
            response = await client.post(
                "/cds-services/calf-pain-review",
                json=patient_view(fhirServer=f"http://localhost:{servers[0].port}/fhir"),
            )
        assert response.status_code == 412
        assert "allowlist" in response.text
        assert sum(s.connections for s in servers) == 0


@pytest.mark.parametrize("target", ["http://127.0.0.2:{p}/fhir/x", "http://localhost:{p}/fhir/x",
                                    "http://[::1]:{p}/fhir/x", "https://127.0.0.1:{p}/fhir/x"])
async def test_redirect_never_leaves_the_allowed_origin(tmp_path: Path, target: str) -> None:
    async with listeners() as servers:
        port = servers[0].port

        async def redirect(request: Request, writer: Any) -> bool:
            return await respond(writer, 302, b"", {"Location": target.format(p=port)})

        async with hostile(redirect, "127.0.0.1") as origin:
            http = prod_client(networks=["127.0.0.1/32"])
            settings = prod_settings(tmp_path, ["127.0.0.1", "127.0.0.2", "localhost", "::1"])
            async with service(settings, http_client=http) as client:
                response = await client.post(
                    "/cds-services/calf-pain-review",
                    json=patient_view(fhirServer=f"http://127.0.0.1:{origin.port}/fhir"),
                )
            await http.aclose()
        assert response.status_code == 412, response.text
        assert "another host" in response.text
        assert origin.connections >= 1
        assert sum(s.connections for s in servers) == 0


async def test_next_link_off_origin_is_refused_without_connection(tmp_path: Path) -> None:
    async with listeners() as servers:
        evil = f"http://127.0.0.2:{servers[0].port}/fhir/Condition?page=2"

        async def paging(request: Request, writer: Any) -> bool:
            if "/Patient/" in request.target:
                return await respond_json(writer, {"resourceType": "Patient", "id": "p1"})
            return await respond_json(writer, searchset(next_url=evil))

        async with hostile(paging, "127.0.0.1") as origin:
            async with service(make_settings(tmp_path, fhir_overall_deadline_s=1.0)) as client:
                response = await client.post(
                    "/cds-services/calf-pain-review",
                    json=patient_view(fhirServer=f"http://127.0.0.1:{origin.port}/fhir"),
                )
        assert response.status_code == 412
        assert "leaves the fhirServer origin" in response.text
        assert servers[1].connections == 0


@pytest.mark.parametrize("url", ["http://169.254.169.254:{p}/", "http://metadata.example.test:{p}/",
                                 "http://[fe80::1]:{p}/", "http://[::ffff:169.254.169.254]:{p}/"])
async def test_metadata_and_link_local_refused_even_in_dev(url: str) -> None:
    backend = GuardedBackend(AddressPolicy.build(allow_private=True), resolver=resolver)
    parsed = httpx.URL(url.format(p=80))
    with pytest.raises(OutboundRefused):
        await backend.connect_tcp(parsed.host, 80, timeout=1.0)


class _Recorder(httpcore.AsyncNetworkBackend):
    def __init__(self) -> None:
        self.targets: list[str] = []

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None, socket_options: Any = None) -> Any:
        self.targets.append(host)
        raise httpcore.ConnectError("recorded only")


async def test_dns_rebinding_gap_is_closed() -> None:
    """One lookup per connection, and the socket goes to the address that was checked:
    a second, different DNS answer can never be the one connected to."""
    answers = [["93.184.216.34"], ["127.0.0.1"]]
    lookups: list[str] = []

    async def rebinding(host: str, port: int) -> list[str]:
        lookups.append(host)
        return answers[len(lookups) - 1]

    recorder = _Recorder()
    backend = GuardedBackend(AddressPolicy.build(allow_private=False), resolver=rebinding, inner=recorder)
    with pytest.raises(httpcore.ConnectError):
        await backend.connect_tcp("rebind.example.test", 443, timeout=1.0)
    assert lookups == ["rebind.example.test"]
    assert recorder.targets == ["93.184.216.34"]  # the checked address, never the name
    with pytest.raises(OutboundRefused):
        await backend.connect_tcp("rebind.example.test", 443, timeout=1.0)
    assert recorder.targets == ["93.184.216.34"]


@pytest.mark.parametrize("networks", [[], ["127.0.0.1/32"]], ids=["refused", "allowed-control"])
async def test_jku_fetch_goes_through_the_same_guard(
    networks: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    async with listeners() as servers:
        jku = f"http://127.0.0.1:{servers[0].port}/jwks.json"
        config = AuthConfig(trusted_issuers=("https://ehr.example.test",), issuer_jwks={},
                            jku_allowlist=(jku,))
        http = prod_client(networks=networks)
        assert JwtVerifier(config, http)  # the app's verifier fetches through JkuKeySets
        with pytest.raises(Exception) as caught:  # the verifier's internal refusal
            await JkuKeySets(http, time.time, config.jwks_cache_s).fetch(jku)
        await http.aclose()
    assert str(caught.value) == "jku fetch failed"
    if networks:
        assert servers[0].connections == 1  # reached; the answer is not a JWK Set
    else:
        assert sum(s.connections for s in servers) == 0
        assert "resolves to a loopback or private address" in caplog.text


def test_guarded_client_really_uses_the_guard() -> None:
    """httpx has no public knob for the network backend; this holds the swap in place."""
    client = guarded_client(AddressPolicy.build(allow_private=False), verify=ssl.create_default_context())
    assert isinstance(backend_of(client), GuardedBackend)
    assert backend_of(httpx.AsyncClient()) is None


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://fhir.example.org/r4", True),
        ("https://FHIR.example.org./r4", True),
        ("https://a.fhir.example.org/r4", False),
        ("https://fhir.example.org:99999/", False),
        ("https://2130706433/", False),
        ("ftp://fhir.example.org/", False),
    ],
)
def test_target_policy(url: str, allowed: bool) -> None:
    policy = TargetPolicy(("fhir.example.org",), require_https=True)
    try:
        policy.check(url)
    except OutboundRefused:
        assert not allowed
    else:
        assert allowed

