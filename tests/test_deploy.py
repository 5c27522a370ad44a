"""deploy/: the Kubernetes example against the Kubernetes schemas, compose, and scale-out."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from cds_service.config import Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
KUBERNETES_VERSION = "1.30.0"


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses duplicate keys (PyYAML keeps the last one silently)."""


def _no_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    keys = [loader.construct_object(k, deep=deep) for k, _ in node.value]
    duplicated = {k for k in keys if keys.count(k) > 1}
    if duplicated:
        raise yaml.constructor.ConstructorError(None, None, f"duplicate keys {sorted(map(str, duplicated))}", node.start_mark)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.load_all(path.read_text(), Loader=_UniqueKeyLoader) if d]


def manifests() -> list[tuple[str, dict[str, Any]]]:
    return [(f"{p.name}#{i}", d) for p in sorted(K8S.glob("*.yaml")) for i, d in enumerate(documents(p))]


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [d for _, d in manifests() if d["kind"] == kind]


@pytest.mark.parametrize(("name", "doc"), manifests(), ids=[n for n, _ in manifests()])
def test_kubernetes_manifest_is_valid(name: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_validator_refuses_a_broken_manifest() -> None:
    deployment = by_kind("Deployment")[0]
    broken = {**deployment, "spec": {**deployment["spec"], "replicas": "three"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
    unknown = {**deployment, "spec": {**deployment["spec"], "replica": 3}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(unknown, KUBERNETES_VERSION, strict=True)


def test_duplicate_yaml_keys_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("a: 1\na: 2\n")
    with pytest.raises(yaml.constructor.ConstructorError):
        documents(path)


def test_deployment_has_probes_replicas_and_settings_from_configmap_and_secret() -> None:
    (deployment,) = by_kind("Deployment")
    spec = deployment["spec"]
    assert spec["replicas"] >= 2
    (container,) = spec["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    sources = {next(iter(k for k in s if k.endswith("Ref"))): next(iter(s.values()))["name"] for s in container["envFrom"]}
    configmaps = {d["metadata"]["name"] for d in by_kind("ConfigMap")}
    secrets = {d["metadata"]["name"] for d in by_kind("Secret")}
    assert sources["configMapRef"] in configmaps and sources["secretRef"] in secrets
    mounted = {v["secret"]["secretName"] for v in spec["template"]["spec"]["volumes"] if "secret" in v}
    assert mounted <= secrets and mounted
    (svc,) = by_kind("Service")
    assert svc["spec"]["selector"].items() <= spec["template"]["metadata"]["labels"].items()


def _settings_fields() -> set[str]:
    return {f"CALF_CDS_{name.upper()}" for name in Settings.model_fields}


def test_every_variable_in_the_examples_is_a_setting_the_service_knows() -> None:
    known = _settings_fields()
    names: set[str] = set()
    for doc in by_kind("ConfigMap") + by_kind("Secret"):
        names |= {k for k in {**doc.get("data", {}), **doc.get("stringData", {})} if k.startswith("CALF_CDS_")}
    for line in (DEPLOY / "calf-cds.env").read_text().splitlines():
        if line and not line.startswith("#"):
            names.add(line.split("=", 1)[0])
    assert names, "no settings found"
    assert names <= known, sorted(names - known)
    assert {"CALF_CDS_DATABASE_URL", "CALF_CDS_REDIS_URL", "CALF_CDS_AUTH_ISSUER_JWKS"} <= names


def test_configmap_values_parse_as_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (configmap,) = by_kind("ConfigMap")
    for name, value in configmap["data"].items():
        monkeypatch.setenv(name, value)
    jwks = tmp_path / "ehr.jwks.json"
    jwks.write_text('{"keys": []}')
    monkeypatch.setenv("CALF_CDS_AUTH_ISSUER_JWKS", '{"https://ehr.example.org": "%s"}' % jwks)
    settings = Settings()
    assert settings.profile == "prod" and settings.auth_trusted_issuers == ["https://ehr.example.org"]


def test_compose_runs_two_replicas_behind_haproxy_with_shared_state() -> None:
    compose = documents(DEPLOY / "compose.yaml")[0]
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "haproxy"} <= services.keys()
    replicas = [n for n, s in services.items() if "serve" in s.get("command", [])]
    assert len(replicas) == 2
    cfg = (DEPLOY / "haproxy-compose.cfg").read_text()
    assert "option httpchk GET /readyz" in cfg
    for name in replicas:
        assert f"{name}:8080 check" in cfg
    assert services["migrate"]["command"] == ["calf-cds", "db", "upgrade"]


def _have_servers() -> str | None:
    missing = [b for b in ("haproxy", "redis-server") if shutil.which(b) is None]
    if not any(Path(p).exists() for p in ("/usr/lib/postgresql",)):
        missing.append("postgresql")
    return ", ".join(missing) or None


@pytest.mark.slow
def test_two_replicas_behind_haproxy_share_state_and_survive_a_kill() -> None:
    missing = _have_servers()
    if missing:
        if os.environ.get("CALF_CDS_TEST_REQUIRE_SERVERS") == "1":
            pytest.fail(f"CALF_CDS_TEST_REQUIRE_SERVERS=1 but not installed: {missing}")
        pytest.skip(f"needs Debian packages not installed here: {missing}")
    result = subprocess.run(
        [sys.executable, "-m", "deploy.scaleout_check", "--posts", "5000", "--clients", "16"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    print(result.stdout)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "scale-out check passed" in result.stdout
