"""Fixtures for the real vendor CLIs: one scratch root per test, outside pytest's deep dirs.

Each vendor fixture skips (with the reason) when its CLI is not installed; run
``tests/vendors/install.sh`` (``.ci/run`` does) to install the pinned versions.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.vendors.clis import Claude, Codex, Gemini


@pytest.fixture
def vendor_root() -> Iterator[Path]:
    # short, so Unix socket paths under it stay within the ~107-byte limit
    root = Path(tempfile.mkdtemp(prefix="asv-", dir="/tmp"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def claude(vendor_root: Path) -> Claude:
    Claude.require()
    return Claude(vendor_root)


@pytest.fixture
def codex(vendor_root: Path) -> Codex:
    Codex.require()
    return Codex(vendor_root)


@pytest.fixture
def gemini(vendor_root: Path) -> Gemini:
    Gemini.require()
    return Gemini(vendor_root)
