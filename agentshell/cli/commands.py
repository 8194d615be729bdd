"""Imports every ``agentshell/cli/cmd_*.py`` module so each registers its subcommands."""

from __future__ import annotations

import importlib
import pkgutil

import agentshell.cli as _pkg

for _info in sorted(pkgutil.iter_modules(_pkg.__path__), key=lambda m: m.name):
    if _info.name.startswith("cmd_"):
        importlib.import_module(f"agentshell.cli.{_info.name}")
