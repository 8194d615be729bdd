"""The MCP server of ``agentshell mcp`` on stdio, built on the official ``mcp`` SDK.

It lists :data:`~agentshell.bridges.mcp.tools.TOOLS` with their schemas and calls
them through one :class:`~agentshell.bridges.mcp.tools.Bridge`. A failed call is a
tool result with ``isError`` and the reason as its text (the model reads it); only
a malformed MCP request is a protocol error. While a command waits for the
operator, progress notifications go out every few seconds when the client asked
for them (clients that reset their timeout on progress keep waiting).
"""

from __future__ import annotations

import json
from typing import Any

import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from agentshell import __version__

from .tools import TOOLS, Bridge, ToolError

INSTRUCTIONS = (
    "AgentShell supervises this session: a human operator approves, edits or rejects"
    " every shell command and sees every file edit. Run shell commands with run_command"
    " (it waits for the decision and returns output and exit code). Before editing a file"
    " call check_edit with the lines you will change, and after editing call report_edit."
    " A rejected command comes back as an error with the operator's reason: follow it."
)


def tool_list() -> list[types.Tool]:
    return [
        types.Tool(
            name=t.name,
            title=t.title,
            description=t.description,
            input_schema=t.schema,
            annotations=types.ToolAnnotations(
                title=t.title,
                read_only_hint=t.read_only,
                destructive_hint=t.destructive if not t.read_only else None,
                open_world_hint=False,
            ),
        )
        for t in TOOLS.values()
    ]


def build_server(bridge: Bridge) -> Server[Any]:
    tools = tool_list()

    async def list_tools(
        ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        step = 0

        async def progress(message: str) -> None:
            nonlocal step
            step += 1
            try:
                await ctx.session.report_progress(float(step), None, message)
            except Exception:  # a client that went away; the call goes on
                return

        try:
            out = await bridge.call(params.name, params.arguments, progress)
        except ToolError as exc:
            return types.CallToolResult(
                content=[types.TextContent(text=str(exc))],
                structured_content={"error": str(exc)},
                is_error=True,
            )
        return types.CallToolResult(
            content=[types.TextContent(text=out.text)],
            structured_content=json.loads(json.dumps(out.data, default=str)),
        )

    return Server(
        "agentshell",
        version=__version__,
        title="AgentShell",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


async def serve_stdio(bridge: Bridge) -> None:
    """Serve MCP on stdin/stdout until the client closes them."""
    server = build_server(bridge)
    try:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())
    finally:
        await bridge.close()
