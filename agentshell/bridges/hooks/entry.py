"""The hook's command line: ``python -m agentshell.bridges.hooks --vendor claude ...``
(also ``agentshell hook ...``). See docs/vendors.md for the surface.

It never lets a traceback out and never allows by accident: input it cannot read is
blocked (exit 2, the reason on stderr), and so is a shell call or edit when no
coordinator answers, unless ``--fail-open``.
"""

from __future__ import annotations

import os
import sys
import time

from .model import Answer, Decision, HookInputError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any, TextIO

    from .model import ToolCall

VENDORS = ("claude", "codex", "gemini")
#: Each vendor's own default hook timeout (seconds), used without --timeout.
DEFAULT_TIMEOUTS = {"claude": 600.0, "codex": 600.0, "gemini": 60.0}
POST_EVENTS = frozenset(("PostToolUse", "PostToolUseFailure", "AfterTool"))

USAGE = """\
usage: agentshell hook --vendor claude|codex|gemini [--event EVENT] [--socket PATH]
                       [--session NAME [--dir DIR]] [--timeout SECONDS] [--fail-open]

Answer one tool-call hook of Claude Code, Codex CLI or Gemini CLI from the running
AgentShell session: the hook's JSON on stdin, the vendor's answer on stdout.

  --vendor V       the hook contract to speak: claude, codex or gemini (required)
  --event E        the hook event this was installed for (checked against the input)
  --socket PATH    the session's socket [default: $AGENTSHELL_SOCKET, else the
                   default socket of --session]
  --session NAME   the session whose socket to use: the one its server recorded
                   under --dir, else its default socket [default: default]
  --dir DIR        the data directory holding --session
  --timeout S      the vendor's hook timeout in seconds; the answer comes before it
                   [default: 600 for claude and codex, 60 for gemini]
  --fail-open      when no session answers, let the vendor go on as without the hook
                   (default: block, saying how to start one)
"""


class UsageError(Exception):
    pass


def default_socket(session: str) -> str:
    """As agentshell.server.paths.default_socket_path (not imported: it is slow to)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return os.path.join(runtime, "agentshell", f"{session}.sock")
    return f"/tmp/agentshell-{os.getuid()}/{session}.sock"


def session_socket(session: str, data_dir: str | None) -> str:
    """The socket the session's server recorded under ``data_dir`` (``agentshell serve``
    writes ``<dir>/<session>/server.socket``), else the session's default socket."""
    if data_dir and "/" not in session and not session.startswith("."):
        try:
            with open(os.path.join(data_dir, session, "server.socket"), encoding="utf-8") as f:
                recorded = f.read().strip()
        except OSError:
            recorded = ""
        if recorded:
            return recorded
    return default_socket(session)


def parse_args(argv: list[str]) -> dict[str, Any]:
    opts: dict[str, Any] = {"fail_open": False}
    it = iter(argv)
    for arg in it:
        if arg in ("-h", "--help"):
            opts["help"] = True
            continue
        if arg == "--fail-open":
            opts["fail_open"] = True
            continue
        name, eq, value = arg.partition("=")
        if name not in ("--vendor", "--event", "--socket", "--session", "--dir", "--timeout"):
            raise UsageError(f"unknown option {arg!r}")
        if not eq:
            nxt = next(it, None)
            if nxt is None:
                raise UsageError(f"{name} needs a value")
            value = nxt
        opts[name[2:]] = value
    if opts.get("help"):
        return opts
    vendor = opts.get("vendor")
    if vendor not in VENDORS:
        raise UsageError(f"--vendor must be one of {', '.join(VENDORS)} (got {vendor!r})")
    if "timeout" in opts:
        try:
            t = float(opts["timeout"])
        except ValueError:
            raise UsageError(f"--timeout must be a number of seconds, not {opts['timeout']!r}")
        if not t > 0 or t == float("inf"):
            raise UsageError("--timeout must be a positive number of seconds")
        opts["timeout"] = t
    else:
        opts["timeout"] = DEFAULT_TIMEOUTS[vendor]
    return opts


def adapter(vendor: str) -> ModuleType:
    __import__(f"{__package__}.{vendor}")
    return sys.modules[f"{__package__}.{vendor}"]


def answer(vendor: str, raw: str, opts: dict[str, Any], started: float) -> Answer:
    """The whole call, as the process's output (no exception leaves it)."""
    mod = adapter(vendor)
    event = opts.get("event")
    try:
        try:
            from .lean import loads

            payload = loads(raw)
        except ValueError as exc:
            raise HookInputError(f"the hook input is not JSON ({exc})") from None
        if not isinstance(payload, dict):
            raise HookInputError(
                f"the hook input must be a JSON object, not {type(payload).__name__}"
            )
        if event and payload.get("hook_event_name") not in (None, event):
            return _unreadable(
                vendor,
                None,
                f"installed for {event} but called for {payload.get('hook_event_name')!r}",
            )
        if event and "hook_event_name" not in payload:
            payload["hook_event_name"] = event
        call: ToolCall = mod.parse(payload)
    except HookInputError as exc:
        return _unreadable(vendor, event, str(exc))
    except Exception as exc:  # input shaped in a way no check foresaw
        return _unreadable(vendor, event, f"unusable input ({type(exc).__name__}: {exc})")
    from .common import unknown_fields

    note = unknown_fields(payload, mod.KNOWN)
    decision = _decide(call, opts, started)
    out: Answer = mod.render(call, decision)
    msg = "; ".join(m for m in (_prefix(out.stderr), note and f"agentshell hook: {note}") if m)
    return Answer(out.stdout, msg, out.exit_code)


def _prefix(text: str) -> str:
    return f"agentshell hook: {text}" if text else ""


def _unreadable(vendor: str, event: str | None, reason: str) -> Answer:
    msg = f"agentshell hook ({vendor}): {reason}; not allowing this call"
    if event in POST_EVENTS:
        return Answer(stderr=msg.replace("; not allowing this call", ""))  # nothing to allow
    return Answer(stderr=msg, exit_code=2)


def _decide(call: ToolCall, opts: dict[str, Any], started: float) -> Decision:
    if call.kind == "other":
        # reads, searches, MCP tools: no opinion, at once
        return Decision("pass", f"no opinion on tool {call.tool!r}: the vendor's own rules apply")
    from .policy import NoSession, Options, decide
    from .wire import ServerRefused, Unreachable

    sock = opts.get("socket") or os.environ.get("AGENTSHELL_SOCKET")
    path = sock or session_socket(opts.get("session") or "default", opts.get("dir"))
    popts = Options(path, opts["timeout"], opts["fail_open"], started)
    post = call.moment in ("post", "failed")
    try:
        return decide(call, popts)
    except (NoSession, Unreachable) as exc:
        if post:
            return Decision("pass", f"not recorded: {exc}")
        if popts.fail_open:
            return Decision("pass", f"{exc} (--fail-open: the vendor decides)")
        return Decision("deny", str(exc))
    except ServerRefused as exc:
        reason = f"AgentShell refused: {exc.message or exc.code}"
        return Decision("pass", f"not recorded: {reason}") if post else Decision("deny", reason)
    except Exception as exc:  # a bug must not become an allow, nor a traceback
        reason = f"internal error in the hook ({type(exc).__name__}: {exc}); not allowing it"
        return Decision("pass", reason) if post else Decision("deny", reason)


def main(argv: list[str], stdin: TextIO | None = None, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:  # fmt: skip
    started = time.monotonic()
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        opts = parse_args(argv)
    except UsageError as exc:
        stderr.write(f"agentshell hook: {exc}\n{USAGE}")
        return 2
    if opts.get("help"):
        stdout.write(USAGE)
        return 0
    try:
        raw = stdin.read()
    except (OSError, UnicodeDecodeError) as exc:
        out = _unreadable(opts["vendor"], opts.get("event"), f"cannot read stdin ({exc})")
    else:
        try:
            out = answer(opts["vendor"], raw, opts, started)
        except Exception as exc:  # never a traceback, never an allow
            out = _unreadable(opts["vendor"], opts.get("event"), f"internal error ({exc!r})")
    if out.stdout:
        stdout.write(out.stdout + "\n")
        stdout.flush()
    if out.stderr:
        stderr.write(out.stderr.rstrip("\n") + "\n")
    return out.exit_code


#: The installed hook command runs this (``python -c``: without ``-m``'s runpy, which
#: costs a third of an interpreter start).
RUN_CODE = "from agentshell.bridges.hooks.entry import run; run()"


def run() -> None:
    """``python -c RUN_CODE --vendor ...``: the hook with ``sys.argv``, then exit."""
    sys.exit(main(sys.argv[1:]))
