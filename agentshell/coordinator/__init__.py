"""AgentShell coordinator layer (see docs/architecture in README)."""
