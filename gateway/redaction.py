"""Keep secrets out of the logs: every line a handler of :mod:`gateway.logs` writes passes
through :func:`redact` last, after the message, its fields and any traceback are formatted.

Two nets, as defence in depth (no code path is meant to log a secret in the first place):

- **patterns** that need no knowledge of the secret: a PEM private-key block, the value of
  an ``Authorization: Bearer`` header, a ``password`` member or parameter;
- **known values**: each process registers the secrets it loads (:func:`protect`,
  :func:`protect_file`, :func:`protect_config`), in the forms a careless line could show
  them: the text itself, and for key material its bytes as hex (both cases), base64 and
  base64url (padded or not), and each line of a PEM body.

A line costs one substring search per registered value (a few dozen per process, each at
C speed) and, only when the line holds ``PRIVATE KEY``, ``bearer`` or ``password``, a
regular expression.
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
#: the registered values, longest first (a value containing another is masked whole); a
#: tuple replaced whole on each registration, so a reader never sees it change
_known: tuple[str, ...] = ()


def redact(text: str) -> str:
    """``text`` with every secret it shows replaced by :data:`MASK`: the patterns, then
    the known values."""
    return redact_known(redact_patterns(text))


def redact_patterns(text: str) -> str:
    """``text`` with PEM private keys, bearer tokens and password values masked."""
    if "PRIVATE KEY" in text:
        text = _PEM.sub(MASK, text)
    if "earer" in text or "EARER" in text:
        text = _BEARER.sub(lambda m: m.group(1) + MASK, text)
    if "assword" in text or "ASSWORD" in text:
        text = _PASSWORD.sub(lambda m: m.group(1) + MASK, text)
    return text


def redact_known(text: str) -> str:
    """``text`` with every registered value masked (one substring search per value, at C
    speed; a mask never adds a quote or a backslash, so a JSON text stays JSON)."""
    for secret in _known:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def protect(*values: str | bytes) -> None:
    """Register secrets: text as it is (and, for text of hex digits, the bytes it spells);
    bytes in their hex, base64 and base64url forms. Values shorter than
    :data:`MIN_SECRET_CHARS` characters are ignored."""
    global _known
    forms: set[str] = set()
    for value in values:
        for form in _forms(value):
            forms.add(form)
            forms.add(json.dumps(form)[1:-1])  # as it shows inside a JSON string
    with _lock:
        known = {f for f in (*_known, *forms) if len(f) >= MIN_SECRET_CHARS}
        # a value that contains another is masked by masking that one
        kept = [f for f in known if not any(o != f and o in f for o in known)]
        _known = tuple(sorted(kept, key=len, reverse=True))


def forgotten() -> None:
    """Forget every registered value (for tests)."""
    global _known
    with _lock:
        _known = ()


def _forms(value: str | bytes) -> Iterator[str]:
    if isinstance(value, str):
        text = value.strip()
        yield text
        if text and re.fullmatch(r"(?:[0-9a-fA-F]{2})+", text):
            yield from _forms(bytes.fromhex(text))
        return
    yield value.hex()
    yield value.hex().upper()
    # unpadded: a padded form contains it
    yield base64.b64encode(value).decode("ascii").rstrip("=")
    yield base64.urlsafe_b64encode(value).decode("ascii").rstrip("=")


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
