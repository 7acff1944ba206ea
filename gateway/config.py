"""The validated configuration file and trust file.

Both are YAML. Paths inside the config file are relative to the config file's folder. The
config is built once (``load_config``) and passed down; nothing below reads the environment.
The trust file is read into the pure models of :mod:`gateway.core.trust` (``load_trust``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gateway.audit.cosignature import Cosigner, parse_witness_vkey
from gateway.audit.note import LogKey, Verifier, parse_vkey
from gateway.core import topics
from gateway.core.mac import MIN_KEY_BYTES
from gateway.core.trust import TopicOwner, Trust
from gateway.errors import AuditError, ConfigError, VerificationError
from schemas._types import CooperativeApproachId, PartyCode, RegistryId


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PartyConfig(_Model):
    code: PartyCode
    name: str
    # First and last year of the NDC implementation period (AEF Table 1).
    ndc_period: tuple[int, int] | None = None
    # How the Party applies corresponding adjustments (2/CMA.3 annex paras 7-8): by the
    # averaging approach (single-year NDC, para 7(a)) or annually along a trajectory or
    # budget; and which year a block counts in: its first transfer's or its vintage.
    ca_method: Literal["averaging", "trajectory", "budget"] = "trajectory"
    ca_year: Literal["first-transfer", "vintage"] = "first-transfer"

    @model_validator(mode="after")
    def _period(self) -> PartyConfig:
        if self.ndc_period and not (2021 <= self.ndc_period[0] <= self.ndc_period[1] <= 2100):
            raise ValueError(f"party {self.code}: ndc_period must be two years from 2021 on")
        return self


class RegistryConfig(_Model):
    id: RegistryId
    party: PartyCode
    transport: Literal["kafka", "https"] = "kafka"
    endpoint: str | None = None
    # HTTPS partners: the common name of the client certificate the registry presents to
    # the ingress (default: its registry id).
    client_cn: str | None = None

    @model_validator(mode="after")
    def _endpoint_for_https(self) -> RegistryConfig:
        if self.transport == "https" and not (self.endpoint or "").startswith("https://"):
            raise ValueError(f"registry {self.id}: transport https needs an https:// endpoint")
        # A Party ITMO registry id is the Party's code and two digits (CN-2026 Table 28).
        if not self.id.startswith(self.party):
            raise ValueError(f"registry {self.id} does not start with its party code {self.party}")
        return self

    @property
    def in_topic(self) -> str:
        return topics.input_topic(self.id)

    @property
    def out_topic(self) -> str:
        return topics.output_topic(self.id)


class CooperativeApproachConfig(_Model):
    id: CooperativeApproachId
    title: str
    parties: tuple[PartyCode, ...] = Field(min_length=2)
    joint_committee: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]+$")
    unit_types: tuple[Literal["JCM", "A6.4ER", "MO"], ...] = ("JCM",)


class KafkaConfig(_Model):
    bootstrap: str = "127.0.0.1:19092"
    partitions: int = Field(default=4, ge=1, le=256)
    replication: int = Field(default=1, ge=1)
    session_timeout_s: float = Field(default=10.0, gt=0, le=60)
    rebalance_timeout_s: float = Field(default=10.0, gt=0, le=60)
    # The longest the broker holds a worker's fetch open when no new record is there. The
    # consumer sends its next fetch only when this one returns, so a partition whose records
    # were all handed to an agent waits up to this long before its new records are fetched
    # (faust's own 1,500 ms gave seconds per input under load). 100 ms measured as quick as
    # 10 ms from 20 to 500 inputs/s; lower waits cost more idle fetches (README).
    fetch_max_wait_ms: int = Field(default=100, ge=1, le=1500)
    # How every client authenticates (gateway.transport.clients). SASL_SSL for real deployments
    # (the broker's CA in ssl_ca_file, else the system's); PLAINTEXT only for a broker
    # without authentication.
    security_protocol: Literal["SASL_PLAINTEXT", "SASL_SSL", "PLAINTEXT"] = "SASL_PLAINTEXT"
    sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256"] = "SCRAM-SHA-512"
    ssl_ca_file: Path | None = None
    # Credentials are never in this file. Each process (role: worker, ingress, api,
    # reconcile, summary, checkpoint, discrepancy; admin for `a6gw topics` and
    # `a6gw kafka provision`) reads $A6GW_KAFKA_CREDENTIALS_<ROLE> (the text of a
    # credentials file) if set, else credential_files[role], else
    # <credentials_dir>/<principal>.json (written 0600 by `a6gw kafka provision`).
    credentials_dir: Path = Path("kafka-credentials")
    credential_files: dict[str, Path] = Field(default_factory=dict)


class GatewaySection(_Model):
    """The gateway's identity, files and stores."""

    id: str = Field(default="a6gw", pattern=r"^[a-z0-9-]+$")
    data_dir: Path = Path(".a6gw/data")
    trust_file: Path = Path("trust.yaml")
    signing_key_id: str = "a6gw-gateway"
    signing_key_file: Path = Path("keys/gateway.pem")
    log_origin: str = Field(default="a6gw.local/audit", pattern=r"^[^\s+]+$")
    log_key_file: Path = Path("keys/log.key")
    # Verifier keys (note vkey lines) of earlier log keys: checkpoints they signed still
    # verify after a rotation, and exported bundles carry them.
    log_previous_vkeys: tuple[str, ...] = ()
    # The secret the gateway's processes share to MAC what they write to internal topics
    # (gateway.core.mac): a file of 64 hex digits (32 bytes or more), mode 0600; never inline.
    mac_key_file: Path = Path("keys/internal.mac")
    # faust table store: RocksDB (rocksdict) for deployments, memory for quick local runs.
    table_store: Literal["rocksdb", "memory"] = "rocksdb"
    # A worker snapshots its ledger state in data_dir once this much work (decisions and
    # their effects) was done since the last snapshot, and half the state's size: a restart
    # re-applies at most that much after the snapshot (gateway.worker.memory).
    snapshot_every: int = Field(default=2_000, ge=100, le=10_000_000)
    # Who makes a snapshot's bytes. "loop": the worker, in 1 ms pieces between its batches
    # (~2 µs of CPU per record, spread over 1-3 s). "fork": a forked child, from the state
    # as it was at the fork; the worker pays the fork and a copy of each memory page it
    # writes while the child lives, which on some virtual machines stalls it for 0.5 s or
    # more per snapshot (p99 at 500 inputs/s 250-1,100 ms, against 230 ms in the loop:
    # README, "Speed"). Where forking is not possible, the loop is used.
    snapshot_writer: Literal["loop", "fork"] = "loop"


class Limits(_Model):
    max_message_bytes: int = Field(default=256 * 1024, ge=1024, le=8 * 1024 * 1024)
    max_clock_skew_s: int = Field(default=300, ge=0)
    # MSG-005: a proposal older than this when it reaches the gateway is stale.
    max_proposal_age_s: int = Field(default=86_400, ge=60)


class Timeouts(_Model):
    # DES: a proposal the acquiring registry does not answer in time is cancelled.
    transfer_answer_s: int = Field(default=86_400, ge=1)
    # How often each worker looks for overdue transfers in the partitions it owns.
    check_interval_s: float = Field(default=1.0, gt=0, le=3600)
    # A partition with records waiting whose agent has not moved on for this long is
    # sought back and resumed (see gateway.worker.watch); checked every stall_s / 4.
    stall_s: float = Field(default=30.0, ge=1, le=3600)


#: The environment variable that may hold the log key (the text of a key file).
LOG_KEY_ENV = "A6GW_LOG_KEY"


class AuditSection(_Model):
    """When the sequencer signs and publishes a checkpoint on a6.audit.checkpoints."""

    checkpoint_every: int = Field(default=1000, ge=1)  # entries
    checkpoint_interval_s: float = Field(default=10.0, gt=0, le=86_400)
    # The audit store: a SQLite file (relative to the config) or a postgresql:// URL for a
    # store shared by several workers and API servers. Default: <data_dir>/audit.sqlite.
    store: str | None = None


class ApiClient(_Model):
    name: str  # the client certificate's common name
    role: Literal["auditor", "operator"] = "auditor"
    party: PartyCode | None = None


class ApiToken(_Model):
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    role: Literal["auditor", "operator"] = "auditor"
    party: PartyCode | None = None


class ApiSection(_Model):
    """The auditors' HTTPS API (``a6gw api``): where it listens, its TLS files, who may read."""

    host: str = "127.0.0.1"
    port: int = Field(default=8443, ge=1, le=65535)
    cert_file: Path = Path("pki/server.pem")
    key_file: Path = Path("pki/server.key")
    client_ca_file: Path = Path("pki/ca.pem")
    # Who may use it (see gateway.api.access): client certificate common names and bearer
    # tokens (SHA-256, hex), each a bare name/digest (role auditor: read) or with a role
    # (auditor: read; operator: read and post discrepancy commands) and an optional Party
    # scope (the client then sees only what touches that Party).
    clients: tuple[str | ApiClient, ...] = ("auditor",)
    token_sha256: tuple[str, ...] = ()
    tokens: tuple[ApiToken, ...] = ()


class ConnectorsSection(_Model):
    """HTTPS partners: the gateway's client TLS, delivery retries, and the ingress server."""

    ca_file: Path = Path("pki/ca.pem")  # the CA of partners' server and client certificates
    cert_file: Path = Path("pki/a6gw-gateway.pem")  # the gateway's client certificate
    key_file: Path = Path("pki/a6gw-gateway.key")
    timeout_s: float = Field(default=10.0, gt=0, le=300)
    # A message that cannot be delivered within this budget is parked on a6.retry.<id>.
    retry_budget_s: float = Field(default=60.0, gt=0, le=86_400)
    ingress_host: str = "127.0.0.1"
    ingress_port: int = Field(default=8444, ge=1, le=65535)
    # The URL partners post to (behind a proxy it differs from host:port); they sign it.
    ingress_url: str | None = None
    ingress_cert_file: Path = Path("pki/server.pem")
    ingress_key_file: Path = Path("pki/server.key")
    # RFC 9421: a signed request older than this (or a nonce seen before) is refused.
    max_request_age_s: int = Field(default=300, ge=1, le=86_400)
    # Where the ingress replicas record nonces: a postgresql:// URL or a SQLite file
    # (relative to the config). Default: the audit store's PostgreSQL database if it is one,
    # else <data_dir>/ingress-nonces.sqlite.
    nonce_store: str | None = None
    # Refused requests one registry may leave on record per minute; beyond: 429 REG-RATE.
    max_refusals_per_minute: int = Field(default=30, ge=1, le=10_000)


class MetricsSection(_Model):
    """The plain-HTTP port of ``/metrics``, ``/livez`` and ``/readyz`` of each long-running
    process (unauthenticated: loopback by default). 0: none. ``a6gw worker --processes N``
    serves one port per process: ``worker_port`` + i (``gateway.observe``)."""

    host: str = "127.0.0.1"
    worker_port: int = Field(default=9464, ge=0, le=65535)
    api_port: int = Field(default=9465, ge=0, le=65535)
    ingress_port: int = Field(default=9466, ge=0, le=65535)


class WitnessSection(_Model):
    """A witness the gateway submits its checkpoints to (C2SP tlog-witness; docs/witness.md)."""

    name: str = Field(min_length=1)  # the witness's key name (its vkey's first field)
    url: str = Field(pattern=r"^https://[^\s]+[^/\s]$")  # the submission prefix, no trailing /
    vkey: str  # its cosignature/v1 verifier key: the line itself, or a file holding it
    ca_file: Path | None = None  # the CA of its server certificate (default connectors.ca_file)
    client_cert: Path | None = None  # mutual TLS, if the witness asks for it
    client_key: Path | None = None


class Config(_Model):
    gateway: GatewaySection = GatewaySection()
    kafka: KafkaConfig = KafkaConfig()
    limits: Limits = Limits()
    timeouts: Timeouts = Timeouts()
    audit: AuditSection = AuditSection()
    api: ApiSection = ApiSection()
    connectors: ConnectorsSection = ConnectorsSection()
    metrics: MetricsSection = MetricsSection()
    parties: tuple[PartyConfig, ...] = Field(min_length=1)
    registries: tuple[RegistryConfig, ...] = Field(min_length=1)
    cooperative_approaches: tuple[CooperativeApproachConfig, ...] = ()
    witnesses: tuple[WitnessSection, ...] = ()
    #: readers get the latest checkpoint with at least this many valid cosignatures
    witness_quorum: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _references(self) -> Config:
        parties = {p.code for p in self.parties}
        problems = [
            f"registry {r.id} names unknown party {r.party}"
            for r in self.registries
            if r.party not in parties
        ]
        for ca in self.cooperative_approaches:
            unknown = sorted(set(ca.parties) - parties)
            if unknown:
                problems.append(f"cooperative approach {ca.id} names unknown parties {unknown}")
        ids = [r.id for r in self.registries]
        if len(ids) != len(set(ids)):
            problems.append("registry ids must be unique")
        names = [w.name for w in self.witnesses]
        if len(names) != len(set(names)):
            problems.append("witness names must be unique")
        if self.witness_quorum > len(names):
            problems.append(
                f"witness_quorum {self.witness_quorum} exceeds the {len(names)} witnesses"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def registry(self, registry_id: str) -> RegistryConfig | None:
        return next((r for r in self.registries if r.id == registry_id), None)

    def input_topics(self) -> dict[str, TopicOwner]:
        """Every input topic and who owns it."""
        out = {r.in_topic: TopicOwner(registry=r.id, party=r.party) for r in self.registries}
        for p in self.parties:
            out[topics.inventory_input_topic(p.code)] = TopicOwner(registry=None, party=p.code)
        return out

    def joint_committees_of(self, party: str) -> set[str]:
        return {
            ca.joint_committee
            for ca in self.cooperative_approaches
            if ca.joint_committee and party in ca.parties
        }


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}", code="A6-CFG-002") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}", code="A6-CFG-003") from exc


def _validate(model: type[BaseModel], data: Any, path: Path) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}", code="A6-CFG-004") from exc


class LoadedConfig:
    """A validated config plus the folder its relative paths are resolved against."""

    def __init__(self, config: Config, base: Path) -> None:
        self.config = config
        self.base = base

    def path(self, p: Path) -> Path:
        return p if p.is_absolute() else (self.base / p)

    @property
    def data_dir(self) -> Path:
        return self.path(self.config.gateway.data_dir)

    def load_trust(self) -> Trust:
        path = self.path(self.config.gateway.trust_file)
        result: Trust = _validate(Trust, _read_yaml(path), path)
        return result

    def audit_store(self) -> str:
        """Where the audit store is: a postgresql:// URL, or the path of a SQLite file."""
        store = self.config.audit.store
        if store and store.lower().startswith(("postgresql://", "postgres://")):
            return store
        return str(self.path(Path(store)) if store else self.data_dir / "audit.sqlite")

    def load_log_key(self) -> LogKey:
        """The log's signing key: from ``$A6GW_LOG_KEY`` (the key file's text) if set, else
        from ``gateway.log_key_file``. It is never generated here.

        :raises ConfigError: (A6-CFG-003) when it is missing or invalid.
        """
        text = os.environ.get(LOG_KEY_ENV)
        path = self.path(self.config.gateway.log_key_file)
        try:
            return LogKey.parse(text, f"${LOG_KEY_ENV}") if text else LogKey.load(path)
        except AuditError as exc:
            raise ConfigError(
                f"{exc.args[0]} (create one with `a6gw init`, or set ${LOG_KEY_ENV})",
                code="A6-CFG-003",
            ) from exc

    def load_mac_key(self) -> bytes:
        """The secret of internal records' MACs, from ``gateway.mac_key_file`` (hex).

        :raises ConfigError: (A6-CFG-006) when it is missing, unreadable, not hex, shorter
            than 32 bytes, or readable by others than its owner.
        """
        path = self.path(self.config.gateway.mac_key_file)
        hint = "(create one with `a6gw init`)"
        try:
            mode = path.stat().st_mode
            text = path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"cannot read the MAC key {path}: {exc} {hint}", code="A6-CFG-006"
            ) from exc
        if mode & 0o077:
            raise ConfigError(
                f"the MAC key {path} has mode {mode & 0o777:o}; it must be 0600",
                code="A6-CFG-006",
            )
        try:
            secret = bytes.fromhex(text)
        except ValueError as exc:
            raise ConfigError(f"the MAC key {path} is not hex {hint}", code="A6-CFG-006") from exc
        if len(secret) < MIN_KEY_BYTES:
            raise ConfigError(
                f"the MAC key {path} has {len(secret)} bytes, fewer than {MIN_KEY_BYTES}",
                code="A6-CFG-006",
            )
        return secret

    def witness_keys(self) -> list[Cosigner]:
        """Each configured witness's pinned cosignature key, in config order.

        :raises ConfigError: (A6-CFG-001) for an unreadable or malformed key, or one whose
            name is not the witness's.
        """
        out: list[Cosigner] = []
        for n, w in enumerate(self.config.witnesses):
            where = f"witnesses.{n}.vkey"
            line = w.vkey.strip()
            if "+" not in line:  # a file
                try:
                    line = self.path(Path(line)).read_text(encoding="utf-8").strip()
                except OSError as exc:
                    raise ConfigError(f"{where}: {exc}", code="A6-CFG-001") from exc
            try:
                key = parse_witness_vkey(line.splitlines()[0] if line else "")
            except (AuditError, VerificationError) as exc:
                raise ConfigError(f"{where}: {exc.args[0]}", code="A6-CFG-001") from exc
            if key.name != w.name:
                raise ConfigError(f"{where}: the key is {key.name!r}'s", code="A6-CFG-001")
            out.append(key)
        return out

    def previous_log_verifiers(self) -> list[Verifier]:
        """:raises ConfigError: (A6-CFG-001) for a malformed vkey line."""
        try:
            return [parse_vkey(v) for v in self.config.gateway.log_previous_vkeys]
        except AuditError as exc:
            raise ConfigError(f"gateway.log_previous_vkeys: {exc.args[0]}") from exc


def load_config(path: Path) -> LoadedConfig:
    """Read and validate a config file.

    :raises ConfigError: when it is missing, not YAML, or invalid (every problem listed).
    """
    cfg: Config = _validate(Config, _read_yaml(path), path)
    return LoadedConfig(cfg, path.resolve().parent)
