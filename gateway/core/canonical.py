"""RFC 8785 (JCS) canonical bytes and digests.

The common case goes through the standard library's C encoder: for strings, booleans, null,
lists and string-keyed objects whose keys sort the same by code point as by UTF-16 code unit
(every key inside the Basic Multilingual Plane), and integers of at most 15 digits, JCS and
``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` write the same
characters (the same escapes: ``\\b \\t \\n \\f \\r \\" \\\\`` and ``\\u00xx`` for the other
control characters). Anything else (a float, a longer integer, a non-string key, a tuple, a
character outside the BMP, a lone surrogate) goes through the reference implementation.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

import rfc8785

from gateway.errors import SchemaError


def encoder(**options: Any) -> Callable[[Any], str]:
    """``json.JSONEncoder(**options).encode``, built once.

    ``encode`` builds a C encoder (and a float-formatting closure) on every call; the one
    built here writes the same text. It keeps no circular-reference markers: the values the
    gateway encodes come from JSON text or are built from such values, never cyclic (a
    cyclic value raises ``RecursionError`` instead of ``ValueError``).
    """
    enc = json.JSONEncoder(**options)
    make: Callable[..., Any] | None = getattr(json.encoder, "c_make_encoder", None)
    if make is None or options.get("indent") is not None:
        return enc.encode
    c_encode = make(
        None,
        enc.default,
        json.encoder.encode_basestring_ascii
        if enc.ensure_ascii
        else json.encoder.encode_basestring,
        None,
        enc.key_separator,
        enc.item_separator,
        enc.sort_keys,
        enc.skipkeys,
        enc.allow_nan,
    )

    def encode(obj: Any) -> str:
        return "".join(c_encode(obj, 0))

    return encode


#: compact, keys sorted, non-ASCII as is, no NaN
_fast = encoder(ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":"))
#: ``json.dumps(value)`` with its default arguments
dumps = encoder()
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


class NotPlain(Exception):
    """JSON text with a float or an integer of more than 15 digits: its canonical bytes
    need RFC 8785's number rules (the reference implementation)."""


def refuse_float(_literal: str) -> Any:
    """A ``parse_float`` hook: raise :class:`NotPlain`."""
    raise NotPlain


def short_int(literal: str) -> int:
    """A ``parse_int`` hook: the integer, or :class:`NotPlain` beyond 15 digits."""
    if len(literal) > 15 and len(literal.lstrip("-")) > 15:
        raise NotPlain
    return int(literal)


# built once: json.loads with hooks would build a decoder (and its scanner) on every call
_READ_BACK = json.JSONDecoder(parse_float=refuse_float, parse_int=short_int).decode


def _plain(obj: Any) -> str | None:
    """The JCS text of ``obj`` when the C encoder writes it exactly, else None.

    Read back, the text must give ``obj`` again with no float and no integer longer than 15
    digits: a non-string key (which the encoder would write as a string) or a tuple reads
    back as something else.
    """
    try:
        text = _fast(obj)
        if _READ_BACK(text) != obj:
            return None
    except (TypeError, ValueError, RecursionError, NotPlain):
        return None
    if not text.isascii() and _ASTRAL.search(text):
        return None
    return text


def canonical_bytes(obj: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value.

    :raises SchemaError: (MSG-001) for values JCS cannot carry (floats out of range,
        integers above 2^53 - 1, non-string keys).
    """
    text = _plain(obj)
    if text is not None:
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: the reference implementation says why it cannot
    try:
        return rfc8785.dumps(obj)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise SchemaError(f"value cannot be canonicalised (RFC 8785): {exc}") from exc


def plain_bytes(obj: Any) -> bytes:
    """:func:`canonical_bytes` of a value the gateway built from validated values, without
    reading the text back.

    The caller vouches that ``obj`` holds only strings, booleans, null, lists (or tuples),
    string-keyed objects and integers of at most 15 digits: no float, no other key. For such
    a value the C encoder writes the JCS text (see the module doc) unless a string carries a
    character outside the BMP or a lone surrogate, which go through :func:`canonical_bytes`.
    """
    try:
        text = _fast(obj)
    except (TypeError, ValueError, RecursionError):
        return canonical_bytes(obj)
    if not text.isascii() and _ASTRAL.search(text):
        return canonical_bytes(obj)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return canonical_bytes(obj)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
