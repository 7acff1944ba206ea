"""The gateway's one error tree.

Every error the gateway raises on purpose derives from :class:`GatewayError` and carries a
stable ``code`` (a string that never changes meaning once released). Third-party errors are
translated at the boundary that meets them, always with ``raise ... from exc``::

    GatewayError                      A6-GW-000
    ├── ConfigError                   A6-CFG-*    invalid config or trust file
    ├── SchemaError                   MSG-001     bytes that do not form a valid envelope/event
    │   └── PayloadInvalid            MSG-001     an authentic envelope whose data is invalid
    ├── AuthenticationError           MSG-002/3   signer not allowed / bad signature
    ├── AuditError                    AUD-*       audit log, proofs, checkpoints, bundles
    │   └── VerificationError         AUD-VERIFY  a proof, root or signature does not verify
    ├── BrokerError                   KAFKA-*     the local broker could not be fetched/started
    ├── WorkerError                   WORKER-*    the worker process or its consumer failed
    ├── GatewayFault                  GWF-001/2   a parser or pure step raised on one input
    │                                             (or the process died on it: quarantined)
    ├── ReconciliationError           RECON-*     a reconciliation run could not get its inputs
    ├── AefError                      A6-AEF-*    an AEF export refused (missing or unknown value,
    │                                             holdings that do not roll forward)
    ├── RegistryError                 REG-*       a partner registry failed (connectors)
    ├── ApiProblem                    API-<nnn>   the auditors' API answered with an error
    │                                             (the answer's own code in problem_code)
    ├── CommandProblem                MSG-*       the API refuses an operator's command
    │                                             (with the HTTP status of its answer)
    └── CommandRefused                MSG-*/REC-* an operator's command refused before it is
                                                  published (``a6gw discrepancy``: exit 1)

Every operational code (as opposed to the check codes of :mod:`gateway.core.catalogue`) is
listed, with its meaning and HTTP status, in :mod:`gateway.codes` and ``docs/codes.md``.
"""

from __future__ import annotations

from typing import Any


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""

    code: str = "A6-GW-000"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"[{self.code}] {super().__str__()}"


class ConfigError(GatewayError):
    """The configuration or trust file is missing or invalid."""

    code = "A6-CFG-001"


class SchemaError(GatewayError):
    """Input bytes are not a valid envelope or event payload."""

    code = "MSG-001"


class PayloadInvalid(SchemaError):
    """The envelope is authentic but its ``data`` does not match the event type (MSG-001),
    or its ``dataschema`` names another schema (MSG-012).

    ``event`` is the authenticated :class:`gateway.core.model.Event` (its data unchecked)."""

    def __init__(self, message: str, event: Any, *, code: str = "MSG-001") -> None:
        super().__init__(message, code=code)
        self.event = event


class AuthenticationError(GatewayError):
    """The signer may not publish this event here, or the signature does not verify."""

    code = "MSG-003"


class AuditError(GatewayError):
    """The audit log, a proof, a checkpoint or a bundle is malformed."""

    code = "AUD-001"


class VerificationError(AuditError):
    """A Merkle proof, a tree root or a checkpoint signature does not verify."""

    code = "AUD-VERIFY"


class BrokerError(GatewayError):
    """The local Kafka broker could not be fetched, formatted, started or stopped."""

    code = "KAFKA-001"


class RegistryError(GatewayError):
    """A partner registry could not be reached or answered wrongly."""

    code = "REG-001"


class WorkerError(GatewayError):
    """The worker process exited, or records it must process cannot be read again."""

    code = "WORKER-001"


class GatewayFault(GatewayError):
    """The gateway, not the input, failed: a parser or a pure step raised on one input
    (GWF-001), or the process died while handling it on every allowed start (GWF-002).
    The input is dead-lettered with the step and the exception class, and can be replayed
    once the fault is fixed (``a6gw dlq replay``)."""

    code = "GWF-001"


class ReconciliationError(GatewayError):
    """A reconciliation run could not obtain or use a registry's snapshot."""

    code = "RECON-001"


class AefError(GatewayError):
    """An AEF export was refused: a required value is missing, a value is outside its
    controlled vocabulary, or the holdings do not roll forward (codes in gateway.core.aef)."""

    code = "A6-AEF-000"


class ApiProblem(GatewayError):
    """An error answer of the auditors' API (``API-<status>``), with the problem's own code
    (e.g. MSG-003) and detail."""

    def __init__(self, message: str, *, status: int, problem_code: str, detail: str) -> None:
        super().__init__(message, code=f"API-{status}")
        self.status, self.problem_code, self.detail = status, problem_code, detail


class CommandProblem(GatewayError):
    """A command the API refuses before publishing it, with the HTTP status of the answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message, code=code)
        self.status = status


class CommandRefused(GatewayError):
    """An operator's command refused, with its code, before it is published (exit code 1).

    Its text is ``refused <code>: <message>``, as ``a6gw discrepancy`` prints it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"refused {code}: {message}", code=code)

    def __str__(self) -> str:
        return str(self.args[0])
