"""`agentshell mcp`: the session's tools for any MCP client (stdio), on the official SDK."""
