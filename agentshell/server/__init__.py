"""AgentShell server layer (see docs/architecture in README)."""
