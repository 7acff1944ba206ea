"""The access log of the HTTPS servers (gateway.http.access_log): one line per request, with
its status however the handler ended, never the query string or a token. Served over
plain HTTP here; tests/integration/test_log_secrets.py reads the lines of the real servers
over mutual TLS and bearer tokens."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway.api.access import Access, Grant
from gateway.api.server import GRANT, _who
from gateway.http.access_log import access_log

REGISTRY = web.RequestKey("registry", str)


def app_with_log() -> web.Application:
    def who(request: web.Request) -> dict[str, Any]:
        return {"registry": request.get(REGISTRY)}

    async def ok(request: web.Request) -> web.Response:
        request[REGISTRY] = "JPN01"
        return web.json_response({}, status=202)

    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("a bug")

    app = web.Application(middlewares=[access_log("a6gw.test.access", who)])
    app.router.add_post("/v1/events", ok)
    app.router.add_get("/boom", boom)
    return app


async def requests() -> None:
    async with TestClient(TestServer(app_with_log())) as client:
        secret = {"Authorization": "Bearer tok-123456789012"}
        assert (await client.post("/v1/events?key=hide-me", headers=secret)).status == 202
        assert (await client.get("/nowhere")).status == 404
        assert (await client.get("/boom")).status == 500


def test_each_request_is_one_line_with_its_status_and_no_query(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="a6gw.test.access")
    asyncio.run(requests())
    lines = [r for r in caplog.records if r.name == "a6gw.test.access"]
    got = [(r.getMessage(), r.status, r.registry) for r in lines]  # type: ignore[attr-defined]
    assert got == [
        ("POST /v1/events 202", 202, "JPN01"),
        ("GET /nowhere 404", 404, None),
        ("GET /boom 500", 500, None),
    ]
    first = vars(lines[0])
    assert first["path"] == "/v1/events" and first["remote"] == "127.0.0.1"
    assert first["client_cn"] is None and first["duration_ms"] >= 0
    text = " ".join(f"{r.getMessage()} {vars(r)}" for r in lines)
    assert "hide-me" not in text and "tok-123456789012" not in text


def test_the_api_logs_how_a_client_authenticated_and_its_role() -> None:
    from aiohttp.test_utils import make_mocked_request

    who = _who(Access(clients={"auditor": Grant()}, tokens={"d": Grant("operator", "JPN")}))
    request = make_mocked_request("GET", "/v1/checkpoint")
    assert who(request) == {"auth": "none", "role": None}
    request[GRANT] = Grant("operator", "JPN")
    assert who(request) == {"auth": "token", "role": "operator", "party": "JPN"}
