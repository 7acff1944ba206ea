"""Client of the auditors' API, and ``a6gw verify --api``: trust nothing the server says.

The client pins the log key (``--vkey``), fetches the latest checkpoint and verifies its
signature; proves it consistent with the checkpoint it saw last time (``--since``); fetches
entries with inclusion proofs and checks them against the signed root; then saves the new
checkpoint for the next run. httpx errors become coded ``GatewayError``\\ s here.
"""

from __future__ import annotations

import base64
import random
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from gateway.api.models import (
    CheckpointOut,
    CommandAccepted,
    ConsistencyOut,
    DiscrepancyDetail,
    DiscrepancyList,
    DiscrepancyOut,
    EntryOut,
    InclusionOut,
    RunDetail,
    RunList,
    RunOut,
)
from gateway.audit.note import Checkpoint, Verifier, open_checkpoint
from gateway.audit.rfc6962 import leaf_hash
from gateway.audit.verify import verify_consistency, verify_inclusion
from gateway.errors import ApiProblem, GatewayError, VerificationError

__all__ = ["AuditClient", "ApiReport", "verify_api"]

M = TypeVar("M", bound=BaseModel)


class AuditClient:
    def __init__(
        self,
        base_url: str,
        tls: ssl.SSLContext,
        *,
        token: str | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        # mutual TLS through the SSLContext: httpx 0.28 drops cert= when verify= is a path
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), verify=tls, headers=headers, timeout=timeout_s
        )

    def close(self) -> None:
        self._http.close()

    def fetch(self, path: str, **params: Any) -> httpx.Response:
        """A 200 answer to GET (``None`` params left out).

        :raises GatewayError: API-HTTP on transport errors.
        :raises ApiProblem: (API-<status>) on error answers, with the problem's code.
        """
        try:
            response = self._http.get(
                path, params={k: v for k, v in params.items() if v is not None}
            )
        except httpx.HTTPError as exc:
            raise GatewayError(f"GET {path}: {exc}", code="API-HTTP") from exc
        if response.status_code != 200:
            detail, code = _problem_of(response)
            raise ApiProblem(
                f"GET {path}: {response.status_code} {detail}",
                status=response.status_code,
                problem_code=code,
                detail=detail,
            )
        return response

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        """The JSON of a 200 answer; raises as :meth:`fetch`."""
        data: dict[str, Any] = self.fetch(path, **params).json()
        return data

    def read(self, model: type[M], path: str, **params: Any) -> M:
        """A 200 answer read through its model (:mod:`gateway.api.models`); raises as
        :meth:`fetch`, and ``pydantic.ValidationError`` for an answer of another shape."""
        return model.model_validate_json(self.fetch(path, **params).content)

    def post(self, path: str, body: bytes) -> dict[str, Any]:
        """:raises GatewayError: API-HTTP on transport errors.
        :raises ApiProblem: on error answers, with the problem's code."""
        try:
            response = self._http.post(
                path, content=body, headers={"Content-Type": "application/json"}
            )
        except httpx.HTTPError as exc:
            raise GatewayError(f"POST {path}: {exc}", code="API-HTTP") from exc
        if response.status_code >= 300:
            detail, code = _problem_of(response)
            given = "" if code == f"API-{response.status_code}" else f"{code} "
            raise ApiProblem(
                f"POST {path}: {response.status_code} {given}{detail}",
                status=response.status_code,
                problem_code=code,
                detail=detail,
            )
        data: dict[str, Any] = response.json()
        return data

    # -- discrepancies and reconciliation runs --------------------------------------------

    def discrepancies(
        self,
        *,
        status: str | None = None,
        code: str | None = None,
        registry: str | None = None,
        found_by: str | None = None,
    ) -> list[DiscrepancyOut]:
        """The discrepancies matching every filter given, as they stand."""
        return self.read(
            DiscrepancyList,
            "/v1/discrepancies",
            status=status,
            code=code,
            registry=registry,
            found_by=found_by,
        ).items

    def discrepancy(self, discrepancy_id: str) -> DiscrepancyDetail:
        """The discrepancy and every entry about it."""
        return self.read(DiscrepancyDetail, f"/v1/discrepancies/{discrepancy_id}")

    def reconciliations(self) -> list[RunOut]:
        """The runs, newest first."""
        return self.read(RunList, "/v1/reconciliations").items

    def reconciliation(self, run_id: str) -> RunDetail:
        """The run, its report and its discrepancies."""
        return self.read(RunDetail, f"/v1/reconciliations/{run_id}")

    def send_command(self, discrepancy_id: str, body: bytes) -> CommandAccepted:
        """Post a signed command; what the API accepted once it is on the broker.

        :raises ApiProblem: when the API refuses it (e.g. 401 MSG-003, 404 REC-101).
        """
        answer = self.post(f"/v1/discrepancies/{discrepancy_id}/commands", body)
        return CommandAccepted.model_validate(answer)

    # -- reporting ---------------------------------------------------------------------------

    def summary(
        self, party: str, year: int | None = None, *, size: int | None = None
    ) -> dict[str, Any]:
        """The Party's structured summary per year (every year with data when ``year`` is
        None): rows, drill-down, reported rows, findings; at the published checkpoint of
        tree size ``size`` (default: the latest), which the answer names."""
        return self.get("/v1/summary", party=party, year=year, size=size)

    def aef(
        self,
        party: str,
        year: int,
        fmt: str = "json",
        *,
        version: str | None = None,
        date: str | None = None,
        size: int | None = None,
    ) -> bytes:
        """The AEF's bytes: the JSON document, a zip of the CSV files and their manifest, or
        the workbook; at the published checkpoint of tree size ``size`` (default: the latest).

        :raises ApiProblem: e.g. 409 A6-AEF-003 when the holdings do not roll forward, 404
            RPT-SIZE when no checkpoint was published at ``size``.
        """
        found = self.fetch(
            "/v1/aef", party=party, year=year, format=fmt, version=version, date=date, size=size
        )
        return found.content

    def find_entry(self, entry_id: str) -> EntryOut | None:
        """The entry with that id, or None while the log does not have it."""
        try:
            return self.read(EntryOut, f"/v1/entries/by-id/{entry_id}")
        except GatewayError as exc:
            if exc.code == "API-404":
                return None
            raise


@dataclass(frozen=True)
class ApiReport:
    checkpoint: Checkpoint
    note: str
    since_size: int | None
    entries_checked: int


def _open(note: str, verifiers: Sequence[Verifier]) -> Checkpoint:
    try:
        return open_checkpoint(note, verifiers)
    except VerificationError as exc:
        raise VerificationError(
            f"the checkpoint is not signed by the trusted log key: {exc.args[0]}"
        ) from exc


def verify_api(
    client: AuditClient,
    verifiers: Sequence[Verifier],
    *,
    since: str | None = None,
    sample: int = 16,
    entry_ids: Sequence[str] = (),
    say: Callable[[str], None] = lambda _m: None,
) -> ApiReport:
    """Check a live API against the pinned key; returns what it verified.

    :raises VerificationError: on any answer that does not verify.
    :raises GatewayError: when the API cannot be asked.
    """
    got = client.read(CheckpointOut, "/v1/checkpoint")
    cp = _open(got.note, verifiers)
    if (got.size, got.root, got.origin) != (cp.size, cp.root.hex(), cp.origin):
        raise VerificationError("the checkpoint's fields differ from its signed note")
    say(f"checkpoint: {cp.size} entries, root {cp.root.hex()} (signature verified)")
    since_size = None
    if since is not None:
        old = _open(since, verifiers)
        since_size = old.size
        if old.origin != cp.origin:
            raise VerificationError(f"origin {cp.origin!r} is not the earlier {old.origin!r}")
        if old.size > cp.size:
            raise VerificationError(f"the log shrank from {old.size} to {cp.size} entries")
        if old.size == cp.size and old.root != cp.root:
            raise VerificationError(f"two different roots for {cp.size} entries: a fork")
        if 0 < old.size < cp.size:
            cons = client.read(
                ConsistencyOut, "/v1/proofs/consistency", **{"from": old.size, "to": cp.size}
            )
            verify_consistency(
                size1=old.size,
                size2=cp.size,
                root1=old.root,
                root2=cp.root,
                proof=[base64.b64decode(h) for h in cons.hashes],
            )
        say(f"consistent with the earlier checkpoint of {old.size} entries")
    indices: list[int] = []
    if cp.size:
        rnd = random.Random()
        indices = sorted({0, cp.size - 1, *(rnd.randrange(cp.size) for _ in range(sample))})
    checked = 0
    for entry_id in entry_ids:
        found = client.read(EntryOut, f"/v1/entries/by-id/{entry_id}")
        indices.append(found.index)
    for index in indices:
        entry = client.read(EntryOut, f"/v1/entries/{index}")
        body = entry.body.encode("utf-8")
        proof = client.read(InclusionOut, "/v1/proofs/inclusion", index=index, size=cp.size)
        if leaf_hash(body).hex() != entry.leaf_hash or proof.leaf_hash != entry.leaf_hash:
            raise VerificationError(f"entry {index}: its leaf hash does not match its bytes")
        try:
            verify_inclusion(
                index=index,
                size=cp.size,
                leaf_hash=leaf_hash(body),
                proof=[base64.b64decode(h) for h in proof.hashes],
                root=cp.root,
            )
        except VerificationError as exc:
            raise VerificationError(f"entry {index}: {exc.args[0]}") from exc
        checked += 1
    say(f"{checked} entries proved included under the signed root")
    return ApiReport(cp, got.note, since_size, checked)


def save_checkpoint(path: Path, note: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(note, encoding="utf-8")


def _problem_of(response: httpx.Response) -> tuple[str, str]:
    """``(detail, code)`` of an error answer: its problem document's, or its text and
    ``API-<status>`` when it has none."""
    try:
        doc = response.json()
        detail, code = str(doc.get("detail", response.text)), str(doc.get("code", ""))
    except (ValueError, AttributeError):
        detail, code = response.text, ""
    return detail, code or f"API-{response.status_code}"
