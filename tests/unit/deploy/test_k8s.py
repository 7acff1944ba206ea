"""deploy/k8s: every built-in resource of each kustomization is valid Kubernetes (strict
schemas of a pinned version), and the pods are hardened, probed, sized and scaled as the
gateway needs (no cluster: see ``tests.unit.deploy.kustomize``)."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from gateway.config import Config
from gateway.core.trust import Trust
from tests.unit.deploy.kustomize import (
    K8S,
    KUSTOMIZATION,
    REPO,
    Built,
    Doc,
    build,
    containers,
    pod_spec,
    read_docs,
    read_kustomization,
)

#: The Kubernetes version the resources are checked against (kubernetes-validate's schemas).
K8S_VERSION = "1.33"
#: Kustomizations of built-in resources only (monitoring/ and strimzi/ hold CRDs).
BUILT_IN = ("base", "postgres", "overlays/single", "overlays/scaled")
OVERLAYS = ("overlays/single", "overlays/scaled")
COMPONENTS = ("worker", "api", "ingress")
WORKLOADS = ("StatefulSet", "Deployment", "CronJob")


def gateway_config(built: Built) -> dict[str, Any]:
    """The config in the ConfigMap, as YAML data."""
    data: dict[str, Any] = yaml.safe_load(
        built.find("ConfigMap", "a6gw-config")["data"]["config.yaml"]
    )
    return data


def validated_config(data: dict[str, Any]) -> Config:
    """The config validated by the gateway's own model. The ``metrics`` section belongs to
    the metrics endpoints of the same release; a model without it skips it."""
    data = copy.deepcopy(data)
    if "metrics" not in Config.model_fields:
        data.pop("metrics", None)
    return Config.model_validate(data)


def component(doc: Doc) -> str:
    label: str = doc["metadata"]["labels"]["app.kubernetes.io/component"]
    return label


def main_container(doc: Doc) -> Doc:
    (container,) = pod_spec(doc)["containers"]
    result: Doc = container
    return result


@pytest.mark.parametrize("folder", BUILT_IN)
def test_every_resource_validates_strictly(folder: str) -> None:
    built = build(K8S / folder)
    assert len(built.docs) >= 2
    for path, doc in built.docs:
        where = f"{path.relative_to(REPO)}: {doc['kind']}/{doc['metadata']['name']}"
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{where}: {'.'.join(map(str, exc.path))}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            pytest.fail(f"{where}: {exc.message}")


def test_strict_validation_refuses_a_misspelt_field() -> None:
    doc = copy.deepcopy(build(K8S / "base").find("StatefulSet", "a6gw-worker"))
    doc["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


@pytest.mark.parametrize("folder", (*BUILT_IN, "monitoring", "strimzi"))
def test_the_kustomization_lists_every_file_of_its_folder(folder: str) -> None:
    k = read_kustomization(K8S / folder)
    listed = {*k.get("resources", []), *(p["path"] for p in k.get("patches", []))}
    listed |= {f for gen in k.get("configMapGenerator", []) for f in gen["files"]}
    files = {p.name for p in (K8S / folder).glob("*.yaml")} - {KUSTOMIZATION}
    assert files <= listed, f"{folder}: not in its kustomization: {sorted(files - listed)}"
    for entry in listed:
        assert (K8S / folder / entry).exists(), f"{folder}: {entry} is missing"


def test_the_service_monitor_scrapes_the_metrics_ports() -> None:
    (monitor,) = read_docs(K8S / "monitoring" / "servicemonitor.yaml")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["spec"]["endpoints"] == [
        {"port": "metrics", "path": "/metrics", "interval": "15s"}
    ]
    base = build(K8S / "base")
    selected = [
        s
        for s in base.of_kind("Service")
        if monitor["spec"]["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()
    ]
    assert {component(s) for s in selected} == set(COMPONENTS)
    for service in selected:
        assert "metrics" in {p["name"] for p in service["spec"]["ports"]}


def test_the_config_map_holds_a_valid_config_and_trust_file() -> None:
    built = build(K8S / "base")
    cfg = validated_config(gateway_config(built))
    assert cfg.audit.store and cfg.audit.store.startswith("postgresql://")
    assert ":" not in cfg.audit.store.split("//")[1].split("@")[0], "a password in the URL"
    assert cfg.kafka.security_protocol == "SASL_SSL"
    trust = built.find("ConfigMap", "a6gw-config")["data"]["trust.yaml"]
    Trust.model_validate(yaml.safe_load(trust))


@pytest.mark.parametrize("folder", OVERLAYS)
def test_pods_run_as_non_root_with_a_read_only_root_and_no_capabilities(folder: str) -> None:
    for doc in build(K8S / folder).of_kind(*WORKLOADS):
        name = doc["metadata"]["name"]
        spec = pod_spec(doc)
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec.get("automountServiceAccountToken") is False, name
        for c in containers(doc):
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, (name, c["name"])
            assert sc["readOnlyRootFilesystem"] is True, (name, c["name"])
            assert sc["capabilities"]["drop"] == ["ALL"], (name, c["name"])
            assert {"cpu", "memory"} <= c["resources"]["requests"].keys(), (name, c["name"])
            assert "memory" in c["resources"]["limits"], (name, c["name"])


@pytest.mark.parametrize("folder", OVERLAYS)
def test_each_process_is_probed_and_scraped_on_its_metrics_port(folder: str) -> None:
    built = build(K8S / folder)
    metrics = gateway_config(built)["metrics"]
    assert metrics["host"] == "0.0.0.0"  # noqa: S104 - the kubelet and Prometheus reach it
    for doc in built.of_kind("StatefulSet", "Deployment"):
        part = component(doc)
        if part not in COMPONENTS:
            continue
        port = metrics[f"{part}_port"]
        c = main_container(doc)
        assert {"name": "metrics", "containerPort": port, "protocol": "TCP"} in c["ports"], part
        assert c["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "metrics"}, part
        assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}, part
        notes = doc["spec"]["template"]["metadata"]["annotations"]
        assert notes == {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": str(port),
            "prometheus.io/path": "/metrics",
        }, part
        service = built.find("Service", f"a6gw-{part}")
        assert {"name": "metrics", "port": port, "targetPort": "metrics", "protocol": "TCP"} in (
            service["spec"]["ports"]
        ), part
        assert service["spec"]["selector"] == doc["spec"]["selector"]["matchLabels"], part


def test_the_worker_keeps_its_state_on_its_own_volume_under_its_pod_name() -> None:
    built = build(K8S / "base")
    worker = built.find("StatefulSet", "a6gw-worker")
    data_dir = gateway_config(built)["gateway"]["data_dir"]
    (claim,) = worker["spec"]["volumeClaimTemplates"]
    c = main_container(worker)
    assert {"name": claim["metadata"]["name"], "mountPath": data_dir} in c["volumeMounts"]
    args = c["args"]
    assert args[args.index("--datadir") + 1].startswith(f"{data_dir}/")
    assert args[args.index("--instance-id") + 1] == "$(POD_NAME)"
    assert {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}} in c[
        "env"
    ]
    assert "--no-supervise" in args  # Kubernetes restarts it
    assert worker["spec"]["serviceName"] == "a6gw-worker"


@pytest.mark.parametrize("folder", OVERLAYS)
def test_replicas_fit_the_partitions_and_share_a_postgresql_store(folder: str) -> None:
    built = build(K8S / folder)
    cfg = validated_config(gateway_config(built))
    workers = built.find("StatefulSet", "a6gw-worker")["spec"]["replicas"]
    assert 1 <= workers <= cfg.kafka.partitions
    assert cfg.audit.store and cfg.audit.store.startswith("postgresql://")
    host = re.match(r"postgresql://[^@]+@([^:/]+)", cfg.audit.store)
    assert host, cfg.audit.store
    assert built.find("Service", host.group(1))  # the example's, or the managed one's name
    for doc in built.of_kind(*WORKLOADS):
        if doc["metadata"]["name"] == "a6gw-postgres":
            continue
        env = {e["name"]: e for e in main_container(doc).get("env", [])}
        ref = env["PGPASSWORD"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": "a6gw-audit-store", "key": "password"}, doc["metadata"]["name"]


def test_the_scaled_overlay_runs_several_of_each() -> None:
    built = build(K8S / "overlays" / "scaled")
    assert built.find("StatefulSet", "a6gw-worker")["spec"]["replicas"] == 3
    assert built.find("Deployment", "a6gw-api")["spec"]["replicas"] == 2
    assert built.find("Deployment", "a6gw-ingress")["spec"]["replicas"] == 2
    assert built.find("Service", "a6gw-postgres")["spec"]["type"] == "ExternalName"
    assert all(d["metadata"]["namespace"] == "a6gw" for _, d in built.docs)


@pytest.mark.parametrize("folder", OVERLAYS)
def test_every_gateway_container_runs_the_released_image(folder: str) -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    built = build(K8S / folder)
    assert built.images == {"a6gw": f"a6gw:{project['version']}"}
    for doc in built.of_kind(*WORKLOADS):
        for c in containers(doc):
            wanted = "postgres:17" if component(doc) == "audit-store" else built.images["a6gw"]
            assert c["image"] == wanted, doc["metadata"]["name"]


def test_the_base_lists_the_reconcile_cron_job() -> None:
    assert "reconcile-cronjob.yaml" in read_kustomization(K8S / "base")["resources"]
    jobs = build(K8S / "base").of_kind("CronJob")
    assert jobs and all(main_container(job)["args"][0] == "reconcile" for job in jobs)


def test_the_docs_name_every_folder() -> None:
    text = (K8S / "README.md").read_text(encoding="utf-8")
    folders = {p.name for p in K8S.iterdir() if p.is_dir()} | {"overlays/single", "overlays/scaled"}
    folders.discard("overlays")
    for folder in folders:
        assert f"`{folder}/`" in text, folder
    assert Path(REPO / "docs" / "operations.md").is_file()


def _normalized(doc: Any) -> Any:
    """A document as kustomize writes it, with its additions taken out: the common label
    and the generated ConfigMap's hash suffix."""
    if isinstance(doc, list):
        return [_normalized(d) for d in doc]
    if isinstance(doc, str):
        return re.sub(r"^a6gw-config-[a-z0-9]{10}$", "a6gw-config", doc)
    if not isinstance(doc, dict):
        return doc
    out = {k: _normalized(v) for k, v in doc.items()}
    labels = out.get("labels")
    if isinstance(labels, dict):
        labels.pop("app.kubernetes.io/part-of", None)
        if not labels:
            del out["labels"]
    return out


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="no kubectl here (CI has none)")
@pytest.mark.parametrize("folder", (*BUILT_IN, "strimzi", "monitoring"))
def test_this_reading_of_the_kustomizations_is_kustomizes(folder: str) -> None:
    out = subprocess.run(
        ["kubectl", "kustomize", str(K8S / folder)], capture_output=True, text=True, check=True
    ).stdout
    built = build(K8S / folder)
    theirs = [_normalized(d) for d in yaml.safe_load_all(out) if d]

    def key(d: Doc) -> str:
        return f"{d['kind']}/{d['metadata']['name']}"

    ours = {key(d): d for _, d in built.docs}
    assert {key(d): d for d in theirs} == ours
