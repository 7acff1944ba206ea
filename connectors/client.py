"""Deliver signed messages to one partner registry over mutual TLS, with retries.

Every request carries an RFC 9421 signature by the gateway's Ed25519 key over the method,
the target URI, the body's ``Content-Digest`` (RFC 9530), its type and its
``Idempotency-Key`` (the event id), so the partner applies a message at most once however
often it is retried. Retryable failures (:func:`connectors.policy.retryable`) are retried
with full-jitter backoff within a :class:`~connectors.policy.RetryBudget`; a per-partner
:class:`~connectors.policy.CircuitBreaker` stops calls to a partner that keeps failing.

httpx errors become :class:`~gateway.errors.RegistryError` here (``raise ... from exc``):

    REG-TIMEOUT     connect, read, write or pool timeout
    REG-CONNECT     the connection could not be made
    REG-TLS         the TLS handshake failed (certificate refused or not trusted)
    REG-RESET       the connection broke before an answer came
    REG-PROTOCOL    any other HTTP-level failure on our side (not retried)
    REG-HTTP-<nnn>  the partner answered with an error status
    REG-ANSWER      a success answer that is not the JSON expected
    REG-OPEN        the circuit breaker is open: nothing was sent
    REG-EXHAUSTED   the retry budget ran out; ``__cause__`` is the last failure
"""

from __future__ import annotations

import asyncio
import random
import secrets
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from connectors.httpsig import DEFAULT_COMPONENTS, GET_COMPONENTS, sign_request
from connectors.policy import Backoff, CircuitBreaker, RetryBudget, retryable
from gateway.errors import RegistryError

__all__ = ["Delivered", "PartnerClient"]


@dataclass(frozen=True)
class Delivered:
    """A message the partner took: its status, how many attempts it took, its JSON answer."""

    status: int
    attempts: int
    answer: Any


class _AttemptFailed(Exception):
    def __init__(
        self, error: RegistryError, status: int | None, kind: str, retry_after_s: float = 0.0
    ) -> None:
        super().__init__(str(error))
        self.error, self.status, self.kind = error, status, kind
        self.retry_after_s = retry_after_s

    @property
    def partner_failed(self) -> bool:
        """Does this count against the partner's health (the circuit breaker)?"""
        if self.kind == "http":
            return retryable(self.status, "http")
        return self.kind != "protocol"


def _ssl_cause(exc: BaseException, *, in_handshake: bool) -> ssl.SSLError | None:
    """The TLS error behind ``exc``. An EOF counts only during the handshake: the server
    refused it (a peer that aborts the handshake need not send an alert); after it, an
    EOF is a dropped connection."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        eof = isinstance(cur, ssl.SSLEOFError | ssl.SSLZeroReturnError)
        want = isinstance(cur, ssl.SSLWantReadError | ssl.SSLWantWriteError)  # not failures
        if isinstance(cur, ssl.SSLError) and not want and (in_handshake or not eof):
            return cur
        cur = cur.__cause__ or cur.__context__
    return None


def _transport_error(exc: httpx.HTTPError, what: str) -> _AttemptFailed:
    """Translate an httpx error into a coded failure and its kind (see ``retryable``)."""
    tls = _ssl_cause(exc, in_handshake=isinstance(exc, httpx.ConnectError))
    if isinstance(exc, httpx.TimeoutException):
        kind, code, tls = "timeout", "REG-TIMEOUT", None
    elif tls is not None:
        kind, code = "tls", "REG-TLS"
    elif isinstance(exc, httpx.ConnectError):
        kind, code = "connect", "REG-CONNECT"
    elif isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError):
        kind, code = "reset", "REG-RESET"
    else:
        kind, code = "protocol", "REG-PROTOCOL"
    detail = str(tls or exc) or type(exc).__name__
    error = RegistryError(f"{what}: {detail}", code=code)
    error.__cause__ = exc
    return _AttemptFailed(error, None, kind)


def _retry_after(response: httpx.Response) -> float:
    """Seconds from a ``Retry-After`` delay (RFC 9110 §10.2.3); dates are ignored."""
    raw = response.headers.get("Retry-After", "")
    return float(raw) if raw.isdigit() else 0.0


class PartnerClient:
    """One partner registry's HTTPS endpoint: signed, retried, guarded by a breaker.

    ``tls`` carries the trust anchor and the gateway's client certificate (see
    :func:`gateway.http.tls.client_tls`); httpx gets it as ``verify=tls`` only.
    """

    def __init__(
        self,
        partner_id: str,
        base_url: str,
        tls: ssl.SSLContext,
        *,
        key_id: str,
        private_key: Ed25519PrivateKey,
        timeout_s: float = 10.0,
        connect_timeout_s: float = 5.0,
        backoff: Backoff | None = None,
        budget: RetryBudget | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rnd: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], float] = time.time,
        nonce: Callable[[], str] = lambda: secrets.token_urlsafe(16),
        max_connections: int = 50,
        trust_env: bool = False,
    ) -> None:
        self.partner_id = partner_id
        self.key_id, self._key = key_id, private_key
        self.backoff = backoff or Backoff()
        self.budget = budget or RetryBudget()
        self.breaker = breaker or CircuitBreaker()
        self._sleep, self._rnd, self._clock = sleep, rnd, clock
        self._now, self._nonce = now, nonce
        # mutual TLS through the SSLContext only: httpx 0.28 drops cert= when verify= is a path
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            verify=tls,
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            headers={"User-Agent": "a6gw-connector/0.1"},
            trust_env=trust_env,
        )

    async def __aenter__(self) -> PartnerClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- one attempt --------------------------------------------------------------------

    async def _attempt(
        self,
        method: str,
        path: str,
        body: bytes,
        idempotency_key: str | None,
        params: Mapping[str, str] | None,
    ) -> httpx.Response:
        headers: dict[str, str] = {}
        components = GET_COMPONENTS
        if idempotency_key is not None:
            headers = {"Content-Type": "application/json", "Idempotency-Key": idempotency_key}
            components = DEFAULT_COMPONENTS
        request = self._http.build_request(
            method, path, content=body, headers=headers, params=params
        )
        what = f"{self.partner_id}: {method} {request.url.path}"
        request.headers.update(
            sign_request(
                method,
                str(request.url),  # exactly the URI sent, query included
                headers,
                body,
                key_id=self.key_id,
                private_key=self._key,
                created=int(self._now()),
                nonce=self._nonce(),  # fresh per attempt: the partner rejects replays
                components=components,
            )
        )
        try:
            response = await self._http.send(request)
        except httpx.HTTPError as exc:
            raise _transport_error(exc, what) from exc
        if 200 <= response.status_code < 300:
            return response
        try:
            problem = response.json()
            detail = f"{problem.get('code', '')} {problem.get('detail', '')}".strip()
        except (ValueError, AttributeError):
            detail = response.text[:200]
        status = response.status_code
        error = RegistryError(f"{what}: {status} {detail}", code=f"REG-HTTP-{status}")
        raise _AttemptFailed(error, status, "http", _retry_after(response))

    # -- retries ------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        idempotency_key: str | None = None,
        params: Mapping[str, str] | None = None,
    ) -> tuple[httpx.Response, int]:
        start = self._clock()
        attempts = 0
        last: RegistryError | None = None
        while True:
            if not self.breaker.allow():
                raise RegistryError(
                    f"{self.partner_id}: circuit open, {method} {path} not sent"
                    + (f" (last failure: {last})" if last else ""),
                    code="REG-OPEN",
                ) from last
            attempts += 1
            try:
                response = await self._attempt(method, path, body, idempotency_key, params)
            except _AttemptFailed as failed:
                if failed.partner_failed:
                    self.breaker.failure()
                else:  # it answered: alive, whatever it thought of the request
                    self.breaker.success()
                last = failed.error
                if not retryable(failed.status, failed.kind):
                    raise failed.error from failed.error.__cause__
                delay = self.backoff.delay(attempts - 1, self._rnd)
                delay = max(delay, min(failed.retry_after_s, self.backoff.cap_s))
                if not self.budget.allows(attempts, self._clock() - start, delay):
                    raise RegistryError(
                        f"{self.partner_id}: {method} {path} gave up after {attempts} "
                        f"attempts; last failure: {last}",
                        code="REG-EXHAUSTED",
                    ) from last
                await self._sleep(delay)
                continue
            self.breaker.success()
            return response, attempts

    async def deliver(self, path: str, body: bytes, idempotency_key: str) -> Delivered:
        """POST ``body`` (JSON) to ``path``; retried with the same ``Idempotency-Key``.

        :raises RegistryError: codes in the module docstring.
        """
        response, attempts = await self._send("POST", path, body, idempotency_key=idempotency_key)
        return Delivered(response.status_code, attempts, self._json(response, path))

    async def fetch_holdings(
        self, path: str = "/v1/holdings", *, limit: int = 500
    ) -> list[dict[str, Any]]:
        """Every row of the partner's paged holdings snapshot, following ``next`` cursors.

        :raises RegistryError: as :meth:`deliver`; REG-ANSWER for a page of the wrong shape.
        """
        rows: list[dict[str, Any]] = []
        after: str | None = None
        seen: set[str] = set()
        while True:
            params = {"limit": str(limit)} | ({"after": after} if after is not None else {})
            response, _ = await self._send("GET", path, params=params)
            page = self._json(response, path)
            if not isinstance(page, dict) or not isinstance(page.get("rows"), list):
                raise RegistryError(f"{self.partner_id}: {path}: not a page", code="REG-ANSWER")
            rows.extend(page["rows"])
            nxt = page.get("next")
            if nxt is None:
                return rows
            if not isinstance(nxt, str) or nxt in seen:
                raise RegistryError(
                    f"{self.partner_id}: {path}: bad or repeated cursor {nxt!r}",
                    code="REG-ANSWER",
                )
            seen.add(nxt)
            after = nxt

    def _json(self, response: httpx.Response, path: str) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise RegistryError(
                f"{self.partner_id}: {path}: the answer is not JSON", code="REG-ANSWER"
            ) from exc
