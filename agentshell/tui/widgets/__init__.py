"""widgets of the AgentShell TUI."""
