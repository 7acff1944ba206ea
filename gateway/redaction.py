"""Keep secrets out of the logs: every line a handler of :mod:`gateway.logs` writes passes
through :func:`redact` last, after the message, its fields and any traceback are formatted.

Two nets, as defence in depth (no code path is meant to log a secret in the first place):

- **patterns** that need no knowledge of the secret: a PEM private-key block, the value of
  an ``Authorization: Bearer`` header, a ``password`` member or parameter;
- **known values**: each process registers the secrets it loads (:func:`protect`,
  :func:`protect_file`, :func:`protect_config`), in the forms a careless line could show
  them: the text itself, and for key material its bytes as hex (both cases), base64 and
  base64url (padded or not), and each line of a PEM body.

A known value is matched inside the line's *runs* of base64/hex characters (a secret in
one of those forms is always inside such a run), so a line costs one regular-expression
scan and a few substring tests, however many secrets are registered.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.config import LoadedConfig

MASK = "[REDACTED]"
#: shorter values are not registered (they would mask ordinary words and numbers)
MIN_SECRET_CHARS = 12

# Characters of hex, base64 and base64url text: a secret in those forms lies in a run.
_RUN = re.compile(r"[A-Za-z0-9+/=_-]{" + str(MIN_SECRET_CHARS) + ",}")
_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-")
_PEM = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)",
    re.DOTALL,
)
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s\"',;]+")
# password=..., "password": "...", sasl_plain_password='...' (JSON, repr, key=value).
_PASSWORD = re.compile(
    r"(?i)(password[\"']?\s*[:=]\s*)(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|[^\s,;&}\)]+)"
)

_lock = threading.Lock()
_in_runs: set[str] = set()  # known values made of run characters
_elsewhere: set[str] = set()  # known values with other characters (a password)


def redact(text: str) -> str:
    """``text`` with every secret it shows replaced by :data:`MASK`."""
    if "PRIVATE KEY" in text:
        text = _PEM.sub(MASK, text)
    if "earer" in text or "EARER" in text:
        text = _BEARER.sub(lambda m: m.group(1) + MASK, text)
    if "assword" in text or "ASSWORD" in text:
        text = _PASSWORD.sub(lambda m: m.group(1) + MASK, text)
    if _in_runs:
        for run in _RUN.findall(text):
            for secret in _secrets_in(run):
                text = text.replace(secret, MASK)
    for secret in _elsewhere:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def _secrets_in(run: str) -> list[str]:
    # longest first, so that a value containing another is masked whole
    found = [s for s in _in_runs if len(s) <= len(run) and s in run]
    return sorted(found, key=len, reverse=True)


def protect(*values: str | bytes) -> None:
    """Register secrets: text as it is (and, for text of hex digits, the bytes it spells);
    bytes in their hex, base64 and base64url forms. Values shorter than
    :data:`MIN_SECRET_CHARS` characters are ignored."""
    forms: set[str] = set()
    for value in values:
        forms |= set(_forms(value))
    with _lock:
        for form in forms:
            if len(form) < MIN_SECRET_CHARS:
                continue
            (_in_runs if set(form) <= _ALPHABET else _elsewhere).add(form)


def forgotten() -> None:
    """Forget every registered value (for tests)."""
    with _lock:
        _in_runs.clear()
        _elsewhere.clear()


def _forms(value: str | bytes) -> Iterator[str]:
    if isinstance(value, str):
        text = value.strip()
        yield text
        if text and re.fullmatch(r"(?:[0-9a-fA-F]{2})+", text):
            yield from _forms(bytes.fromhex(text))
        return
    yield value.hex()
    yield value.hex().upper()
    for encoded in (base64.b64encode(value), base64.urlsafe_b64encode(value)):
        text = encoded.decode("ascii")
        yield text
        yield text.rstrip("=")


def protect_text(text: str) -> None:
    """Register what a secret file's text holds: each PEM private key (its body, each of
    its lines, its DER and raw key bytes), each ``password`` member of a JSON object
    (nested ones included), a key file whose text is hex, and the whole text otherwise."""
    stripped = text.strip()
    if not stripped:
        return
    try:
        doc = json.loads(stripped)
    except ValueError:
        doc = None
    if isinstance(doc, dict | list):
        for key, value in _members(doc):
            if key.lower().endswith(("password", "secret", "token")) or "PRIVATE KEY" in value:
                protect_text(value)
        return
    pems = _PEM.findall(stripped)
    for pem in pems:
        protect(*_pem_forms(pem))
    if not pems:
        protect(stripped)


def _members(doc: Any) -> Iterator[tuple[str, str]]:
    """The string members of a JSON document, with their names, at any depth."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            if isinstance(value, str):
                yield str(key), value
            else:
                yield from _members(value)
    elif isinstance(doc, list):
        for item in doc:
            yield from _members(item)


def _pem_forms(pem: str) -> Iterator[str | bytes]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, x448, x25519

    lines = [ln.strip() for ln in pem.strip().splitlines()[1:-1] if ":" not in ln]
    yield from (ln for ln in lines if ln)
    yield "".join(lines)
    try:
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError):
        return  # encrypted or not a key: its body is registered
    yield key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    raw_keys = (
        ed25519.Ed25519PrivateKey,
        ed448.Ed448PrivateKey,
        x25519.X25519PrivateKey,
        x448.X448PrivateKey,
    )
    if isinstance(key, raw_keys):
        yield key.private_bytes_raw()
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        size = (key.curve.key_size + 7) // 8
        yield key.private_numbers().private_value.to_bytes(size, "big")


def protect_file(path: Path) -> bool:
    """Register the secrets of the file at ``path`` (:func:`protect_text`); False when it
    cannot be read (whoever needs it reports that)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    protect_text(text)
    return True


def config_secret_files(lc: LoadedConfig) -> list[Path]:
    """Every file of ``lc`` that holds a secret: the gateway's signing key, the log key, the
    MAC key, the TLS keys of the API, the ingress and the partner client, and every Kafka
    credentials file (the credentials folder and ``kafka.credential_files``)."""
    cfg = lc.config
    files = [
        cfg.gateway.signing_key_file,
        cfg.gateway.log_key_file,
        cfg.gateway.mac_key_file,
        cfg.api.key_file,
        cfg.connectors.key_file,
        cfg.connectors.ingress_key_file,
        *cfg.kafka.credential_files.values(),
    ]
    found = [lc.path(p) for p in files]
    folder = lc.path(cfg.kafka.credentials_dir)
    if folder.is_dir():
        found += sorted(folder.glob("*.json"))
    return found


def protect_config(lc: LoadedConfig, environ: Iterable[tuple[str, str]] | None = None) -> None:
    """Register the secrets of every file :func:`config_secret_files` names that exists, and
    of the ``A6GW_*`` environment variables that carry key material or credentials."""
    for path in config_secret_files(lc):
        protect_file(path)
    for name, value in environ if environ is not None else os.environ.items():
        if name.startswith("A6GW_") and any(w in name for w in ("KEY", "CREDENTIALS", "TOKEN")):
            protect_text(value)
