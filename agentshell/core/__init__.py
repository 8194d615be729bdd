"""Pure logic, no I/O: events, state reducer, OT, line ranges, approvals, capabilities."""
