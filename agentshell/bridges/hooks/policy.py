"""What a vendor's tool call becomes in the coordinator, and the decision it gets.

* A shell command, before it runs: an approval item from the vendor-session agent
  (``bridge_ask``); the hook waits for the human's decision or a rule's. After it ran:
  recorded with its exit code and a summary of its output (``bridge_ran``).
* A file edit, before: ``check_edit`` with the lines it touches; an overlap with
  another agent's recent edit becomes an approval item for the human. After:
  ``report_edit`` with the file's old and new contents.
* Anything else: no opinion, at once, without reaching the coordinator.
"""

from __future__ import annotations

import os
import time

from .model import Decision, ToolCall, agent_name
from .wire import Client, ServerRefused, Unreachable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: What a vendor-session agent may do: propose commands, report edits, read.
CAPABILITIES = ("run", "edit", "read")
#: Seconds to connect and say hello.
CONNECT_TIMEOUT = 5.0
#: Seconds a first connect is retried while the socket refuses or its backlog is full.
FIRST_RETRY = 3.0
#: Output kept in the log of a finished command (the start and the end of it).
OUTPUT_SUMMARY = 4000

START_HINT = "start one with 'agentshell tui' or 'agentshell serve'"


class Options:
    """``socket``: the session's socket path; ``timeout``: the vendor's hook timeout
    (seconds); ``started``: time.monotonic() when the hook started."""

    __slots__ = ("fail_open", "socket", "started", "timeout")

    def __init__(
        self, socket: str, timeout: float, fail_open: bool = False, started: float = 0.0
    ) -> None:
        self.socket = socket
        self.timeout = timeout
        self.fail_open = fail_open
        self.started = started


class NoSession(Exception):
    """No coordinator to ask (the socket or its operator token is missing)."""


def budget(opts: Options) -> float:
    """Seconds an approval item may wait: the vendor's timeout less a margin (5 s, or a
    tenth of a short timeout) and what this process has used so far."""
    margin = min(5.0, opts.timeout / 10)
    used = time.monotonic() - opts.started if opts.started else 0.0
    return max(0.5, opts.timeout - margin - used)


def summary(text: str) -> str:
    if len(text) <= OUTPUT_SUMMARY:
        return text
    half = OUTPUT_SUMMARY // 2
    return (
        f"{text[:half]}\n[... {len(text) - OUTPUT_SUMMARY} characters left out ...]\n{text[-half:]}"
    )


def operator_token(socket: str) -> str:
    """The token beside the socket (0600, ours): proof that the hook runs as the user
    who started the session. Never written into the vendor's config."""
    path = socket + ".operator"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise NoSession(f"no AgentShell session is running on {socket}: {START_HINT}") from None
    except OSError as exc:
        raise NoSession(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if st.st_uid != os.getuid() or st.st_mode & 0o077:
            raise NoSession(f"{path} must be owned by this user with mode 0600; refusing it")
        return os.read(fd, 4096).decode().strip()
    finally:
        os.close(fd)


def _dial(call: ToolCall, opts: Options, retry_for: float, *, again: bool = False) -> Client:
    """Connect and say hello as the vendor-session agent, retrying with jittered
    backoff for ``retry_for`` seconds while the socket refuses or is full (a storm, a
    server starting). The first time, no operator token means no session at all: that
    fails at once. ``again``: the session went away while a command waited (a restart):
    its token is retried too."""
    deadline = time.monotonic() + retry_for
    delay = 0.05
    while True:
        try:
            token = operator_token(opts.socket)
            client = Client(opts.socket, CONNECT_TIMEOUT)
            try:
                hello = client.request(
                    "hello",
                    None,
                    role="bridge",
                    token=token,
                    agent=agent_name(call.vendor, call.session_id),
                    vendor=call.vendor,
                    capabilities=list(CAPABILITIES),
                    session_id=call.session_id,
                    cwd=call.cwd,
                )
            except BaseException:
                client.close()
                raise
            break
        except (NoSession, Unreachable) as exc:
            if isinstance(exc, NoSession) and not again:
                raise
            if time.monotonic() + delay >= deadline:
                if again:
                    raise NoSession(
                        f"the AgentShell session on {opts.socket} went away while the command"
                        f" waited and was not back in time ({exc}): {START_HINT}"
                    ) from None
                raise NoSession(
                    f"no AgentShell session is running on {opts.socket}: {START_HINT}"
                ) from None
            time.sleep(delay * (0.5 + os.urandom(1)[0] / 255))
            delay = min(delay * 2, 1.0)
    if not hello.get("external"):
        client.close()
        raise ServerRefused(
            "unsupported",
            "this AgentShell server cannot queue a command it does not run itself; upgrade it",
            {},
        )
    return client


class Link:
    """The hook's connection to the coordinator, dialled again when it is lost."""

    __slots__ = ("call", "client", "opts")

    def __init__(self, call: ToolCall, opts: Options) -> None:
        self.call = call
        self.opts = opts
        self.client = _dial(call, opts, min(FIRST_RETRY, budget(opts)))

    def request(self, op: str, timeout: float | None = None, /, **fields: Any) -> dict[str, Any]:
        return self.client.request(op, timeout, **fields)

    def redial(self, deadline: float) -> None:
        """Connect again (the coordinator restarted), trying until ``deadline``."""
        self.client.close()
        self.client = _dial(self.call, self.opts, max(0.0, deadline - time.monotonic()), again=True)

    def close(self) -> None:
        self.client.close()


def decide(call: ToolCall, opts: Options) -> Decision:
    """The decision for ``call``; raises NoSession / Unreachable when nobody answers and
    ServerRefused when the coordinator refuses (a removed agent, a bad request)."""
    if call.kind == "other":
        return Decision("pass")
    client = Link(call, opts)
    try:
        from . import stash

        if call.kind == "shell":
            where = stash.stash_dir(opts.socket)
            agent = agent_name(call.vendor, call.session_id)
            if call.moment in ("pre", "permission"):
                d, aid = _ask(client, call.command, opts)
                if d.action == "allow" and aid:  # the after-hook names what it ran
                    ran = d.command if d.command is not None else call.command
                    stash.stash(where, agent, _run_key(call, ran), {"id": aid})
                return d
            kept = stash.unstash(where, agent, _run_key(call, call.command)) or {}
            client.request(
                "bridge_ran",
                None,
                command=call.command,
                exit_code=call.exit_code,
                output=summary(call.output),
                duration=call.duration,
                cwd=call.cwd,
                approval_id=kept.get("id"),
            )
            return Decision("pass")
        if call.moment in ("pre", "permission"):
            return _before_edit(client, call, opts)
        _after_edit(client, call, opts)
        return Decision("pass")
    finally:
        client.close()


def _ask(
    client: Link, command: str, opts: Options, *, editable: bool = True
) -> tuple[Decision, str]:
    """Queue ``command`` as an external approval item (the vendor runs it once
    approved; nothing runs in AgentShell's terminals) and wait for its decision: the
    decision and the approval id.

    The item's id is chosen here, so a restart of the coordinator while it waits costs
    a delay: the hook connects again and asks for the same item (``resent``), which is
    never queued twice, until the vendor's time is nearly up."""
    wait = budget(opts)
    started = time.monotonic()
    deadline = started + wait + min(5.0, opts.timeout / 10) / 2  # the item expires first
    aid = "hook-" + os.urandom(8).hex()
    resent = False
    while True:
        try:
            r = client.request(
                "run",
                max(0.1, deadline - time.monotonic()),
                command=command,
                timeout=max(0.5, wait - (time.monotonic() - started)),
                external=True,
                editable=editable,
                approval_id=aid,
                resent=resent or None,
            )
            break
        except ServerRefused as exc:
            aid = str(exc.data.get("approval_id", "")) or aid
            if exc.code == "rejected":
                reason = exc.data.get("reason") or "no reason given"
                return Decision("deny", f"rejected in AgentShell: {reason}"), aid
            if exc.code == "expired":
                return Decision(
                    "deny",
                    f"no decision in AgentShell within {wait:.0f} s (the hook's timeout is "
                    f"{opts.timeout:.0f} s); it expired there and can no longer run",
                ), aid
            raise
        except Unreachable:
            if time.monotonic() >= deadline:
                raise
            client.redial(deadline)  # the coordinator restarted: the item is in its log
            resent = True
    aid = str(r.get("approval_id", "")) or aid
    ran = r.get("command")
    if isinstance(ran, str) and ran != command:
        return Decision("allow", f"approved in AgentShell, edited to: {ran}", ran), aid
    return Decision("allow", "approved in AgentShell"), aid


def _run_key(call: ToolCall, command: str) -> str:
    """Pairs a shell call before and after it ran by the command that runs: Claude
    Code's PermissionRequest has no tool_use_id, and an edited command is what the
    after-hook sees."""
    return f"{call.session_id}:run:{command}"


def _call_key(call: ToolCall) -> str:
    if call.tool_use_id:
        return f"{call.session_id}:{call.tool_use_id}"
    from .lean import dumps  # Gemini CLI gives no tool-call id: its input names the call

    return f"{call.session_id}:{call.tool}:{dumps(call.tool_input)}"


def _before_edit(client: Link, call: ToolCall, opts: Options) -> Decision:
    from . import files, stash

    now: dict[str, str | None] = {}
    for c in call.changes:
        if c.path not in now:
            now[c.path] = files.read_text(c.path)
    stash.stash(stash.stash_dir(opts.socket), agent_name(call.vendor, call.session_id),
                _call_key(call), now)  # fmt: skip
    overlaps: list[str] = []
    for path, text in now.items():
        ranges: list[list[int]] = []
        for c in call.changes:
            if c.path == path:
                ranges.extend(files.touched_ranges(c, text))
        r = client.request("bridge_check_edit", None, path=path, ranges=ranges)
        conflicts: list[dict[str, Any]] = r.get("conflicts") or []
        if conflicts:
            who = sorted({str(e.get("agent_id", "?")) for e in conflicts})
            lines = ", ".join(f"{a + 1}-{b}" for a, b in ranges)
            rel = os.path.relpath(path, call.cwd) if call.cwd else path
            overlaps.append(f"{rel} lines {lines} (overlaps recent edits by {', '.join(who)})")
    if not overlaps:
        return Decision("pass")
    d, _ = _ask(client, f"edit {'; '.join(overlaps)}", opts, editable=False)
    if d.action == "allow":
        return Decision("allow", d.reason)  # an edit has no command to replace
    return d


def _after_edit(client: Link, call: ToolCall, opts: Options) -> None:
    from . import files, stash

    kept = stash.unstash(stash.stash_dir(opts.socket), agent_name(call.vendor, call.session_id),
                         _call_key(call)) or {}  # fmt: skip
    done: set[str] = set()
    for c in call.changes:
        if c.path in done:
            continue
        done.add(c.path)
        old = call.originals[c.path] if c.path in call.originals else kept.get(c.path)
        new = call.currents.get(c.path)
        if new is None:
            new = files.read_text(c.path)
        if new is None and not c.deleted:
            continue  # not text, too large, or gone: nothing to compare
        if old is None and c.path not in call.originals and c.path not in kept:
            continue  # the old contents are unknown: no honest line ranges
        client.request("report_edit", None, path=c.path, old=old or "", new=new or "")
