"""The gateway's topics and Kafka users as Strimzi resources, derived from its config.

On Kubernetes with the Strimzi operator, the Topic Operator creates the topics and the User
Operator the SCRAM users and their ACLs, from ``KafkaTopic`` and ``KafkaUser`` resources.
This module writes those resources from the same code that ``a6gw topics``
(:func:`gateway.transport.topic_plan.topic_plan`: partitions, LogAppendTime on input topics,
``max.message.bytes`` from ``limits.max_message_bytes``) and ``a6gw kafka provision``
(:func:`gateway.transport.acls.principal_table`) use, so the two cannot drift::

    python -m gateway.transport.strimzi --config config.yaml --out deploy/k8s/strimzi
    python -m gateway.transport.strimzi --config config.yaml --check deploy/k8s/strimzi

Kubernetes names are lowercase DNS names (RFC 1123), Kafka's are not: a topic whose name is
not one keeps it in ``spec.topicName``; a user's name *is* its resource's name (Strimzi), so
the partners' principals (``registry-<ID>``, ``inventory-<PARTY>``) are lowercased
(``registry-jpn01``): give each partner the user name and the password Strimzi writes to the
Secret of that name. Their consumer groups keep the principal table's names.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from gateway.config import Config, load_config
from gateway.errors import ConfigError, GatewayError
from gateway.transport.acls import Grant, principal_table
from gateway.transport.topic_plan import topic_plan

API_VERSION = "kafka.strimzi.io/v1"
TOPICS_FILE = "topics.yaml"
USERS_FILE = "users.yaml"
DEFAULT_CLUSTER = "a6gw"
# Kafka's operation names as Strimzi spells them (KafkaUser spec.authorization.acls).
_OPERATIONS = {"READ": "Read", "WRITE": "Write", "DESCRIBE": "Describe"}
_PATTERNS = {"literal": "literal", "prefixed": "prefix"}
# RFC 1123 subdomain, as Kubernetes checks metadata.name.
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


def k8s_name(name: str) -> str:
    """``name`` as a Kubernetes resource name: lowercased, ``_`` as ``-``.

    :raises ConfigError: (A6-CFG-001) when it is still not one.
    """
    out = name.lower().replace("_", "-")
    if not _K8S_NAME.match(out):
        raise ConfigError(f"{name!r} cannot be a Kubernetes resource name ({out!r})")
    return out


def _unique(names: dict[str, str], kind: str) -> None:
    """:raises ConfigError: when two names map to one resource name."""
    seen: dict[str, str] = {}
    for original, mapped in names.items():
        if mapped in seen:
            raise ConfigError(
                f"{kind} {seen[mapped]!r} and {original!r} are one Kubernetes name {mapped!r}"
            )
        seen[mapped] = original


def _meta(name: str, cluster: str) -> dict[str, Any]:
    return {"name": name, "labels": {"strimzi.io/cluster": cluster}}


def kafka_topics(cfg: Config, cluster: str) -> list[dict[str, Any]]:
    """A ``KafkaTopic`` per topic of the plan, sorted by topic name."""
    partitions, configs = topic_plan(cfg)
    names = {topic: k8s_name(topic) for topic in sorted(partitions)}
    _unique(names, "topics")
    docs = []
    for topic, name in names.items():
        spec: dict[str, Any] = {}
        if name != topic:
            spec["topicName"] = topic
        spec["partitions"] = partitions[topic]
        spec["replicas"] = cfg.kafka.replication
        spec["config"] = dict(sorted(configs.get(topic, {}).items()))
        docs.append({"apiVersion": API_VERSION, "kind": "KafkaTopic", **_doc(name, cluster, spec)})
    return docs


def _doc(name: str, cluster: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": _meta(name, cluster), "spec": spec}


def _acls(grants: list[Grant]) -> list[dict[str, Any]]:
    """One ACL per resource, with its operations (a principal's grants, sorted)."""
    ops: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for g in grants:
        ops[(g.resource, g.name, g.pattern)].append(_OPERATIONS[g.operation])
    return [
        {
            "resource": {"type": kind, "name": name, "patternType": _PATTERNS[pattern]},
            "operations": sorted(set(operations)),
            "host": "*",
        }
        for (kind, name, pattern), operations in sorted(ops.items())
    ]


def kafka_users(cfg: Config, cluster: str) -> list[dict[str, Any]]:
    """A ``KafkaUser`` (SCRAM-SHA-512, simple ACLs) per principal of the principal table."""
    by_principal: dict[str, list[Grant]] = defaultdict(list)
    for grant in principal_table(cfg):
        by_principal[grant.principal].append(grant)
    names = {who: k8s_name(who) for who in sorted(by_principal)}
    _unique(names, "principals")
    docs = []
    for who, name in names.items():
        spec = {
            "authentication": {"type": "scram-sha-512"},
            "authorization": {"type": "simple", "acls": _acls(by_principal[who])},
        }
        docs.append({"apiVersion": API_VERSION, "kind": "KafkaUser", **_doc(name, cluster, spec)})
    return docs


def render(docs: list[dict[str, Any]], command: str) -> str:
    """The documents as one YAML stream, with a header naming the command that wrote it."""
    header = f"# Generated by `{command}`: do not edit; change the config and run it again.\n"
    body = yaml.safe_dump_all(docs, sort_keys=False, explicit_start=True, width=100)
    return header + body


def files(cfg: Config, cluster: str, config_arg: str) -> dict[str, str]:
    """``{file name: text}`` of the generated resources."""
    command = f"python -m gateway.transport.strimzi --config {config_arg}"
    if cluster != DEFAULT_CLUSTER:
        command += f" --cluster {cluster}"
    return {
        TOPICS_FILE: render(kafka_topics(cfg, cluster), command),
        USERS_FILE: render(kafka_users(cfg, cluster), command),
    }


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m gateway.transport.strimzi",
        description="Write the gateway's KafkaTopic and KafkaUser resources (Strimzi, "
        f"{API_VERSION}) from its config: {TOPICS_FILE} (the topic plan of `a6gw topics`) "
        f"and {USERS_FILE} (the principal table of `a6gw kafka provision`).",
    )
    p.add_argument("--config", required=True, help="the gateway config file (YAML)")
    p.add_argument(
        "--cluster",
        default=DEFAULT_CLUSTER,
        help="the Strimzi Kafka cluster's name (label strimzi.io/cluster; default %(default)s)",
    )
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("--out", type=Path, help="write the files into this folder")
    out.add_argument(
        "--check", type=Path, help="exit 1 when the files in this folder differ from the config's"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        cfg = load_config(Path(args.config)).config
        wanted = files(cfg, args.cluster, args.config)
    except GatewayError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for name, text in wanted.items():
            (args.out / name).write_text(text, encoding="utf-8")
            print(f"wrote {args.out / name}")
        return 0
    stale = [
        name
        for name, text in wanted.items()
        if not (args.check / name).is_file()
        or (args.check / name).read_text(encoding="utf-8") != text
    ]
    for name in stale:
        print(f"{args.check / name} is stale: run with --out {args.check}", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
