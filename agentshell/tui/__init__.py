"""AgentShell tui layer (see docs/architecture in README)."""
