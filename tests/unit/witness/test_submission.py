"""The collector's pure decision on each witness answer (C2SP tlog-witness statuses)."""

from __future__ import annotations

import pytest

from gateway.audit.submission import Outcome, decide

SIZE_TYPE = "text/x.tlog.size"


def test_200_carries_the_cosignature_lines() -> None:
    out = decide(200, size=9, old_size=5, body="\u2014 w AAAA\n\u2014 v BBBB\n".encode())
    assert out == Outcome("cosigned", "cosigned", lines=("\u2014 w AAAA\n", "\u2014 v BBBB\n"))
    assert decide(200, size=9, old_size=5).kind == "retry"  # an empty 200 is no answer


@pytest.mark.parametrize(
    ("theirs", "old", "kind", "old_size"),
    [
        (b"5\n", 0, "resubmit", 5),  # unknown state: prove from the size it names
        (b"9\n", 5, "resubmit", 9),  # its size is ours: resubmit, 200 or 422 follows
        (b"12\n", 5, "superseded", 12),  # it saw a newer checkpoint
        (b"5\n", 5, "misconfigured", None),  # it names the size we proved from
        (b"05\n", 0, "retry", None),  # not a size body
    ],
)
def test_409_names_the_size_to_prove_from(
    theirs: bytes, old: int, kind: str, old_size: int | None
) -> None:
    out = decide(409, size=9, old_size=old, content_type=SIZE_TYPE, body=theirs)
    assert out.kind == kind
    if old_size is not None:
        assert out.old_size == old_size


def test_409_of_another_media_type_is_not_trusted() -> None:
    assert decide(409, size=9, old_size=0, content_type="text/plain", body=b"5\n").kind == "retry"
    charset = f"{SIZE_TYPE}; charset=utf-8"
    assert decide(409, size=9, old_size=0, content_type=charset, body=b"5\n").kind == "resubmit"


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (422, "fork"),
        (403, "misconfigured"),
        (404, "misconfigured"),
        (400, "misconfigured"),
        (418, "misconfigured"),
        (None, "retry"),
        (408, "retry"),
        (429, "retry"),
        (500, "retry"),
        (503, "retry"),
    ],
)
def test_each_status_has_its_step(status: int | None, kind: str) -> None:
    assert decide(status, size=9, old_size=5).kind == kind
