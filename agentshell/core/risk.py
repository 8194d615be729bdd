"""Risk hints for a proposed command: what a human should look at twice.

``risk_hints(command, project_dir=None, cwd=None)`` returns short human-readable
hints (empty when nothing looks destructive). Hints are advisory, shown in the
approval queue; they never decide anything. Detected:

* ``rm`` with recursive and force flags in any spelling/order (``-rf``, ``-fr``,
  ``-r -f``, ``-Rf``, ``--recursive --force``);
* ``git push`` forcing (``--force``, ``-f``, ``--force-with-lease``, ``+refspec``),
  ``git reset --hard``, ``git clean -f``;
* ``curl``/``wget`` piped into a shell or interpreter, or substituted into one;
* ``dd`` writing a device (``of=/dev/...``), ``mkfs``;
* ``chmod`` recursive with mode 777 / ``a+rwx``;
* ``sudo`` / ``doas``;
* writes outside ``project_dir`` (when given): redirections (``>``, ``>>``, ``&>``),
  ``tee`` files and the destination of ``cp``/``mv``. Relative paths are taken from
  ``cwd`` (default ``project_dir``); ``~`` and ``$VAR`` paths count as outside.

:func:`parse_command` is the small shell splitter used here and by ``rules``.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass

_SEPARATORS = frozenset((";", "&&", "||", "|", "|&", "&", "(", ")", ";;", ";&"))
_REDIRECTS = frozenset((">", ">>", ">|", "&>", "&>>", "<", "<<", "<<<", "<>", ">&", "<&"))
_WRITE_REDIRECTS = frozenset((">", ">>", ">|", "&>", "&>>", "<>", ">&"))
_WRAPPERS = frozenset(("nohup", "time", "command", "exec", "nice", "env", "xargs"))
_SHELLS = frozenset(
    ("sh", "bash", "zsh", "dash", "ksh", "fish", "python", "python3", "perl", "ruby", "node")
)
_FETCH = re.compile(r"(?<![\w.-])(curl|wget)(?![\w.-])")
_SHELL_WORD = re.compile(r"(?<![\w.-])(" + "|".join(sorted(_SHELLS)) + r")(?![\w.-])")
_HARMLESS_TARGETS = frozenset(("/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty"))


@dataclass(frozen=True, slots=True)
class ShellCommand:
    """A command line split the way a shell would, roughly.

    ``segments``: the words of each simple command (redirections removed);
    ``separators[i]``: the operator after ``segments[i]`` (``""`` for the last);
    ``redirects``: ``(operator, target)`` pairs; ``substitution``: ``$(``, a
    backtick or ``<(``/``>(`` occurs; ``multiline``: the text has a newline;
    ``parsed``: False when quoting was unbalanced (then words are whitespace-split).
    """

    segments: tuple[tuple[str, ...], ...]
    separators: tuple[str, ...]
    redirects: tuple[tuple[str, str], ...]
    substitution: bool
    multiline: bool
    parsed: bool

    @property
    def simple(self) -> bool:
        """One plain command: no operators, redirections, substitutions or newlines."""
        return (
            self.parsed
            and len(self.segments) == 1
            and not self.redirects
            and not self.substitution
            and not self.multiline
        )


def _is_operator(tok: str) -> bool:
    return bool(tok) and all(ch in "();<>|&" for ch in tok)


def parse_command(command: str) -> ShellCommand:
    """Split ``command`` into simple commands, separators and redirections."""
    substitution = "$(" in command or "`" in command or "<(" in command or ">(" in command
    multiline = "\n" in command.strip()
    parsed = True
    try:
        lex = shlex.shlex(command.replace("\n", " ; "), posix=True, punctuation_chars=True)
        lex.whitespace_split = True
        tokens = list(lex)
    except ValueError:
        parsed = False
        tokens = command.replace("\n", " ; ").split()
    segments: list[tuple[str, ...]] = []
    separators: list[str] = []
    redirects: list[tuple[str, str]] = []
    words: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if parsed and _is_operator(tok) and tok in _REDIRECTS:
            if words and words[-1].isdigit():
                words.pop()  # the fd number of 2>file
            target = tokens[i + 1] if i + 1 < len(tokens) else ""
            redirects.append((tok, target))
            i += 2
            continue
        if parsed and _is_operator(tok):
            if words:
                segments.append(tuple(words))
                separators.append(tok)
            elif separators:
                separators[-1] = tok
            words = []
            i += 1
            continue
        words.append(tok)
        i += 1
    if words:
        segments.append(tuple(words))
        separators.append("")
    if separators:
        separators[-1] = ""
    return ShellCommand(
        segments=tuple(segments),
        separators=tuple(separators),
        redirects=tuple(redirects),
        substitution=substitution,
        multiline=multiline,
        parsed=parsed,
    )


def _unwrap(words: tuple[str, ...]) -> tuple[bool, tuple[str, ...]]:
    """Strip ``VAR=x`` prefixes, sudo and wrappers; return (uses sudo, the rest)."""
    sudo = False
    w = list(words)
    while w:
        head = w[0]
        if "=" in head and not head.startswith("-") and head.split("=", 1)[0].isidentifier():
            w.pop(0)
        elif head in ("sudo", "doas"):
            sudo = True
            w.pop(0)
            while w and w[0].startswith("-"):
                opt = w.pop(0)
                if opt in ("-u", "-g", "-C", "-D", "-p", "-r", "-t", "-U", "-h") and w:
                    w.pop(0)
        elif head in _WRAPPERS:
            w.pop(0)
            while w and w[0].startswith("-"):
                w.pop(0)
        else:
            break
    return sudo, tuple(w)


def _short_flags(args: tuple[str, ...]) -> str:
    return "".join(a[1:] for a in args if a.startswith("-") and not a.startswith("--"))


def _base(word: str) -> str:
    return posixpath.basename(word)


def _git_hints(args: tuple[str, ...]) -> list[str]:
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in ("-C", "-c") else 1
    if i >= len(args):
        return []
    sub, rest = args[i], args[i + 1 :]
    out = []
    if sub == "push":
        longs = [a for a in rest if a.startswith("--")]
        positional = [a for a in rest if not a.startswith("-")]
        if (
            any(a == "--force" or a.startswith(("--force-with-lease", "--force-if")) for a in longs)
            or "f" in _short_flags(rest)
            or any(a.startswith("+") for a in positional)
        ):
            out.append("git push --force: rewrites history on the remote")
    elif sub == "reset" and "--hard" in rest:
        out.append("git reset --hard: discards uncommitted changes")
    elif sub == "clean" and ("f" in _short_flags(rest) or "--force" in rest):
        out.append("git clean -f: deletes untracked files")
    return out


def _outside(path: str, project_dir: str, cwd: str) -> bool:
    if not path or path in _HARMLESS_TARGETS or path == "-":
        return False
    if path.startswith(("~", "$")):
        return True
    full = posixpath.normpath(posixpath.join(cwd, path))
    root = posixpath.normpath(project_dir)
    return not (full == root or full.startswith(root.rstrip("/") + "/"))


def _write_targets(cmd: str, args: tuple[str, ...]) -> list[str]:
    if cmd == "tee":
        return [a for a in args if not a.startswith("-")]
    if cmd in ("cp", "mv", "install", "rsync", "ln"):
        for j, a in enumerate(args):
            if a == "-t" and j + 1 < len(args):
                return [args[j + 1]]
            if a.startswith("--target-directory="):
                return [a.split("=", 1)[1]]
        positional = [a for a in args if not a.startswith("-")]
        return positional[-1:] if len(positional) >= 2 else []
    return []


def risk_hints(command: str, project_dir: str | None = None, cwd: str | None = None) -> list[str]:
    """Short hints about destructive parts of ``command`` (see the module docstring)."""
    sc = parse_command(command)
    hints: list[str] = []
    for idx, seg in enumerate(sc.segments):
        sudo, words = _unwrap(seg)
        if sudo:
            hints.append("sudo: runs as root")
        if not words:
            continue
        cmd, args = _base(words[0]), words[1:]
        flags = _short_flags(args)
        if cmd == "rm":
            recursive = "r" in flags or "R" in flags or "--recursive" in args
            force = "f" in flags or "--force" in args
            if recursive and force:
                hints.append("rm -rf: deletes recursively without asking")
        elif cmd == "git":
            hints.extend(_git_hints(args))
        elif cmd in ("curl", "wget") and sc.separators[idx] in ("|", "|&"):
            nxt = _unwrap(sc.segments[idx + 1])[1] if idx + 1 < len(sc.segments) else ()
            if nxt and _base(nxt[0]) in _SHELLS:
                hints.append(f"{cmd} | {_base(nxt[0])}: runs code downloaded from the network")
        elif cmd == "dd" and any(a.startswith("of=/dev/") for a in args):
            hints.append("dd of=/dev/...: overwrites a device")
        elif cmd == "mkfs" or cmd.startswith("mkfs."):
            hints.append(f"{cmd}: formats a filesystem")
        elif cmd == "chmod":
            recursive = "R" in flags or "--recursive" in args
            if recursive and any(a in ("777", "0777", "a+rwx", "ugo+rwx") for a in args):
                hints.append("chmod -R 777: makes files writable by everyone")
        if project_dir is not None:
            for target in _write_targets(cmd, args):
                if _outside(target, project_dir, cwd or project_dir):
                    hints.append(f"writes outside the project: {target}")
    if sc.substitution and _FETCH.search(command) and _SHELL_WORD.search(command):
        hints.append("runs code downloaded from the network (substitution into a shell)")
    if project_dir is not None:
        for op, target in sc.redirects:
            fd_dup = op == ">&" and (target.isdigit() or target == "-")
            if (
                op in _WRITE_REDIRECTS
                and not fd_dup
                and _outside(target, project_dir, cwd or project_dir)
            ):
                hints.append(f"writes outside the project: {target}")
    return list(dict.fromkeys(hints))
