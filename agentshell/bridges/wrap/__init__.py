"""`agentshell wrap`: prompt-driven CLIs (aider, y/n prompts) in a PTY, their confirmation prompts routed to the approval queue."""
