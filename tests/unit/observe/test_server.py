"""The metrics and health server on a loopback port, beside an event loop of its own thread
(as a worker's or an API's), and the request metrics of an aiohttp server."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from aiohttp import web

from gateway.http.tls import ServerThread
from gateway.observe import http as observe_http
from gateway.observe import metrics as m
from gateway.observe.server import serve, serving
from tests.ports import free_port


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A running event loop in a thread: the process's loop the checks run on."""
    ev = asyncio.new_event_loop()
    thread = threading.Thread(target=ev.run_forever, daemon=True)
    thread.start()
    yield ev
    ev.call_soon_threadsafe(ev.stop)
    thread.join(5)
    ev.close()


def test_metrics_livez_and_readyz(loop: asyncio.AbstractEventLoop) -> None:
    state = {"ledger": "the ledger state is not recovered yet"}

    async def ledger() -> str | None:
        assert asyncio.get_running_loop() is loop  # checks run on the process's loop
        return state.get("ledger")

    port = free_port()
    server = serve("127.0.0.1", port, lambda: loop, {"ledger": ledger}, what="test")
    assert server is not None and serving()
    try:
        base = f"http://127.0.0.1:{port}"
        metrics = httpx.get(f"{base}/metrics")
        assert metrics.status_code == 200
        assert metrics.headers["content-type"].startswith("text/plain")
        assert "a6gw_build_info" in metrics.text and "process_cpu_seconds_total" in metrics.text
        assert httpx.get(f"{base}/livez").json() == {"live": True}
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 503
        assert ready.json()["not_ready"] == ["ledger"]
        state.clear()
        assert httpx.get(f"{base}/readyz").status_code == 200
    finally:
        server.stop()
    assert not serving()


def test_a_loop_that_does_not_answer_is_not_ready_nor_live() -> None:
    port = free_port()
    server = serve("127.0.0.1", port, lambda: None, {}, what="test")
    assert server is not None
    try:
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
        assert ready.status_code == 503 and ready.json()["not_ready"] == ["event-loop"]
        assert httpx.get(f"http://127.0.0.1:{port}/livez", timeout=15).status_code == 503
    finally:
        server.stop()


def test_a_busy_loop_times_out(loop: asyncio.AbstractEventLoop) -> None:
    port = free_port()
    server = serve("127.0.0.1", port, lambda: loop, {}, what="test")
    assert server is not None
    try:
        loop.call_soon_threadsafe(time.sleep, 4.0)  # a long synchronous step
        time.sleep(0.2)
        started = time.monotonic()
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
        assert ready.status_code == 503 and "did not answer" in ready.json()["checks"]["event-loop"]
        assert time.monotonic() - started < 3.9
        # the loop runs the late check once it is free
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0.1), loop).result(10)
    finally:
        server.stop()


def test_port_0_serves_nothing_and_a_taken_port_is_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert serve("127.0.0.1", 0, lambda: None, {}, what="test") is None
    port = free_port()
    first = serve("127.0.0.1", port, lambda: None, {}, what="test")
    try:
        with caplog.at_level(logging.ERROR, logger="a6gw.observe"):
            assert serve("127.0.0.1", port, lambda: None, {}, what="second") is None
        assert f"cannot serve metrics and health on 127.0.0.1:{port}" in caplog.text
    finally:
        assert first is not None
        first.stop()


def test_requests_are_counted_by_route_template_and_status() -> None:
    async def item(request: web.Request) -> web.Response:
        if request.match_info["id"] == "boom":
            raise web.HTTPConflict()
        return web.Response(text="ok")

    def build() -> web.Application:
        app = web.Application(middlewares=[observe_http.middleware("unit")])
        app.router.add_get("/v1/items/{id}", item)
        return app

    port = free_port()
    thread = ServerThread(build, "127.0.0.1", port, None).start()
    try:
        base = f"http://127.0.0.1:{port}"
        for path in ("/v1/items/1", "/v1/items/2", "/v1/items/boom", "/nowhere"):
            httpx.get(base + path)
    finally:
        thread.stop()

    def count(route: str, status: str) -> float:
        labels = {"server": "unit", "route": route, "method": "GET", "status": status}
        return m.REGISTRY.get_sample_value("a6gw_http_requests_total", labels) or 0.0

    assert count("/v1/items/{id}", "200") == 2
    assert count("/v1/items/{id}", "409") == 1
    assert count("unmatched", "404") == 1
    seconds = m.REGISTRY.get_sample_value(
        "a6gw_http_request_duration_seconds_count", {"server": "unit", "route": "/v1/items/{id}"}
    )
    assert seconds == 3
