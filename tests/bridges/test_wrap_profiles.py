"""The wrap profile table (data) and the prompt watcher, with plain bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentshell.bridges.wrap.profiles import ProfileError, get_profile, load_profiles
from agentshell.bridges.wrap.prompts import PromptWatcher

NO_USER = Path("/nonexistent/wrap-profiles.toml")


def watch(profile: str, *chunks: bytes, user: Path = NO_USER) -> PromptWatcher:
    w = PromptWatcher(get_profile(profile, user))
    for c in chunks:
        w.feed(c)
    return w


@pytest.mark.parametrize(
    "options",
    [
        "(Y)es/(N)o/(D)on't ask again [Yes]: ",
        "(Y)es/(N)o [Yes]: ",
        "(Y)es/(N)o/(A)ll/(S)kip all/(D)on't ask again [No]: ",
    ],
)
def test_aider_shell_prompt_carries_the_command_shown_above_it(options: str) -> None:
    w = watch(
        "aider",
        b"Sure, let me clean up.\r\n\r\n\x1b[1mrm -rf build\x1b[0m\r\n",
        f"Run shell command? {options}".encode(),
    )
    m = w.check()
    assert m is not None and m.rule.name == "shell"
    assert m.item == "rm -rf build" and m.subject == "rm -rf build"


def test_aider_several_commands_are_one_item_and_answered_prompts_are_forgotten() -> None:
    w = watch(
        "aider",
        b"\r\nmake clean\r\nmake test\r\n",
        b"Run shell commands? (Y)es/(N)o/(S)kip all/(D)on't ask again [Yes]: ",
    )
    m = w.check()
    assert m is not None and m.item == "make clean; make test"
    w.consumed()
    assert w.check() is None
    w.feed(b"y\r\nRunning make clean\r\n")
    assert w.check() is None  # the cursor is not on a question


def test_aider_prompts_it_does_not_gate_and_text_that_only_mentions_a_prompt() -> None:
    w = watch(
        "aider", b"\r\nREADME.md\r\nAdd file to the chat? (Y)es/(N)o/(D)on't ask again [Yes]: "
    )
    assert w.check() is None
    w = watch("aider", b'The prompt "Run shell command? (Y)es/(N)o [Yes]: " is aider\'s\r\n')
    assert w.check() is None
    m = watch("aider", b"\r\nsrc/a.py\r\nCreate new file? (Y)es/(N)o [Yes]: ").check()
    assert m is not None and m.item == "aider: create file src/a.py"


@pytest.mark.parametrize(
    ("line", "subject"),
    [
        (b"Delete build/? [y/N] ", "Delete build/?"),
        (b"Overwrite config.toml (y/n): ", "Overwrite config.toml"),
        (b"Proceed with `git push --force`? [Y/n]", "Proceed with `git push --force`?"),
        (b"Really? (yes/no) ", "Really?"),
    ],
)
def test_generic_yes_no_prompts(line: bytes, subject: str) -> None:
    m = watch("generic", b"working...\r\n", line).check()
    assert m is not None and m.item == subject


def test_generic_ignores_lines_that_are_not_questions() -> None:
    assert watch("generic", b"[y/n] options are described below\r\nok\r\n").check() is None
    assert watch("generic", b"progress 40% [##  ]").check() is None


def test_a_users_profile_extends_and_overrides_the_table(tmp_path: Path) -> None:
    user = tmp_path / "wrap-profiles.toml"
    user.write_text(
        """
[mycli]
description = "my CLI"
yes = "yes\\n"
no = "no\\n"
[[mycli.prompt]]
name = "exec"
question = '^Execute (?P<subject>.+)\\? >\\s*$'
subject = "match"
item = "mycli: {subject}"

[generic]
description = "stricter"
[[generic.prompt]]
question = '^(?P<subject>.+) \\[y/n\\]\\s*$'
"""
    )
    profiles = load_profiles(user)
    assert {"aider", "generic", "mycli"} <= set(profiles)
    assert profiles["generic"].description == "stricter"
    m = watch("mycli", b"Execute ls -la? > ", user=user).check()
    assert m is not None and m.item == "mycli: ls -la"
    assert profiles["mycli"].yes == "yes\n"
    assert watch("generic", b"Go on? (y/n) ", user=user).check() is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[x]\nyes = 1\n[[x.prompt]]\nquestion = 'a'\n", "'yes' must be a string"),
        ("[x]\n[[x.prompt]]\nquestion = '('\n", "not a valid regex"),
        ("[x]\n[[x.prompt]]\nquestion = 'a'\nsubject = 'match'\n", "(?P<subject>"),
        ("[x]\ndescription = 'no prompts'\n", "at least one"),
        ("[x]\n[[x.prompt]]\nquestion = 'a'\nsubject = 'above'\nitem = '{command}'\n", "item"),
        ("[x\n", "not valid TOML"),
    ],
)
def test_bad_profiles_are_clear_errors(tmp_path: Path, body: str, message: str) -> None:
    user = tmp_path / "wrap-profiles.toml"
    user.write_text(body)
    with pytest.raises(ProfileError, match=None) as exc:
        load_profiles(user)
    assert message in str(exc.value) and str(user) in str(exc.value)


def test_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(ProfileError) as exc:
        get_profile("nope", NO_USER)
    assert "aider" in str(exc.value) and "generic" in str(exc.value)
