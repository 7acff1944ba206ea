"""The one place that builds Kafka clients: producers, consumers, admin clients, faust's
broker settings. Each carries the config's security settings and one principal's credentials.

A gateway process asks for its role (:func:`clients_for`); the role names the principal and
where its credentials are (``kafka.*`` in the config, see :class:`gateway.config.KafkaConfig`):
``$A6GW_KAFKA_CREDENTIALS_<ROLE>`` (the text of a credentials file), else
``kafka.credential_files[role]``, else ``<kafka.credentials_dir>/<principal>.json``.
A credentials file is JSON ``{"username": ..., "password": ...}``, mode 0600.
"""

from __future__ import annotations

import json
import os
import ssl
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from gateway.errors import ConfigError
from gateway.transport.sizes import largest_record

if TYPE_CHECKING:
    import faust

    from gateway.config import LoadedConfig

#: The gateway's own processes; each has its own principal ``<gateway.id>-<role>``.
GATEWAY_ROLES = (
    "worker",
    "ingress",
    "api",
    "reconcile",
    "summary",
    "checkpoint",
    "discrepancy",
    "operator",
    "restore",
)
ADMIN = "admin"
CREDENTIALS_ENV = "A6GW_KAFKA_CREDENTIALS_{}"
DEFAULT_RECORD = 1024 * 1024
#: the least a faust consumer fetches per partition and request: a changelog record of the
#: ledger's decisions carries the decision's outputs (hundreds of KB for a large issuance);
#: at ~1 MiB a consumer gets one or two of them per round trip (55 MB of them, 114 records:
#: 52 fetches in 0.5 s; 4 fetches in 0.22 s at 16 MiB)
FAUST_FETCH_BYTES = 16 * 1024 * 1024
#: the most bytes of records a faust producer puts in one batch per partition (faust's
#: default is 16 KiB). A produce request carries one batch per partition and a producer has
#: one request in flight per broker, so a commit of a few hundred audit entries (~1-3 KB
#: each, one partition) took a dozen sequential round trips at 16 KiB; at 512 KiB, one.
#: Every gateway topic takes records of at least 1 MiB (``gateway.transport.sizes.FLOOR``).
FAUST_BATCH_BYTES = 512 * 1024


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)

    @classmethod
    def parse(cls, text: str, where: str) -> Credentials:
        try:
            doc = json.loads(text)
            user, password = doc["username"], doc["password"]
        except (ValueError, TypeError, KeyError) as exc:
            raise ConfigError(
                f"{where}: not a Kafka credentials file (JSON with username and password)",
                code="A6-CFG-003",
            ) from exc
        if not (isinstance(user, str) and isinstance(password, str) and user and password):
            raise ConfigError(f"{where}: username and password must be text", code="A6-CFG-003")
        return cls(user, password)

    @classmethod
    def load(cls, path: Path) -> Credentials:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"cannot read the Kafka credentials {path}: {exc.strerror} "
                "(write them with `a6gw kafka provision`)",
                code="A6-CFG-002",
            ) from exc
        return cls.parse(text, str(path))

    def save(self, path: Path) -> None:
        """Write the file 0600 from the start (replacing any older one)."""
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"username": self.username, "password": self.password}, out)
            out.write("\n")
        os.replace(tmp, path)


@dataclass(frozen=True)
class KafkaClients:
    """Builds clients for one principal. ``credentials`` None: no authentication."""

    bootstrap: str
    credentials: Credentials | None
    security_protocol: str = "SASL_PLAINTEXT"
    sasl_mechanism: str = "SCRAM-SHA-512"
    ssl_ca_file: Path | None = None
    max_record_bytes: int = DEFAULT_RECORD
    client_id: str = "a6gw"

    def as_user(self, credentials: Credentials | None) -> KafkaClients:
        """The same broker and settings for another principal (or none)."""
        return replace(self, credentials=credentials)

    def security(self) -> dict[str, Any]:
        """aiokafka's keyword arguments for the connection's security."""
        if self.security_protocol == "PLAINTEXT" or self.credentials is None:
            return {"security_protocol": "PLAINTEXT"}
        out: dict[str, Any] = {
            "security_protocol": self.security_protocol,
            "sasl_mechanism": self.sasl_mechanism,
            "sasl_plain_username": self.credentials.username,
            "sasl_plain_password": self.credentials.password,
        }
        if self.security_protocol == "SASL_SSL":
            out["ssl_context"] = self.ssl_context()
        return out

    def ssl_context(self) -> ssl.SSLContext:
        ca = str(self.ssl_ca_file) if self.ssl_ca_file else None
        try:
            return ssl.create_default_context(cafile=ca)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"kafka.ssl_ca_file {ca}: {exc}", code="A6-CFG-TLS") from exc

    def producer(self, **kwargs: Any) -> AIOKafkaProducer:
        args: dict[str, Any] = {"client_id": self.client_id, "acks": "all"}
        args["max_request_size"] = self.max_record_bytes
        args.update(kwargs)
        return AIOKafkaProducer(bootstrap_servers=self.bootstrap, **self.security(), **args)

    def consumer(self, *topics: str, **kwargs: Any) -> AIOKafkaConsumer:
        args: dict[str, Any] = {"client_id": self.client_id}
        args["max_partition_fetch_bytes"] = self.max_record_bytes
        args["fetch_max_bytes"] = max(self.max_record_bytes, 50 * 1024 * 1024)
        args.update(kwargs)
        args.update(self.security())
        return AIOKafkaConsumer(*topics, bootstrap_servers=self.bootstrap, **args)

    def admin(self, **kwargs: Any) -> AIOKafkaAdminClient:
        args: dict[str, Any] = {"client_id": f"{self.client_id}-admin"}
        args.update(kwargs)
        return AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, **self.security(), **args)

    def faust_app(
        self,
        app_id: str,
        *,
        instance_id: str | None = None,
        fetch_max_wait_ms: int | None = None,
        **settings: Any,
    ) -> faust.App:
        """A faust App (``gateway.transport.faust_transport.App``: faust's, without its
        monitor) with :meth:`faust_settings` (``settings`` may not override them);
        ``fetch_max_wait_ms``: its worker consumer's fetch wait (None: faust's 1,500 ms;
        see ``gateway.transport.faust_transport``). faust's ``json`` codec is the standard
        library's (``gateway.transport.faust_json``)."""
        from gateway.transport.faust_json import pin
        from gateway.transport.faust_transport import App, install

        pin()
        app = App(app_id, **self.faust_settings(instance_id), **settings)
        if fetch_max_wait_ms is not None:
            install(app, fetch_max_wait_ms)
        return app

    def faust_settings(self, instance_id: str | None = None) -> dict[str, Any]:
        """faust.App's broker settings: URL, credentials, request and fetch sizes, and the
        consumer's static group-instance id if ``instance_id`` (KIP-345: a member that
        rejoins under its id gets its partitions back without a rebalance; a member that
        stops does not leave the group, its partitions wait for the session timeout)."""
        import faust

        out: dict[str, Any] = {
            "broker": ";".join(f"kafka://{b}" for b in self.bootstrap.split(",")),
            "producer_max_request_size": self.max_record_bytes,
            "producer_max_batch_size": min(FAUST_BATCH_BYTES, self.max_record_bytes),
            "consumer_max_fetch_size": max(self.max_record_bytes, FAUST_FETCH_BYTES),
        }
        if instance_id:
            out["consumer_group_instance_id"] = instance_id
        if self.security_protocol != "PLAINTEXT" and self.credentials is not None:
            ctx = self.ssl_context() if self.security_protocol == "SASL_SSL" else None
            out["broker_credentials"] = faust.SASLCredentials(
                username=self.credentials.username,
                password=self.credentials.password,
                mechanism=self.sasl_mechanism,
                ssl_context=ctx,
            )
        return out


def principal_of(lc: LoadedConfig, role: str) -> str:
    """The Kafka user name of a gateway role (``<gateway.id>-<role>``)."""
    if role not in GATEWAY_ROLES:
        raise ConfigError(f"unknown Kafka role {role!r}", code="A6-CFG-001")
    return f"{lc.config.gateway.id}-{role}"


def credentials_path(lc: LoadedConfig, role_or_principal: str) -> Path:
    """Where a role's (or a partner principal's) credentials file is by default."""
    kc = lc.config.kafka
    if role_or_principal in kc.credential_files:
        return lc.path(kc.credential_files[role_or_principal])
    name = role_or_principal
    if role_or_principal in GATEWAY_ROLES:
        name = principal_of(lc, role_or_principal)
    return lc.path(kc.credentials_dir) / f"{name}.json"


def load_credentials(lc: LoadedConfig, role: str) -> Credentials:
    """A role's credentials: from the environment, else from its file."""
    env = CREDENTIALS_ENV.format(role.upper())
    text = os.environ.get(env)
    if text:
        return Credentials.parse(text, f"${env}")
    return Credentials.load(credentials_path(lc, role))


def clients_of(lc: LoadedConfig, credentials: Credentials | None) -> KafkaClients:
    """Clients with the config's security settings for ``credentials``."""
    kc = lc.config.kafka
    return KafkaClients(
        bootstrap=kc.bootstrap,
        credentials=None if kc.security_protocol == "PLAINTEXT" else credentials,
        security_protocol=kc.security_protocol,
        sasl_mechanism=kc.sasl_mechanism,
        ssl_ca_file=lc.path(kc.ssl_ca_file) if kc.ssl_ca_file else None,
        max_record_bytes=largest_record(lc.config.limits.max_message_bytes),
        client_id=f"{lc.config.gateway.id}-{credentials.username if credentials else 'anon'}",
    )


def clients_for(lc: LoadedConfig, role: str) -> KafkaClients:
    """The clients of one gateway role (``worker``, ``ingress``, ... or ``admin``)."""
    if lc.config.kafka.security_protocol == "PLAINTEXT":
        return clients_of(lc, None)
    if role != ADMIN:
        principal_of(lc, role)  # refuses an unknown role
    return clients_of(lc, load_credentials(lc, role))


def partner_clients(lc: LoadedConfig, principal: str) -> KafkaClients:
    """The clients of a partner principal (``registry-<ID>``, ``inventory-<PARTY>``), from
    the credentials file provisioning wrote for it: used by the demo and the tests."""
    if lc.config.kafka.security_protocol == "PLAINTEXT":
        return clients_of(lc, None)
    return clients_of(lc, Credentials.load(credentials_path(lc, principal)))
