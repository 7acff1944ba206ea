"""What the auditors' page shows on the demo world, checked in Chromium: the pinned key
verifies the checkpoint and a wrong one does not; a unit's chain of custody with each step
verified; an entry whose bytes are altered on the way, or a consistency proof that does
not hold, shown as not verified and as a fork; Mongolia's planted summary discrepancy; and
a walk from search to an entry's proof with the keyboard alone.

The page's element ids and ``data-state`` values are those gateway/ui/static/js/app.js
lists."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route

from gateway.audit.note import LogKey
from gateway.audit.rfc6962 import leaf_hash
from gateway.core.catalogue import BY_CODE
from tests.browser.conftest import Guarded, new_page
from tests.browser.world import World

pytestmark = pytest.mark.browser

#: A unit the demo issued in Mongolia, first transferred to Japan and used there.
USED_UNITS = "CA0001:MNG01:1-1000"


def state(page: Page, selector: str) -> str | None:
    return page.locator(selector).first.get_attribute("data-state")


@pytest.fixture
def unpinned(browser: Browser, world: World) -> Iterator[Guarded]:
    """A page on the demo world's API with the token and no key pinned yet."""
    g = new_page(browser, world.url)
    try:
        yield g
        g.check()
    finally:
        g.page.context.close()


def pin(g: Guarded, vkey: str) -> None:
    """Pin ``vkey`` as the auditor does: paste it under the settings and press Pin."""
    page = g.page
    page.locator("#settings summary").click()
    page.fill("#vkey", vkey)
    page.click("#vkey-pin")
    g.settled()


def test_the_pinned_key_verifies_the_checkpoint(unpinned: Guarded, world: World) -> None:
    page = unpinned.open("#/log")
    assert state(page, "#checkpoint-state") == "unpinned"
    assert page.locator("#unpinned-warning").is_visible()
    pin(unpinned, world.vkey)
    unpinned.open("#/log")
    assert state(page, "#checkpoint-state") == "verified"
    assert page.locator("#unpinned-warning").count() == 0
    cp = world.get("/v1/checkpoint").json()
    assert page.locator("#checkpoint-size").inner_text().strip() == str(cp["size"])
    assert page.locator("#checkpoint-origin").inner_text().strip() == cp["origin"]
    assert world.root(int(cp["size"])).hex() in page.locator("#checkpoint-root").inner_text()


def test_a_wrong_key_does_not_verify_the_checkpoint(unpinned: Guarded, world: World) -> None:
    wrong = LogKey.generate(world.key.name).public_vkey()  # same name, another key
    unpinned.open("#/log")
    pin(unpinned, wrong)
    page = unpinned.open("#/log")
    assert state(page, "#checkpoint-state") == "not-verified"


def test_a_units_chain_of_custody_is_verified_step_by_step(guarded: Guarded) -> None:
    page = guarded.open(f"#/custody?itmo={USED_UNITS}")
    steps = page.locator("[data-testid=custody-step]")
    kinds = [steps.nth(i).get_attribute("data-step") for i in range(steps.count())]
    for kind in ("issuance", "first-transfer", "use"):
        assert kind in kinds, kinds
    assert kinds.index("issuance") < kinds.index("first-transfer") < kinds.index("use")
    states = [steps.nth(i).get_attribute("data-state") for i in range(steps.count())]
    assert states == ["verified"] * len(states), list(zip(kinds, states, strict=True))


def test_an_entry_verifies_and_altered_bytes_do_not(guarded: Guarded, world: World) -> None:
    index = 14  # Japan's use of the units
    page = guarded.open(f"#/entry/{index}")
    assert state(page, "#inclusion-state") == "verified"
    assert page.locator("#entry-bytes").inner_text().strip() == world.bodies[index].decode()

    served: dict[str, Any] = world.get(f"/v1/entries/{index}").json()
    altered = served["body"].replace('"quantity":"1000"', '"quantity":"1001"')
    assert altered != served["body"]

    def tamper(route: Route) -> None:
        route.fulfill(
            status=200,
            content_type="application/json",
            body=json.dumps({**served, "body": altered}),  # the served leaf hash left as it was
        )

    page.route(f"**/v1/entries/{index}", tamper)
    page.reload()
    guarded.settled()
    assert state(page, "#inclusion-state") == "not-verified"
    assert page.locator("#entry-bytes").inner_text().strip() == altered


def seen(world: World, size: int, root: bytes) -> str:
    """What the page keeps of the checkpoint it saw before (local storage a6gw.seen)."""
    origin = world.get("/v1/checkpoint").json()["origin"]
    return json.dumps({origin: {"size": str(size), "root": root.hex()}})


#: the tree size of the checkpoint the browser saw before, in the consistency tests
SEEN_SIZE = 47


@contextmanager
def remembering(browser: Browser, world: World, root: bytes) -> Iterator[Guarded]:
    """A page that saw the checkpoint (:data:`SEEN_SIZE`, ``root``) before; checked after."""
    assert 0 < SEEN_SIZE < len(world.bodies)
    g = new_page(browser, world.url, vkey=world.vkey)
    before = seen(world, SEEN_SIZE, root)
    g.page.context.add_init_script(f"localStorage.setItem('a6gw.seen', {before!r});")
    try:
        yield g
        g.check()
    finally:
        g.page.context.close()


def test_consistency_with_the_checkpoint_seen_before(browser: Browser, world: World) -> None:
    with remembering(browser, world, world.root(SEEN_SIZE)) as g:
        page = g.open("#/log")
        assert state(page, "#consistency-state") == "verified"


def test_a_rewritten_history_is_shown_as_a_fork(browser: Browser, world: World) -> None:
    # The browser saw a log whose entry 3 was other bytes: the API's history is not it.
    other = [*world.bodies[:3], b'{"rewritten":true}', *world.bodies[4:SEEN_SIZE]]
    forked = World(world.url, world.pki, world.key, world.entries, other).root(SEEN_SIZE)
    with remembering(browser, world, forked) as g:
        page = g.open("#/log")
        assert state(page, "#consistency-state") == "fork"


def test_a_consistency_proof_that_does_not_hold_is_a_fork(browser: Browser, world: World) -> None:
    def flipped(route: Route) -> None:
        proof: dict[str, Any] = world.get(
            "/v1/proofs/consistency", **{"from": SEEN_SIZE, "to": len(world.bodies)}
        ).json()
        first = bytearray(base64.b64decode(proof["hashes"][0]))
        first[0] ^= 1
        proof["hashes"][0] = base64.b64encode(bytes(first)).decode()
        route.fulfill(status=200, content_type="application/json", body=json.dumps(proof))

    with remembering(browser, world, world.root(SEEN_SIZE)) as g:
        g.page.route("**/v1/proofs/consistency*", flipped)
        page = g.open("#/log")
        assert state(page, "#consistency-state") == "fork"


def test_mongolias_planted_summary_discrepancy_is_shown(guarded: Guarded) -> None:
    page = guarded.open("#/summary?party=MNG")
    finding = page.locator("[data-testid=summary-finding][data-code=CTF-001]")
    assert finding.count() >= 1
    assert finding.first.get_attribute("data-row") in ("R7", "7")
    assert page.locator("#summary-chart svg, svg#summary-chart").count() >= 1


def test_the_summary_names_its_checkpoint_and_the_aef_is_fetched_at_it(
    guarded: Guarded, world: World
) -> None:
    at = world.get("/v1/summary", party="MNG").json()["checkpoint"]
    page = guarded.open("#/summary?party=MNG")
    assert str(at["size"]) in page.locator("#summary-checkpoint").inner_text()
    with page.expect_request("**/v1/aef?*") as asked:
        page.locator("#aef-download").click()
    assert f"size={at['size']}" in asked.value.url


def tab_to(page: Page, selector: str, most: int = 80) -> None:
    """Press Tab until the focused element matches ``selector``."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_an_entrys_codes_carry_the_catalogues_rule(guarded: Guarded, world: World) -> None:
    index, code = next(
        (i, e["results"][0]["code"])
        for i, e in enumerate(world.entries)
        if e.get("results") and e["results"][0]["code"] in BY_CODE
    )
    page = guarded.open(f"#/entry/{index}")
    result = page.locator(f"[data-testid=result][data-code={code}]").first
    assert result.locator("[data-testid=rule]").inner_text() == BY_CODE[code].rule


def test_search_entry_and_proof_with_the_keyboard_alone(guarded: Guarded, world: World) -> None:
    page = guarded.open("#/log")
    tab_to(page, "#nav-search")
    page.keyboard.press("Enter")
    page.wait_for_url("**/ui/#/search*")
    guarded.settled()
    tab_to(page, "#q-outcome")
    page.keyboard.type("accepted")
    page.keyboard.press("Enter")
    guarded.settled()
    page.wait_for_selector("[data-testid=search-row]")
    tab_to(page, "#search-results [data-testid=entry-link]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/ui/#/entry/*")
    # the URL changes before the entry's view replaces the search: wait for the entry's own
    # check to finish (settled() alone could see the search view, already settled)
    page.wait_for_selector("#inclusion-state:not([data-state=checking])")
    guarded.settled()
    assert state(page, "#inclusion-state") == "verified"
    # the exact bytes are reachable, and the proof as checked is shown beside them
    tab_to(page, "#entry-bytes")
    index = int(page.url.rsplit("/", 1)[1])
    leaf = page.locator("#entry-leaf-hash").inner_text().strip()
    assert leaf == leaf_hash(world.bodies[index]).hex()
    root = world.root(len(world.bodies)).hex()
    assert page.locator("#entry-root").inner_text().strip() == root
