"""docs/protocol.md documents every op the server answers, and nothing it does not."""

from __future__ import annotations

import re
from pathlib import Path

from agentshell.server.ops import INLINE, OPS

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def test_every_op_has_a_row_in_the_table() -> None:
    rows = set(re.findall(r"^\| `([a-z_]+)` \|", DOC.read_text(), flags=re.MULTILINE))
    served = set(OPS) | set(INLINE)
    assert served - rows == set(), "ops missing from docs/protocol.md"
    assert rows - served == set(), "docs/protocol.md documents ops the server lacks"
