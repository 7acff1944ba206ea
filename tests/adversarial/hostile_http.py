"""Hostile HTTP requests to the running ingress and API, and how their answers are judged.

Every answer must be a success or an RFC 9457 problem document carrying the gateway's code,
with a status below 500. A request the ingress took (202) became an input on
``a6.in.<registry>``: the caller then checks it is decided once, like any produced record.
"""

from __future__ import annotations

import json
import ssl
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx
from hypothesis import strategies as st

from connectors.httpsig import sign_request
from gateway.demo.world import World, signed_event
from tests.adversarial.hostile import Request, account, deep, drawn, hostile_bodies

REGISTRY = "IDN01"  # the HTTPS registry of the demo world (gateway.demo.https)
BIG = [str(2**63), str(2**64), str(10**30), "-1", "-9223372036854775809", "1e9", " 1", "٣"]
_text = st.one_of(
    st.text(max_size=40),
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from([*BIG, "\x00", "a\x00b", "%00", "../..", "CA0001:MNG01:1-" + "9" * 40]),
)


@dataclass
class Answers:
    """What came back: counts by status, and the requests answered without a code."""

    by_status: Counter[int] = field(default_factory=Counter)
    uncoded: list[str] = field(default_factory=list)
    taken: list[tuple[str, bytes]] = field(default_factory=list)  # (label, body) answered 202

    def judge(self, req: Request, status: int, content_type: str, body: bytes) -> None:
        self.by_status[status] += 1
        if status < 300:
            if status == 202 and req.path == "/v1/events":
                self.taken.append((req.what, req.body))
            return
        code = None
        if content_type.startswith("application/problem+json"):
            try:
                doc = json.loads(body)
                code = doc.get("code") if isinstance(doc, dict) else None
            except ValueError:
                code = None
        if status >= 500 or not isinstance(code, str) or not code:
            self.uncoded.append(f"{req.what} -> {status} {content_type or '-'}")


def ingress_requests(world: World, count: int, at: int, *, max_bytes: int) -> list[Request]:
    """Signed posts of hostile bodies, unsigned posts, and a few valid events."""

    def valid(i: int) -> bytes:
        eid = f"http-{at}-{i}"
        return signed_event(
            world.keys[REGISTRY], key_id=world.key_id(REGISTRY), source=REGISTRY,
            name="account.opened", event_id=eid, data=account(REGISTRY, f"AC-{eid}"),
        )  # fmt: skip

    fixed = [
        Request("valid event", "POST", "/v1/events", valid(0)),
        Request("body over max_message_bytes + 1 KiB", "POST", "/v1/events",
                b'{"id":"big","x":"' + b"x" * (max_bytes + 2048) + b'"}'),
        Request("signed body nested 1,000 deep", "POST", "/v1/events", deep(1000).encode()),
        Request("signed [ x 100,000", "POST", "/v1/events", b"[" * 100_000 + b"]" * 100_000),
        Request("signed id of 5,000 digits", "POST", "/v1/events", b'{"id":' + b"9" * 5000 + b"}"),
        Request("unsigned valid event", "POST", "/v1/events", valid(1), signed=False),
    ]  # fmt: skip
    rows = drawn(st.tuples(st.integers(0, 3), hostile_bodies), max(count - len(fixed), 0), at)
    out = list(fixed)
    seen = {r.body for r in out}
    for i, (kind, noise) in enumerate(rows, start=2):
        body = valid(i) if kind == 0 else noise
        if body in seen:
            continue
        seen.add(body)
        label = "valid event" if kind == 0 else "signed hostile bytes"
        out.append(Request(label, "POST", "/v1/events", body, signed=kind != 3))
    return out[:count]


def api_requests(count: int, at: int, *, max_bytes: int) -> list[Request]:
    """Reads with hostile path segments and parameters; commands with hostile bodies."""
    cmd = "/v1/discrepancies/dsc-x/commands"
    fixed = [
        Request("entry index 2^63", "GET", f"/v1/entries/{2**63}"),
        Request("search after=2^63", "GET", "/v1/search", params={"after": str(2**63)}),
        Request("search source with NUL", "GET", "/v1/search", params={"source": "a\x00b"}),
        Request("command body nested 1,000 deep", "POST", cmd, deep(1000).encode()),
        Request("command body of 5,000 digits", "POST", cmd, b"9" * 5000),
        Request("command body over the limit", "POST", cmd, b" " * (max_bytes + 2048)),
    ]
    routes = st.sampled_from(
        [
            ("/v1/entries/{}", ()),
            ("/v1/entries/by-id/{}", ()),
            ("/v1/discrepancies/{}", ()),
            ("/v1/reconciliations/{}", ()),
            ("/v1/search", ("after", "limit")),
            ("/v1/search", ("source", "outcome", "party", "itmo", "from", "to")),
            ("/v1/proofs/inclusion", ("index", "size")),
            ("/v1/proofs/consistency", ("from", "to")),
            ("/v1/custody", ("itmo",)),
            ("/v1/discrepancies", ("status", "code", "after")),
            ("/v1/summary", ("party", "year")),
            ("/v1/aef", ("party", "year", "format")),
        ]
    )
    rows = drawn(
        st.tuples(
            routes, _text, st.lists(_text, min_size=6, max_size=6), st.booleans(), hostile_bodies
        ),
        max(count - len(fixed), 0),
        at,
    )
    out = list(fixed)
    for (path, names), seg, values, post, body in rows:
        if post:
            out.append(Request("command with hostile body", "POST", cmd, body))
        elif "{}" in path:
            out.append(Request(f"GET {path}", "GET", path.format(quote(seg, safe=""))))
        else:
            params = dict(zip(names, values, strict=False))
            out.append(Request(f"GET {path} {sorted(params)}", "GET", path, params=params))
    return out[:count]


def send(base: str, tls: ssl.SSLContext, reqs: list[Request], world: World | None) -> Answers:
    """Send each request (signed as the registry when ``world`` is given and it asks to be)."""
    answers = Answers()
    with httpx.Client(verify=tls, timeout=30) as http:
        for req in reqs:
            headers = {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
            if world is not None and req.signed:
                headers |= sign_request(
                    req.method, base + req.path, headers, req.body,
                    key_id=world.key_id(REGISTRY), private_key=world.keys[REGISTRY],
                    created=int(time.time()), nonce=uuid.uuid4().hex,
                )  # fmt: skip
            try:
                r = http.request(
                    req.method, base + req.path, content=req.body or None,
                    params=req.params or None, headers=headers,
                )  # fmt: skip
            except httpx.HTTPError as exc:  # a dropped connection is no coded answer either
                answers.by_status[0] += 1
                answers.uncoded.append(f"{req.what} -> {type(exc).__name__}")
                continue
            answers.judge(req, r.status_code, r.headers.get("content-type", ""), r.content)
    return answers


def wait_serving(url: str, tls: ssl.SSLContext, timeout: float) -> None:
    """Until ``url`` answers at all (the server listens and its TLS works)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with httpx.Client(verify=tls, timeout=5) as http:
                http.get(url)
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
