"""The wire envelope: CloudEvents 1.0 structured JSON plus the signer's key id and signature.

The sender stamps ``id`` and ``time`` and signs them; nobody rewrites a signed field. The
signature is Ed25519 over the RFC 8785 canonical bytes of the envelope *without* its
``a6signature`` member (the key id is covered). ``type`` carries the major version
(``a6gw.<name>.v<major>``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from schemas._types import Strict

# RFC 3339 timestamp in UTC with a literal Z (MSG-006), milliseconds optional.
UTC_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$"

SIGNATURE_ATTRIBUTE = "a6signature"


class Envelope(Strict):
    """A signed CloudEvents 1.0 structured-mode event."""

    specversion: Literal["1.0"]
    id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
    source: str = Field(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9/:._-]+$")
    type: str = Field(pattern=r"^a6gw\.[a-z0-9.]+\.v[1-9][0-9]*$")
    time: str = Field(pattern=UTC_TIME)
    datacontenttype: Literal["application/json"]
    a6keyid: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")
    a6signature: str = Field(min_length=86, max_length=88, pattern=r"^[A-Za-z0-9+/]+={0,2}$")
    data: dict[str, Any]
