"""The quick start's code in README.md and docs/quickstart.md is its scripts, verbatim.

Each ``<!-- BEGIN docs/quickstart/NAME.py -->`` ... ``<!-- END ... -->`` pair encloses one
fenced ``python`` block that must equal the file. ``python -m tests.unit.test_quickstart_docs``
rewrites the blocks from the files.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = (ROOT / "README.md", ROOT / "docs" / "quickstart.md")
SCRIPTS = sorted((ROOT / "docs" / "quickstart").glob("*.py"))
BLOCK = re.compile(
    r"(?P<begin><!-- BEGIN (?P<path>docs/quickstart/[a-z_]+\.py) -->\n)"
    r"```python\n(?P<code>.*?)```\n"
    r"(?P<end><!-- END (?P=path) -->)",
    re.S,
)


def synced(text: str) -> str:
    """``text`` with every marked block replaced by its file."""

    def block(m: re.Match[str]) -> str:
        code = (ROOT / m["path"]).read_text(encoding="utf-8")
        return f"{m['begin']}```python\n{code}```\n{m['end']}"

    return BLOCK.sub(block, text)


def test_every_marked_block_is_its_script() -> None:
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        assert synced(text) == text, (
            f"{doc.name}: a quick start block differs from its script; "
            "run python -m tests.unit.test_quickstart_docs"
        )


def test_every_script_is_shown_and_every_marker_pairs() -> None:
    shown = set()
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        found = [m["path"] for m in BLOCK.finditer(text)]
        assert text.count("<!-- BEGIN docs/quickstart/") == len(found), doc.name
        assert text.count("<!-- END docs/quickstart/") == len(found), doc.name
        shown |= set(found)
    assert shown == {str(p.relative_to(ROOT)) for p in SCRIPTS}
    assert "<!-- BEGIN docs/quickstart/publish.py -->" in DOCS[0].read_text(encoding="utf-8")


def test_a_changed_script_is_caught() -> None:
    text = DOCS[0].read_text(encoding="utf-8")
    changed = text.replace("import asyncio\n", "import asyncio  # changed\n", 1)
    assert changed != text
    assert synced(changed) == text


if __name__ == "__main__":
    for doc in DOCS:
        doc.write_text(synced(doc.read_text(encoding="utf-8")), encoding="utf-8")
    sys.exit(0)
