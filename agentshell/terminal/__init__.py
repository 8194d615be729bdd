"""AgentShell terminal layer (see docs/architecture in README)."""
