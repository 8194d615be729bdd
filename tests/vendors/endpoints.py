"""Scripted model endpoints on loopback for the real vendor CLIs.

Each endpoint is a real HTTP server on 127.0.0.1 (stdlib ``http.server`` in a daemon
thread) that speaks one vendor's streaming wire format:

- :class:`AnthropicEndpoint`: the Anthropic Messages API (``POST /v1/messages``,
  ``stream: true`` answered as server-sent events) for Claude Code
  (``ANTHROPIC_BASE_URL``);
- :class:`ResponsesEndpoint`: the OpenAI Responses API (``POST /v1/responses``, SSE)
  for Codex CLI (a ``model_providers`` entry with ``wire_api = "responses"``);
- :class:`GeminiEndpoint`: Gemini ``generateContent`` / ``streamGenerateContent``
  (``?alt=sse``) for Gemini CLI (``GOOGLE_GEMINI_BASE_URL``).

A script is a list of turns: :class:`ToolCall` (the model calls one tool) or
:class:`Text` (the model answers in words). Which turn a request gets is worked out
from the request itself: the number of tool results the conversation already carries
(so a retried request gets the same answer, and side requests a CLI makes, such as a
title or a routing question, do not move the script on). Past the end of the script
the last turn repeats. Every request is recorded (path, headers, JSON body) so a test
can read what the CLI sent back: the tool result after our hook allowed, denied or
edited the call.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class ToolCall:
    """A turn in which the model calls ``name`` with ``args`` (the vendor's tool name).

    ``args`` is the JSON arguments object; for a Responses API freeform tool (Codex's
    ``apply_patch``) it is the raw input text instead.
    """

    name: str
    args: dict[str, Any] | str


@dataclass(frozen=True)
class Text:
    """A turn in which the model answers ``text`` and stops."""

    text: str


Turn = ToolCall | Text


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any  # parsed JSON, or the raw text when it is not JSON


@dataclass(frozen=True)
class ToolResult:
    """What the CLI sent the model back for its tool call."""

    text: str
    error: bool | None  # the vendor's own error flag, None where it has none


@dataclass
class _State:
    script: list[Turn]
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class ScriptedEndpoint:
    """Base: a loopback HTTP server answering each request from the script."""

    def __init__(self, script: list[Turn]) -> None:
        if not script:
            raise ValueError("a script needs at least one turn")
        self.state = _State(list(script))
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body: Any = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                rec = Recorded(self.command, self.path, dict(self.headers.items()), body)
                with endpoint.state.lock:
                    endpoint.state.requests.append(rec)
                status, ctype, payload = endpoint.answer(rec)
                data = payload.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()
                self.close_connection = True

            do_POST = _serve
            do_GET = _serve
            do_PUT = _serve

            def do_HEAD(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # ----------------------------------------------------------------- lifecycle
    def __enter__(self) -> ScriptedEndpoint:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def requests(self) -> list[Recorded]:
        with self.state.lock:
            return list(self.state.requests)

    def turn(self, index: int) -> Turn:
        script = self.state.script
        return script[min(index, len(script) - 1)]

    def results(self) -> list[ToolResult]:
        """Every tool result of the conversation as the CLI last sent it, oldest first."""
        mains = self.model_requests()
        return [self.read_result(r) for r in self.tool_results(mains[-1].body)] if mains else []

    def tool_result(self) -> ToolResult | None:
        """The newest tool result the CLI sent back, or None before any."""
        for rec in reversed(self.model_requests()):
            results = self.tool_results(rec.body)
            if results:
                return self.read_result(results[-1])
        return None

    # ------------------------------------------------------------ per vendor
    def answer(self, rec: Recorded) -> tuple[int, str, str]:
        raise NotImplementedError

    @staticmethod
    def tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
        raise NotImplementedError

    @staticmethod
    def read_result(result: dict[str, Any]) -> ToolResult:
        raise NotImplementedError

    def model_requests(self) -> list[Recorded]:
        """The requests of the main conversation (the ones the script answers)."""
        raise NotImplementedError


def _sse(events: list[dict[str, Any]], named: bool = True) -> str:
    out = []
    for ev in events:
        head = f"event: {ev['type']}\n" if named else ""
        out.append(f"{head}data: {json.dumps(ev)}\n\n")
    return "".join(out)


# --------------------------------------------------------------------- Anthropic
class AnthropicEndpoint(ScriptedEndpoint):
    """Anthropic Messages API, as Claude Code calls it."""

    def __init__(self, script: list[Turn], model: str = "claude-sonnet-4-5") -> None:
        super().__init__(script)
        self.model = model
        self._ids = 0

    @staticmethod
    def is_main(rec: Recorded) -> bool:
        body = rec.body
        return (
            rec.method == "POST"
            and rec.path.split("?")[0].endswith("/v1/messages")
            and isinstance(body, dict)
            and bool(body.get("tools"))
        )

    def model_requests(self) -> list[Recorded]:
        return [r for r in self.requests if self.is_main(r)]

    @staticmethod
    def tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
        """Every ``tool_result`` block the conversation carries, oldest first."""
        found = []
        for msg in body.get("messages") or []:
            content = msg.get("content")
            if msg.get("role") == "user" and isinstance(content, list):
                found += [
                    b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"
                ]
        return found

    @staticmethod
    def read_result(result: dict[str, Any]) -> ToolResult:
        content = result.get("content")
        if isinstance(content, list):
            content = "\n".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
        return ToolResult(str(content or ""), bool(result.get("is_error")))

    def answer(self, rec: Recorded) -> tuple[int, str, str]:
        path = rec.path.split("?")[0]
        body = rec.body if isinstance(rec.body, dict) else {}
        if rec.method != "POST" or not path.endswith("/v1/messages"):
            if path.endswith("/count_tokens"):
                return 200, "application/json", json.dumps({"input_tokens": 10})
            return 200, "application/json", "{}"
        turn = self.turn(len(self.tool_results(body))) if self.is_main(rec) else Text("ok")
        with self.state.lock:
            self._ids += 1
            n = self._ids
        if isinstance(turn, ToolCall):
            block: dict[str, Any] = {
                "type": "tool_use",
                "id": f"toolu_{n:04d}",
                "name": turn.name,
                "input": turn.args,
            }
            stop = "tool_use"
        else:
            block = {"type": "text", "text": turn.text}
            stop = "end_turn"
        usage = {"input_tokens": 10, "output_tokens": 5}
        message = {
            "id": f"msg_{n:04d}",
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 1},
        }
        if not body.get("stream"):
            whole = dict(message, content=[block], stop_reason=stop, usage=usage)
            return 200, "application/json", json.dumps(whole)
        if block["type"] == "tool_use":
            start = dict(block, input={})
            delta = {"type": "input_json_delta", "partial_json": json.dumps(turn.args)}  # type: ignore[union-attr]
        else:
            start = {"type": "text", "text": ""}
            delta = {"type": "text_delta", "text": block["text"]}
        events: list[dict[str, Any]] = [
            {"type": "message_start", "message": dict(message, content=[])},
            {"type": "content_block_start", "index": 0, "content_block": start},
            {"type": "ping"},
            {"type": "content_block_delta", "index": 0, "delta": delta},
            {"type": "content_block_stop", "index": 0},
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": 5},
            },
            {"type": "message_stop"},
        ]
        return 200, "text/event-stream", _sse(events)


# ------------------------------------------------------------ OpenAI Responses
class ResponsesEndpoint(ScriptedEndpoint):
    """OpenAI Responses API (streamed), as Codex CLI calls it."""

    def __init__(self, script: list[Turn]) -> None:
        super().__init__(script)
        self._ids = 0

    @staticmethod
    def is_main(rec: Recorded) -> bool:
        return (
            rec.method == "POST"
            and rec.path.split("?")[0].endswith("/responses")
            and isinstance(rec.body, dict)
        )

    def model_requests(self) -> list[Recorded]:
        return [r for r in self.requests if self.is_main(r)]

    @staticmethod
    def tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
        """Every ``function_call_output`` (or custom tool output) item of the input."""
        return [
            item
            for item in body.get("input") or []
            if isinstance(item, dict)
            and item.get("type") in ("function_call_output", "custom_tool_call_output")
        ]

    @staticmethod
    def read_result(result: dict[str, Any]) -> ToolResult:
        output = result.get("output")
        if isinstance(output, list):
            output = "\n".join(str(b.get("text", "")) for b in output if isinstance(b, dict))
        return ToolResult(str(output or ""), None)

    @staticmethod
    def tool_names(body: dict[str, Any]) -> list[str]:
        return [str(t.get("name") or t.get("type")) for t in body.get("tools") or []]

    def answer(self, rec: Recorded) -> tuple[int, str, str]:
        if not self.is_main(rec):
            if rec.path.split("?")[0].endswith("/models"):
                return 200, "application/json", json.dumps({"object": "list", "data": []})
            return 404, "application/json", json.dumps({"error": {"message": "not scripted"}})
        body = rec.body
        turn = self.turn(len(self.tool_results(body)))
        with self.state.lock:
            self._ids += 1
            n = self._ids
        rid = f"resp_{n:04d}"
        if isinstance(turn, ToolCall) and isinstance(turn.args, str):
            item: dict[str, Any] = {
                "type": "custom_tool_call",
                "id": f"ctc_{n:04d}",
                "call_id": f"call_{n:04d}",
                "name": turn.name,
                "input": turn.args,
                "status": "completed",
            }
        elif isinstance(turn, ToolCall):
            item = {
                "type": "function_call",
                "id": f"fc_{n:04d}",
                "call_id": f"call_{n:04d}",
                "name": turn.name,
                "arguments": json.dumps(turn.args),
                "status": "completed",
            }
        else:
            item = {
                "type": "message",
                "id": f"msg_{n:04d}",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": turn.text, "annotations": []}],
            }
        usage = {
            "input_tokens": 10,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 5,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 15,
        }
        events: list[dict[str, Any]] = [
            {"type": "response.created", "response": {"id": rid, "status": "in_progress"}},
            {"type": "response.output_item.added", "output_index": 0, "item": item},
        ]
        if isinstance(turn, Text):
            events.append(
                {
                    "type": "response.output_text.delta",
                    "item_id": item["id"],
                    "output_index": 0,
                    "content_index": 0,
                    "delta": turn.text,
                }
            )
        events += [
            {"type": "response.output_item.done", "output_index": 0, "item": item},
            {
                "type": "response.completed",
                "response": {"id": rid, "status": "completed", "output": [item], "usage": usage},
            },
        ]
        return 200, "text/event-stream", _sse(events)


# ------------------------------------------------------------------------ Gemini
class GeminiEndpoint(ScriptedEndpoint):
    """Gemini API ``generateContent`` / ``streamGenerateContent``, as Gemini CLI calls it."""

    @staticmethod
    def is_main(rec: Recorded) -> bool:
        body = rec.body
        return (
            rec.method == "POST"
            and "Content" in rec.path
            and isinstance(body, dict)
            and bool(body.get("tools"))
        )

    def model_requests(self) -> list[Recorded]:
        return [r for r in self.requests if self.is_main(r)]

    @staticmethod
    def tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
        """Every ``functionResponse`` part of the conversation, oldest first."""
        found = []
        for content in body.get("contents") or []:
            for part in content.get("parts") or []:
                if isinstance(part, dict) and "functionResponse" in part:
                    found.append(part["functionResponse"])
        return found

    @staticmethod
    def read_result(result: dict[str, Any]) -> ToolResult:
        response = result.get("response") or {}
        if "error" in response:
            return ToolResult(str(response["error"]), True)
        return ToolResult(str(response.get("output", json.dumps(response))), False)

    def answer(self, rec: Recorded) -> tuple[int, str, str]:
        path = rec.path.split("?")[0]
        body = rec.body if isinstance(rec.body, dict) else {}
        if path.endswith(":countTokens"):
            return 200, "application/json", json.dumps({"totalTokens": 10})
        if rec.method != "POST" or "Content" not in path:
            return 404, "application/json", json.dumps({"error": {"code": 404, "message": "no"}})
        if self.is_main(rec):
            turn = self.turn(len(self.tool_results(body)))
        else:
            # a side question (next speaker, model routing): a JSON answer that ends it
            turn = Text(
                json.dumps(
                    {"reasoning": "scripted", "next_speaker": "user", "model_choice": "flash"}
                )
            )
        if isinstance(turn, ToolCall):
            part: dict[str, Any] = {"functionCall": {"name": turn.name, "args": turn.args}}
        else:
            part = {"text": turn.text}
        chunk = {
            "candidates": [
                {"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}
            ],
            "usageMetadata": {
                "promptTokenCount": 10,
                "candidatesTokenCount": 5,
                "totalTokenCount": 15,
            },
            "modelVersion": "gemini-2.5-flash",
        }
        if path.endswith(":streamGenerateContent"):
            return 200, "text/event-stream", f"data: {json.dumps(chunk)}\r\n\r\n"
        return 200, "application/json", json.dumps(chunk)
