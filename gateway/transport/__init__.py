"""The local development/test Kafka broker and topic administration.

``LocalBroker`` runs a real single-node Apache Kafka (KRaft) from Maven Central jars;
``create_topics`` creates the gateway's topics explicitly (auto-creation is disabled).
"""

from gateway.transport.admin import BrokerProbe, create_topics, probe_broker, wait_for_topics
from gateway.transport.broker import DEFAULT_PORT, KAFKA_VERSION, BrokerStatus, LocalBroker

__all__ = [
    "DEFAULT_PORT",
    "KAFKA_VERSION",
    "BrokerProbe",
    "BrokerStatus",
    "LocalBroker",
    "create_topics",
    "probe_broker",
    "wait_for_topics",
]
