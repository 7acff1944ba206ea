"""Tamper-evident audit log: RFC 9162 Merkle trees, proofs, C2SP checkpoints and bundles."""
