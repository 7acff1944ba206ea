"""RFC 9457 problem documents: the error answer of every HTTPS server of the gateway.

The auditors' API and the ingress answer an error with the same document, carrying the
gateway's stable code (``code``) beside the HTTP status.
"""

from __future__ import annotations

from http import HTTPStatus

from aiohttp import web
from pydantic import BaseModel, ConfigDict

__all__ = ["Problem", "problem"]


class Problem(BaseModel):
    """An error (RFC 9457 problem details, with the gateway's stable code)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str = "about:blank"
    title: str
    status: int
    code: str
    detail: str


def problem(status: int, code: str, detail: str) -> web.Response:
    """An RFC 9457 problem-details answer carrying the gateway's stable code."""
    body = Problem(title=HTTPStatus(status).phrase, status=status, code=code, detail=detail)
    return web.Response(
        text=body.model_dump_json(), status=status, content_type="application/problem+json"
    )
