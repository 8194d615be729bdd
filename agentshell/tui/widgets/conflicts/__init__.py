"""conflicts of the AgentShell TUI."""
