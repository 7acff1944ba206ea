"""Canonical bytes are RFC 8785's for every JSON value, whichever encoder writes them."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core.canonical import canonical_bytes, encoder, glance, plain_bytes, sorted_json
from gateway.errors import SchemaError

# keys and strings from every plane, control characters, quotes and backslashes included
text = st.text(
    st.characters(codec=None, blacklist_categories=()) | st.sampled_from('"\\\x00\x1f\x7f/\u2028'),
    max_size=8,
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.integers(min_value=-(10**16), max_value=10**16)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=20,
)


def reference(obj: Any) -> bytes | None:
    try:
        return rfc8785.dumps(obj)
    except (rfc8785.CanonicalizationError, TypeError, ValueError):
        return None


@settings(max_examples=600, deadline=None)
@given(values)
def test_the_same_bytes_as_the_reference_implementation(obj: Any) -> None:
    want = reference(obj)
    if want is None:
        with pytest.raises(SchemaError):
            canonical_bytes(obj)
    else:
        assert canonical_bytes(obj) == want


@pytest.mark.parametrize(
    "obj",
    [
        {"b": 1, "a": [True, None, 'x\n"\\\x01é'], "": {}},
        {"\ue000": 1, "\U0001f600": 2},  # UTF-16 order differs from code point order
        {"n": 1.0, "m": 1e21, "k": -0.0, "j": 5e-7},
        {"i": 2**53 - 1, "h": -(2**53) + 1, "g": 999_999_999_999_999},
        ("tuple", ["list"]),
    ],
)
def test_edge_cases_match(obj: Any) -> None:
    assert canonical_bytes(obj) == rfc8785.dumps(obj)


@pytest.mark.parametrize(
    "obj",
    [{1: "int key"}, {"a": {None: 1}}, 2**53, float("nan"), "\ud800", {"a": object()}, {1, 2}],
)
def test_what_jcs_cannot_carry_is_refused(obj: Any) -> None:
    with pytest.raises(SchemaError):
        canonical_bytes(obj)


ENCODER_OPTIONS: list[dict[str, Any]] = [
    {"ensure_ascii": False, "allow_nan": False, "sort_keys": True, "separators": (",", ":")},
    {},  # json.dumps's defaults
    {"ensure_ascii": True, "sort_keys": True},
]
more_values = st.recursive(
    scalars | st.sampled_from([float("nan"), float("inf"), 10**40, ("a", 1)]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(text | st.integers(-3, 3) | st.none(), inner, max_size=4)
    ),
    max_leaves=20,
)


def outcome(encode: Any, obj: Any) -> str | type[Exception]:
    try:
        return str(encode(obj))
    except (TypeError, ValueError) as exc:
        return type(exc)


@settings(max_examples=400, deadline=None)
@given(more_values)
def test_the_encoder_built_once_writes_what_json_writes(obj: Any) -> None:
    for options in ENCODER_OPTIONS:
        assert outcome(encoder(**options), obj) == outcome(json.JSONEncoder(**options).encode, obj)


def test_the_encoder_built_once_keeps_json_dumps_defaults() -> None:
    obj = {"b": [1, 2.5, None], "a": "é\n", "c": {"d": True}}
    assert encoder()(obj) == json.dumps(obj)
    assert encoder(indent=2)(obj) == json.dumps(obj, indent=2)


# what the gateway builds from validated values: no float, integers of at most 15 digits
plain_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1) | text,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(text, inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=600, deadline=None)
@given(plain_values)
def test_plain_bytes_are_the_reference_implementations(obj: Any) -> None:
    want = reference(obj)
    if want is None:  # a lone surrogate
        with pytest.raises(SchemaError):
            plain_bytes(obj)
    else:
        assert plain_bytes(obj) == want


@settings(max_examples=600, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | text,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
        max_leaves=20,
    )
)
def test_sorted_json_writes_what_json_writes(obj: Any) -> None:
    try:
        want = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        want_bytes = want.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: neither writes UTF-8
        with pytest.raises(TypeError):
            sorted_json(obj)
        return
    assert sorted_json(obj) == want_bytes


def _deep(n: int) -> list[Any]:
    obj: list[Any] = []
    for _ in range(n):
        obj = [obj]
    return obj


@pytest.mark.parametrize("obj", [{1: "int key"}, 2**64, "\ud800", _deep(300)])
def test_sorted_json_refuses_with_a_type_error(obj: Any) -> None:
    with pytest.raises(TypeError):
        sorted_json(obj)


def test_glance_reads_what_json_loads_reads() -> None:
    for text in (b'{"a":[1,"\\u65e5",null,true]}', '{"a":"日本"}'.encode(), b"[1.5e-7]"):
        assert glance(text) == json.loads(text)
    # text orjson refuses goes to the standard library
    assert glance(b'"\\ud800"') == "\ud800"
    assert math.isnan(glance(b"NaN"))
    with pytest.raises(ValueError):
        glance(b"{not json")


def test_glance_refuses_what_nests_too_deeply_as_not_json() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000  # beyond orjson's 1,024 levels and the stack
    with pytest.raises(ValueError, match="nested too deeply"):
        glance(deep)
