"""sidebar of the AgentShell TUI."""
