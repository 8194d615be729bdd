"""AgentShell replay layer (see docs/architecture in README)."""
