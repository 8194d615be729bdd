"""Fixtures for the bridges: the real coordinator behind a real socket (tests/server)."""

from __future__ import annotations

from tests.server.conftest import Served, served, short_dir  # noqa: F401  (fixtures)
