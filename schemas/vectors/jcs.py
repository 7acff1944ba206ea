"""RFC 8785's own examples (``jcs.json``): the §3.2.3 sample and the Appendix B number
serialisation samples, each with the canonical text the RFC prints.

The generator checks each against the ``rfc8785`` package as it writes the file; the tests
check them against the gateway's encoder and an independent implementation under Node.
"""

from __future__ import annotations

import struct
from typing import Any

import rfc8785

# RFC 8785 §3.2.3: the input (as JSON text) and its canonical form.
SAMPLE_INPUT = (
    "{\n"
    '  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n'
    '  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n'
    '  "literals": [null, true, false]\n'
    "}"
)
SAMPLE_OUTPUT = (
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
    '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
)

# RFC 8785 Appendix B: IEEE 754 double (hex) -> the JCS number text. NaN and Infinity are
# left out: JSON cannot carry them, so they are outside the gateway's domain.
NUMBERS = (
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
)


def double(bits_hex: str) -> float:
    """The IEEE 754 double whose big-endian bits are ``bits_hex``."""
    value: float = struct.unpack(">d", bytes.fromhex(bits_hex))[0]
    return value


def jcs_document() -> dict[str, Any]:
    """``jcs.json``; raises AssertionError if ``rfc8785`` disagrees with the RFC."""
    import json

    got = rfc8785.dumps(json.loads(SAMPLE_INPUT)).decode("utf-8")
    if got != SAMPLE_OUTPUT:
        raise AssertionError(f"RFC 8785 §3.2.3: got {got!r}")
    for bits, text in NUMBERS:
        if (out := rfc8785.dumps(double(bits)).decode("ascii")) != text:
            raise AssertionError(f"RFC 8785 Appendix B {bits}: got {out}, want {text}")
    return {
        "description": "RFC 8785's own examples: §3.2.3 (input JSON text -> canonical text) "
        "and Appendix B (IEEE 754 double bits -> canonical number text)",
        "sample": {"source": "RFC 8785 §3.2.3", "input": SAMPLE_INPUT, "canonical": SAMPLE_OUTPUT},
        "numbers": [
            {"source": "RFC 8785 Appendix B", "ieee754_hex": bits, "canonical": text}
            for bits, text in NUMBERS
        ],
    }
