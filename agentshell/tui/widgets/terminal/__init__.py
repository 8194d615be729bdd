"""terminal of the AgentShell TUI."""
