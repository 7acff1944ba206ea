"""Who may do what on the broker: the principal table, and provisioning it.

:func:`principal_table` derives, from the gateway config alone, every principal and the
topics and groups it may use (README, "Kafka principals"). :func:`provision` makes it so
on the broker with the broker's admin credential: a SCRAM user per principal (its password
kept in, or generated into, its credentials file, 0600) and the ACLs (allow only; the
broker denies everything no ACL allows). Run again it changes nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiokafka.errors import KafkaError, for_code
from aiokafka.protocol.admin import CreateAclsRequest_v1
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    CompactArray,
    CompactBytes,
    CompactString,
    Int8,
    Int16,
    Int32,
    Schema,
    TaggedFields,
)

from gateway.config import Config
from gateway.core import topics
from gateway.core.topics import (
    AUDIT_TOPIC,
    CHECKPOINT_TOPIC,
    COMMANDS_TOPIC,
    DLQ_TOPIC,
    FINDINGS_TOPIC,
    LEDGER_TOPIC,
)
from gateway.errors import BrokerError, ConfigError
from gateway.transport.clients import Credentials, KafkaClients, credentials_path

if TYPE_CHECKING:
    from gateway.config import LoadedConfig

READ, WRITE, DESCRIBE = "READ", "WRITE", "DESCRIBE"
# Kafka's enumerations (org.apache.kafka.common.acl / resource).
_RESOURCE = {"topic": 2, "group": 3}
_PATTERN = {"literal": 3, "prefixed": 4}
_OPERATION = {READ: 3, WRITE: 4, DESCRIBE: 8}
_ALLOW = 3
_SCRAM = {"SCRAM-SHA-256": (1, "sha256"), "SCRAM-SHA-512": (2, "sha512")}
ITERATIONS = 8192


@dataclass(frozen=True, order=True)
class Grant:
    """``principal`` may do ``operation`` on the topic or group ``name`` (or every name
    starting with it when ``pattern`` is prefixed). READ and WRITE imply DESCRIBE."""

    principal: str
    resource: str  # topic | group
    name: str
    operation: str  # READ | WRITE | DESCRIBE
    pattern: str = "literal"


def registry_principal(registry_id: str) -> str:
    return f"registry-{registry_id}"


def inventory_principal(party: str) -> str:
    return f"inventory-{party}"


def principal_table(cfg: Config) -> list[Grant]:
    """Every grant the gateway config calls for, sorted."""
    g: list[Grant] = []

    def topic(who: str, name: str, *ops: str, pattern: str = "literal") -> None:
        g.extend(Grant(who, "topic", name, op, pattern) for op in ops)

    gid = cfg.gateway.id
    kafka_regs = [r for r in cfg.registries if r.transport == "kafka"]
    https_regs = [r for r in cfg.registries if r.transport == "https"]
    # Partners: their own input topic (write), output topic and consumer group (read).
    for reg in kafka_regs:
        who = registry_principal(reg.id)
        topic(who, reg.in_topic, WRITE)
        topic(who, reg.out_topic, READ)
        g.append(Grant(who, "group", who, READ))
    for party in cfg.parties:
        who = inventory_principal(party.code)
        topic(who, topics.inventory_input_topic(party.code), WRITE)
        topic(who, topics.inventory_output_topic(party.code), READ)
        g.append(Grant(who, "group", who, READ))
    # The worker: reads every input, runs the stages, writes every output.
    worker = f"{gid}-worker"
    for name in cfg.input_topics():
        topic(worker, name, READ)
    for reg in kafka_regs:
        topic(worker, reg.out_topic, WRITE)
    for reg in https_regs:  # delivered to the partner from its output and retry topics
        topic(worker, reg.out_topic, READ, WRITE)
        topic(worker, topics.retry_topic(reg.id), READ, WRITE)
    for party in cfg.parties:
        topic(worker, topics.inventory_output_topic(party.code), WRITE)
    for name in (LEDGER_TOPIC, AUDIT_TOPIC, CHECKPOINT_TOPIC, FINDINGS_TOPIC):
        topic(worker, name, READ, WRITE)
    topic(worker, COMMANDS_TOPIC, READ)
    topic(worker, DLQ_TOPIC, WRITE)
    topic(worker, f"{gid}-", READ, WRITE, pattern="prefixed")  # faust's table changelogs
    g.append(Grant(worker, "group", gid, READ))  # faust's consumer group is the app id
    # The ingress: HTTPS partners' input topics, and its refusal entries.
    ingress = f"{gid}-ingress"
    for reg in https_regs:
        topic(ingress, reg.in_topic, WRITE)
    topic(ingress, AUDIT_TOPIC, WRITE)
    # The API and `a6gw discrepancy ...`: operators' signed commands.
    topic(f"{gid}-api", COMMANDS_TOPIC, WRITE)
    topic(f"{gid}-discrepancy", COMMANDS_TOPIC, WRITE)
    # `a6gw reconcile`: asks a Kafka registry for its snapshot on its output topic, reads the
    # pages from its input topic (no group), records the run and its discrepancies.
    reconcile = f"{gid}-reconcile"
    for reg in kafka_regs:
        topic(reconcile, reg.out_topic, WRITE)
        topic(reconcile, reg.in_topic, READ)
    topic(reconcile, AUDIT_TOPIC, WRITE)
    topic(reconcile, FINDINGS_TOPIC, WRITE)
    # `a6gw summary --check`: its check entries and discrepancies.
    topic(f"{gid}-summary", AUDIT_TOPIC, WRITE)
    topic(f"{gid}-summary", FINDINGS_TOPIC, WRITE)
    # `a6gw audit checkpoint`: asks the sequencer on the log, reads the checkpoint topic.
    topic(f"{gid}-checkpoint", AUDIT_TOPIC, WRITE)
    topic(f"{gid}-checkpoint", CHECKPOINT_TOPIC, READ)
    # `a6gw audit restore`: reads the audit log and its checkpoints from the start (no group).
    topic(f"{gid}-restore", AUDIT_TOPIC, READ)
    topic(f"{gid}-restore", CHECKPOINT_TOPIC, READ)
    # `a6gw lag` and `a6gw dlq`: the ends of what the worker consumes, its cursors and its
    # group's committed offsets (DESCRIBE only); the dead letters; a gateway fault's input
    # put back on the topic it came from (replay).
    operator = f"{gid}-operator"
    for name in cfg.input_topics():
        topic(operator, name, WRITE)
    for name in (LEDGER_TOPIC, AUDIT_TOPIC, FINDINGS_TOPIC, COMMANDS_TOPIC):
        topic(operator, name, DESCRIBE)
    topic(operator, DLQ_TOPIC, READ)
    topic(operator, topics.changelog_topic(gid, "cursors"), READ)
    g.append(Grant(operator, "group", gid, DESCRIBE))
    return sorted(set(g))


def principals(cfg: Config) -> list[str]:
    return sorted({grant.principal for grant in principal_table(cfg)})


# -- the wire: AlterUserScramCredentials (API 51, flexible v0) and a batch of CreateAcls -----


class _ScramResponse(Response):  # type: ignore[misc]
    API_KEY = 51
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "results",
            CompactArray(
                ("user", CompactString("utf-8")),
                ("error_code", Int16),
                ("error_message", CompactString("utf-8")),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class _ScramRequestV0(RequestStruct):  # type: ignore[misc]
    FLEXIBLE_VERSION = True
    API_KEY = 51
    API_VERSION = 0
    RESPONSE_TYPE = _ScramResponse
    SCHEMA = Schema(
        (
            "deletions",
            CompactArray(
                ("name", CompactString("utf-8")), ("mechanism", Int8), ("tags", TaggedFields)
            ),
        ),
        (
            "upsertions",
            CompactArray(
                ("name", CompactString("utf-8")),
                ("mechanism", Int8),
                ("iterations", Int32),
                ("salt", CompactBytes),
                ("salted_password", CompactBytes),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class _UpsertScram(Request[_ScramRequestV0]):  # type: ignore[misc]
    API_KEY = 51

    def __init__(self, upsertions: list[tuple[Any, ...]]) -> None:
        self._upsertions = upsertions

    def build(self, request_struct_class: type[_ScramRequestV0]) -> _ScramRequestV0:
        return request_struct_class([], self._upsertions, {})


class _CreateAcls(Request[CreateAclsRequest_v1]):  # type: ignore[misc]
    API_KEY = 30

    def __init__(self, creations: list[tuple[Any, ...]]) -> None:
        self._creations = creations

    def build(self, request_struct_class: type[CreateAclsRequest_v1]) -> CreateAclsRequest_v1:
        return request_struct_class(self._creations)


def scram_upsertion(user: str, password: str, mechanism: str) -> tuple[Any, ...]:
    """One user's SCRAM credential as the broker stores it (RFC 5802 SaltedPassword)."""
    code, digest = _SCRAM[mechanism]
    salt = secrets.token_bytes(32)
    salted = hashlib.pbkdf2_hmac(digest, password.encode("utf-8"), salt, ITERATIONS)
    return (user, code, ITERATIONS, salt, salted, {})


def acl_creation(grant: Grant) -> tuple[Any, ...]:
    resource, pattern = _RESOURCE[grant.resource], _PATTERN[grant.pattern]
    principal, op = f"User:{grant.principal}", _OPERATION[grant.operation]
    return (resource, grant.name, pattern, principal, "*", op, _ALLOW)


def _check(kind: str, results: list[tuple[Any, ...]], code_at: int, msg_at: int) -> None:
    problems = [
        f"{for_code(r[code_at]).__name__} {r[msg_at] or ''}".rstrip()
        for r in results
        if r[code_at] != 0
    ]
    if problems:
        raise BrokerError(f"{kind} refused: {'; '.join(problems)}", code="KAFKA-ACL")


def _credentials(path: Path, principal: str) -> Credentials:
    """The principal's credentials file: kept if it names it, else written afresh (0600)."""
    if path.exists():
        try:
            creds = Credentials.load(path)
        except ConfigError:
            creds = None
        if creds is not None and creds.username == principal:
            if path.stat().st_mode & 0o077:
                os.chmod(path, 0o600)
            return creds
    creds = Credentials(principal, secrets.token_urlsafe(24))
    creds.save(path)
    return creds


async def provision(lc: LoadedConfig, admin: KafkaClients) -> dict[str, Path]:
    """Users and ACLs of the config's principal table; returns each principal's file."""
    cfg = lc.config
    gid = cfg.gateway.id
    files: dict[str, Path] = {}
    for who in principals(cfg):
        role = who[len(gid) + 1 :] if who.startswith(f"{gid}-") else who
        files[who] = credentials_path(lc, role)
    creds = {who: _credentials(path, who) for who, path in files.items()}
    mechanism = cfg.kafka.sasl_mechanism
    users = [scram_upsertion(c.username, c.password, mechanism) for c in creds.values()]
    client = admin.admin(request_timeout_ms=30_000)
    try:
        await client.start()
        answer = await client._send_request(_UpsertScram(users))  # noqa: SLF001
        _check("SCRAM users", answer.results, 1, 2)
        creations = [acl_creation(grant) for grant in principal_table(cfg)]
        answer = await client._send_request(_CreateAcls(creations))  # noqa: SLF001
        _check("ACLs", answer.creation_responses, 0, 1)
    except KafkaError as exc:
        raise BrokerError(
            f"provisioning on {admin.bootstrap} failed: {type(exc).__name__}: {exc}",
            code="KAFKA-ACL",
        ) from exc
    finally:
        await client.close()
    # The controller hands new credentials to the broker asynchronously: return once each
    # principal can log in, so that whoever reads its file next is admitted.
    await asyncio.gather(*(_await_login(admin.as_user(c)) for c in creds.values()))
    return files


async def _await_login(kafka: KafkaClients, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        client = kafka.admin(request_timeout_ms=5000)
        try:
            await client.start()
            return
        except KafkaError as exc:
            if time.monotonic() > deadline:
                who = kafka.credentials.username if kafka.credentials else "?"
                raise BrokerError(f"{who} cannot log in: {exc}", code="KAFKA-ACL") from exc
        finally:
            await client.close()
        await asyncio.sleep(0.3)
