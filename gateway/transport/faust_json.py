"""faust's ``json`` codec, pinned to the standard library's encoder.

faust switches its ``json`` codec to orjson whenever orjson can be imported (the gateway
uses it for canonical bytes, ``gateway.core.canonical``). orjson writes characters outside
ASCII as they are where the standard library escapes them (``"\\u65e5"``), so a table key
holding such a character (an input's event id, the key of its dedup row) would get other
bytes in the local store and the changelog than a worker of an earlier release wrote, and
its row would no longer be found. The codec :func:`pin` registers writes and reads what
faust's codec did without orjson: table keys and values, the group's assignment metadata.
"""

from __future__ import annotations

import json
from typing import Any

from faust.serializers import codecs
from faust.utils.json import JSONEncoder


class StdlibJson(codecs.Codec):
    """faust's ``json`` codec as it is without orjson: compact, non-ASCII escaped."""

    def _loads(self, s: bytes) -> Any:
        return json.loads(s)

    def _dumps(self, s: Any) -> bytes:
        return json.dumps(s, cls=JSONEncoder, separators=(",", ":")).encode("ascii")


def pin() -> None:
    """Register :class:`StdlibJson` as faust's ``json`` codec (idempotent)."""
    if not isinstance(codecs.codecs.get("json"), StdlibJson):
        codecs.register("json", StdlibJson())
