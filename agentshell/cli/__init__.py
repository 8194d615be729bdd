"""AgentShell cli layer (see docs/architecture in README)."""
