"""deploy/k8s: each pod has the files its config names, where the config says; every Secret
it references is documented; its arguments parse with the gateway's own command line; its
Kafka user is one the Strimzi resources create."""

from __future__ import annotations

import json
import re
import stat
import subprocess
from pathlib import Path, PurePosixPath

import pytest

from gateway.cli.main import build_parser
from gateway.config import Config, LoadedConfig
from tests.unit.deploy.kustomize import K8S, Built, Doc, build, pod_spec, read_docs
from tests.unit.deploy.test_k8s import OVERLAYS, WORKLOADS, gateway_config

#: The init container's script: /secrets/<volume>/<key> -> /run/a6gw/<volume>/<key>, 0600.
COPY_SCRIPT = (
    "set -eu; umask 077; for d in /secrets/*/; do n=${d%/}; n=${n##*/}; "
    'mkdir -p /run/a6gw/$n; cp "$d"* /run/a6gw/$n/; done'
)
#: The config's files each process reads (gateway/cli, gateway/services, gateway/worker).
NEEDS = {
    "worker": (
        "gateway.trust_file",
        "gateway.signing_key_file",
        "gateway.log_key_file",
        "gateway.mac_key_file",
        "kafka.ssl_ca_file",
        "connectors.ca_file",
        "connectors.cert_file",
        "connectors.key_file",
    ),
    "api": (  # operators' commands are signed by the operator, not MAC'd
        "gateway.trust_file",
        "gateway.log_key_file",
        "kafka.ssl_ca_file",
        "api.cert_file",
        "api.key_file",
        "api.client_ca_file",
    ),
    "ingress": (
        "gateway.trust_file",
        "gateway.mac_key_file",
        "kafka.ssl_ca_file",
        "connectors.ca_file",
        "connectors.ingress_cert_file",
        "connectors.ingress_key_file",
    ),
    "reconcile": (
        "gateway.trust_file",
        "gateway.signing_key_file",
        "gateway.mac_key_file",
        "kafka.ssl_ca_file",
        "connectors.ca_file",
        "connectors.cert_file",
        "connectors.key_file",
    ),
}
#: Processes that write to gateway.data_dir (or whose start-up check wants it writable).
WRITES_DATA_DIR = ("worker", "ingress")
#: Flags of the same release's logging and metrics work (the shared command-line interface):
#: accepted here until the parser has them.
PENDING_FLAGS = {"--log-format", "--log-level", "--metrics-port"}


def is_gateway(container: Doc) -> bool:
    """A container of the gateway's image (kustomize's ``images:`` sets its tag)."""
    return str(container["image"]).split(":")[0] == "a6gw"


def documented_secrets() -> dict[str, set[str]]:
    """``{secret: keys}`` from the table in deploy/k8s/README.md."""
    text = (K8S / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(a6gw-[a-z-]+)` \| ([^|]+) \|", text, flags=re.M)
    return {name: set(re.findall(r"`([^`]+)`", keys)) for name, keys in rows}


def secret_refs(doc: Doc) -> list[tuple[str, str]]:
    """Every (secret, key) a workload references; key ``*`` for a whole-secret volume."""
    spec = pod_spec(doc)
    refs: list[tuple[str, str]] = []
    for v in spec.get("volumes", []):
        if "secret" in v:
            items = v["secret"].get("items")
            keys = [i["key"] for i in items] if items else ["*"]
            refs.extend((v["secret"]["secretName"], k) for k in keys)
    for c in [*spec.get("initContainers", []), *spec["containers"]]:
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                refs.append((ref["name"], ref["key"]))
    return refs


def pod_files(doc: Doc, built: Built, secrets: dict[str, set[str]]) -> set[str]:
    """The files the main container sees: mounted ConfigMaps and Secrets, and what the init
    container copied to /run/a6gw."""
    spec = pod_spec(doc)
    volumes = {v["name"]: v for v in spec.get("volumes", [])}

    def keys(volume: Doc) -> set[str]:
        if "configMap" in volume:
            return set(built.find("ConfigMap", volume["configMap"]["name"])["data"])
        source = volume["secret"]
        items = source.get("items")
        return {i["path"] for i in items} if items else secrets[source["secretName"]]

    def mounted(container: Doc) -> set[str]:
        out = set()
        for m in container.get("volumeMounts", []):
            if m["name"] in volumes and volumes[m["name"]].keys() & {"configMap", "secret"}:
                found = keys(volumes[m["name"]])
                if "subPath" in m:  # one file of the volume, at mountPath
                    out |= {m["mountPath"]} if m["subPath"] in found else set()
                else:
                    out |= {f"{m['mountPath']}/{k}" for k in found}
        return out

    (main,) = spec["containers"]
    files = mounted(main)
    for init in spec.get("initContainers", []):
        assert init["command"] == ["sh", "-c", COPY_SCRIPT], init["name"]
        copied = {f for f in mounted(init) if f.startswith("/secrets/")}
        files |= {f.replace("/secrets/", "/run/a6gw/", 1) for f in copied}
    return files


def config_path(cfg: dict[str, object], dotted: str) -> str:
    node: object = cfg
    for part in dotted.split("."):
        assert isinstance(node, dict), dotted
        node = node[part]
    path = PurePosixPath(str(node))
    return str(path if path.is_absolute() else PurePosixPath("/etc/a6gw") / path)


@pytest.mark.parametrize("folder", OVERLAYS)
def test_every_file_the_config_names_is_where_the_pod_reads_it(folder: str) -> None:
    built = build(K8S / folder)
    cfg = gateway_config(built)
    secrets = documented_secrets()
    checked = set()
    for doc in built.of_kind(*WORKLOADS):
        part = doc["metadata"]["labels"]["app.kubernetes.io/component"]
        if part not in NEEDS:
            continue
        checked.add(part)
        files = pod_files(doc, built, secrets)
        args = pod_spec(doc)["containers"][0]["args"]
        assert args[args.index("--config") + 1] in files, part
        for key in NEEDS[part]:
            assert config_path(cfg, key) in files, f"{part}: {key} = {config_path(cfg, key)}"
    assert checked == set(NEEDS)


@pytest.mark.parametrize("folder", OVERLAYS)
def test_every_secret_referenced_is_documented(folder: str) -> None:
    secrets = documented_secrets()
    assert "a6gw-keys" in secrets and secrets["a6gw-keys"] == {
        "gateway.pem",
        "log.key",
        "internal.mac",
    }
    used = set()
    for doc in build(K8S / folder).of_kind(*WORKLOADS):
        for name, key in secret_refs(doc):
            assert name in secrets, f"{doc['metadata']['name']}: Secret {name} is not documented"
            assert key == "*" or key in secrets[name], f"{name}: key {key} is not documented"
            used.add(name)
    assert used == set(secrets), f"documented but unused: {sorted(set(secrets) - used)}"


@pytest.mark.parametrize("folder", OVERLAYS)
def test_the_containers_arguments_parse_with_the_gateway_command_line(folder: str) -> None:
    parser = build_parser()
    for doc in build(K8S / folder).of_kind(*WORKLOADS):
        for c in pod_spec(doc)["containers"]:
            if not is_gateway(c):
                continue
            args, unknown = parser.parse_known_args(c["args"])
            assert args.command == c["args"][0]
            flags = {u for u in unknown if u.startswith("--")}
            assert flags <= PENDING_FLAGS, f"{doc['metadata']['name']}: {unknown}"
            assert args.config == "/etc/a6gw/config.yaml"


def test_parsing_refuses_an_unknown_flag() -> None:
    _, unknown = build_parser().parse_known_args(["worker", "--config", "c", "--datadri", "x"])
    assert "--datadri" in unknown


@pytest.mark.parametrize("folder", OVERLAYS)
def test_each_process_logs_in_as_its_own_strimzi_user(folder: str) -> None:
    built = build(K8S / folder)
    gid = gateway_config(built)["gateway"]["id"]
    users = {d["metadata"]["name"] for d in read_docs(K8S / "strimzi" / "users.yaml")}
    seen = set()
    for doc in built.of_kind(*WORKLOADS):
        c = pod_spec(doc)["containers"][0]
        if not is_gateway(c):
            continue
        role = c["args"][0]
        env = {e["name"]: e for e in c["env"]}
        password = env["KAFKA_PASSWORD"]["valueFrom"]["secretKeyRef"]
        creds = env[f"A6GW_KAFKA_CREDENTIALS_{role.upper()}"]["value"]
        # Kubernetes puts the password in for $(KAFKA_PASSWORD), declared before it.
        names = [e["name"] for e in c["env"]]
        assert names.index("KAFKA_PASSWORD") < names.index(f"A6GW_KAFKA_CREDENTIALS_{role.upper()}")
        parsed = json.loads(creds)
        assert parsed == {"username": f"{gid}-{role}", "password": "$(KAFKA_PASSWORD)"}
        # Strimzi's User Operator writes a user's password to the Secret of its name.
        assert password == {"name": parsed["username"], "key": "password"}
        assert parsed["username"] in users
        seen.add(role)
    assert seen == {"worker", "api", "ingress", "reconcile"}


def test_the_kafka_ca_is_strimzis_cluster_ca() -> None:
    built = build(K8S / "base")
    (kafka,) = [d for d in read_docs(K8S / "strimzi" / "kafka.yaml") if d["kind"] == "Kafka"]
    cluster = kafka["metadata"]["name"]
    cfg = gateway_config(built)
    assert cfg["kafka"]["bootstrap"] == f"{cluster}-kafka-bootstrap:9093"
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    assert listener["port"] == 9093 and listener["tls"] is True
    assert listener["authentication"] == {"type": "scram-sha-512"}
    assert cfg["kafka"]["sasl_mechanism"] == "SCRAM-SHA-512"
    for doc in built.of_kind(*WORKLOADS):
        names = {v["secret"]["secretName"] for v in pod_spec(doc)["volumes"] if "secret" in v}
        assert f"{cluster}-cluster-ca-cert" in names, doc["metadata"]["name"]


def test_the_documented_secret_commands_create_every_documented_secret() -> None:
    text = (K8S / "README.md").read_text(encoding="utf-8")
    created = set(re.findall(r"create secret generic (a6gw-[a-z-]+|a6gw-\$role)", text))
    roles = {"worker", "api", "ingress", "reconcile"}
    if "a6gw-$role" in created:
        created = (created - {"a6gw-$role"}) | {f"a6gw-{r}" for r in roles}
    assert created == set(documented_secrets())


def test_the_init_script_copies_each_secret_to_a_file_only_its_owner_reads(
    tmp_path: Path,
) -> None:
    # A Secret volume as the kubelet writes it: a timestamped folder, the ..data link to
    # it, and one link per key; group-readable (defaultMode 0440 with fsGroup).
    mac = "ab" * 32
    volume = tmp_path / "secrets" / "keys"
    stamped = volume / "..2026_01_01_00_00_00.000000001"
    stamped.mkdir(parents=True)
    for name, text in {"internal.mac": mac, "log.key": "{}"}.items():
        (stamped / name).write_text(text, encoding="ascii")
        (stamped / name).chmod(0o440)
        (volume / name).symlink_to(Path("..data") / name)
    (volume / "..data").symlink_to(stamped.name)
    script = COPY_SCRIPT.replace("/secrets/", f"{tmp_path}/secrets/").replace(
        "/run/a6gw", f"{tmp_path}/run"
    )
    subprocess.run(["sh", "-c", script], check=True)
    copied = tmp_path / "run" / "keys"
    assert sorted(p.name for p in copied.iterdir()) == ["internal.mac", "log.key"]
    assert stat.S_IMODE(copied.stat().st_mode) == 0o700
    for path in copied.iterdir():
        assert not path.is_symlink()
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
    config = Config.model_validate(
        {
            "gateway": {"mac_key_file": str(copied / "internal.mac")},
            "parties": [{"code": "JPN", "name": "Japan"}],
            "registries": [{"id": "JPN01", "party": "JPN"}],
        }
    )
    assert LoadedConfig(config, tmp_path).load_mac_key() == bytes.fromhex(mac)


@pytest.mark.parametrize("folder", OVERLAYS)
def test_the_data_folder_is_writable_where_a_process_writes_it(folder: str) -> None:
    built = build(K8S / folder)
    data_dir = gateway_config(built)["gateway"]["data_dir"]
    for doc in built.of_kind("StatefulSet", "Deployment"):
        part = doc["metadata"]["labels"]["app.kubernetes.io/component"]
        mounts = {m["mountPath"]: m for m in pod_spec(doc)["containers"][0]["volumeMounts"]}
        if part in WRITES_DATA_DIR:
            # the root file system is read-only: the folder must be a volume of its own
            assert data_dir in mounts and not mounts[data_dir].get("readOnly"), part
