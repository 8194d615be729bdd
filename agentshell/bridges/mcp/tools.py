"""The MCP tools of ``agentshell mcp``: what each does on the coordinator.

Each tool is a name, a description written for the model that calls it, a JSON
schema of its arguments and an async handler. Handlers talk to the running
coordinator through :class:`~agentshell.client.AgentClient`, as the agent named by
``AGENTSHELL_AGENT`` (token ``AGENTSHELL_TOKEN``), and return a :class:`ToolOutput`
(text for the model, the same facts as structured data). Anything that goes wrong
raises :class:`ToolError`, whose message says why and what to do; the MCP layer
turns it into a tool result with ``isError`` set.

Nothing here imports the MCP SDK: :mod:`agentshell.bridges.mcp.server` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from agentshell.client.client import AgentClient, ConnectionLost, ServerError, ServerUnreachable
from agentshell.coordinator.results import (
    CommandExpired,
    CommandFailed,
    CommandInterrupted,
    CommandRejected,
    RunResult,
)
from agentshell.core.errors import AgentShellError, PermissionDeniedError

from .schema import SchemaError, check

#: Seconds a tool call keeps trying to reach a coordinator that is not there (yet).
CONNECT_FOR = 3.0
#: Seconds between two progress notifications while a command waits for a decision
#: (clients that reset their request timeout on progress keep waiting).
PROGRESS_EVERY = 10.0

Progress = Callable[[str], Awaitable[None]]
T = TypeVar("T")


class ToolError(Exception):
    """A tool call that failed; the message is shown to the model as the tool's error."""


@dataclass(frozen=True, slots=True)
class ToolOutput:
    text: str
    data: dict[str, Any] = field(default_factory=dict)


Handler = Callable[["Bridge", dict[str, Any], Progress], Awaitable[ToolOutput]]


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    title: str
    description: str
    schema: dict[str, Any]
    handler: Handler
    read_only: bool = False
    destructive: bool = False


# --------------------------------------------------------------------- bridge


class Bridge:
    """One agent's connection to the coordinator, opened on first use and reopened
    after it is lost (the coordinator may start after the MCP client does)."""

    def __init__(
        self,
        socket_path: Path,
        agent: str,
        token: str,
        *,
        session: str = "default",
        timeout: float | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.socket_path = socket_path
        self.agent = agent
        self.token = token
        self.session = session
        #: Default seconds a proposed command waits for a decision before it expires.
        self.timeout = timeout
        self.cwd = cwd or Path.cwd()
        self._client: AgentClient | None = None
        self._lock = asyncio.Lock()

    async def client(self) -> AgentClient:
        async with self._lock:
            if self._client is not None:  # dropped by request() once its connection is lost
                return self._client
            try:
                c = await AgentClient.connect(
                    self.socket_path, self.agent, self.token, retry_for=CONNECT_FOR
                )
            except (OSError, AgentShellError) as exc:
                raise ToolError(self._unreachable(exc)) from None
            self._client = c
            return c

    def _unreachable(self, exc: BaseException) -> str:
        start = (
            "start one with `agentshell tui` or `agentshell serve"
            + (f" --session {self.session}" if self.session != "default" else "")
            + "`"
        )
        where = f"the AgentShell server at {self.socket_path}"
        if isinstance(exc, ServerUnreachable) and exc.cause is not None:
            exc = exc.cause
        if isinstance(exc, FileNotFoundError | ConnectionRefusedError):
            return f"no AgentShell server is running (nothing at {self.socket_path}); {start}"
        if isinstance(exc, OSError):
            return f"cannot reach {where}: {exc.strerror or exc}"
        if isinstance(exc, ServerError) and exc.code == "auth_failed":
            return (
                f"{where} refused agent {self.agent!r}: {exc.message}. Check AGENTSHELL_AGENT"
                " and AGENTSHELL_TOKEN (`agentshell agent add NAME` prints a token); an agent"
                " the operator removed cannot come back with its old token"
            )
        return f"{where} refused the connection: {exc}"

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def request(self, op: str, /, **fields: Any) -> dict[str, Any]:
        """One request; a lost connection is dropped so the next call reconnects."""
        return await self.guarded(lambda c: c.request(op, **fields))

    async def guarded(self, call: Callable[[AgentClient], Awaitable[T]]) -> T:
        """``call(client)`` with the client's errors as ToolErrors (command outcomes
        pass through); a connection lost for good is dropped so the next call redials."""
        c = await self.client()
        try:
            return await call(c)
        except ConnectionLost as exc:
            await self._drop(c)
            raise ToolError(f"the connection to AgentShell was lost ({exc}); try again") from None
        except (CommandRejected, CommandExpired, CommandFailed, CommandInterrupted):
            raise
        except PermissionDeniedError as exc:
            raise ToolError(
                f"permission denied: {exc}. The operator gives agent {self.agent!r} more"
                " capabilities with `agentshell agent add --replace`"
            ) from None
        except ServerError as exc:
            raise ToolError(f"{exc.code}: {exc.message}") from None
        except AgentShellError as exc:
            raise ToolError(str(exc)) from None

    async def _drop(self, c: AgentClient) -> None:
        async with self._lock:
            if self._client is c:
                self._client = None
        with contextlib.suppress(Exception):
            await c.close()

    def path(self, p: str) -> str:
        """A file path as the coordinator compares them: absolute, from the agent's cwd."""
        return os.path.normpath(self.cwd / os.path.expanduser(p))

    async def call(
        self, name: str, arguments: dict[str, Any] | None, progress: Progress | None = None
    ) -> ToolOutput:
        tool = TOOLS.get(name)
        if tool is None:
            raise ToolError(f"unknown tool {name!r}; the tools are: {', '.join(TOOLS)}")
        args = dict(arguments or {})
        try:
            check(args, tool.schema)
        except SchemaError as exc:
            raise ToolError(f"bad arguments for {name}: {exc}") from None

        async def no_progress(message: str) -> None:
            return None

        return await tool.handler(self, args, progress or no_progress)


# -------------------------------------------------------------------- helpers


def _timeout(bridge: Bridge, args: dict[str, Any]) -> float | None:
    t = args.get("timeout")
    return float(t) if t is not None else bridge.timeout


def _result_data(r: RunResult, proposed: str) -> dict[str, Any]:
    return {
        "approval_id": r.approval_id,
        "command": r.command,
        "proposed": proposed,
        "edited": r.command != proposed,
        "exit_code": r.exit_code,
        "output": r.output,
        "duration": round(r.duration, 3),
        "terminal": r.terminal,
    }


def _result_text(d: dict[str, Any]) -> str:
    parts = []
    if d["edited"]:
        parts.append(
            f"Note: the operator edited your command before approving it. What ran: {d['command']}"
        )
    parts.append(d["output"].rstrip("\n") if d["output"] else "(no output)")
    code = d["exit_code"]
    parts.append(
        f"[exit code {code if code is not None else 'unknown'}, {d['duration']:.2f} s,"
        f" terminal {d['terminal']}, approval {d['approval_id']}]"
    )
    return "\n".join(parts)


async def _wait_result(
    bridge: Bridge,
    call: Callable[[AgentClient], Awaitable[RunResult]],
    proposed: str,
    progress: Progress,
) -> ToolOutput:
    """The RunResult of ``call`` (``AgentClient.run``: it rides out a coordinator
    restart, and withdraws its approval when the MCP client cancels the tool call; or
    ``result``), with progress notifications while it waits."""
    task = asyncio.ensure_future(bridge.guarded(call))
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=PROGRESS_EVERY)
            if done:
                break
            await progress("waiting for the operator's decision")
        r = task.result()
    except CommandRejected as exc:
        raise ToolError(
            f"the operator rejected the command; it did not run."
            f" Reason: {exc.reason or 'no reason given'} (approval {exc.approval_id})"
        ) from None
    except CommandExpired as exc:
        raise ToolError(
            f"no decision came before the timeout; the command expired and did not run"
            f" (approval {exc.approval_id}). Propose it again, or ask the operator"
        ) from None
    except (CommandFailed, CommandInterrupted) as exc:
        raise ToolError(f"the command was approved but could not run: {exc}") from None
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
    data = _result_data(r, proposed or r.command)
    return ToolOutput(_result_text(data), data)


def _command_fields(bridge: Bridge, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "command": args["command"],
        "terminal": args.get("terminal", "main"),
        "timeout": _timeout(bridge, args),
    }


# ---------------------------------------------------------------------- tools


async def run_command(bridge: Bridge, args: dict[str, Any], progress: Progress) -> ToolOutput:
    f = _command_fields(bridge, args)
    return await _wait_result(
        bridge,
        lambda c: c.run(f["command"], f["terminal"], f["timeout"]),
        args["command"],
        progress,
    )


async def propose_command(bridge: Bridge, args: dict[str, Any], progress: Progress) -> ToolOutput:
    reply = await bridge.request("propose", **_command_fields(bridge, args))
    aid, status = str(reply["approval_id"]), str(reply.get("status", ""))
    data = {"approval_id": aid, "status": status}
    if status == "decided":
        return ToolOutput(
            f"Approval {aid}: rejected at once by the operator's rules; it will not run."
            " command_result gives the reason.",
            data,
        )
    how = (
        "approved by a rule: it runs as soon as the terminal is free"
        if status == "approved"
        else ("queued for the operator's decision")
    )
    return ToolOutput(
        f"Approval {aid}: {how}. Call command_result with approval_id {aid!r} to wait for"
        " its output and exit code.",
        data,
    )


async def command_result(bridge: Bridge, args: dict[str, Any], progress: Progress) -> ToolOutput:
    aid = args["approval_id"]
    return await _wait_result(bridge, lambda c: c.result(aid), "", progress)


def _ranges_text(ranges: Any) -> str:
    return ", ".join(f"{a + 1}-{b}" if b > a + 1 else f"{a + 1}" for a, b in ranges) or "none"


async def check_edit(bridge: Bridge, args: dict[str, Any], progress: Progress) -> ToolOutput:
    path = bridge.path(args["path"])
    c = await bridge.client()
    reply = await bridge.request(
        "check_edit", path=path, ranges=[list(r) for r in args["ranges"]], clock=c.clock
    )
    conflicts = list(reply.get("conflicts") or [])
    data = {"path": path, "conflicts": conflicts, "clear": not conflicts}
    if not conflicts:
        return ToolOutput(f"No other agent's recent edit of {path} overlaps those lines.", data)
    lines = [
        f"- {e.get('agent_id', '?')} changed lines {_ranges_text(e.get('ranges', ()))}"
        for e in conflicts
    ]
    return ToolOutput(
        f"HOLD: {len(conflicts)} recent edit(s) of {path} by other agents overlap or touch"
        " those lines:\n"
        + "\n".join(lines)
        + "\nRe-read the file before editing it; if you still edit those lines, the"
        " operator sees the conflict and decides.",
        data,
    )


async def report_edit(bridge: Bridge, args: dict[str, Any], progress: Progress) -> ToolOutput:
    path = bridge.path(args["path"])
    new = args.get("new")
    if new is None:
        try:
            new = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ToolError(
                f"cannot read {path} for its new contents ({exc.strerror or exc});"
                " pass `new` with the file's contents after the edit"
            ) from None
        except UnicodeDecodeError:
            raise ToolError(f"{path} is not UTF-8 text; pass `new` explicitly") from None
    c = await bridge.client()
    reply = await bridge.request("report_edit", path=path, old=args["old"], new=new, clock=c.clock)
    conflicts = list(reply.get("conflicts") or [])
    data = {
        "path": path,
        "edit_id": reply.get("edit_id"),
        "ranges": reply.get("ranges"),
        "new_ranges": reply.get("new_ranges"),
        "conflicts": conflicts,
    }
    text = f"Edit of {path} recorded (lines {_ranges_text(reply.get('ranges') or ())})."
    if conflicts:
        others = sorted({a for cf in conflicts for a in cf.get("agents", ()) if a != bridge.agent})
        text += (
            f" CONFLICT: it overlaps a concurrent edit by {', '.join(others) or 'another agent'};"
            " the operator now decides which side is kept. Wait before editing those lines again."
        )
    return ToolOutput(text, data)


def _task_line(t: dict[str, Any]) -> str:
    who = f", assigned to {t['assignee']}" if t.get("assignee") else ""
    return f"- {t['task_id']} [{t['status']}{who}] {t['description']}"


async def list_tasks(bridge: Bridge, args: dict[str, Any], progress: Progress) -> ToolOutput:
    reply = await bridge.request("tasks")
    tasks = list(reply.get("tasks") or [])
    status = args.get("status")
    if status is not None:
        tasks = [t for t in tasks if t.get("status") == status]
    if args.get("mine"):
        tasks = [t for t in tasks if t.get("assignee") == bridge.agent]
    text = "\n".join(_task_line(t) for t in tasks) if tasks else "No tasks."
    return ToolOutput(text, {"tasks": tasks})


async def claim_task(bridge: Bridge, args: dict[str, Any], progress: Progress) -> ToolOutput:
    task = (await bridge.request("task_claim", task_id=args["task_id"]))["task"]
    return ToolOutput(f"You ({bridge.agent}) now own task {task['task_id']}.", {"task": task})


async def update_task(bridge: Bridge, args: dict[str, Any], progress: Progress) -> ToolOutput:
    task = (
        await bridge.request(
            "task_update",
            task_id=args["task_id"],
            status=args["status"],
            note=args.get("note", ""),
        )
    )["task"]
    return ToolOutput(f"Task {task['task_id']} is now {task['status']}.", {"task": task})


async def session_state(bridge: Bridge, args: dict[str, Any], progress: Progress) -> ToolOutput:
    c = await bridge.client()
    terminals, approvals, conflicts, tasks = await asyncio.gather(
        bridge.request("terminals"),
        bridge.request("approvals"),
        bridge.request("conflicts"),
        bridge.request("tasks"),
    )
    mine = [a for a in approvals["approvals"] if a.get("agent_id") == bridge.agent]
    terms = [{k: t.get(k) for k in ("name", "cwd", "open")} for t in terminals["terminals"]]
    pending = [
        {k: a.get(k) for k in ("approval_id", "command", "terminal", "status")} for a in mine
    ]
    active: list[dict[str, Any]] = list(conflicts["conflicts"])
    my_tasks = [t for t in tasks["tasks"] if t.get("assignee") == bridge.agent]
    open_tasks = sum(1 for t in tasks["tasks"] if t.get("status") == "open")
    data = {
        "session": c.session,
        "agent": bridge.agent,
        "permissions": list(c.permissions),
        "terminals": terms,
        "my_pending_commands": pending,
        "pending_commands": len(approvals["approvals"]),
        "conflicts": active,
        "my_tasks": my_tasks,
        "open_tasks": open_tasks,
    }
    term_text = ", ".join(
        f"{t['name']} ({t['cwd']}){'' if t['open'] else ' closed'}" for t in terms
    )
    mine_text = "; ".join(f"{a['approval_id']} {a['status']} {a['command']}" for a in pending)
    conflict_text = "; ".join(
        f"{cf['file_path']} between {', '.join(cf['agents'])}" for cf in active
    )
    task_text = ", ".join(f"{t['task_id']} [{t['status']}]" for t in my_tasks)
    lines = [
        f"Session {c.session}; you are agent {bridge.agent}"
        f" (permissions: {', '.join(c.permissions) or 'none'}).",
        f"Terminals: {term_text or 'none'}.",
        f"Commands waiting or running: {len(approvals['approvals'])}"
        f" ({len(pending)} yours{': ' + mine_text if pending else ''}).",
        f"Unresolved edit conflicts: {len(active)}{' (' + conflict_text + ')' if active else ''}.",
        f"Tasks: {open_tasks} open; yours: {task_text or 'none'}.",
    ]
    return ToolOutput("\n".join(lines), data)


# ------------------------------------------------------------------- schemas

_COMMAND = {
    "type": "string",
    "minLength": 1,
    "description": "One shell command line (no newlines), run as typed in the shared terminal.",
}
_TERMINAL = {
    "type": "string",
    "minLength": 1,
    "description": "The shared terminal to run it in (session_state lists them).",
}
_TIMEOUT = {
    "type": "number",
    "exclusiveMinimum": 0,
    "description": "Seconds to wait for the operator's decision; after that the command"
    " expires and never runs. Default: the server's --timeout.",
}
_RANGES = {
    "type": "array",
    "minItems": 1,
    "description": "Line ranges you will change, each [start, end): 0-based, end excluded"
    " (lines 10-12 as an editor numbers them are [9, 12]).",
    "items": {
        "type": "array",
        "minItems": 2,
        "maxItems": 2,
        "items": {"type": "integer", "minimum": 0},
    },
}
_TASK_ID = {"type": "string", "minLength": 1, "description": "The task's id (from list_tasks)."}


def _obj(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": False,
    }


TOOLS: dict[str, Tool] = {
    t.name: t
    for t in (
        Tool(
            "run_command",
            "Run a shell command (after the operator approves it)",
            "Run a shell command in the session's shared terminal. A human operator"
            " supervises this session: the command waits until they approve it (or a rule"
            " they made does), and they may edit it before it runs. Returns the command's"
            " output and exit code; if the operator changed the command, the result says"
            " what actually ran. A rejection comes back as an error with the operator's"
            " reason: read it and adapt instead of retrying the same command. Use this"
            " instead of running shell commands any other way.",
            _obj({"command": _COMMAND, "terminal": _TERMINAL, "timeout": _TIMEOUT}, ["command"]),
            run_command,
            destructive=True,
        ),
        Tool(
            "propose_command",
            "Queue a shell command for approval without waiting",
            "Queue a shell command for the operator's approval and return at once with its"
            " approval id and status (queued, or approved by a rule). Once approved it runs"
            " in the shared terminal; call command_result with the approval id to get its"
            " output and exit code. Use run_command when you simply want the result.",
            _obj({"command": _COMMAND, "terminal": _TERMINAL, "timeout": _TIMEOUT}, ["command"]),
            propose_command,
            destructive=True,
        ),
        Tool(
            "command_result",
            "Wait for a proposed command's result",
            "Wait for the command proposed with propose_command to be decided and run;"
            " returns its output and exit code, or an error with the operator's reason if"
            " it was rejected or expired.",
            _obj(
                {
                    "approval_id": {
                        "type": "string",
                        "minLength": 1,
                        "description": "The id propose_command returned.",
                    }
                },
                ["approval_id"],
            ),
            command_result,
            read_only=True,
        ),
        Tool(
            "check_edit",
            "Check a planned file edit against other agents' edits",
            "Before editing a file, check whether other agents recently changed the same"
            " lines (overlapping or touching ranges of edits you have not seen). Returns"
            " the conflicting edits, or says the lines are clear. If it says HOLD, re-read"
            " the file first: someone else changed it.",
            _obj(
                {
                    "path": {
                        "type": "string",
                        "minLength": 1,
                        "description": "The file (absolute, or relative to your working directory).",
                    },
                    "ranges": _RANGES,
                },
                ["path", "ranges"],
            ),
            check_edit,
            read_only=True,
        ),
        Tool(
            "report_edit",
            "Report a file edit you made",
            "After you change a file, report the edit so the operator and the other agents"
            " see it: pass the file's whole contents before the edit (old) and after it"
            " (new; default: the file as it is on disk now). The changed line ranges are"
            " computed from them. If the edit conflicts with a concurrent edit by another"
            " agent the reply says CONFLICT and the operator decides.",
            _obj(
                {
                    "path": {
                        "type": "string",
                        "minLength": 1,
                        "description": "The file (absolute, or relative to your working directory).",
                    },
                    "old": {"type": "string", "description": "Its whole contents before the edit."},
                    "new": {
                        "type": "string",
                        "description": "Its whole contents after the edit (default: read from disk).",
                    },
                },
                ["path", "old"],
            ),
            report_edit,
        ),
        Tool(
            "list_tasks",
            "List the session's tasks",
            "List the tasks the operator created for the agents: id, status, assignee,"
            " description. Filter by status, or only yours.",
            _obj(
                {
                    "status": {
                        "type": "string",
                        "enum": ["open", "assigned", "in_progress", "blocked", "done"],
                        "description": "Only tasks with this status.",
                    },
                    "mine": {"type": "boolean", "description": "Only tasks assigned to you."},
                },
                [],
            ),
            list_tasks,
            read_only=True,
        ),
        Tool(
            "claim_task",
            "Claim a task",
            "Take an open task: it is assigned to you, and the others see that you work on"
            " it. Fails if another agent holds it.",
            _obj({"task_id": _TASK_ID}, ["task_id"]),
            claim_task,
        ),
        Tool(
            "update_task",
            "Update the status of your task",
            "Set the status of a task you hold (in_progress, blocked, done, or open to give"
            " it back), with a short note for the operator: what you did, or what blocks you.",
            _obj(
                {
                    "task_id": _TASK_ID,
                    "status": {
                        "type": "string",
                        "enum": ["open", "assigned", "in_progress", "blocked", "done"],
                    },
                    "note": {"type": "string", "description": "A short note for the operator."},
                },
                ["task_id", "status"],
            ),
            update_task,
        ),
        Tool(
            "session_state",
            "The supervised session at a glance",
            "Who you are in this session and what is going on: your permissions, the shared"
            " terminals, your commands waiting for a decision or running, unresolved edit"
            " conflicts, and tasks (yours and how many are open).",
            _obj({}, []),
            session_state,
            read_only=True,
        ),
    )
}
