"""Talking to the local broker: a raw protocol probe and explicit topic creation.

:func:`probe_broker` speaks just enough of the Kafka wire protocol (ApiVersions v0, then a
Metadata request for zero topics) to tell "a Kafka broker is serving requests" apart from
"something accepted a TCP connection". It is synchronous and needs no event loop, so
:class:`~gateway.transport.broker.LocalBroker` can poll it while the JVM starts.

:func:`create_topics` and :func:`wait_for_topics` use aiokafka's admin client. The broker runs
with ``auto.create.topics.enable=false``, so every topic the gateway uses is created here with
a fixed partition count. aiokafka errors are translated to :class:`~gateway.errors.BrokerError`.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from gateway.errors import BrokerError
from gateway.transport.clients import KafkaClients

API_VERSIONS = 18
METADATA = 3
_CLIENT_ID = b"a6gw-probe"


@dataclass(frozen=True)
class BrokerProbe:
    """What a broker said about itself: supported API ranges and the cluster it belongs to."""

    api_versions: dict[int, tuple[int, int]]
    broker_ids: tuple[int, ...] = ()
    controller_id: int | None = None
    cluster_id: str | None = None
    metadata_checked: bool = field(default=False)

    @property
    def ready(self) -> bool:
        """True if the broker serves requests (and, when checked, knows at least one broker)."""
        return bool(self.api_versions) and (not self.metadata_checked or bool(self.broker_ids))


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    buf = bytearray()
    while len(buf) < size:
        chunk = sock.recv(size - len(buf))
        if not chunk:
            raise ConnectionError("broker closed the connection mid-response")
        buf += chunk
    return bytes(buf)


def _roundtrip(sock: socket.socket, api_key: int, version: int, corr: int, body: bytes) -> bytes:
    """Send one request (header v1) and return the response body after the correlation id."""
    header = struct.pack(">hhih", api_key, version, corr, len(_CLIENT_ID)) + _CLIENT_ID
    payload = header + body
    sock.sendall(struct.pack(">i", len(payload)) + payload)
    (size,) = struct.unpack(">i", _recv_exact(sock, 4))
    if not 4 <= size <= 16 * 1024 * 1024:
        raise ValueError(f"implausible Kafka response size {size}")
    data = _recv_exact(sock, size)
    (got,) = struct.unpack_from(">i", data)
    if got != corr:
        raise ValueError(f"correlation id mismatch: sent {corr}, got {got}")
    return data[4:]


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, fmt: str) -> int:
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return int(value)

    def string(self) -> str | None:
        n = self.take(">h")
        if n < 0:
            return None
        raw = self.data[self.pos : self.pos + n]
        self.pos += n
        return raw.decode("utf-8")


def probe_broker(
    host: str, port: int, *, timeout: float = 2.0, metadata: bool = True
) -> BrokerProbe:
    """Ask the broker at ``host:port`` for its API versions and, if possible and ``metadata``,
    its metadata (a SASL listener answers only ApiVersions before authentication).

    Raises :class:`OSError` when nothing answers and :class:`ValueError` when the answer is
    not a Kafka response.
    """
    try:
        return _probe(host, port, timeout, metadata)
    except struct.error as exc:
        raise ValueError(f"malformed Kafka response from {host}:{port}: {exc}") from exc


def _probe(host: str, port: int, timeout: float, metadata: bool) -> BrokerProbe:
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        r = _Reader(_roundtrip(sock, API_VERSIONS, 0, 1, b""))
        error = r.take(">h")
        if error != 0:
            raise ValueError(f"ApiVersions answered with error code {error}")
        versions: dict[int, tuple[int, int]] = {}
        for _ in range(r.take(">i")):
            key, lo, hi = r.take(">h"), r.take(">h"), r.take(">h")
            versions[key] = (lo, hi)
        if not versions:
            raise ValueError("ApiVersions answered with no APIs")
        lo, hi = versions.get(METADATA, (-1, -1))
        if not metadata or lo > 8 or hi < 4:  # only the non-flexible v4..v8 layouts are parsed here
            return BrokerProbe(versions)
        version = max(lo, min(hi, 8))
        # topics: empty array (no topics); allow_auto_topic_creation=false; v8 adds two flags
        body = struct.pack(">ib", 0, 0) + (b"\x00\x00" if version >= 8 else b"")
        m = _Reader(_roundtrip(sock, METADATA, version, 2, body))
        m.take(">i")  # throttle_time_ms
        ids = []
        for _ in range(m.take(">i")):
            ids.append(m.take(">i"))
            m.string()  # host
            m.take(">i")  # port
            m.string()  # rack
        cluster_id = m.string()
        controller = m.take(">i")
        return BrokerProbe(versions, tuple(ids), controller, cluster_id, metadata_checked=True)


def _admin(clients: KafkaClients, timeout: float) -> AIOKafkaAdminClient:
    return clients.admin(request_timeout_ms=max(1000, int(timeout * 1000)))


async def create_topics(
    clients: KafkaClients,
    topics: Mapping[str, int],
    *,
    replication: int = 1,
    configs: Mapping[str, Mapping[str, str]] | None = None,
    timeout: float = 30.0,
) -> list[str]:
    """Create ``topics`` (name -> partition count) and wait until they all have leaders.

    Topics that already exist keep their partitions (and get ``configs`` with
    :func:`alter_topic_configs`), but if one exists with a *different* partition count a
    :class:`BrokerError` (``KAFKA-TOPIC``) is raised: keyed events would be spread
    differently than the gateway expects. Returns the names that were newly created.
    """
    bootstrap = clients.bootstrap
    configs = configs or {}
    unknown = set(configs) - set(topics)
    if unknown:
        raise BrokerError(
            f"configs given for unknown topics: {sorted(unknown)}", code="KAFKA-TOPIC"
        )
    for name, partitions in topics.items():
        if partitions < 1:
            raise BrokerError(f"topic {name!r}: partitions must be >= 1", code="KAFKA-TOPIC")
    if not topics:
        return []
    new = [
        NewTopic(name, partitions, replication, topic_configs=dict(configs.get(name, {})))
        for name, partitions in topics.items()
    ]
    admin = _admin(clients, timeout)
    created: list[str] = []
    try:
        await admin.start()
        response = await admin.create_topics(new, timeout_ms=int(timeout * 1000))
        problems = []
        for item in response.topic_errors:
            name, code = item[0], item[1]
            message = item[2] if len(item) > 2 else None
            if code == 0:
                created.append(name)
            elif code != TopicAlreadyExistsError.errno:
                problems.append(f"{name}: {for_code(code).__name__} {message or ''}".rstrip())
        if problems:
            raise BrokerError("could not create topics: " + "; ".join(problems), code="KAFKA-TOPIC")
    except (KafkaError, TimeoutError, OSError) as exc:
        raise BrokerError(
            f"topic creation on {bootstrap} failed: {type(exc).__name__}: {exc}", code="KAFKA-ADMIN"
        ) from exc
    finally:
        await admin.close()
    counts = await wait_for_topics(clients, topics.keys(), timeout=timeout)
    wrong = {n: (counts[n], p) for n, p in topics.items() if counts[n] != p}
    if wrong:
        detail = ", ".join(
            f"{n} has {have} partitions, wanted {want}" for n, (have, want) in wrong.items()
        )
        raise BrokerError(
            f"existing topics differ from the requested layout: {detail}", code="KAFKA-TOPIC"
        )
    return created


async def wait_for_topics(
    clients: KafkaClients, topics: Iterable[str], *, timeout: float = 30.0
) -> dict[str, int]:
    """Wait until every topic exists and each partition has a leader; return partition counts."""
    bootstrap = clients.bootstrap
    wanted = sorted(set(topics))
    deadline = time.monotonic() + timeout
    admin = _admin(clients, timeout)
    missing: list[str] = wanted
    try:
        await admin.start()
        while True:
            counts: dict[str, int] = {}
            for info in await admin.describe_topics(wanted):
                parts = info["partitions"]
                if info["error_code"] == 0 and parts and all(p["leader"] >= 0 for p in parts):
                    counts[info["topic"]] = len(parts)
            missing = [t for t in wanted if t not in counts]
            if not missing:
                return counts
            if time.monotonic() >= deadline:
                break
            await asyncio.sleep(0.2)
    except (KafkaError, TimeoutError, OSError) as exc:
        raise BrokerError(
            f"describing topics on {bootstrap} failed: {type(exc).__name__}: {exc}",
            code="KAFKA-ADMIN",
        ) from exc
    finally:
        await admin.close()
    raise BrokerError(
        f"topics not ready on {bootstrap} after {timeout:.0f}s: {', '.join(missing)}",
        code="KAFKA-TOPIC",
    )


async def alter_topic_configs(
    clients: KafkaClients, configs: Mapping[str, Mapping[str, str]], *, timeout: float = 30.0
) -> None:
    """Give existing topics exactly ``configs`` (AlterConfigs replaces a topic's dynamic
    settings as a whole: the gateway's plan names every one it sets); returns once the
    broker describes them so."""
    if not configs:
        return
    resources = [
        ConfigResource(ConfigResourceType.TOPIC, name, dict(values))
        for name, values in configs.items()
    ]
    admin = _admin(clients, timeout)
    try:
        await admin.start()
        problems = []
        for response in await admin.alter_configs(resources):
            for item in response.resources:
                code, message, name = item[0], item[1], item[3]
                if code != 0:
                    problems.append(f"{name}: {for_code(code).__name__} {message or ''}".rstrip())
        if problems:
            raise BrokerError("could not alter topics: " + "; ".join(problems), code="KAFKA-TOPIC")
        deadline = time.monotonic() + timeout
        while await _differing(admin, configs):  # the controller applies them asynchronously
            if time.monotonic() > deadline:
                raise BrokerError("altered topic settings did not apply", code="KAFKA-TOPIC")
            await asyncio.sleep(0.2)
    except (KafkaError, TimeoutError, OSError) as exc:
        raise BrokerError(
            f"altering topic configs on {clients.bootstrap} failed: {type(exc).__name__}: {exc}",
            code="KAFKA-ADMIN",
        ) from exc
    finally:
        await admin.close()


async def _differing(admin: AIOKafkaAdminClient, configs: Mapping[str, Mapping[str, str]]) -> bool:
    """True while some topic's described settings differ from ``configs``."""
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in configs]
    for response in await admin.describe_configs(resources):
        for resource in response.resources:
            have = {entry[0]: entry[1] for entry in resource[4]}
            want = configs[resource[3]]
            if any(have.get(key) != value for key, value in want.items()):
                return True
    return False
