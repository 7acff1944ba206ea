"""The browser tests' fixtures: the system Chromium driven by Playwright, the demo world's
API over TLS, and a page that fails its test on any request outside its origin or any
console error.

Chromium is Debian's ``chromium`` package (``/usr/lib/chromium/chromium``; ``$A6GW_CHROMIUM``
names another binary): Playwright cannot fetch its own browser here. A missing browser
fails the tests with what to install; it never skips them (CI installs it: ``.ci/run``).
Background networking, component updates and the other calls home are switched off, and
every request the page makes passes :class:`Guarded`'s route: one to another origin is
aborted and fails the test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Route, sync_playwright

from tests.browser.world import TOKEN, World, demo_api

KNOWN_CHROMIUM = ("/usr/lib/chromium/chromium", "/usr/lib/chromium-browser/chromium-browser")
#: Chromium without calls home: no background networking, component or field-trial updates,
#: sync, translation, default apps or first-run pings.
CHROMIUM_ARGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
    "--no-first-run",
    "--no-default-browser-check",
    "--metrics-recording-only",
)
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def chromium() -> str:
    """The Chromium binary to drive (see the module); fails the test when there is none."""
    named = os.environ.get("A6GW_CHROMIUM")
    candidates = [named] if named else [*KNOWN_CHROMIUM, shutil.which("chromium")]
    for path in candidates:
        if path and os.access(path, os.X_OK):
            return path
    pytest.fail(
        "no Chromium for the browser tests: install Debian's chromium package "
        "(apt-get install chromium; .ci/run does) or set A6GW_CHROMIUM to the binary"
    )


# Module-scoped, not session-scoped: Playwright's sync API keeps an asyncio loop running in
# the main thread while it is started, and the tests after these (asyncio.run) need none.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright, world: World) -> Iterator[Browser]:
    """Chromium, closed before the demo world's API stops (its connections with it)."""
    b = playwright.chromium.launch(executable_path=chromium(), headless=True, args=CHROMIUM_ARGS)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with demo_api(tmp_path_factory.mktemp("browser-world")) as w:
        yield w


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the views' screenshots go: ``$A6GW_SCREENSHOTS`` (e.g. docs/ui/screenshots),
    else a temporary folder."""
    named = os.environ.get("A6GW_SCREENSHOTS")
    where = Path(named) if named else tmp_path_factory.mktemp("screenshots")
    where.mkdir(parents=True, exist_ok=True)
    return where


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class Guarded:
    """A page whose every request is checked to stay on ``origin``, and whose console
    errors and uncaught exceptions are collected (:meth:`check` asserts there are none)."""

    page: Page
    origin: str
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.route("**/*", self._route)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

    def _route(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or origin_of(url) == self.origin:
            route.fallback()
        else:
            self.outside.append(url)
            route.abort()

    def _console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            self.errors.append(msg.text)

    def open(self, view: str = "#/log") -> Page:
        """Go to the page's ``view`` (a hash route) and wait until it has rendered."""
        self.page.goto(f"{self.origin}/ui/{view}")
        self.settled()
        return self.page

    def settled(self) -> None:
        """Wait until the view is rendered and no check is still running."""
        self.page.wait_for_selector("#view[aria-busy='false'], #view:not([aria-busy])")
        self.page.wait_for_function("() => !document.querySelector('[data-state=checking]')")

    def check(self) -> None:
        assert self.outside == [], f"requests outside {self.origin}: {self.outside}"
        assert self.errors == [], f"console errors: {self.errors}"


def new_page(
    browser: Browser,
    origin: str,
    *,
    token: str | None = TOKEN,
    vkey: str | None = None,
    locale: str = "en-GB",
    viewport: dict[str, int] | None = None,
    bypass_csp: bool = False,
) -> Guarded:
    """A fresh browser context (nothing stored) on ``origin``, with the token in session
    storage and ``vkey`` pinned in local storage when given, as the page keeps them."""
    context = browser.new_context(
        locale=locale,
        viewport=viewport or DESKTOP,  # type: ignore[arg-type]
        ignore_https_errors=True,  # the test PKI's server certificate (loopback only)
        service_workers="block",
        bypass_csp=bypass_csp,
    )
    setup = []
    if token is not None:
        setup.append(f"sessionStorage.setItem('a6gw.token', {token!r});")
    if vkey is not None:
        setup.append(f"localStorage.setItem('a6gw.vkey', {vkey!r});")
    if setup:
        # Runs before the page's own scripts, once per document (as what the auditor saved).
        context.add_init_script(
            "if (!sessionStorage.getItem('a6gw.test.init')) {"
            " sessionStorage.setItem('a6gw.test.init', '1');" + "".join(setup) + "}"
        )
    return Guarded(context.new_page(), origin)


@pytest.fixture
def guarded(browser: Browser, world: World) -> Iterator[Guarded]:
    """A page on the demo world's API with the token, the log key pinned; checked after."""
    g = new_page(browser, world.url, vkey=world.vkey)
    try:
        yield g
        g.check()
    finally:
        g.page.context.close()
