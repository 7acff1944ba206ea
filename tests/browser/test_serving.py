"""The page's files as the API serves them at /ui/ over TLS: without credentials, under the
Content Security Policy, each with its type and its SHA-256 as ETag, no folder listed and
no path leading out of the page's folder (raw request lines, not normalised by a client)."""

from __future__ import annotations

import hashlib
import http.client
import ssl
from urllib.parse import urlsplit

import httpx
import pytest

from gateway.ui import STATIC
from gateway.ui.serve import CSP, TYPES, page_paths
from tests.browser.world import World


def raw_get(world: World, path: str, method: str = "GET") -> tuple[int, bytes]:
    """``path`` sent exactly as given in the request line (no client normalises it)."""
    parts = urlsplit(world.url)
    ctx = ssl.create_default_context(cafile=str(world.pki / "ca.pem"))
    conn = http.client.HTTPSConnection(parts.hostname or "", parts.port, context=ctx, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        conn.endheaders()
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def anonymous(world: World) -> httpx.Client:
    """A client with no certificate and no token."""
    tls = ssl.create_default_context(cafile=str(world.pki / "ca.pem"))
    return httpx.Client(base_url=world.url, verify=tls, timeout=30)


def test_every_file_is_served_without_credentials_with_its_type_and_headers(world: World) -> None:
    files = list(page_paths(STATIC))
    assert any(rel == "index.html" for rel, _ in files)
    assert any(rel.endswith(".js") for rel, _ in files)
    with anonymous(world) as http:
        assert http.get("/v1/checkpoint").status_code == 401  # the data stays guarded
        for rel, path in files:
            r = http.get(f"/ui/{rel}")
            assert r.status_code == 200, rel
            assert r.content == path.read_bytes(), rel
            assert r.headers["content-type"] == TYPES[path.suffix], rel
            assert r.headers["content-security-policy"] == CSP
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["referrer-policy"] == "no-referrer"
            assert r.headers["etag"] == f'"{hashlib.sha256(path.read_bytes()).hexdigest()}"'
        js = http.get("/ui/js/app.js")
        assert js.headers["content-type"] == "text/javascript; charset=utf-8"
        again = http.get("/ui/js/app.js", headers={"If-None-Match": js.headers["etag"]})
        assert again.status_code == 304 and again.content == b""


def test_ui_redirects_to_the_index(world: World) -> None:
    with anonymous(world) as http:
        r = http.get("/ui")
        assert r.status_code == 308 and r.headers["location"] == "/ui/"
        index = http.get("/ui/")
        assert index.status_code == 200
        assert index.content == (STATIC / "index.html").read_bytes()
        assert http.head("/ui/").status_code == 200


def test_no_folder_is_listed(world: World) -> None:
    with anonymous(world) as http:
        for path in ("/ui/js", "/ui/js/", "/ui//", "/ui/./js/"):
            r = http.get(path)
            assert r.status_code == 404, path
            assert r.json()["code"] == "UI-NOT-FOUND"
            assert r.headers["content-security-policy"] == CSP


@pytest.mark.parametrize(
    "path",
    [
        "/ui/../ui/__init__.py",
        "/ui/%2e%2e/__init__.py",
        "/ui/%2E%2E/%2E%2E/pyproject.toml",
        "/ui/..%2f__init__.py",
        "/ui/js/..%2f..%2f__init__.py",
        "/ui/js/%2e%2e/%2e%2e/serve.py",
        "/ui/..%5c__init__.py",
        "/ui/%2fetc%2fpasswd",
        "/ui//etc/passwd",
        "/ui/....//__init__.py",
        "/ui/index.html%00.py",
        "/ui/.hidden",
        "/ui/js/app.js/..",
        "/ui/../v1/checkpoint",
        "/ui/..%2fv1/checkpoint",
        "/ui/%2e%2e/v1/checkpoint",
    ],
)
def test_no_path_leads_out_of_the_page(world: World, path: str) -> None:
    status, body = raw_get(world, path)
    assert status in (400, 401, 404), (path, status)
    for secret in (b"STATIC = Path", b"[project]", b"root:", b"def make_app", b'"note"'):
        assert secret not in body, path


def test_only_get_and_head_are_public(world: World) -> None:
    with anonymous(world) as http:
        r = http.post("/ui/", content=b"x")
        assert r.status_code == 401 and r.json()["code"] == "API-AUTH"
