"""AgentShell client layer (see docs/architecture in README)."""
