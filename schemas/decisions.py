"""The gateway's signed decision: the ``data`` of ``a6gw.decision.v2`` (and of v1, which
stays published for the records written before v2).

v1's members are closed, so a strict v1 reader refuses any addition: the input's
``transaction_id`` and the ``note`` for a person came as a new major version. v2 is open to
later optional additions (:data:`OPEN_TO_ADDITIONS`): its published schema allows members it
does not name, while the model, which checks what the gateway sends, stays strict.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from schemas._types import DecimalInt, SerialRange, Strict, TransactionId

__all__ = ["OPEN_TO_ADDITIONS", "Decision", "DecisionResult", "DecisionResultV2", "DecisionV2"]


class DecisionResult(Strict):
    code: str
    message: str
    blocks: tuple[SerialRange, ...] = ()


class Decision(Strict):
    """The gateway's signed answer to one input, v1: what it wrote before decision v2.

    Stays published for the records that hold it; its members are closed (a strict reader
    refuses any addition), so the transaction id and the note came as a new major version."""

    input_source: str
    input_id: str
    input_type: str
    input_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    outcome: Literal["accepted", "rejected", "recorded", "discrepancy"]
    results: tuple[DecisionResult, ...] = ()
    derived_actions: tuple[str, ...] = ()
    audit_entry_id: str
    quantity: DecimalInt = "0"


#: What ``a6gw.decision.v2`` promises a reader about later versions of itself.
OPEN_TO_ADDITIONS = (
    "Open to later optional additions: within v2 the gateway may add optional members "
    "(here and in each result), never remove, rename or retype one; a reader ignores "
    "members it does not know. Any other change is a new major version."
)
_OPEN = ConfigDict(json_schema_extra={"additionalProperties": True})


class DecisionResultV2(DecisionResult):
    """One check that failed (or a note on one): its code, its message, the blocks it names."""

    model_config = _OPEN


class DecisionV2(Strict):
    """The gateway's signed answer to one input, with its transaction id and a note.

    Published on ``a6.out.<registry-id>`` (or ``a6.out.inventory.<party>``); the note is a
    sentence for a person. Open to later optional additions (:data:`OPEN_TO_ADDITIONS`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "additionalProperties": True,
            "description": "The gateway's signed answer to one input, with the input's "
            "transaction id and a sentence for a person. " + OPEN_TO_ADDITIONS,
        }
    )

    input_source: str
    input_id: str
    input_type: str
    input_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    transaction_id: TransactionId | None = Field(
        description="the input's transaction_id (its data's), null when it has none"
    )
    outcome: Literal["accepted", "rejected", "recorded", "discrepancy"]
    note: str = Field(
        min_length=1,
        description="what happened, for a person: the first result's message when a check "
        "failed, else what was done (e.g. 'transfer T-1 cancelled: no answer by <deadline>')",
    )
    results: tuple[DecisionResultV2, ...] = ()
    derived_actions: tuple[str, ...] = ()
    audit_entry_id: str
    quantity: DecimalInt = "0"
