"""AgentShell store layer (see docs/architecture in README)."""
