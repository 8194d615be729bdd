"""log of the AgentShell TUI."""
