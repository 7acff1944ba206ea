"""The gateway's topics, created explicitly with fixed partition counts (never auto-created)."""

from __future__ import annotations

from gateway.config import Config
from gateway.core.topics import (
    AUDIT_TOPIC,
    CHECKPOINT_TOPIC,
    COMMANDS_TOPIC,
    DISCREPANCY_TOPIC,
    DLQ_TOPIC,
    LEDGER_TOPIC,
    answer_topic,
    changelog_topic,
    is_changelog,
    parked_table,
    retry_topic,
)
from gateway.transport.admin import alter_topic_configs, create_topics
from gateway.transport.clients import KafkaClients
from gateway.transport.sizes import QUOTED, REQUOTED, WIRE, record_limit

# Input and audit topics are kept forever: they are the evidence.
KEEP_FOREVER = {"retention.ms": "-1", "retention.bytes": "-1"}
COMPACTED = {"cleanup.policy": "compact"}
# The broker stamps each input record with its own clock when it appends it; the ingest
# trusts a record's time only then (a producer may set any timestamp).
LOG_APPEND_TIME = {"message.timestamp.type": "LogAppendTime"}
# The worker's tables: the ingest stage's dedup table, the agents' cursors, the discrepancy
# stage's discrepancies, and the ledger's decisions (each with its effects: the changelog of
# the ledger state the worker holds in memory) and accounts (read by every partition).
WORKER_TABLES = ("inputs", "cursors", "discrepancies", "decisions", "accounts")


def topic_plan(cfg: Config) -> tuple[dict[str, int], dict[str, dict[str, str]]]:
    """``({topic: partitions}, {topic: configs})`` for every topic the gateway uses.

    Input topics share the ledger's partition count: stage A's dedup table is co-partitioned
    with them. The audit log has one partition: one writer orders it. Every topic takes the
    records an input of ``limits.max_message_bytes`` makes on it (``gateway.transport.sizes``);
    input topics and the audit log are stamped with the broker's time (LogAppendTime).
    """
    n = cfg.kafka.partitions
    topics: dict[str, int] = {}
    configs: dict[str, dict[str, str]] = {}
    for name, owner in cfg.input_topics().items():
        topics[name] = n
        configs[name] = {**KEEP_FOREVER, **LOG_APPEND_TIME}
        out = answer_topic(owner.registry, owner.party)
        topics[out] = n
    for reg in cfg.registries:
        if reg.transport == "https":  # messages parked until the partner is back, in order
            topics[retry_topic(reg.id)] = n
            configs[retry_topic(reg.id)] = dict(KEEP_FOREVER)
    topics[LEDGER_TOPIC] = n
    topics[DLQ_TOPIC] = n
    # Findings and operators' commands: keyed by discrepancy id, partitioned alike.
    for name in (DISCREPANCY_TOPIC, COMMANDS_TOPIC):
        topics[name] = n
        configs[name] = dict(KEEP_FOREVER)
    for name in (AUDIT_TOPIC, CHECKPOINT_TOPIC):
        topics[name] = 1
        configs[name] = dict(KEEP_FOREVER)
    # The sequencer stamps each entry's logged_at with its record's time here, which a
    # rebuild from the topic reads back: the broker's, not a writer's.
    configs[AUDIT_TOPIC] |= LOG_APPEND_TIME
    # Created here rather than by faust at startup, so that every worker sees them (with
    # their partition count) from its first metadata fetch on.
    parked = [parked_table(r.id) for r in cfg.registries if r.transport == "https"]
    for table in (*WORKER_TABLES, *parked):
        name = changelog_topic(cfg.gateway.id, table)
        topics[name] = n
        configs[name] = dict(COMPACTED)
    size = cfg.limits.max_message_bytes
    for name in topics:
        inp = name in cfg.input_topics()
        factor = WIRE if inp else REQUOTED if is_changelog(name) else QUOTED
        configs.setdefault(name, {})["max.message.bytes"] = str(record_limit(size, factor))
    return topics, configs


async def ensure_topics(admin: KafkaClients, cfg: Config) -> tuple[dict[str, int], list[str]]:
    """Create the plan's topics; existing ones keep their partitions and get the plan's
    settings (an earlier version's topics, e.g. without LogAppendTime). Returns the plan's
    partition counts and the names created."""
    topics, configs = topic_plan(cfg)
    created = await create_topics(admin, topics, configs=configs, replication=cfg.kafka.replication)
    await alter_topic_configs(admin, {n: c for n, c in configs.items() if n not in created})
    return topics, created
