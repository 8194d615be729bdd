"""agents of the AgentShell TUI."""
