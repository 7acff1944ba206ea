"""Every Kafka topic name the gateway uses, and the functions that build the per-registry ones.

The one home of topic names: the worker, the ingress, the API, the ACLs, the topic plan and
the published contracts read them from here. Pure: no client, no config.
"""

from __future__ import annotations

# The gateway's own topics (internal: only the worker's principal writes them).
LEDGER_TOPIC = "a6.ledger"
AUDIT_TOPIC = "a6.audit.log"
FINDINGS_TOPIC = "a6.discrepancies"
DLQ_TOPIC = "a6.dlq"
# Signed checkpoints of the audit log, and operators' signed commands on discrepancies.
CHECKPOINT_TOPIC = "a6.audit.checkpoints"
COMMANDS_TOPIC = "a6.discrepancy.commands"
DISCREPANCY_TOPIC = FINDINGS_TOPIC

INTERNAL_TOPICS = frozenset({LEDGER_TOPIC, AUDIT_TOPIC, FINDINGS_TOPIC, DLQ_TOPIC})
INPUT_PREFIX = "a6.in."
OUTPUT_PREFIX = "a6.out."
RETRY_PREFIX = "a6.retry."


def input_topic(registry_id: str) -> str:
    """Where a registry publishes its events."""
    return f"{INPUT_PREFIX}{registry_id}"


def inventory_input_topic(party: str) -> str:
    """Where a Party's inventory agency publishes its figures."""
    return f"{INPUT_PREFIX}inventory.{party}"


def output_topic(registry_id: str) -> str:
    """Where the gateway writes a registry's decisions and notices."""
    return f"{OUTPUT_PREFIX}{registry_id}"


def inventory_output_topic(party: str) -> str:
    """Where the gateway answers a Party's inventory agency."""
    return f"{OUTPUT_PREFIX}inventory.{party}"


def answer_topic(registry: str | None, party: str) -> str:
    """The output topic of an input topic's owner: its registry's, or its Party's inventory."""
    return output_topic(registry) if registry else inventory_output_topic(party)


def retry_topic(registry_id: str) -> str:
    """Messages for an HTTPS partner parked until it is back, in order."""
    return f"{RETRY_PREFIX}{registry_id}"


def parked_table(registry_id: str) -> str:
    """The worker's table of an HTTPS partner's parked deliveries."""
    return f"parked-{registry_id}"


def changelog_topic(app_id: str, table: str) -> str:
    """faust's name for a table's changelog topic."""
    return f"{app_id}-{table}-changelog"


def is_changelog(topic: str) -> bool:
    return topic.endswith("-changelog")


def is_output(topic: str) -> bool:
    return topic.startswith(OUTPUT_PREFIX)
