"""The auditors' page in Chromium, served by the API at /ui/ over TLS on the demo world:
it loads with no console error and no request outside its origin, its Content Security
Policy is there and enforced, it fits a desktop and a phone screen without scrolling
sideways, axe-core finds no serious or critical violation, and the Japanese view has no
English label left."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from gateway.ui.serve import CSP
from tests.browser.axe import axe_script
from tests.browser.conftest import DESKTOP, PHONE, Guarded, new_page
from tests.browser.world import World

pytestmark = pytest.mark.browser

#: the views, each a hash route with what it needs to show something
VIEWS = {
    "log": "#/log",
    "search": "#/search?outcome=accepted",
    "entry": "#/entry/3",
    "custody": "#/custody?itmo=CA0001:MNG01:1-1000",
    "discrepancies": "#/discrepancies",
    "summary": "#/summary?party=MNG",
}


#: Every text on screen and every label of an element (aria-label, placeholder, title),
#: leaving out code, raw bytes, the language switch's own names and text marked as in
#: another language (``lang="en"``: what the API says in English, e.g. a finding's message).
SHOWN_TEXT = """() => {
    const out = [];
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walk.nextNode()) {
        const el = walk.currentNode.parentElement;
        const skip = 'pre, code, .raw, option, [lang]:not([lang|=ja])';
        if (el.closest(skip) || !el.checkVisibility()) continue;
        out.push(walk.currentNode.textContent.trim());
    }
    const labelled = document.querySelectorAll('[aria-label], [placeholder], [title]');
    for (const el of labelled) {
        for (const a of ['aria-label', 'placeholder', 'title']) {
            if (el.getAttribute(a)) out.push(el.getAttribute(a));
        }
    }
    return out.filter(Boolean);
}"""


def test_the_page_loads_with_no_console_error_and_no_outside_request(guarded: Guarded) -> None:
    page = guarded.open()
    assert page.evaluate("window.isSecureContext")
    assert page.title()
    assert page.locator("#checkpoint-state").get_attribute("data-state") == "verified"
    for name, route in VIEWS.items():
        guarded.open(route)
        assert page.locator("[data-testid=view-error]").count() == 0, name
    # guarded.check() (the fixture) then asserts no console error and no outside request


def test_the_csp_is_sent_and_enforced(guarded: Guarded, world: World) -> None:
    page = guarded.page
    response = page.goto(f"{world.url}/ui/")
    assert response is not None and response.ok
    headers = response.headers
    assert headers["content-security-policy"] == CSP
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    guarded.settled()
    ran = page.evaluate(
        """() => new Promise((resolve) => {
            const seen = [];
            document.addEventListener('securitypolicyviolation',
                (e) => { seen.push(e.violatedDirective); });
            const s = document.createElement('script');
            s.textContent = 'window.__injected = true';
            document.head.append(s);
            setTimeout(() => resolve({ran: window.__injected === true, seen}), 200);
        })"""
    )
    assert ran["ran"] is False
    assert any(d.startswith("script-src") for d in ran["seen"]), ran
    # The browser reports the refusal on the console: that one error is expected here.
    assert len(guarded.errors) == 1 and "Content Security Policy" in guarded.errors[0]
    guarded.errors.clear()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280x800", "390x844"])
def test_no_view_scrolls_sideways(
    browser: Browser, world: World, viewport: dict[str, int], screenshots: Path
) -> None:
    g = new_page(browser, world.url, vkey=world.vkey, viewport=viewport)
    try:
        for name, route in VIEWS.items():
            page = g.open(route)
            wide = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert wide <= 0, f"{name} at {viewport['width']}px scrolls {wide}px sideways"
            suffix = "" if viewport is DESKTOP else "-phone"
            page.screenshot(path=str(screenshots / f"{name}{suffix}.png"), full_page=True)
        g.check()
    finally:
        g.page.context.close()


def test_axe_finds_no_serious_or_critical_violation(browser: Browser, world: World) -> None:
    # axe.min.js is injected as a script element: the page's CSP would refuse it, so only
    # this context bypasses the CSP (the page itself is the same).
    g = new_page(browser, world.url, vkey=world.vkey, bypass_csp=True)
    try:
        found: dict[str, list[str]] = {}
        for name, route in VIEWS.items():
            page = g.open(route)
            page.add_script_tag(path=str(axe_script()))
            result: dict[str, Any] = page.evaluate(
                "axe.run(document, {resultTypes: ['violations']})"
            )
            for v in result["violations"]:
                if v["impact"] in ("serious", "critical"):
                    targets = [str(n["target"]) for n in v["nodes"]][:5]
                    found.setdefault(name, []).append(f"{v['id']} ({v['impact']}): {targets}")
        assert found == {}, found
        g.check()
    finally:
        g.page.context.close()


def test_the_japanese_view_has_no_english_label_left(browser: Browser, world: World) -> None:
    g = new_page(browser, world.url, vkey=world.vkey, locale="ja-JP")
    try:
        page = g.open()
        assert page.evaluate("document.documentElement.lang") == "ja"
        missing = page.evaluate("import('/ui/js/i18n.js').then((m) => m.missingKeys('ja'))")
        assert missing == [], f"labels without a Japanese text: {missing}"
        # Every English label that Japanese translates differently and that has a word in
        # it (not an identifier's pattern such as "dsc-…"): none may be on screen.
        english: list[str] = page.evaluate(
            """import('/ui/js/i18n.js').then((m) => Object.entries(m.DICTIONARIES.en)
                .filter(([k, v]) => m.DICTIONARIES.ja[k] !== v)
                .flatMap(([k, v]) => v.split(/\\{\\w+\\}/))
                .map((s) => s.trim()).filter((s) => /(?<![\\w-])[A-Za-z]{3,}(?![\\w-])/.test(s)))"""
        )
        assert english, "the English dictionary is empty"
        for name, route in VIEWS.items():
            g.open(route)
            shown: list[str] = page.evaluate(SHOWN_TEXT)
            left = sorted({s for s in shown for label in english if _has(s, label)})
            assert left == [], f"{name}: English labels in the Japanese view: {left}"
        g.check()
    finally:
        g.page.context.close()


def _has(text: str, label: str) -> bool:
    """Does ``text`` show ``label`` as words (not inside an identifier or a value)?"""
    return re.search(rf"(?<![\w-]){re.escape(label)}(?![\w-])", text) is not None


def test_the_page_on_the_api_reads_with_the_browsers_client_certificate(
    browser: Browser, world: World
) -> None:
    context = browser.new_context(
        ignore_https_errors=True,
        client_certificates=[
            {
                "origin": world.url,
                "certPath": str(world.pki / "auditor.pem"),
                "keyPath": str(world.pki / "auditor.key"),
            }
        ],
    )
    context.add_init_script(f"localStorage.setItem('a6gw.vkey', {world.vkey!r});")
    g = Guarded(context.new_page(), world.url)  # no token in this tab
    try:
        page = g.open("#/log")
        assert page.evaluate("sessionStorage.getItem('a6gw.token')") is None
        assert page.locator("#checkpoint-state").get_attribute("data-state") == "verified"
        g.check()
    finally:
        context.close()
