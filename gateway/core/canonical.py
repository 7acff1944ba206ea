"""RFC 8785 (JCS) canonical bytes and digests.

The common case goes through a C encoder: for strings, booleans, null, lists and
string-keyed objects whose keys sort the same by code point as by UTF-16 code unit (every key
inside the Basic Multilingual Plane), and integers of at most 15 digits, JCS and
``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` write the same
characters (the same escapes: ``\\b \\t \\n \\f \\r \\" \\\\`` and ``\\u00xx`` for the other
control characters), and so does ``orjson`` with sorted keys (:func:`sorted_json`, a tenth of
the standard library's cost). Anything else (a float, a longer integer, a non-string key, a
tuple, a character outside the BMP, a lone surrogate) goes through the reference
implementation.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

import orjson
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


#: ``json.dumps(value)`` with its default arguments
dumps = encoder()
#: a character outside the BMP in UTF-8: its lead byte
_ASTRAL_UTF8 = re.compile(b"[\xf0-\xf4]")
#: orjson's own encodings of dates, times and dataclasses are refused (TypeError), as the
#: standard library's encoder refuses them
_SORTED = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def sorted_json(obj: Any) -> bytes:
    """``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` in
    UTF-8, for a value of strings, booleans, null, lists, tuples, string-keyed objects and
    integers of at most 64 bits (no float: orjson writes some differently), at a tenth of
    the cost.

    :raises TypeError: for other values (orjson's ``JSONEncodeError``: a non-string key, a
        larger integer, a lone surrogate, an object nested more than 254 deep), which the
        caller encodes otherwise.
    """
    return orjson.dumps(obj, option=_SORTED)


def glance(data: bytes) -> Any:
    """``json.loads(data)`` for reading a few fields of gateway-made JSON (an audit entry's
    type, outcome and codes), at a fifth of the cost: orjson, and the standard library for
    text orjson refuses (``NaN``, a lone surrogate...). Not for values kept or compared:
    orjson reads an integer beyond 64 bits as a float.

    :raises ValueError: ``data`` is not JSON, or nests too deeply for the standard
        library's parser (its ``RecursionError``; orjson refuses beyond 1,024 levels).
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        try:
            return json.loads(data)
        except RecursionError as exc:
            raise ValueError("JSON nested too deeply to read") from exc


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


def _plain(obj: Any) -> bytes | None:
    """The JCS bytes of ``obj`` when :func:`sorted_json` writes them exactly, else None.

    Read back, the text must give ``obj`` again with no float and no integer longer than 15
    digits: a non-string key (which the encoder would write as a string) or a tuple reads
    back as something else.
    """
    try:
        data = sorted_json(obj)
        if _READ_BACK(data.decode("utf-8")) != obj:
            return None
    except (TypeError, ValueError, RecursionError, NotPlain):
        return None
    if not data.isascii() and _ASTRAL_UTF8.search(data):
        return None
    return data


def canonical_bytes(obj: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value.

    :raises SchemaError: (MSG-001) for values JCS cannot carry (floats out of range,
        integers above 2^53 - 1, non-string keys).
    """
    data = _plain(obj)
    if data is not None:
        return data
    try:
        return rfc8785.dumps(obj)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise SchemaError(f"value cannot be canonicalised (RFC 8785): {exc}") from exc


def plain_bytes(obj: Any) -> bytes:
    """:func:`canonical_bytes` of a value the gateway built from validated values, without
    reading the text back.

    The caller vouches that ``obj`` holds only strings, booleans, null, lists (or tuples),
    string-keyed objects and integers of at most 15 digits: no float, no other key. For such
    a value :func:`sorted_json` writes the JCS bytes (see the module doc) unless a string
    carries a character outside the BMP or a lone surrogate, which go through
    :func:`canonical_bytes`.
    """
    try:
        data = sorted_json(obj)
    except TypeError:
        return canonical_bytes(obj)
    if not data.isascii() and _ASTRAL_UTF8.search(data):
        return canonical_bytes(obj)
    return data


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
