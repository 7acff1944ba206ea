"""Offline checks of the config file, the trust file, the gateway's keys and the Kafka
credentials: each reads what a process would read, the same way, and reports every problem
(:class:`~gateway.services.configcheck.report.Report`) instead of raising the first."""

from __future__ import annotations

import base64
import binascii
import os
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ValidationError

from gateway.config import LOG_KEY_ENV, Config, LoadedConfig
from gateway.core.trust import Trust
from gateway.errors import ConfigError, GatewayError
from gateway.services.configcheck.report import Report
from gateway.transport.clients import CREDENTIALS_ENV, Credentials, credentials_path

INIT_HINT = "`a6gw init DIR` writes a sample config, trust file and keys"


def read_yaml(r: Report, path: Path, what: str) -> tuple[bool, Any]:
    """``(True, document)``, or ``(False, None)`` after reporting why it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        r.error("A6-CFG-002", path, f"cannot read the {what}: {reason}", INIT_HINT)
        return False, None
    try:
        return True, yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        r.error("A6-CFG-003", path, f"the {what} is not valid YAML{where}: {problem}")
        return False, None


def validate(r: Report, model: type[BaseModel], data: Any, path: Path) -> Any:
    """The model, or None after one problem per validation error (cross-field errors split)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for e in exc.errors():
            where = ".".join(str(p) for p in e["loc"]) or "(top)"
            for msg in str(e["msg"]).removeprefix("Value error, ").split("; "):
                r.error("A6-CFG-004", path, f"{where}: {msg}", "see gateway/config.py")
        return None


def load(r: Report, path: Path) -> LoadedConfig | None:
    """The config at ``path``, as :func:`gateway.config.load_config` reads it, or None."""
    readable, data = read_yaml(r, path, "config file")
    if not readable:
        return None
    cfg: Config | None = validate(r, Config, data, path)
    if cfg is None:
        return None
    r.ok(f"config {path}")
    return LoadedConfig(cfg, path.resolve().parent)


def trust(r: Report, lc: LoadedConfig) -> Trust | None:
    """The trust file, with every key's principal known to the config and its key parsed."""
    path = lc.path(lc.config.gateway.trust_file)
    readable, data = read_yaml(r, path, "trust file (gateway.trust_file)")
    if not readable:
        return None
    found: Trust | None = validate(r, Trust, data, path)
    if found is None:
        return None
    before = len(r.problems)
    known = _principals(lc.config)
    now = datetime.now(UTC)
    for n, key in enumerate(found.keys):
        where = f"keys[{n}] ({key.key_id})"
        try:
            Ed25519PublicKey.from_public_bytes(base64.b64decode(key.public_key, validate=True))
        except (binascii.Error, ValueError):
            r.error("A6-CFG-TRUST", path, f"{where}: public_key is not a base64 Ed25519 key")
        names = known.get(key.role)
        if names is not None and key.principal not in names:
            kind = _KINDS[key.role]
            r.error(
                "A6-CFG-TRUST",
                path,
                f"{where}: principal {key.principal!r} (role {key.role}) is no {kind} of the "
                f"config; it has: {', '.join(sorted(names)) or 'none'}",
                "a typo, or a section missing from the config",
            )
        if key.status == "active" and key.valid_to is not None and key.valid_to < now:
            r.warn("A6-CFG-EXPIRY", path, f"{where}: expired on {key.valid_to:%Y-%m-%d}")
    if len(r.problems) == before:
        r.ok(f"trust file {path}: {len(found.keys)} keys")
    return found


_KINDS = {
    "registry": "registry",
    "authorizing-authority": "Party",
    "inventory-agency": "Party",
    "jc-secretariat": "Joint Committee",
    "gateway": "gateway id",
}


def _principals(cfg: Config) -> dict[str, set[str]]:
    """Who may hold a key of each role (an operator may be anyone)."""
    parties = {p.code for p in cfg.parties}
    committees = {ca.joint_committee for ca in cfg.cooperative_approaches if ca.joint_committee}
    return {
        "registry": {reg.id for reg in cfg.registries},
        "authorizing-authority": parties,
        "inventory-agency": parties,
        "jc-secretariat": committees,
        "gateway": {cfg.gateway.id},
    }


def private_mode(r: Report, path: Path, what: str) -> None:
    """A warning when a secret's file may be read by others than its owner."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return
    if mode & 0o077:
        r.warn("A6-CFG-KEY", path, f"the {what} has mode {mode:o}", "chmod 600 it")


def signing_key(r: Report, lc: LoadedConfig, found: Trust | None) -> None:
    """The gateway's Ed25519 key, and that the trust file lists its public key."""
    g = lc.config.gateway
    path = lc.path(g.signing_key_file)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        r.error("A6-CFG-002", path, f"cannot read the signing key: {exc.strerror}", INIT_HINT)
        return
    except (ValueError, TypeError):
        r.error("A6-CFG-KEY", path, "the signing key is not a PEM PKCS#8 private key")
        return
    if not isinstance(key, Ed25519PrivateKey):
        r.error("A6-CFG-KEY", path, "the signing key is not an Ed25519 key")
        return
    private_mode(r, path, "signing key")
    listed = found.by_id.get(g.signing_key_id) if found is not None else None
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    trust_file = lc.path(g.trust_file)
    if found is not None and listed is None:
        r.error(
            "A6-CFG-KEY",
            trust_file,
            f"no key {g.signing_key_id!r} (gateway.signing_key_id): partners and the gateway's "
            "own stages cannot check what it signs",
            f"add the public key of {path} with role gateway",
        )
    elif listed is not None and listed.public_key != base64.b64encode(raw).decode():
        r.error(
            "A6-CFG-KEY",
            path,
            f"its public key is not the one the trust file lists for {g.signing_key_id!r}",
            f"a replaced key file? compare with {trust_file}",
        )
    else:
        r.ok(f"signing key {path}")


def log_key(r: Report, lc: LoadedConfig) -> None:
    """The log key (``$A6GW_LOG_KEY`` or its file) and the earlier keys' vkey lines."""
    where = (
        f"${LOG_KEY_ENV}"
        if os.environ.get(LOG_KEY_ENV)
        else lc.path(lc.config.gateway.log_key_file)
    )
    try:
        lc.load_log_key()
    except ConfigError as exc:
        code = "A6-CFG-002" if isinstance(where, Path) and not where.exists() else "A6-CFG-KEY"
        r.error(code, where, str(exc.args[0]))
    else:
        if isinstance(where, Path):
            private_mode(r, where, "log key")
        r.ok(f"log key {where}")
    try:
        lc.previous_log_verifiers()
    except ConfigError as exc:
        r.error("A6-CFG-KEY", lc.base / "gateway.log_previous_vkeys", str(exc.args[0]))


def mac_key(r: Report, lc: LoadedConfig) -> None:
    path = lc.path(lc.config.gateway.mac_key_file)
    try:
        lc.load_mac_key()
    except ConfigError as exc:
        hint = f"chmod 600 {path}" if "mode" in str(exc.args[0]) else INIT_HINT
        r.error("A6-CFG-006", path, str(exc.args[0]), hint)
    else:
        r.ok(f"MAC key {path}")


def credentials(r: Report, lc: LoadedConfig, role: str, *, required: bool) -> bool:
    """A role's Kafka credentials, found as the process finds them; True if usable.

    Missing credentials of a role no process of this check needs are a warning."""
    if lc.config.kafka.security_protocol == "PLAINTEXT":
        return True
    env = CREDENTIALS_ENV.format(role.upper())
    path = credentials_path(lc, role)
    where: object = f"${env}" if os.environ.get(env) else path
    hint = "write them with `a6gw kafka provision`, or set $" + env
    try:
        if os.environ.get(env):
            Credentials.parse(os.environ[env], f"${env}")
        else:
            Credentials.load(path)
    except GatewayError as exc:
        report = r.error if required else r.warn
        missing = isinstance(where, Path) and not path.exists()
        message = f"no Kafka credentials for the {role} role" if missing else str(exc.args[0])
        report(exc.code, where, message, hint)
        return False
    if isinstance(where, Path):
        private_mode(r, path, "Kafka credentials file")
    r.ok(f"Kafka credentials of {role} ({where})")
    return True
