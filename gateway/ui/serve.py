"""Serving the auditors' page: its packaged files, and ``a6gw ui``'s forwarder to the API.

The page (``gateway/ui/static``) is served in two places, with the same headers:

- by the auditors' API under ``/ui/``, unauthenticated (only those paths; see
  :func:`gateway.api.access.is_public`);
- by ``a6gw ui`` on the auditor's own machine (:func:`make_app`), so the code that checks
  the proofs is not the audited server's. That server also forwards the page's ``/v1/*``
  GET requests to the API, with the auditor's client certificate (mutual TLS) or a bearer
  token, and moves the answer back as it came: the page verifies every signature and hash
  itself, and talks to its own origin only.

Only the files found under the static folder when the server starts are served, each from
memory by its relative path: a name outside that set (``..``, a folder, a hidden file, a
file type not in :data:`TYPES`) is answered 404, so there is neither a path to traverse nor
a folder to list. Every answer carries :data:`HEADERS`: a Content Security Policy that
allows the page's own scripts, styles and requests and nothing else (no inline script, no
other origin, no framing), ``nosniff`` and no referrer.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import httpx
from aiohttp import web

from gateway.errors import ConfigError, GatewayError
from gateway.http.access_log import access_log
from gateway.http.problems import problem

__all__ = [
    "CSP",
    "HEADERS",
    "PREFIX",
    "TYPES",
    "PageFile",
    "Upstream",
    "add_page",
    "allowed_hosts",
    "client_context",
    "load_page",
    "make_app",
    "page_paths",
    "probe",
]

log = logging.getLogger("a6gw.ui")

#: where the page is served, on the API and on ``a6gw ui``
PREFIX: Final = "/ui"

#: The page's Content Security Policy (CSP Level 3): its own scripts, styles, images (and
#: data: images, for icons drawn in CSS) and requests only; no inline script or style, no
#: plugin, no <base>, no form submission, and no page may frame it.
CSP: Final = "; ".join(
    (
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    )
)

#: The headers of every answer of the page's servers (the files, the forwarded answers).
HEADERS: Final[Mapping[str, str]] = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}

#: The file types the page may have, and the Content-Type each is served with. JavaScript
#: is text/javascript (RFC 9239), which browsers require of ES modules under nosniff.
TYPES: Final[Mapping[str, str]] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/vnd.microsoft.icon",
    ".txt": "text/plain; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".woff2": "font/woff2",
}

INDEX: Final = "index.html"


@dataclass(frozen=True)
class PageFile:
    """One file of the page, as it is served."""

    body: bytes
    content_type: str
    etag: str  # a strong validator: the SHA-256 of the body (RFC 9110 §8.8.3)


def page_paths(root: Path) -> Iterator[tuple[str, Path]]:
    """The files of the page under ``root``, by their relative path (``/``-separated),
    sorted: regular files of a type in :data:`TYPES`, no hidden file or folder, no link."""
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_symlink() or not path.is_file() or path.suffix not in TYPES:
            continue
        if any(part.startswith(".") for part in rel.parts):
            continue
        yield rel.as_posix(), path


def load_page(root: Path) -> dict[str, PageFile]:
    """Every file of the page, read once (they are small and do not change while served).

    :raises ConfigError: (A6-CFG-002) when the page has no ``index.html``.
    """
    files = {}
    for rel, path in page_paths(root):
        body = path.read_bytes()
        digest = hashlib.sha256(body).hexdigest()
        files[rel] = PageFile(body, TYPES[path.suffix], f'"{digest}"')
    if INDEX not in files:
        raise ConfigError(f"the page's files are missing: no {root / INDEX}", code="A6-CFG-002")
    return files


def _page_problem(status: int, code: str, detail: str) -> web.Response:
    response = problem(status, code, detail)
    response.headers.update(HEADERS)
    return response


def add_page(app: web.Application, files: Mapping[str, PageFile]) -> None:
    """GET (and HEAD) ``/ui/<path>`` from ``files``; ``/ui`` redirects to ``/ui/``, whose
    answer is ``index.html``. An ``If-None-Match`` naming the file's ETag is answered 304."""

    async def serve(request: web.Request) -> web.Response:
        found = files.get(request.match_info["path"] or INDEX)
        if found is None:
            return _page_problem(404, "UI-NOT-FOUND", "no such file of the page")
        headers = {**HEADERS, "ETag": found.etag, "Cache-Control": "no-cache"}
        if found.etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=headers)
        return web.Response(
            body=found.body, headers={**headers, "Content-Type": found.content_type}
        )

    async def to_index(_request: web.Request) -> web.Response:
        return web.Response(status=308, headers={**HEADERS, "Location": f"{PREFIX}/"})

    app.router.add_get(PREFIX, to_index)
    app.router.add_get(PREFIX + "/{path:.*}", serve)


# -- a6gw ui: the page on the auditor's machine, and the forwarder ------------------------------

#: The request headers the forwarder passes on, and the answer headers it passes back.
REQUEST_HEADERS: Final = ("Accept", "Accept-Language", "Authorization")
ANSWER_HEADERS: Final = ("Content-Type", "Content-Disposition", "WWW-Authenticate")


@dataclass(frozen=True)
class Upstream:
    """The API the forwarder asks: its base URL (``https://host:port``), the TLS context
    (the API's CA, the auditor's client certificate if any), and the bearer token to add
    when the auditor gave one in a file (None: the page's own ``Authorization`` passes)."""

    url: str
    tls: ssl.SSLContext
    token: str | None = None
    timeout: float = 60.0

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, verify=self.tls, timeout=self.timeout)


def client_context(cacert: str | None, cert: str | None, key: str | None) -> ssl.SSLContext:
    """TLS towards the API: trust ``cacert`` (else the system's CAs) and present the client
    certificate ``cert`` with its ``key`` (``key`` None: the key is in ``cert``).

    :raises ConfigError: (A6-CFG-TLS) naming the file that cannot be loaded.
    """
    try:
        ctx = ssl.create_default_context(cafile=cacert)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load the API's CA {cacert}: {exc}", code="A6-CFG-TLS") from exc
    if cert is not None:
        try:
            ctx.load_cert_chain(cert, key)
        except (OSError, ssl.SSLError) as exc:
            pair = cert if key is None else f"{cert} with {key}"
            raise ConfigError(
                f"cannot load the client certificate {pair}: {exc}", code="A6-CFG-TLS"
            ) from exc
    return ctx


def _why(exc: httpx.HTTPError) -> str:
    """What went wrong in words: the innermost cause (the TLS alert, the refused connection)."""
    cause: BaseException = exc
    for _ in range(10):  # a chain is short; never follow a cycle
        inner = cause.__cause__ or cause.__context__
        if inner is None:
            break
        cause = inner
    return str(cause) or type(exc).__name__


def probe(upstream: Upstream, client_cert: bool) -> str:
    """Ask the API for its checkpoint once, before serving; returns what it answered.

    :raises GatewayError: (UI-UPSTREAM) when the API cannot be reached (connection, TLS,
        timeout), or refuses the auditor's certificate or token (401).
    """
    headers = {"Authorization": f"Bearer {upstream.token}"} if upstream.token else {}
    try:
        with httpx.Client(verify=upstream.tls, timeout=upstream.timeout) as http:
            r = http.get(f"{upstream.url}/v1/checkpoint", headers=headers)
    except httpx.HTTPError as exc:
        raise GatewayError(
            f"cannot reach the API at {upstream.url}: {_why(exc)}", code="UI-UPSTREAM"
        ) from exc
    if r.status_code == 401 and (client_cert or upstream.token):
        what = "client certificate (is its common name in api.clients?)" if client_cert else "token"
        raise GatewayError(
            f"the API at {upstream.url} does not accept this {what}: 401", code="UI-UPSTREAM"
        )
    return f"{r.status_code} {r.reason_phrase}"


def allowed_hosts(host: str, port: int) -> frozenset[str] | None:
    """The Host headers the local server answers (None: any, when it listens on every
    address). A page elsewhere that renames its own host to this address (DNS rebinding)
    sends its own name: it is refused, so it cannot use the auditor's credentials."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return frozenset({f"{host}:{port}"})
    if address.is_unspecified:
        return None
    names = {f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"}
    if address.is_loopback:
        names |= {f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"}
    return frozenset(names)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CLIENT: Final = web.AppKey("a6gw.ui.client", httpx.AsyncClient)


def make_app(
    files: Mapping[str, PageFile], upstream: Upstream, hosts: frozenset[str] | None
) -> web.Application:
    """``a6gw ui``'s server: the page under ``/ui/`` (``/`` redirects there) and ``/v1/*``
    forwarded to ``upstream`` (GET and HEAD only: the page reads)."""

    @web.middleware
    async def same_host(request: web.Request, handler: Handler) -> web.StreamResponse:
        if hosts is not None and request.host not in hosts:
            return _page_problem(421, "UI-HOST", f"this server does not answer {request.host}")
        return await handler(request)

    app = web.Application(middlewares=[access_log("a6gw.ui.access"), same_host])
    add_page(app, files)

    async def client(app: web.Application) -> AsyncIterator[None]:
        app[CLIENT] = upstream.client()
        yield
        await app[CLIENT].aclose()

    app.cleanup_ctx.append(client)

    async def forward(request: web.Request) -> web.Response:
        if request.method not in ("GET", "HEAD"):
            return _page_problem(405, "UI-METHOD", "the page's server forwards GET and HEAD only")
        headers = {h: request.headers[h] for h in REQUEST_HEADERS if h in request.headers}
        if upstream.token is not None:
            headers["Authorization"] = f"Bearer {upstream.token}"
        try:
            r = await request.app[CLIENT].request(request.method, request.raw_path, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("the API at %s cannot be reached: %s", upstream.url, _why(exc))
            return _page_problem(
                502, "UI-UPSTREAM", f"the API at {upstream.url} cannot be reached: {_why(exc)}"
            )
        back = {h: r.headers[h] for h in ANSWER_HEADERS if h in r.headers}
        back |= {**HEADERS, "Cache-Control": "no-store"}
        return web.Response(status=r.status_code, body=r.content, headers=back)

    async def to_page(_request: web.Request) -> web.Response:
        return web.Response(status=308, headers={**HEADERS, "Location": f"{PREFIX}/"})

    app.router.add_get("/", to_page)
    app.router.add_route("*", "/v1/{tail:.*}", forward)
    return app
