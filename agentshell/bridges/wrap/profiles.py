"""Prompt profiles: the table (``profiles.toml``, data) that says how a CLI asks.

The built-in table ships beside this module; a user's
``<config dir>/agentshell/wrap-profiles.toml`` (``$AGENTSHELL_WRAP_PROFILES``
overrides the path) adds profiles or replaces built-in ones by name. A profile that
does not parse is a :class:`ProfileError` naming the file, the profile and the field.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentshell.core.errors import AgentShellError

BUILTIN = Path(__file__).with_name("profiles.toml")
USER_FILE = "wrap-profiles.toml"


class ProfileError(AgentShellError):
    """A profile table that cannot be used (the message says where and why)."""


@dataclass(frozen=True, slots=True)
class PromptRule:
    name: str
    question: re.Pattern[str]
    subject: str  # "above" or "match"
    item: str
    gate: bool = True


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    description: str
    yes: str
    no: str
    editable: bool
    prompts: tuple[PromptRule, ...]
    source: str = ""


def user_profiles_path() -> Path:
    env = os.environ.get("AGENTSHELL_WRAP_PROFILES")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_config_dir("agentshell")) / USER_FILE


def _str(table: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    v = table.get(key, default)
    if not isinstance(v, str):
        raise ProfileError(f"{where}: '{key}' must be a string")
    return v


def _rule(raw: Any, where: str) -> PromptRule:
    if not isinstance(raw, dict):
        raise ProfileError(f"{where}: each [[prompt]] must be a table")
    name = _str(raw, "name", where, "")
    where = f"{where} prompt {name!r}" if name else where
    pattern = _str(raw, "question", where)
    try:
        question = re.compile(pattern)
    except re.error as exc:
        raise ProfileError(f"{where}: 'question' is not a valid regex: {exc}") from None
    subject = _str(raw, "subject", where, "match")
    if subject not in ("above", "match"):
        raise ProfileError(f"{where}: 'subject' must be 'above' or 'match'")
    if subject == "match" and "subject" not in question.groupindex:
        raise ProfileError(f"{where}: subject = 'match' needs a (?P<subject>...) group")
    item = _str(raw, "item", where, "{subject}")
    try:
        item.format(subject="", question="")
    except (KeyError, IndexError, ValueError) as exc:
        raise ProfileError(
            f"{where}: 'item' may only use {{subject}} and {{question}} ({exc})"
        ) from None
    gate = raw.get("gate", True)
    if not isinstance(gate, bool):
        raise ProfileError(f"{where}: 'gate' must be true or false")
    return PromptRule(name or pattern, question, subject, item, gate)


def parse(data: dict[str, Any], source: str) -> dict[str, Profile]:
    out: dict[str, Profile] = {}
    for name, table in data.items():
        where = f"{source}: profile {name!r}"
        if not isinstance(table, dict):
            raise ProfileError(f"{where} must be a table ([{name}])")
        editable = table.get("editable", False)
        if not isinstance(editable, bool):
            raise ProfileError(f"{where}: 'editable' must be true or false")
        prompts = table.get("prompt", [])
        if not isinstance(prompts, list) or not prompts:
            raise ProfileError(f"{where} needs at least one [[{name}.prompt]]")
        out[name] = Profile(
            name=name,
            description=_str(table, "description", where, ""),
            yes=_str(table, "yes", where, "y\r"),
            no=_str(table, "no", where, "n\r"),
            editable=editable,
            prompts=tuple(_rule(p, where) for p in prompts),
            source=source,
        )
    return out


def _load(path: Path) -> dict[str, Profile]:
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise ProfileError(f"cannot read {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path} is not valid TOML: {exc}") from None
    return parse(data, str(path))


def load_profiles(user_file: Path | None = None) -> dict[str, Profile]:
    """The built-in profiles, then the user's (which win by name)."""
    profiles = _load(BUILTIN)
    path = user_file if user_file is not None else user_profiles_path()
    if path.exists():
        profiles.update(_load(path))
    return profiles


def get_profile(name: str, user_file: Path | None = None) -> Profile:
    profiles = load_profiles(user_file)
    try:
        return profiles[name]
    except KeyError:
        raise ProfileError(
            f"no wrap profile {name!r}; known: {', '.join(sorted(profiles))}"
            f" (add one in {user_file or user_profiles_path()})"
        ) from None
