"""Bridges: the agents people already run (vendor hooks, MCP clients, prompt-driven CLIs) as coordinator agents."""
