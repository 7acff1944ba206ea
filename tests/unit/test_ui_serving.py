"""The edge logic of serving the auditors' page (gateway.ui.serve, gateway.ui.digests): which
files are the page, the Host names ``a6gw ui`` answers, the README's digests. The servers
themselves are tested over real TLS and in Chromium (tests/browser)."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from gateway.api.access import is_public
from gateway.errors import ConfigError
from gateway.ui import STATIC
from gateway.ui.digests import BEGIN, END, README, render, table
from gateway.ui.serve import TYPES, allowed_hosts, client_context, load_page, page_paths


def test_the_page_is_its_typed_files_without_hidden_ones_or_links(tmp_path: Path) -> None:
    (tmp_path / "js").mkdir()
    (tmp_path / ".git").mkdir()
    for name in ("index.html", "js/app.js", "notes.md", ".hidden.js", ".git/x.js", "a.py"):
        (tmp_path / name).write_text(name)
    (tmp_path / "link.js").symlink_to(tmp_path / "js" / "app.js")
    assert [rel for rel, _ in page_paths(tmp_path)] == ["index.html", "js/app.js"]
    files = load_page(tmp_path)
    assert files["js/app.js"].content_type == "text/javascript; charset=utf-8"
    assert files["index.html"].etag == f'"{hashlib.sha256(b"index.html").hexdigest()}"'


def test_a_page_without_its_index_is_refused(tmp_path: Path) -> None:
    (tmp_path / "app.js").write_text("")
    with pytest.raises(ConfigError, match="index.html") as info:
        load_page(tmp_path)
    assert info.value.code == "A6-CFG-002"


def test_every_packaged_file_of_the_page_is_served() -> None:
    on_disk = {
        p.relative_to(STATIC).as_posix()
        for p in STATIC.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(STATIC).parts)
    }
    served = {rel for rel, _ in page_paths(STATIC)}
    assert on_disk == served, f"file types not in gateway.ui.serve.TYPES: {on_disk - served}"
    assert set(load_page(STATIC)) == served
    assert all(p.suffix in TYPES for _, p in page_paths(STATIC))


def test_only_the_page_is_public() -> None:
    assert is_public("/ui") and is_public("/ui/") and is_public("/ui/js/app.js")
    for path in ("/", "/uix", "/ui-x/", "/v1/checkpoint", "/v1/ui/", "/UI/"):
        assert not is_public(path), path


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", 8088, {"127.0.0.1:8088", "localhost:8088", "[::1]:8088"}),
        ("::1", 9000, {"[::1]:9000", "localhost:9000", "127.0.0.1:9000"}),
        ("192.0.2.7", 8088, {"192.0.2.7:8088"}),
        ("auditor.example", 80, {"auditor.example:80"}),
        ("0.0.0.0", 8088, None),  # noqa: S104
        ("::", 8088, None),
    ],
)
def test_the_host_names_a6gw_ui_answers(host: str, port: int, expected: set[str] | None) -> None:
    got = allowed_hosts(host, port)
    assert (None if got is None else set(got)) == expected


def test_tls_files_that_cannot_be_loaded_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not PEM\n")
    with pytest.raises(ConfigError, match="the API's CA") as ca:
        client_context(str(bad), None, None)
    assert ca.value.code == "A6-CFG-TLS"
    with pytest.raises(ConfigError, match=f"client certificate {bad} with {bad}"):
        client_context(None, str(bad), str(bad))
    with pytest.raises(ConfigError, match="client certificate"):
        client_context(None, str(tmp_path / "missing.pem"), None)


def test_the_readme_publishes_the_digest_of_every_file() -> None:
    text = README.read_text(encoding="utf-8")
    assert render(text) == text, "run: python -m gateway.ui.digests"
    for rel, path in page_paths(STATIC):
        assert f"| `{rel}` | `{hashlib.sha256(path.read_bytes()).hexdigest()}` |" in text


def test_a_changed_file_makes_the_digests_stale(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html>")
    text = f"intro\n{BEGIN}\n{table(tmp_path)}\n{END}\nrest\n"
    assert render(text, tmp_path) == text
    (tmp_path / "index.html").write_text("<!doctype html><p>changed")
    changed = render(text, tmp_path)
    assert changed != text and changed.startswith("intro\n") and changed.endswith(f"{END}\nrest\n")
    with pytest.raises(ValueError, match="no lines"):
        render("no markers", tmp_path)


def test_the_forwarder_answers_502_when_the_api_cannot_be_reached(tmp_path: Path) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from gateway.ui.serve import Upstream, make_app
    from tests.ports import free_port

    (tmp_path / "index.html").write_text("<!doctype html>")
    upstream = Upstream(f"https://127.0.0.1:{free_port()}", client_context(None, None, None))

    async def ask() -> tuple[int, dict[str, str], int]:
        app = make_app(load_page(tmp_path), upstream, hosts=None)
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            down = await client.get("/v1/checkpoint")
            problem = await down.json(content_type=None)
            page = await client.get("/ui/")
            return down.status, problem, page.status

    status, problem, page = asyncio.run(ask())
    assert (status, problem["code"], page) == (502, "UI-UPSTREAM", 200)
    assert upstream.url in problem["detail"]
