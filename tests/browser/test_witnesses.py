"""The Log view's witnesses in Chromium: the auditor pins witness keys and K with the form,
and the page checks the served checkpoint's cosignature/v1 lines with WebCrypto Ed25519.

The served checkpoint is the demo world's, cosigned here by witness keys made for the test
(the API answer is replaced on the way, as a gateway with a collector would serve it).
Ids and states are those gateway/ui/static/js/app.js lists."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from playwright.sync_api import Page, Route

from gateway.audit.cosignature import WitnessKey, add_cosignatures
from gateway.audit.note import Checkpoint
from tests.browser.conftest import Guarded
from tests.browser.world import World

pytestmark = pytest.mark.browser

TIME = 1_796_000_000
JP = WitnessKey.generate("witness.jp.example/a6gw")
MN = WitnessKey.generate("witness.mn.example/a6gw")


def state(page: Page, selector: str) -> str | None:
    return page.locator(selector).first.get_attribute("data-state")


def rows(page: Page) -> dict[str, str | None]:
    found = page.locator("[data-testid=witness-row]")
    return {
        str(found.nth(i).get_attribute("data-witness")): found.nth(i).get_attribute("data-state")
        for i in range(found.count())
    }


def served(world: World, *cosigners: WitnessKey, text: str | None = None) -> dict[str, Any]:
    """The world's /v1/checkpoint answer with cosignatures by ``cosigners`` (over ``text``,
    default the served checkpoint itself)."""
    answer: dict[str, Any] = world.get("/v1/checkpoint").json()
    body = text or answer["note"].split("\n\n")[0] + "\n"
    lines = [w.cosign(Checkpoint.from_text(body), TIME) for w in cosigners]
    return {**answer, "note": add_cosignatures(answer["note"], lines)}


def serve(g: Guarded, answer: dict[str, Any]) -> None:
    def fulfil(route: Route) -> None:
        route.fulfill(status=200, content_type="application/json", body=json.dumps(answer))

    g.page.route("**/v1/checkpoint", fulfil)


def pin(g: Guarded, keys: str, k: str) -> None:
    """Pin witnesses as the auditor does: paste the keys, set K, press Pin."""
    g.page.fill("#witness-keys", keys)
    g.page.fill("#witness-min", k)
    g.page.click("#witness-pin")
    g.page.wait_for_function("() => !document.querySelector('[data-state=checking]')")


def key_of(w: WitnessKey) -> str:
    c = w.cosigner()
    return f"{c.name}+{c.key_id.hex()}"


def test_two_pinned_witnesses_cosigned_the_checkpoint(guarded: Guarded, world: World) -> None:
    serve(guarded, served(world, JP, MN))
    page = guarded.open("#/log")
    assert state(page, "#witness-state") == "unpinned"
    pin(guarded, f"{JP.vkey()}\n{MN.vkey()}\n", "2")
    page.wait_for_selector("#witness-state[data-state=verified]")
    assert rows(page) == {key_of(JP): "verified", key_of(MN): "verified"}
    assert state(page, "#checkpoint-state") == "verified"  # the log's signature, apart
    stored = page.evaluate("localStorage.getItem('a6gw.witnesses')")
    assert json.loads(stored) == [JP.vkey(), MN.vkey()]
    assert page.evaluate("localStorage.getItem('a6gw.minWitnesses')") == "2"
    page.reload()  # what was pinned is kept
    guarded.settled()
    assert state(page, "#witness-state") == "verified"


def test_one_cosignature_of_two_required_is_not_enough(guarded: Guarded, world: World) -> None:
    serve(guarded, served(world, JP))
    page = guarded.open("#/log")
    pin(guarded, f"{JP.vkey()}\n{MN.vkey()}", "2")
    page.wait_for_selector("#witness-state[data-state=not-verified]")
    assert rows(page) == {key_of(JP): "verified", key_of(MN): "absent"}
    pin(guarded, f"{JP.vkey()}\n{MN.vkey()}", "1")
    page.wait_for_selector("#witness-state[data-state=verified]")


def test_a_cosignature_of_another_checkpoint_is_not_verified(
    guarded: Guarded, world: World
) -> None:
    answer: dict[str, Any] = world.get("/v1/checkpoint").json()
    older = f"{answer['origin']}\n47\n{base64.b64encode(world.root(47)).decode()}\n"
    stale = served(world, JP, text=older)
    good = MN.cosign(Checkpoint.from_text(answer["note"].split("\n\n")[0] + "\n"), TIME)
    serve(guarded, {**stale, "note": stale["note"] + good})
    page = guarded.open("#/log")
    pin(guarded, f"{JP.vkey()}\n{MN.vkey()}", "1")
    page.wait_for_selector("#witness-state[data-state=not-verified]")
    assert rows(page) == {key_of(JP): "not-verified", key_of(MN): "verified"}
    assert key_of(JP) in page.locator("#witness-state").inner_text()


def test_a_log_key_is_refused_as_a_witness_key(guarded: Guarded, world: World) -> None:
    page = guarded.open("#/log")
    pin(guarded, world.vkey, "1")
    assert page.locator("#witness-error").is_visible()
    assert "witness key" in page.locator("#witness-error").inner_text()
    assert page.evaluate("localStorage.getItem('a6gw.witnesses')") is None
    assert state(page, "#witness-state") == "unpinned"
    page.click("#witness-clear")
    assert state(page, "#witness-state") == "unpinned"
