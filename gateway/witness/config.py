"""The witness's config file (YAML), validated with pydantic; documented in docs/witness.md.

Paths are relative to the config file's folder. Example::

    witness:
      name: witness.mofa.go.jp/a6gw        # the key name in the key file and in cosignatures
      key_file: witness.key                # a6gw witness keygen
      state_file: witness-state.db         # SQLite: the latest checkpoint cosigned per log
    listen: {host: 127.0.0.1, port: 8643, prefix: ""}
    tls:
      cert_file: tls/server.pem
      key_file: tls/server-key.pem
      client_ca_file: null                 # set it and require_client: true for mutual TLS
      require_client: false
    logs:
      - origin: a6gw.example/log
        vkeys: ["a6gw.example/log+1a2b3c4d+AX..."]   # the log's key(s): signed-note vkeys
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gateway.audit.cosignature import WitnessKey
from gateway.audit.note import Verifier, parse_vkey
from gateway.config import _read_yaml, _validate
from gateway.errors import AuditError, ConfigError

__all__ = ["LoadedWitnessConfig", "WitnessConfig", "load_witness_config"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WitnessIdentity(_Model):
    name: str = Field(min_length=1, description="the witness's key name (cosignature lines)")
    key_file: Path = Field(description="the signing key, written by `a6gw witness keygen`")
    state_file: Path = Field(description="SQLite file of the latest cosigned checkpoints")


class Listen(_Model):
    host: str = "127.0.0.1"
    port: int = Field(default=8643, ge=0, le=65535)
    prefix: str = Field(default="", description="submission prefix, e.g. /witness")

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if value and (not value.startswith("/") or value.endswith("/")):
            raise ValueError("must be empty or start with / and not end with /")
        return value


class Tls(_Model):
    cert_file: Path
    key_file: Path
    client_ca_file: Path | None = None
    require_client: bool = False

    @model_validator(mode="after")
    def _mutual(self) -> Tls:
        if self.require_client and self.client_ca_file is None:
            raise ValueError("require_client: true needs client_ca_file")
        return self


class LogEntry(_Model):
    origin: str = Field(min_length=1)
    vkeys: list[str] = Field(min_length=1, description="signed-note vkeys of the log's key(s)")

    @model_validator(mode="after")
    def _keys(self) -> LogEntry:
        for n, line in enumerate(self.vkeys):
            try:
                parse_vkey(line)
            except AuditError as exc:
                raise ValueError(f"vkeys[{n}]: {exc.args[0]}") from exc
        return self


class WitnessConfig(_Model):
    witness: WitnessIdentity
    listen: Listen = Listen()
    tls: Tls
    logs: list[LogEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _origins(self) -> WitnessConfig:
        origins = [log.origin for log in self.logs]
        dup = sorted({o for o in origins if origins.count(o) > 1})
        if dup:
            raise ValueError(f"logs: origin listed twice: {', '.join(dup)}")
        return self


class LoadedWitnessConfig:
    """A validated witness config and the folder its paths are relative to."""

    def __init__(self, config: WitnessConfig, base: Path) -> None:
        self.config, self.base = config, base

    def path(self, p: Path) -> Path:
        return p if p.is_absolute() else self.base / p

    def logs(self) -> dict[str, list[Verifier]]:
        """Each origin's trusted log verifiers."""
        return {log.origin: [parse_vkey(v) for v in log.vkeys] for log in self.config.logs}

    def load_key(self) -> WitnessKey:
        """The signing key; its name must be ``witness.name``.

        :raises ConfigError: (A6-CFG-KEY) when it cannot be read or has another name.
        """
        path = self.path(self.config.witness.key_file)
        try:
            key = WitnessKey.load(path)
        except AuditError as exc:
            raise ConfigError(str(exc.args[0]), code="A6-CFG-KEY") from exc
        if key.name != self.config.witness.name:
            raise ConfigError(
                f"witness key {path} is named {key.name!r}, the config says "
                f"witness.name {self.config.witness.name!r}",
                code="A6-CFG-KEY",
            )
        return key


def load_witness_config(path: Path) -> LoadedWitnessConfig:
    """Read and validate a witness config file.

    :raises ConfigError: A6-CFG-002 (unreadable), A6-CFG-003 (not YAML), A6-CFG-004 (does
        not match the model, each problem named by its dotted path).
    """
    path = Path(path)
    config: WitnessConfig = _validate(WitnessConfig, _read_yaml(path), path)
    return LoadedWitnessConfig(config, path.resolve().parent)
