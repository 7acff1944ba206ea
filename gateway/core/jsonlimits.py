"""JSON from untrusted bytes, within bounds the parser itself does not enforce.

Python's ``json`` recurses once per nesting level (``[`` × 100,000 raises ``RecursionError``)
and refuses integers of more than 4,300 digits with a bare ``ValueError``. Both come from one
input and would be raised again on every redelivery, so they are checked here and answered
with the ordinary coded ``SchemaError`` (MSG-001) before, or instead of, the parser's own
exception. The depth check looks at the bytes: brackets inside strings do not count.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from gateway.errors import SchemaError

#: The deepest nesting an input may have. An envelope nests four or five levels (envelope,
#: data, blocks, block); a registry's richest payload stays well inside this.
MAX_DEPTH = 32
#: Integers (serials and quantities travel as strings) are short; this keeps ``int()`` cheap.
MAX_INT_DIGITS = 640

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
#: Every digit as ``0``: a run of more than MAX_INT_DIGITS digits is then a substring.
_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_LONG_RUN = b"0" * (MAX_INT_DIGITS + 1)


def _long_digit_run(value: bytes) -> bool:
    return _LONG_RUN in value.translate(_DIGITS)


def nesting_depth(value: bytes, limit: int = MAX_DEPTH) -> int:
    """The deepest bracket nesting of JSON text ``value`` (strings ignored), counted up to
    the first level beyond ``limit``; cheap when there are few brackets."""
    opened = value.count(b"[") + value.count(b"{")
    if opened <= limit:
        return opened  # an upper bound within the limit
    depth = deepest = 0
    for m in _BRACKET.finditer(_STRING.sub(b'""', value)):
        if m.group() in (b"[", b"{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        else:
            depth -= 1
    return deepest


def refuse_constant(name: str) -> Any:
    """A ``parse_constant`` hook: ``NaN``, ``Infinity`` and ``-Infinity``, which Python's
    parser takes by default, are not JSON (RFC 8259, section 6) and have no canonical form
    (RFC 8785, section 3.2.2.3).

    :raises SchemaError: (MSG-001) always.
    """
    raise SchemaError(f"{name} is not a JSON number (RFC 8259, section 6)", code="MSG-001")


def check_bounds(value: bytes, *, max_depth: int = MAX_DEPTH) -> None:
    """:raises SchemaError: (MSG-001) when ``value`` nests deeper than ``max_depth`` or
    carries an integer of more than :data:`MAX_INT_DIGITS` digits outside strings."""
    if (depth := nesting_depth(value, max_depth)) > max_depth:
        raise SchemaError(f"JSON nests deeper than {max_depth} levels ({depth}+)", code="MSG-001")
    if _long_digit_run(value) and _long_digit_run(_STRING.sub(b'""', value)):
        raise SchemaError(f"JSON number of more than {MAX_INT_DIGITS} digits", code="MSG-001")


def loads(
    value: bytes,
    *,
    max_depth: int = MAX_DEPTH,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
) -> Any:
    """``json.loads`` of UTF-8 bytes after :func:`check_bounds`.

    :raises SchemaError: (MSG-001) not UTF-8, not JSON, or out of bounds.
    """
    check_bounds(value, max_depth=max_depth)
    return _decode(value, lambda text: json.loads(text, object_pairs_hook=object_pairs_hook))


def loads_with(value: bytes, decode: Callable[[str], Any], *, max_depth: int = MAX_DEPTH) -> Any:
    """:func:`loads` with a decoder built once (``json.JSONDecoder(...).decode``), which reads
    text as ``json.loads`` with the same hooks does (a text opening with a byte order mark
    goes through ``json.loads``, which refuses it in its own words).

    :raises SchemaError: (MSG-001) not UTF-8, not JSON, or out of bounds.
    """
    check_bounds(value, max_depth=max_depth)
    return _decode(value, decode)


def _decode(value: bytes, decode: Callable[[str], Any]) -> Any:
    try:
        text = value.decode("utf-8")
        if text.startswith("\ufeff"):
            return json.loads(text)
        return decode(text)
    except UnicodeDecodeError as exc:
        raise SchemaError(f"not UTF-8: {exc.reason} at byte {exc.start}", code="MSG-001") from exc
    except json.JSONDecodeError as exc:
        raise SchemaError(f"not JSON: {exc.msg} at {exc.pos}", code="MSG-001") from exc
    except (ValueError, RecursionError) as exc:  # limits the checks above did not foresee
        raise SchemaError(f"not JSON within limits: {exc}", code="MSG-001") from exc
