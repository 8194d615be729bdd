"""Shared test configuration. Layer-specific fixtures live in tests/<layer>/conftest.py."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=100
)
settings.register_profile(
    "stress", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=5000
)
settings.load_profile("stress" if os.environ.get("AGENTSHELL_STRESS") else "default")


@pytest.fixture(autouse=True)
def _isolated_data_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never touch the user's real data directory, home or shell start-up files.

    Shells started by a test read a scratch ``$HOME`` (with an empty ``.bashrc``), so
    the user's rc files cannot change or stall them: a stale pyenv rehash lock left
    by a killed shell once made every ``bash -i`` reading ``~/.bashrc`` hang 60 s.
    """
    monkeypatch.setenv("AGENTSHELL_DIR", str(tmp_path_factory.mktemp("data")))
    home = tmp_path_factory.mktemp("home")
    (home / ".bashrc").write_text("")
    monkeypatch.setenv("HOME", str(home))
