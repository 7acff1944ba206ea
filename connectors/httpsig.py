"""HTTP Message Signatures (RFC 9421) with Ed25519, and ``Content-Digest`` (RFC 9530).

Pure functions, no I/O. The gateway signs every request to a partner registry and checks
every request a partner sends it; both sides cover the same components
(:data:`DEFAULT_COMPONENTS`): the method, the target URI, the body's digest, its type and
the idempotency key, so none of them can be changed or replayed unnoticed.

The structured fields (RFC 8941) are parsed strictly: dictionaries of integers, strings,
byte sequences, tokens and booleans (no decimals), inner lists of plain strings, and only
the signature parameters this module emits. :func:`verify_request` raises one
:class:`~gateway.errors.RegistryError` per failure, each with its own code:

    REG-SIG-MISSING    no Signature-Input / Signature (or none with our label)
    REG-SIG-MALFORMED  the fields are not valid structured fields of the expected shape
    REG-SIG-COVERAGE   a required component is not covered
    REG-SIG-ALG        ``alg`` is absent or not ``ed25519``
    REG-SIG-KEY        the ``keyid`` is unknown
    REG-DIGEST         ``Content-Digest`` is missing or does not match the body
    REG-SIG-STALE      ``created`` is too old or too far in the future, or ``expires`` passed
    REG-SIG-COMPONENT  a covered component has no value in the message
    REG-SIG-INVALID    the Ed25519 signature does not verify
    REG-REPLAY         the nonce was already used with that key id

The nonce is recorded only once the signature verified, so forged requests cannot fill the
nonce store or burn a nonce a genuine request is about to use.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.errors import RegistryError

__all__ = [
    "DEFAULT_COMPONENTS",
    "DERIVED_COMPONENTS",
    "GET_COMPONENTS",
    "SigParams",
    "Verified",
    "content_digest",
    "sign_request",
    "signature_base",
    "verify_request",
]

DEFAULT_COMPONENTS: tuple[str, ...] = (
    "@method",
    "@target-uri",
    "content-digest",
    "content-type",
    "idempotency-key",
)
# Requests without a body to protect (GET): the digest of the empty body is still covered.
GET_COMPONENTS: tuple[str, ...] = ("@method", "@target-uri", "content-digest")
DERIVED_COMPONENTS = frozenset({"@method", "@target-uri", "@authority", "@path", "@query"})
_PARAM_TYPES = {"created": int, "expires": int, "keyid": str, "alg": str, "nonce": str}
_DIGESTS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}  # RFC 9530 §5, standard
_KEY = re.compile(r"[a-z*][a-z0-9_.*-]*")
_FIELD_NAME = re.compile(r"[a-z0-9!#$%&'*+.^_`|~-]+")  # RFC 9110 §5.1 token, lowercased
_DEFAULT_PORTS = {"https": 443, "http": 80}


@dataclass(frozen=True, kw_only=True)
class SigParams:
    """Signature parameters (RFC 9421 §2.3), serialised in this fixed order.

    ``alg`` and ``nonce`` may be ``None`` to leave them out (as RFC 9421's own examples do);
    the gateway always sends both.
    """

    created: int
    keyid: str
    alg: str | None = "ed25519"
    nonce: str | None
    expires: int | None = None

    def items(self) -> list[tuple[str, int | str]]:
        out: list[tuple[str, int | str]] = [("created", self.created)]
        if self.expires is not None:
            out.append(("expires", self.expires))
        out.append(("keyid", self.keyid))
        if self.alg is not None:
            out.append(("alg", self.alg))
        if self.nonce is not None:
            out.append(("nonce", self.nonce))
        return out


@dataclass(frozen=True)
class Verified:
    keyid: str
    created: int
    nonce: str


def _err(code: str, message: str) -> RegistryError:
    return RegistryError(message, code=code)


# -- RFC 8941 structured fields -------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    value: str


_Bare = int | str | bytes | bool | _Token
_Params = dict[str, _Bare]


@dataclass(frozen=True)
class _Member:
    value: _Bare | tuple[tuple[_Bare, _Params], ...]  # an item, or an inner list
    params: _Params


class _ParseError(ValueError):
    pass


_BARE = re.compile(  # RFC 8941 §3.3; decimals are not used here
    r"(-?[0-9]{1,15})(?![0-9.])"  # integer
    r'|"((?:[ !#-\[\]-~]|\\["\\])*)"'  # string: printable ASCII, \" and \\ escaped
    r"|:([A-Za-z0-9+/]*={0,2}):"  # byte sequence
    r"|\?([01])"  # boolean
    r"|([A-Za-z*][A-Za-z0-9!#$%&'*+.^_`|~:/-]*)"  # token
)
_PARAM = re.compile(r";[ ]*([a-z*][a-z0-9_.*-]*)(=?)")
_COMMA = re.compile(r"[ \t]*,[ \t]*")


def _bare(s: str, i: int) -> tuple[_Bare, int]:  # RFC 8941 §4.2.3.1
    m = _BARE.match(s, i)
    if m is None:
        raise _ParseError(f"no item at {i}")
    number, text, raw, flag, token = m.groups()
    value: _Bare
    if number is not None:
        value = int(number)
    elif text is not None:
        value = re.sub(r'\\(["\\])', r"\1", text)
    elif raw is not None:
        try:
            value = base64.b64decode(raw, validate=True)
        except binascii.Error as exc:
            raise _ParseError(f"bad base64 at {i}") from exc
    elif flag is not None:
        value = flag == "1"
    else:
        value = _Token(token)
    return value, m.end()


def _params(s: str, i: int) -> tuple[_Params, int]:  # RFC 8941 §4.2.3.2
    out: _Params = {}
    while (m := _PARAM.match(s, i)) is not None:
        if m.group(1) in out:  # stricter than §4.2.3.2, which keeps the last
            raise _ParseError(f"duplicate parameter {m.group(1)!r}")
        out[m.group(1)], i = _bare(s, m.end()) if m.group(2) else (True, m.end())
    return out, i


def _member(s: str, i: int) -> tuple[_Member, int]:  # RFC 8941 §4.2.1.1, §4.2.1.2
    if not s.startswith("(", i):
        value, i = _bare(s, i)
        params, i = _params(s, i)
        return _Member(value, params), i
    items: list[tuple[_Bare, _Params]] = []
    i += 1
    while True:
        while s.startswith(" ", i):
            i += 1
        if s.startswith(")", i):
            params, i = _params(s, i + 1)
            return _Member(tuple(items), params), i
        value, i = _bare(s, i)
        item_params, i = _params(s, i)
        items.append((value, item_params))
        if not s.startswith((" ", ")"), i):
            raise _ParseError(f"bad inner list at {i}")


def _dictionary(text: str) -> dict[str, _Member]:  # RFC 8941 §4.2.2
    s, i, out = text.strip(" "), 0, {}
    while i < len(s):
        key = _KEY.match(s, i)
        if key is None:
            raise _ParseError(f"expected a key at {i}")
        i = key.end()
        if s.startswith("=", i):
            out[key.group()], i = _member(s, i + 1)
        else:
            params, i = _params(s, i)
            out[key.group()] = _Member(True, params)
        comma = _COMMA.match(s, i)
        if i < len(s) and (comma is None or comma.end() == len(s)):
            raise _ParseError(f"expected ',' at {i}")
        i = comma.end() if comma else i
    return out


def _sf_string(value: str) -> str:  # RFC 8941 §4.1.6
    if any(not " " <= c <= "~" for c in value):
        raise _err("REG-SIG-MALFORMED", f"not a structured-field string: {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _sf_bare(value: _Bare) -> str:  # RFC 8941 §4.1.3.1
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _sf_string(value)
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode("ascii") + ":"
    return value.value


def _sf_params(params: Sequence[tuple[str, _Bare]]) -> str:  # RFC 8941 §4.1.1.2
    return "".join(f";{k}" if v is True else f";{k}={_sf_bare(v)}" for k, v in params)


def _params_line(components: Sequence[str], params: Sequence[tuple[str, _Bare]]) -> str:
    """The ``@signature-params`` value (RFC 9421 §2.3): inner list of ids, then parameters."""
    return "(" + " ".join(_sf_string(c) for c in components) + ")" + _sf_params(params)


# -- signature base -------------------------------------------------------------------------


def content_digest(body: bytes) -> str:
    """The ``Content-Digest`` field value for ``body`` (RFC 9530 §2, sha-256)."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def _fields(headers: Mapping[str, str]) -> dict[str, str]:
    """Lowercased names; repeated fields combined with ", " (RFC 9421 §2.1)."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        # RFC 9421 §2.1: strip surrounding whitespace, replace obsolete line folding by SP
        clean = re.sub(r"\r?\n[ \t]+", " ", value).strip(" \t")
        out[key] = f"{out[key]}, {clean}" if key in out else clean
    return out


def _component(name: str, method: str, url: str, fields: Mapping[str, str]) -> str:
    if not name.startswith("@"):
        if name not in fields:
            raise _err("REG-SIG-COMPONENT", f"covered field {name!r} is absent")
        return fields[name]
    parts = urlsplit(url)
    if name == "@method":  # RFC 9421 §2.2.1: as sent, case-sensitive
        return method
    if name == "@target-uri":  # §2.2.2
        return url
    if name == "@authority":  # §2.2.3: lowercased host, default port left out
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        try:
            port = parts.port
        except ValueError as exc:
            raise _err("REG-SIG-COMPONENT", f"bad port in {url!r}") from exc
        if port is None or port == _DEFAULT_PORTS.get(parts.scheme.lower()):
            return host
        return f"{host}:{port}"
    if name == "@path":  # §2.2.6: an empty path is "/"
        return parts.path or "/"
    if name == "@query":  # §2.2.7: with its "?", "?" alone when empty
        return "?" + parts.query
    raise _err("REG-SIG-COMPONENT", f"unsupported derived component {name!r}")


def _base(
    components: Sequence[str],
    params_line: str,
    method: str,
    url: str,
    headers: Mapping[str, str],
) -> bytes:
    fields = _fields(headers)
    lines = []
    for name in components:  # RFC 9421 §2.5: one line per component, in covered order
        value = _component(name, method, url, fields)
        if any(not " " <= c <= "~" for c in value):
            raise _err("REG-SIG-COMPONENT", f"component {name!r} is not printable ASCII")
        lines.append(f"{_sf_string(name)}: {value}")
    lines.append(f'"@signature-params": {params_line}')  # last line, no trailing newline
    return "\n".join(lines).encode("ascii")


def _check_components(components: Sequence[str]) -> None:
    if len(set(components)) != len(components):
        raise _err("REG-SIG-MALFORMED", "a component is covered twice")  # RFC 9421 §2.5
    for name in components:
        if name.startswith("@") and name not in DERIVED_COMPONENTS:
            raise _err("REG-SIG-MALFORMED", f"unsupported derived component {name!r}")
        if not name.startswith("@") and not _FIELD_NAME.fullmatch(name):
            raise _err("REG-SIG-MALFORMED", f"not a lowercase field name: {name!r}")


def signature_base(
    components: Sequence[str],
    params: SigParams,
    method: str,
    url: str,
    headers: Mapping[str, str],
) -> bytes:
    """The signature base (RFC 9421 §2.5) of a request for ``components`` and ``params``.

    :raises RegistryError: REG-SIG-COMPONENT when a covered field is absent or a derived
        component is not supported; REG-SIG-MALFORMED for duplicate or invalid ids.
    """
    _check_components(components)
    return _base(components, _params_line(components, params.items()), method, url, headers)


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    key_id: str,
    private_key: Ed25519PrivateKey,
    created: int,
    nonce: str,
    label: str = "a6gw",
    components: Sequence[str] = DEFAULT_COMPONENTS,
) -> dict[str, str]:
    """The headers to add to a request: ``Content-Digest``, ``Signature-Input``, ``Signature``.

    ``Content-Digest`` is computed here from ``body`` (and replaces one in ``headers``).

    :raises RegistryError: REG-SIG-COMPONENT when a covered header is absent.
    """
    if not _KEY.fullmatch(label):
        raise _err("REG-SIG-MALFORMED", f"not a structured-field key: {label!r}")
    digest = content_digest(body)
    merged = {k: v for k, v in headers.items() if k.lower() != "content-digest"}
    merged["content-digest"] = digest
    params = SigParams(created=created, keyid=key_id, nonce=nonce)
    _check_components(components)
    line = _params_line(components, params.items())
    signature = private_key.sign(_base(components, line, method, url, merged))
    return {
        "Content-Digest": digest,
        "Signature-Input": f"{label}={line}",
        "Signature": f"{label}=:{base64.b64encode(signature).decode('ascii')}:",
    }


# -- verification ---------------------------------------------------------------------------


def _parse_dict(text: str, what: str) -> dict[str, _Member]:
    try:
        return _dictionary(text)
    except _ParseError as exc:
        raise _err("REG-SIG-MALFORMED", f"{what}: {exc}") from exc


def _signature_input(member: _Member) -> tuple[tuple[str, ...], _Params]:
    if not isinstance(member.value, tuple):
        raise _err("REG-SIG-MALFORMED", "Signature-Input member is not an inner list")
    components: list[str] = []
    for value, item_params in member.value:
        if type(value) is not str or item_params:
            raise _err("REG-SIG-MALFORMED", "component ids must be plain strings")
        components.append(value)
    for name, value in member.params.items():
        want = _PARAM_TYPES.get(name)
        if want is None:
            raise _err("REG-SIG-MALFORMED", f"unknown signature parameter {name!r}")
        if type(value) is not want:
            raise _err("REG-SIG-MALFORMED", f"signature parameter {name!r} has the wrong type")
    for name in ("created", "keyid", "nonce"):
        if name not in member.params:
            raise _err("REG-SIG-MALFORMED", f"signature parameter {name!r} is missing")
    _check_components(components)
    return tuple(components), member.params


def _check_digest(fields: Mapping[str, str], body: bytes) -> None:
    raw = fields.get("content-digest")
    if raw is None:
        raise _err("REG-DIGEST", "Content-Digest is missing")
    try:
        digests = _dictionary(raw)
    except _ParseError as exc:
        raise _err("REG-DIGEST", f"Content-Digest is malformed: {exc}") from exc
    known = [(alg, m.value) for alg, m in digests.items() if alg in _DIGESTS]
    if not known:
        raise _err("REG-DIGEST", "Content-Digest has no sha-256 or sha-512 digest")
    for alg, value in known:  # every supported digest given must match (RFC 9530 §2)
        if not isinstance(value, bytes) or not hmac.compare_digest(
            value, _DIGESTS[alg](body).digest()
        ):
            raise _err("REG-DIGEST", f"Content-Digest {alg} does not match the body")


def verify_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    keys: Callable[[str], Ed25519PublicKey | None],
    now: int,
    max_age_s: int = 300,
    seen_nonce: Callable[[str, str], bool],
    label: str = "a6gw",
    required: Sequence[str] = DEFAULT_COMPONENTS,
) -> Verified:
    """Check a request's ``label`` signature (RFC 9421 §3.2) and its body digest.

    ``seen_nonce(keyid, nonce)`` returns True when the pair was seen before and records it
    otherwise; it is called last, once the signature verified.

    :raises RegistryError: with the codes listed in the module docstring.
    """
    fields = _fields(headers)
    if "signature-input" not in fields or "signature" not in fields:
        raise _err("REG-SIG-MISSING", "Signature-Input and Signature are required")
    inputs = _parse_dict(fields["signature-input"], "Signature-Input")
    signatures = _parse_dict(fields["signature"], "Signature")
    if label not in inputs and label not in signatures:
        raise _err("REG-SIG-MISSING", f"no signature labelled {label!r}")
    if label not in inputs or label not in signatures:
        raise _err("REG-SIG-MALFORMED", f"signature {label!r} is in only one of the fields")
    components, params = _signature_input(inputs[label])
    sig = signatures[label]
    if not isinstance(sig.value, bytes) or sig.params or len(sig.value) != 64:
        raise _err("REG-SIG-MALFORMED", "Signature is not a 64-byte byte sequence")
    missing = [c for c in required if c not in components]
    if missing:
        raise _err("REG-SIG-COVERAGE", f"the signature does not cover {', '.join(missing)}")
    if params.get("alg") != "ed25519":
        raise _err("REG-SIG-ALG", f"alg must be ed25519, not {params.get('alg')!r}")
    keyid, created, nonce = params["keyid"], params["created"], params["nonce"]
    assert isinstance(keyid, str) and isinstance(created, int) and isinstance(nonce, str)
    public_key = keys(keyid)
    if public_key is None:
        raise _err("REG-SIG-KEY", f"unknown key id {keyid!r}")
    _check_digest(fields, body)
    if abs(now - created) > max_age_s:
        raise _err("REG-SIG-STALE", f"created {created} is more than {max_age_s}s from {now}")
    expires = params.get("expires")
    if isinstance(expires, int) and now > expires:
        raise _err("REG-SIG-STALE", f"the signature expired at {expires}")
    # RFC 9421 §3.2 step 6: @signature-params is the received parameters, re-serialised
    line = _params_line(components, list(params.items()))
    base = _base(components, line, method, url, fields)
    try:
        public_key.verify(sig.value, base)
    except InvalidSignature as exc:
        raise _err("REG-SIG-INVALID", "the Ed25519 signature does not verify") from exc
    if seen_nonce(keyid, nonce):
        raise _err("REG-REPLAY", f"nonce {nonce!r} was already used by {keyid!r}")
    return Verified(keyid, created, nonce)
