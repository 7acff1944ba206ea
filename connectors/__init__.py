"""HTTPS connectors for partner registries that do not speak Kafka.

Not implemented yet: a registry configured with ``transport: https`` gets its topics like
any other, but nothing delivers them over HTTPS.
"""
