"""The deployment files IT applies: Kubernetes manifests valid against the Kubernetes API
schemas (offline: kubernetes-validate ships them), the compose stack and HAProxy on loopback
only, and the same ports as ``make cluster`` (docs/drift.md)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.cluster import ClusterPorts, require_haproxy

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
COMPOSE = ROOT / "deploy" / "compose.yml"
#: The oldest Kubernetes release the manifests are checked against (docs/drift.md).
K8S_VERSION = "1.30.0"


def _k8s_documents() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc and doc.get("kind") != "Kustomization":
                docs.append((path.name, doc))
    return docs


def test_kubernetes_manifests_match_the_api_schemas() -> None:
    import kubernetes_validate  # pinned in requirements/app.txt; its schemas are in the package

    docs = _k8s_documents()
    assert {d["kind"] for _, d in docs} >= {"Deployment", "Service", "ConfigMap", "Secret", "Ingress"}
    for name, doc in docs:
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{name}: {doc['kind']}/{doc['metadata']['name']}: {exc.message} at {list(exc.path)}")


def test_kustomization_lists_every_manifest() -> None:
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}


def test_schema_check_catches_a_misspelt_field() -> None:
    import kubernetes_validate

    (name, deployment), = [(n, d) for n, d in _k8s_documents() if d["kind"] == "Deployment"]
    deployment["spec"]["replica"] = deployment["spec"].pop("replicas")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


def test_rasa_and_the_action_server_are_reachable_only_inside_the_pod() -> None:
    (_, deployment), = [(n, d) for n, d in _k8s_documents() if d["kind"] == "Deployment"]
    containers = {c["name"]: c for c in deployment["spec"]["template"]["spec"]["containers"]}
    assert not containers["rasa"].get("ports") and not containers["actions"].get("ports")
    assert containers["rasa"]["args"][containers["rasa"]["args"].index("-i") + 1] == "127.0.0.1"
    assert {"name": "SANIC_HOST", "value": "127.0.0.1"} in containers["actions"]["env"]
    ingress = [d for _, d in _k8s_documents() if d["kind"] == "Ingress"][0]
    paths = [p["path"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
    assert not any(p.startswith("/internal") or p.startswith("/metrics") for p in paths)


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return data


def test_compose_uses_the_host_network_on_loopback_only() -> None:
    services = _compose()["services"]
    assert {"postgres", "redis", "haproxy", "gateway-1", "gateway-2", "rasa-1", "rasa-2",
            "actions-1", "actions-2"} <= set(services)
    for name, service in services.items():
        assert service.get("network_mode") == "host", name
        assert "ports" not in service, f"{name} publishes ports through a container bridge"
        command = " ".join(str(part) for part in service.get("command", []))
        env = {k: str(v) for k, v in (service.get("environment") or {}).items()}
        if name.startswith("gateway-"):
            assert env["GATEWAY_HOST"] == "127.0.0.1"
        elif name.startswith("rasa-"):
            assert "-i 127.0.0.1" in command
        elif name.startswith("actions-"):
            assert env["SANIC_HOST"] == "127.0.0.1"
        elif name == "haproxy":
            assert env["LB_ADDR"] == "127.0.0.1"
        elif name == "postgres":
            assert "listen_addresses=127.0.0.1" in command
        elif name == "redis":
            assert "--bind 127.0.0.1" in command


def test_compose_uses_the_ports_of_make_cluster() -> None:
    services = _compose()["services"]
    ports = ClusterPorts()
    assert services["haproxy"]["environment"]["LB_PORT"] == str(ports.lb)
    for i in (1, 2):
        gateway = services[f"gateway-{i}"]["environment"]
        assert gateway["GATEWAY_PORT"] == str(ports.gateways[i - 1])
        assert gateway["GATEWAY_RASA_URLS"] == ",".join(f"http://127.0.0.1:{p}" for p in ports.rasa)
        assert gateway["GATEWAY_TRUSTED_PROXIES"] == "127.0.0.1"
        assert gateway["GATEWAY_ACTION_SERVER_URL"].endswith(f":{ports.actions[i - 1]}")
        assert services["haproxy"]["environment"][f"GATEWAY_{i}_PORT"] == str(ports.gateways[i - 1])
    assert f"-p {ports.postgres}" in " ".join(services["postgres"]["command"])


def test_haproxy_configuration_is_valid() -> None:
    haproxy = require_haproxy()  # Debian's package, installed when missing (as make cluster does)
    env = {**os.environ, "LB_ADDR": "127.0.0.1", "LB_PORT": "8000", "GATEWAY_1_PORT": "8101",
           "GATEWAY_2_PORT": "8102", "KARLSTAD_DEPLOY": str(ROOT / "deploy")}
    result = subprocess.run([haproxy, "-c", "-f", str(ROOT / "deploy" / "haproxy.cfg")], env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
