"""screens of the AgentShell TUI."""
