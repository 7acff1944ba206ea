"""Every operational code the gateway gives, in one documented scheme (``docs/codes.md``).

Two kinds of codes leave the gateway. The *check codes* of :mod:`gateway.core.catalogue`
(MSG-001, BLK-003, A6-004, GWF-001, ...) judge an input and are recorded in the audit log;
they are listed there and never change. The *operational codes* below say what went wrong
around the inputs: a file, a store, the broker, a partner, a request to the API. Each is
``FAMILY-DETAIL``: the family names the part of the gateway that gives it (:data:`FAMILIES`),
and most families are carried by one class of :mod:`gateway.errors`. A code never changes
meaning once released; none has been renamed, so there is no alias table yet. Should one be
renamed, :data:`ALIASES` maps the old code to the new and :func:`canonical` accepts both.

``python -m gateway.codes`` writes ``docs/codes.md`` from this module; a unit test checks
that the page is current and that every code the source gives is listed here.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from gateway import errors as e

__all__ = ["ALIASES", "CODES", "FAMILIES", "Code", "Family", "canonical", "render"]


@dataclass(frozen=True)
class Family:
    prefix: str
    what: str


@dataclass(frozen=True)
class Code:
    code: str  # ``<nnn>`` stands for an HTTP status
    meaning: str
    error: type[e.GatewayError] | None = None  # None: not an exception (an answer, a finding)
    http: int | None = None  # the status of the HTTP answer that carries it, if one does


FAMILIES: tuple[Family, ...] = (
    Family("A6-GW", "any error of the gateway without a code of its own"),
    Family("A6-CFG", "the configuration, trust, key, TLS and PKI files"),
    Family("A6-AEF", "an AEF export refused (`a6gw aef export`, `GET /v1/aef`)"),
    Family("A6-ALERT", "alerts: one ERROR log line and one counter each (`gateway.alerts`)"),
    Family("API", "the auditors' API: its answers, and its client (`a6gw verify --api`)"),
    Family("AUD", "the audit log: stores, proofs, checkpoints, search, export"),
    Family("CTF", "CTF-1xx: a structured summary cannot be computed (CTF-00x are checks)"),
    Family("DEMO", "`a6gw demo` did not see what it waited for"),
    Family("DLV", "a discrepancy found on delivery (recorded in the log)"),
    Family("INGRESS", "the HTTPS ingress cannot take a request now"),
    Family("KAFKA", "the Kafka broker: fetching, running and administering it, publishing"),
    Family(
        "MSG", "MSG-000 only: a placeholder for an entry without results (the others are checks)"
    ),
    Family("PG", "the local PostgreSQL server the gateway runs for its audit store"),
    Family(
        "REC",
        "reconciliation findings (REC-00x) and refused discrepancy commands (REC-10x), "
        "recorded in the log; `a6gw discrepancy` reports a refusal as `CommandRefused`",
    ),
    Family("RECON", "a reconciliation run cannot get its inputs"),
    Family("REG", "partner registries: the connectors, the HTTPS ingress, the simulator"),
    Family("RPT", "a report at a checkpoint (`a6gw summary`, `a6gw aef export`, their routes)"),
    Family("WORKER", "the worker process and the records it re-reads"),
    Family("WITNESS", "`a6gw witness serve` refuses to cosign (code in the `A6GW-Code` header)"),
    Family("UI", "the auditors' page: its files (`/ui/` on the API) and `a6gw ui`'s forwarder"),
    Family("WIT", "a discrepancy found by the witness collector (recorded in the log)"),
)

_CFG = e.ConfigError
_AUD = e.AuditError
_KAFKA = e.BrokerError
_REG = e.RegistryError
_WORKER = e.WorkerError
_GW = e.GatewayError

CODES: tuple[Code, ...] = (
    Code("A6-GW-000", "an error without a code of its own", _GW),
    # -- files ----------------------------------------------------------------------------
    Code("A6-CFG-001", "the configuration or trust file is invalid (e.g. an unknown role)", _CFG),
    Code("A6-CFG-002", "a file the config names cannot be read (config, key, password)", _CFG),
    Code("A6-CFG-003", "a file is not valid YAML, or Kafka credentials are not text", _CFG),
    Code("A6-CFG-004", "the config does not match its model (each problem listed)", _CFG),
    Code("A6-CFG-005", "the demo scenario cannot be read", _CFG),
    Code("A6-CFG-006", "the MAC key cannot be read, or its file mode is not 0600", _CFG),
    Code("A6-CFG-PKI", "the local CA cannot be loaded", _CFG),
    Code("A6-CFG-TLS", "TLS certificate, key or CA files cannot be loaded", _CFG),
    Code("A6-CFG-TRUST", "the trust file names an unknown principal, or a bad public key"),
    Code("A6-CFG-KEY", "a key is invalid, readable by others, or not the one the trust file lists"),
    Code("A6-CFG-EXPIRY", "a certificate or trusted key expired, or a certificate expires soon"),
    Code("A6-CFG-STORE", "a file store or the data folder cannot be opened read-only or created"),
    Code("A6-CFG-ONLINE", "`config check --online`: Kafka or PostgreSQL refused, or no topic"),
    Code("A6-CFG-CHECK", "the config check found problems: the process does not start", _CFG),
    # -- AEF ------------------------------------------------------------------------------
    Code("A6-AEF-000", "an AEF export refused", e.AefError),
    Code("A6-AEF-001", "a required AEF value is missing", e.AefError, 409),
    Code("A6-AEF-002", "a value outside its controlled vocabulary", e.AefError, 409),
    Code("A6-AEF-003", "the holdings do not roll forward from the previous year", e.AefError, 409),
    Code("A6-AEF-004", "the submission's version, date, year or Party is invalid", e.AefError, 400),
    Code(
        "A6-AEF-005", "the log contradicts itself (e.g. an unknown authorization)", e.AefError, 409
    ),
    Code("A6-AEF-006", "a value the AEF or its file format cannot carry", e.AefError, 409),
    # -- alerts (gateway.alerts.ALERTS says what each means) ------------------------------
    Code("A6-ALERT-001", "a gateway fault: a parser or pure step raised on one input"),
    Code("A6-ALERT-002", "an input was quarantined: the process died on it every time"),
    Code("A6-ALERT-003", "a record on an internal topic failed its MAC and was dead-lettered"),
    Code("A6-ALERT-004", "a client exceeded its refusal budget at the ingress (429)"),
    Code("A6-ALERT-005", "an edge (broker, store, network) keeps failing; the step is retried"),
    Code("A6-ALERT-006", "a witness refused a checkpoint as a fork: two histories may exist"),
    Code("A6-ALERT-007", "a witness refused the gateway's request, or its cosignature is invalid"),
    # -- the auditors' API ------------------------------------------------------------------
    Code("API-AUTH", "no valid client certificate or bearer token", None, 401),
    Code("API-ROLE", "the client's role may not post commands (only an operator may)", None, 403),
    Code("API-SCOPE", "an entry, discrepancy, run or Party outside the client's Party", _GW, 403),
    Code("API-REQUEST", "a malformed request: a missing or bad parameter, a NUL", _AUD, 400),
    Code("API-PARTY", "no such Party in the gateway's config", _AUD, 404),
    Code("API-NOT-FOUND", "no such route", None, 404),
    Code("API-METHOD", "the route does not take that method", None, 405),
    Code("API-READONLY", "commands are not accepted: the API has no Kafka producer", _GW, 503),
    Code("API-PUBLISH", "the broker cannot be reached or did not take the command", _GW, 503),
    Code("API-HTTP", "the client could not ask the API (connection, TLS, timeout)", _GW),
    Code("API-<nnn>", "the client got an error answer; it carries the answer's code", e.ApiProblem),
    # -- the audit log ------------------------------------------------------------------------
    Code("AUD-001", "the audit log, a proof, a checkpoint or a bundle is malformed", _AUD),
    Code("AUD-VERIFY", "a proof, a root or a signature does not verify", e.VerificationError),
    Code("AUD-STORE", "the audit store failed or cannot be opened", _AUD),
    Code("AUD-ENTRY", "an entry to append contains a newline", _AUD),
    Code("AUD-NOT-FOUND", "no such entry, tree size, checkpoint or run", _AUD, 404),
    Code("AUD-INDEX", "an entry read from the store has no leaf index", _AUD),
    Code("AUD-QUERY", "a search without a criterion or with an unknown one", _AUD, 400),
    Code("AUD-RANGE", "a tree size or range beyond the log or its checkpoint", _AUD, 400),
    Code("AUD-CHECKPOINT", "a checkpoint is not signed by the log's keys", _AUD),
    Code("AUD-BEHIND", "the store is behind the published checkpoint", _AUD),
    Code("AUD-FORK", "the store does not hold the tree of the published checkpoint", _AUD),
    Code("AUD-VERSION", "a store or file was written by a newer release", _AUD),
    Code("AUD-RESTORE", "`a6gw audit restore` cannot write into the store it was given", _AUD),
    Code("AUD-FENCED", "another sequencer took over the store", _AUD),
    Code("AUD-SIGNER", "a decision's signer had no key the log trusted", e.VerificationError),
    # -- structured summary -------------------------------------------------------------------
    Code("CTF-101", "the Party has no NDC period in the config", _GW, 409),
    Code("CTF-102", "a year outside the Party's NDC period", _GW, 400),
    Code("CTF-103", "a recorded row or figure cannot be read", _GW, 409),
    # -- reports at a checkpoint ----------------------------------------------------------------
    Code("RPT-SIZE", "no published checkpoint has that tree size (`--size`, `?size=`)", _GW, 404),
    Code("RPT-SETTINGS", "no settings for the Party: none in the log, no config", _GW, 409),
    Code("RPT-LOG", "a party-settings entry cannot be read, or its id is not its own", _GW, 409),
    Code("RPT-BUNDLE", "a bundle that does not verify, or a range bundle, for a report", _GW),
    # -- the demo -------------------------------------------------------------------------------
    Code("DEMO-DELIVERY", "not every message reached the HTTPS partner", _WORKER),
    Code("DEMO-LOG", "a planted registry or the operator did not see its log in time", _GW),
    Code("DEMO-SIGNATURE", "a gateway message with a bad signature reached a partner", _GW),
    Code("DEMO-TIMEOUT", "an expected message or audit entry did not come in time", _GW),
    # -- discrepancies (recorded in the audit log) ----------------------------------------------
    Code("DLV-001", "a message could not be delivered to a partner registry"),
    Code("WIT-001", "a witness refused a checkpoint as a fork (tlog-witness 422)"),
    Code("MSG-000", "no result code: the entry a discrepancy step reads has no results"),
    Code("REC-001", "reconciliation: a unit block differs (in general)"),
    Code("REC-002", "reconciliation: held here, missing at the registry"),
    Code("REC-003", "reconciliation: held at the registry, unknown here"),
    Code("REC-004", "reconciliation: the holding account differs"),
    Code("REC-005", "reconciliation: the block's attributes differ"),
    Code("REC-006", "reconciliation: a unit is held twice"),
    Code("REC-101", "a command on a discrepancy the log does not have", None, 404),
    Code("REC-102", "a command the discrepancy's status does not allow"),
    Code("REC-103", "a resolution without its note, or by hand without the correction"),
    # -- the ingress ---------------------------------------------------------------------------
    Code("INGRESS-BROKER", "the ingress cannot record the request or its refusal now", None, 503),
    Code("INGRESS-STORE", "the ingress's nonce store failed", _GW, 503),
    # -- Kafka ---------------------------------------------------------------------------------
    Code("KAFKA-001", "the local Kafka broker failed", _KAFKA),
    Code("KAFKA-CONFIG", "the broker's port or settings are invalid", _KAFKA),
    Code("KAFKA-FETCH", "the broker's jars cannot be fetched (Maven, the jar cache)", _KAFKA),
    Code("KAFKA-FORMAT", "the broker's storage cannot be formatted", _KAFKA),
    Code("KAFKA-START", "the broker cannot start (a port in use, no java)", _KAFKA),
    Code("KAFKA-STOP", "the broker cannot be stopped", _KAFKA),
    Code("KAFKA-ADMIN", "creating or describing topics failed", _KAFKA),
    Code("KAFKA-TOPIC", "a topic plan is invalid (partitions, unknown topics, configs)", _KAFKA),
    Code("KAFKA-ACL", "provisioning users or ACLs failed or was refused", _KAFKA),
    Code("KAFKA-READ", "a topic cannot be read back (`a6gw audit restore`)", _KAFKA),
    Code("KAFKA-PUBLISH", "a discrepancy command cannot be published", _GW),
    # -- PostgreSQL ------------------------------------------------------------------------------
    Code("PG-BIN", "the PostgreSQL server binaries are not found", _AUD),
    Code("PG-CONFIG", "the local PostgreSQL's port, socket path or settings are invalid", _AUD),
    Code("PG-DB", "creating the database or its role failed", _AUD),
    Code("PG-INIT", "initdb or configuring the data directory failed", _AUD),
    Code("PG-START", "PostgreSQL cannot start (e.g. its port is in use)", _AUD),
    Code("PG-STOP", "PostgreSQL cannot be stopped", _AUD),
    Code("PG-USER", "no user to run PostgreSQL as (it cannot run as root)", _AUD),
    # -- reconciliation ----------------------------------------------------------------------------
    Code(
        "RECON-001",
        "a reconciliation run could not obtain or use a snapshot",
        e.ReconciliationError,
    ),
    Code("RECON-PAGES", "a snapshot's pages announce different page counts", e.ReconciliationError),
    Code("RECON-SNAPSHOT", "a registry did not send its snapshot in time", e.ReconciliationError),
    # -- partner registries: the connectors' client ---------------------------------------------
    Code("REG-001", "a partner registry failed", _REG),
    Code("REG-TIMEOUT", "connect, read, write or pool timeout", _REG),
    Code("REG-CONNECT", "the connection could not be made", _REG),
    Code("REG-TLS", "the TLS handshake failed (certificate refused or not trusted)", _REG),
    Code("REG-RESET", "the connection broke before an answer came", _REG),
    Code("REG-PROTOCOL", "any other HTTP-level failure on our side (not retried)", _REG),
    Code("REG-HTTP-<nnn>", "the partner answered with an error status", _REG),
    Code("REG-ANSWER", "a success answer that is not the JSON expected", _REG),
    Code("REG-OPEN", "the circuit breaker is open: nothing was sent", _REG),
    Code("REG-EXHAUSTED", "the retry budget ran out", _REG),
    # -- partner registries: HTTP message signatures (the ingress answers them with 401) -------
    Code("REG-SIG-MISSING", "no Signature-Input / Signature (or none with our label)", _REG, 401),
    Code("REG-SIG-MALFORMED", "the signature fields are not of the expected shape", _REG, 401),
    Code("REG-SIG-COVERAGE", "a required component is not covered", _REG, 401),
    Code("REG-SIG-ALG", "alg is absent or not ed25519", _REG, 401),
    Code("REG-SIG-KEY", "the keyid is unknown", _REG, 401),
    Code("REG-DIGEST", "Content-Digest is missing or does not match the body", _REG, 401),
    Code("REG-SIG-STALE", "created is too old or too far ahead, or expires passed", _REG, 401),
    Code("REG-SIG-COMPONENT", "a covered component has no value in the message", _REG, 401),
    Code("REG-SIG-INVALID", "the Ed25519 signature does not verify", _REG, 401),
    Code("REG-REPLAY", "the nonce was already used with that key id", _REG, 401),
    Code("REG-IDENTITY", "the client certificate maps to no HTTPS registry", None, 403),
    Code("REG-RATE", "too many refused requests from one registry (on record)", None, 429),
    # -- partner registries: the simulator's answers --------------------------------------------
    Code("REG-SIM-UNAVAILABLE", "the simulator was told to fail (fault injection)", None, 503),
    Code("REG-SIM-MESSAGE", "the body is not an a6gw envelope", None, 400),
    Code("REG-SIM-IDEMPOTENCY", "the idempotency key was used with another body", None, 422),
    Code("REG-SIM-QUERY", "after and limit must be integers", None, 400),
    Code("REG-SIM-CALLER", "this client certificate may not call", None, 403),
    # -- the worker ----------------------------------------------------------------------------
    Code("WORKER-001", "the worker process or its consumer failed", _WORKER),
    Code("WORKER-EXIT", "the worker process exited", _WORKER),
    Code("WORKER-CHECKPOINT", "no checkpoint could be asked for or was published in time", _WORKER),
    Code("WORKER-GAP", "records the worker must re-read are no longer on the topic", _WORKER),
    Code("WORKER-MAC", "a table value does not carry the MAC of a gateway process", _WORKER),
    Code("WORKER-READ", "a topic was not read to its end in time", _WORKER),
    Code("WORKER-REPLAY", "a dead-lettered record cannot be replayed", _WORKER),
    Code("WORKER-VERSION", "a changelog record was written by a newer release", _WORKER),
    # -- the witness (tlog-witness statuses; the code goes in the A6GW-Code header) ------------
    Code("WITNESS-REQUEST", "the add-checkpoint body or its checkpoint is malformed", None, 400),
    Code("WITNESS-ORIGIN", "the witness does not know the checkpoint's log origin", None, 404),
    Code("WITNESS-SIGNATURE", "no valid signature by a key trusted for the origin", None, 403),
    Code("WITNESS-SIZE", "the old size is larger than the checkpoint's size", None, 400),
    Code("WITNESS-CONFLICT", "the old size is not the latest size cosigned", None, 409),
    Code(
        "WITNESS-PROOF", "the consistency proof fails, or the same size has another root", None, 422
    ),
    # -- the auditors' page (gateway.ui.serve) ---------------------------------------------
    Code("UI-NOT-FOUND", "no such file of the page", None, 404),
    Code(
        "UI-HOST", "`a6gw ui` does not answer that Host (only the address it listens on)", None, 421
    ),
    Code("UI-METHOD", "`a6gw ui` forwards GET and HEAD only: the page reads", None, 405),
    Code(
        "UI-UPSTREAM",
        "`a6gw ui` cannot reach the API, or the API refused its credentials",
        _GW,
        502,
    ),
)

#: old code -> the code that replaced it. Empty: no code has been renamed.
ALIASES: dict[str, str] = {}


def canonical(code: str) -> str:
    """The current code for ``code``: itself, or what replaced it (:data:`ALIASES`)."""
    return ALIASES.get(code, code)


def render() -> str:
    """``docs/codes.md``: the scheme, then every code with its class and HTTP status."""
    out = [
        "# Operational codes",
        "",
        "<!-- generated by `python -m gateway.codes` from gateway/codes.py; do not edit -->",
        "",
        "Every error the gateway raises on purpose carries a stable code (`gateway/errors.py`).",
        "The check codes that judge an input (MSG-001, BLK-003, A6-004, GWF-001, ...) are the",
        "catalogue's (`a6gw checks`) and never change. The codes below say what went wrong",
        "around the inputs. Each is `FAMILY-DETAIL`; a code never changes meaning once",
        "released. `<nnn>` stands for an HTTP status. HTTP: the status of the answer that",
        "carries the code (the auditors' API, the ingress, the partner simulator); an error",
        "without one that reaches the API is answered 500.",
        "",
        "| Family | What gives it |",
        "|---|---|",
        *(f"| {f.prefix} | {f.what} |" for f in FAMILIES),
        "",
        "## Renamed codes",
        "",
    ]
    if ALIASES:
        out += ["| Old code | Current code |", "|---|---|"]
        out += [f"| {old} | {new} |" for old, new in sorted(ALIASES.items())]
    else:
        out.append("None: every code released is still given as it was.")
    out += ["", "## Codes", "", "| Code | Class | HTTP | Meaning |", "|---|---|---|---|"]
    for c in CODES:
        error = f"`{c.error.__name__}`" if c.error is not None else "-"
        out.append(f"| `{c.code}` | {error} | {c.http or '-'} | {c.meaning} |")
    return "\n".join(out) + "\n"


DOC = Path(__file__).resolve().parent.parent / "docs" / "codes.md"

if __name__ == "__main__":
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC}", file=sys.stderr)
