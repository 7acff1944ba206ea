"""The gateway's AsyncAPI 3.0 document, generated from its topics and topic plan.

``python -m gateway.transport.asyncapi`` writes ``schemas/asyncapi/a6gw.asyncapi.yaml`` and
its Markdown page ``docs/asyncapi.md``; ``--check`` exits 1 when either is stale (``make
lint``). The document is generic: a per-registry or per-Party topic is one channel whose
address has parameters (``a6.in.{registryId}``). Its Kafka bindings come from
:func:`gateway.transport.topic_plan.topic_plan` run on :func:`example_config`: a topic's
partition count is given where it is fixed, and the topic configurations are the plan's
(``max.message.bytes`` for the default ``limits.max_message_bytes``).

Spec: AsyncAPI 3.0.0 (https://www.asyncapi.com/docs/reference/specification/v3.0.0), Kafka
bindings 0.5.0 (https://github.com/asyncapi/bindings/tree/master/kafka).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gateway.config import Config
from gateway.core import topics
from gateway.transport import asyncapi_messages as msgs
from gateway.transport.topic_plan import WORKER_TABLES, topic_plan

ASYNCAPI = "3.0.0"
BINDING = "0.5.0"
#: the contract's version: the v1 event types and the topics below
API_VERSION = "1.0.0"
REPO = Path(__file__).resolve().parents[2]
DOCUMENT = REPO / "schemas" / "asyncapi" / "a6gw.asyncapi.yaml"
PAGE = REPO / "docs" / "asyncapi.md"

#: the address parameters, with the pattern each stands for
PARAMETERS: dict[str, tuple[str, str]] = {
    "registryId": (
        "A registry's id: its Party's code and two digits (`registries[].id`).",
        r"[A-Z]{3}[0-9]{2}",
    ),
    "party": ("A Party's three-letter code (`parties[].code`).", r"[A-Z]{3}"),
    "gatewayId": ("The gateway's id (`gateway.id`, default `a6gw`).", r"[a-z0-9-]+"),
    "table": ("One of the worker's tables.", "(?:" + "|".join(WORKER_TABLES) + ")"),
}
_REGISTRY_SIGNERS = frozenset({"registry", "authorizing-authority", "jc-secretariat"})
_GROUP = "the gateway's consumer group: its `gateway.id` (faust's group is the app id)"


@dataclass(frozen=True)
class Channel:
    """One topic, or one kind of per-registry/per-Party topic, and who is on each side."""

    id: str
    address: str
    title: str
    messages: tuple[str, ...]
    key: str  # what the record key is
    writer: str  # who writes
    reader: str  # who reads
    actions: tuple[str, ...]  # the gateway's side: send and/or receive
    peer: str  # the other party: registry, partner, inventory agency, operator, auditor, internal
    internal: bool = False  # MAC'd by the gateway's processes (header a6-mac)
    group: bool = True  # the gateway receives in its consumer group (else by assignment)

    def key_of(self, message: str) -> str:
        """What the record key is for one of the channel's messages."""
        return MESSAGE_KEYS.get((self.id, message), self.key)

    @property
    def parameters(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.address)


#: a record key that differs between the messages of one channel
MESSAGE_KEYS = {
    ("registryOutput", "decisionV2"): "the input's event id",
    ("registryOutput", "decision"): "the input's event id",
    ("registryOutput", "notice"): "the transaction id it is about, else the input's event id; "
    "`reconciliation.requested`: the reconciliation id",
    ("auditLog", "auditEntry"): "the entry id",
    ("auditLog", "checkpointRequest"): "`a6gw.checkpoint-request`",
}


#: what the gateway writes now (v2), then what records written before it hold (v1)
_DECISIONS = ("decisionV2", "decision")


def channels() -> list[Channel]:
    """Every channel, in the order the document lists them."""
    out_keys = (
        "a decision: the input's event id; a notice: its transaction id (else the input's id)"
    )
    return [
        Channel(
            "registryInput", topics.input_topic("{registryId}"), "A registry's inputs",
            tuple(msgs.event_ids(_REGISTRY_SIGNERS)), "the event's id (CloudEvents `id`)",
            "the registry (Kafka partner), or the gateway's ingress for an HTTPS partner; its "
            "Party's authorizing authority and Joint Committees",
            "the gateway's worker; `a6gw reconcile` reads snapshot pages (no group)",
            ("receive",), "registry",
        ),
        Channel(
            "inventoryInput", topics.inventory_input_topic("{party}"), "A Party's inventory "
            "agency's inputs", tuple(msgs.event_ids(frozenset({"inventory-agency"}))),
            "the event's id (CloudEvents `id`)", "the Party's inventory agency",
            "the gateway's worker", ("receive",), "inventory agency",
        ),
        Channel(
            "registryOutput", topics.output_topic("{registryId}"), "Decisions and notices "
            "for a registry", _DECISIONS + ("notice",), out_keys + "; `reconciliation."
            "requested`: the reconciliation id", "the gateway's worker; `a6gw reconcile` "
            "(`reconciliation.requested`)", "the registry in its group `registry-{registryId}`"
            "; for an HTTPS partner the worker, which POSTs each to the partner",
            ("send",), "registry",
        ),
        Channel(
            "inventoryOutput", topics.inventory_output_topic("{party}"), "Decisions for a "
            "Party's inventory agency", _DECISIONS, "the input's event id",
            "the gateway's worker", "the inventory agency in its group `inventory-{party}`",
            ("send",), "inventory agency",
        ),
        Channel(
            "partnerRetry", topics.retry_topic("{registryId}"), "An HTTPS partner's parked "
            "deliveries", _DECISIONS + ("notice",), "the output record's key",
            "the gateway's worker, when the partner cannot be reached",
            "the gateway's worker, which delivers them in order when it is back",
            ("send", "receive"), "internal (for an HTTPS partner)", internal=True,
        ),
        Channel(
            "ledger", topics.LEDGER_TOPIC, "Authenticated inputs, to the ledger stage",
            ("ledgerRecord",), "the cooperative approach id (one approach, one partition)",
            "the worker's ingest stage and its transfer timer", "the worker's ledger stage",
            ("send", "receive"), "internal", internal=True,
        ),
        Channel(
            "auditLog", topics.AUDIT_TOPIC, "The audit log's entries, to be sequenced",
            ("auditEntry", "checkpointRequest"), "the entry id; a checkpoint request: "
            "`a6gw.checkpoint-request`", "the worker, the ingress (refusals), `a6gw "
            "reconcile`, `a6gw summary --check`, `a6gw audit checkpoint`",
            "the worker's sequencer; `a6gw audit restore` (no group)",
            ("send", "receive"), "internal (auditors read the log over the audit API)",
            internal=True,
        ),
        Channel(
            "checkpoints", topics.CHECKPOINT_TOPIC, "Signed checkpoints of the audit log",
            ("checkpoint",), "the tree size, in decimal", "the worker's sequencer",
            "`a6gw audit checkpoint`, `a6gw audit restore` (no group)", ("send", "receive"),
            "internal (auditors get checkpoints over the audit API and in bundles)", group=False,
        ),
        Channel(
            "discrepancies", topics.FINDINGS_TOPIC, "Discrepancies found and updated",
            ("finding",), "the discrepancy id", "the worker, `a6gw reconcile`, `a6gw "
            "summary --check`", "the worker's oversight stage", ("send", "receive"),
            "internal (operators read them over the API)", internal=True,
        ),
        Channel(
            "discrepancyCommands", topics.COMMANDS_TOPIC, "Operators' signed commands on "
            "discrepancies", tuple(msgs.event_ids(frozenset({"operator"}))),
            "the discrepancy id", "the API and `a6gw discrepancy ...` for an operator",
            "the worker's oversight stage", ("receive",), "operator",
        ),
        Channel(
            "deadLetters", topics.DLQ_TOPIC, "Dead letters", ("deadLetter",),
            "the dead input's audit entry id", "the worker", "`a6gw dlq` (operators)",
            ("send",), "operator", internal=True,
        ),
        Channel(
            "tableChangelog", topics.changelog_topic("{gatewayId}", "{table}"),
            "The worker's table changelogs", ("changelogRecord",), "the table's key",
            "the worker", "the worker, when it recovers a table", ("send", "receive"),
            "internal",
        ),
        Channel(
            "parkedChangelog",
            topics.changelog_topic("{gatewayId}", topics.parked_table("{registryId}")),
            "An HTTPS partner's parked-deliveries table", ("changelogRecord",),
            "the output record's key", "the worker", "the worker, when it recovers a table",
            ("send", "receive"), "internal",
        ),
    ]  # fmt: skip


def address_pattern(address: str) -> re.Pattern[str]:
    """The concrete topic names a parameterised address stands for."""
    parts = re.split(r"\{(\w+)\}", address)
    body = "".join(PARAMETERS[p][1] if i % 2 else re.escape(p) for i, p in enumerate(parts))
    return re.compile(body)


def channel_of(topic: str, chans: list[Channel]) -> Channel:
    """The one channel whose address stands for ``topic``."""
    found = [c for c in chans if address_pattern(c.address).fullmatch(topic)]
    if len(found) != 1:
        raise ValueError(f"topic {topic!r} matches {len(found)} channels, not one")
    return found[0]


def example_config(partitions: int = 4) -> Config:
    """A config with a Kafka and an HTTPS registry, two Parties, otherwise the defaults:
    the plan's settings of each kind of topic (the document names none of these ids)."""
    return Config.model_validate(
        {
            "kafka": {"partitions": partitions},
            "parties": [{"code": "XAA", "name": "A"}, {"code": "XBB", "name": "B"}],
            "registries": [
                {"id": "XAA01", "party": "XAA"},
                {"id": "XBB01", "party": "XBB", "transport": "https",
                 "endpoint": "https://registry.example/a6"},
            ],
        }
    )  # fmt: skip


def _typed(configs: dict[str, str]) -> dict[str, Any]:
    """Topic configs as the Kafka binding types them (integers, a list of policies)."""
    out: dict[str, Any] = {}
    for name, value in sorted(configs.items()):
        if name == "cleanup.policy":
            out[name] = value.split(",")
        elif re.fullmatch(r"-?\d+", value):
            out[name] = int(value)
        else:
            out[name] = value
    return out


def channel_bindings(chans: list[Channel]) -> dict[str, dict[str, Any]]:
    """Each channel's Kafka binding from the topic plan: the same configs for every topic it
    stands for (else ValueError); ``partitions`` only where the plan fixes it."""
    plans = [topic_plan(example_config(n)) for n in (4, 7)]
    seen: dict[str, dict[str, Any]] = {}
    for name in plans[0][0]:
        chan = channel_of(name, chans)
        counts = {plan[0][name] for plan in plans}
        binding: dict[str, Any] = {"topicConfiguration": _typed(plans[0][1].get(name, {}))}
        if len(counts) == 1:
            binding["partitions"] = counts.pop()
        binding["bindingVersion"] = BINDING
        if seen.setdefault(chan.id, binding) != binding:
            raise ValueError(f"{name}: its settings differ from {chan.address}'s other topics")
    return seen


def _channel(chan: Channel, binding: dict[str, Any]) -> dict[str, Any]:
    messages = {}
    for mid in chan.messages:
        message: dict[str, Any] = {
            "name": msgs.name_of(mid),
            "title": msgs.title_of(mid),
            "contentType": msgs.content_type(mid),
            "payload": {"$ref": f"#/components/schemas/{mid}"},
            "bindings": {
                "kafka": {
                    "key": {"type": "string", "description": chan.key_of(mid)},
                    "bindingVersion": BINDING,
                }
            },
        }
        is_input = chan.id in ("registryInput", "inventoryInput")
        headers = msgs.headers_of(chan.address, internal=chan.internal, is_input=is_input)
        if headers is not None:
            message["headers"] = headers
        messages[mid] = message
    partitions = binding.get("partitions", "`kafka.partitions` of the config")
    out: dict[str, Any] = {
        "address": chan.address,
        "title": chan.title,
        "description": (
            f"Written by {chan.writer}. Read by {chan.reader}. Record key: {chan.key}. "
            f"Partitions: {partitions}."
        ),
        "messages": messages,
        "bindings": {"kafka": binding},
    }
    if chan.parameters:
        out["parameters"] = {p: {"description": PARAMETERS[p][0]} for p in chan.parameters}
    return out


def _operations(chans: list[Channel]) -> dict[str, Any]:
    ops: dict[str, Any] = {}
    for chan in chans:
        for action in chan.actions:
            op: dict[str, Any] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{chan.id}"},
                "title": f"{action.capitalize()} on {chan.address}",
                "description": (
                    f"The gateway {action}s; the other party: {chan.peer}. "
                    f"Written by {chan.writer}; read by {chan.reader}."
                ),
                "messages": [{"$ref": f"#/channels/{chan.id}/messages/{m}"} for m in chan.messages],
            }
            if action == "receive" and chan.group:
                op["bindings"] = {
                    "kafka": {
                        "groupId": {"type": "string", "description": _GROUP},
                        "bindingVersion": BINDING,
                    }
                }
            ops[action + chan.id[0].upper() + chan.id[1:]] = op
    return ops


INFO = """\
The Kafka topics of the a6gw Article 6 Interoperability Gateway, seen from the gateway.
Every record is written with acks=all. Signed events are CloudEvents 1.0 in structured mode
(the envelope schema under schemas/json). Addresses with parameters stand for one topic per
registry (`registryId`), Party (`party`) or gateway (`gatewayId`) of the config. Partition
counts not given in a channel's binding are the config's `kafka.partitions`; every topic has
`kafka.replication` replicas; `max.message.bytes` is for the default
`limits.max_message_bytes` (gateway.transport.sizes scales it). Records on internal topics
carry the header `a6-mac`. The gateway consumes in one consumer group, its `gateway.id`.
Generated by `python -m gateway.transport.asyncapi`; do not edit by hand.
"""


def document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document, as plain data."""
    chans = channels()
    bindings = channel_bindings(chans)
    return {
        "asyncapi": ASYNCAPI,
        "id": "urn:a6gw:gateway",
        "info": {
            "title": "a6gw: Article 6 Interoperability Gateway",
            "version": API_VERSION,
            "description": " ".join(INFO.split()),
            "license": {"name": "Apache-2.0"},
        },
        "defaultContentType": "application/json",
        "servers": {
            "broker": {
                "host": "{bootstrap}",
                "protocol": "kafka-secure",
                "description": "The gateway's Kafka cluster: SASL (SCRAM) over TLS in "
                "deployments (`kafka.security_protocol`); one principal per registry, "
                "inventory agency and gateway process, each allowed only its topics.",
                "variables": {
                    "bootstrap": {
                        "default": "127.0.0.1:19092",
                        "description": "`kafka.bootstrap` of the config",
                    }
                },
                "security": [{"$ref": "#/components/securitySchemes/scram"}],
            }
        },
        "channels": {c.id: _channel(c, bindings[c.id]) for c in chans},
        "operations": _operations(chans),
        "components": {
            "schemas": msgs.payload_schemas(),
            "securitySchemes": {
                "scram": {
                    "type": "scramSha512",
                    "description": "SCRAM-SHA-512 by default (`kafka.sasl_mechanism`); "
                    "credentials from `a6gw kafka provision`.",
                }
            },
        },
    }


class _Dumper(yaml.SafeDumper):
    """Writes a shared value out at each place (no YAML anchors and aliases)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render() -> dict[Path, str]:
    """``{path: text}`` of the document and its Markdown page."""
    from gateway.transport.asyncapi_md import page

    doc = document()
    text = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return {DOCUMENT: text, PAGE: page(doc)}


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m gateway.transport.asyncapi", description=__doc__
    )
    parser.add_argument("--check", action="store_true", help="fail if the files are stale")
    args = parser.parse_args(argv)
    want = render()
    if args.check:
        stale = [p for p, t in want.items() if not p.is_file() or p.read_text("utf-8") != t]
        for path in stale:
            print(f"stale: {path.relative_to(REPO)}", file=sys.stderr)
        if stale:
            print("run: python -m gateway.transport.asyncapi", file=sys.stderr)
            return 1
        print("AsyncAPI document and page are current")
        return 0
    for path, text in want.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
