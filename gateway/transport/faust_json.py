"""faust's ``json`` codec, pinned to the standard library's encoder.

faust switches its ``json`` codec to orjson whenever orjson can be imported (the gateway
uses it for canonical bytes, ``gateway.core.canonical``). orjson writes characters outside
ASCII as they are where the standard library escapes them (``"\\u65e5"``), so a table key
holding such a character (an input's event id, the key of its dedup row) would get other
bytes in the local store and the changelog than a worker of an earlier release wrote, and
its row would no longer be found. The codec :func:`pin` registers writes and reads what
faust's codec did without orjson: table keys, the group's assignment metadata.

Table values are looked up by nobody, only decoded, so :class:`ValuesJson` writes them with
orjson (a ledger decision of ~3 KB in a fifth of the time) and reads them with the standard
library, which decodes what either wrote to the same value: orjson refuses what it would
write otherwise (a non-string key, an integer beyond 64 bits, a lone surrogate, dates and
dataclasses), which the standard library's encoder then writes. orjson's one lossy case, a
float that is not finite (written ``null``), is not in a gateway value: inputs carrying
``NaN`` or ``Infinity`` are refused as they are parsed (``gateway.core.jsonlimits``).
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from faust.serializers import codecs
from faust.utils.json import JSONEncoder


class StdlibJson(codecs.Codec):
    """faust's ``json`` codec as it is without orjson: compact, non-ASCII escaped."""

    def _loads(self, s: bytes) -> Any:
        return json.loads(s)

    def _dumps(self, s: Any) -> bytes:
        return json.dumps(s, cls=JSONEncoder, separators=(",", ":")).encode("ascii")


#: dates and dataclasses go to the fallback (orjson would write them its own way)
_ORJSON = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class ValuesJson(StdlibJson):
    """The JSON of table values: written by orjson when it can, read by the standard
    library (see the module)."""

    def _dumps(self, s: Any) -> bytes:
        try:
            return orjson.dumps(s, option=_ORJSON)
        except TypeError:
            return super()._dumps(s)


def pin() -> None:
    """Register :class:`StdlibJson` as faust's ``json`` codec (idempotent)."""
    if not isinstance(codecs.codecs.get("json"), StdlibJson):
        codecs.register("json", StdlibJson())
