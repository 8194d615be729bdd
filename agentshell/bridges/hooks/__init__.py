"""Vendor tool-call hooks (Claude Code, Codex CLI, Gemini CLI) as coordinator agents.

``python -m agentshell.bridges.hooks --vendor claude`` (or ``agentshell hook``) reads
one hook call on stdin and answers on stdout (see ``docs/vendors.md``). The modules:

* :mod:`.model`: the neutral :class:`~.model.ToolCall` and :class:`~.model.Decision`;
* :mod:`.claude`, :mod:`.codex`, :mod:`.gemini`: each vendor's stdin -> ToolCall and
  Decision -> stdout / exit code;
* :mod:`.wire`: a small blocking client of the agent socket (a hook lives for one call);
* :mod:`.policy`: what a call becomes (an approval item, check_edit / report_edit, a
  recorded command) and the decision it gets;
* :mod:`.files`: the lines an edit touches, old contents kept between before and after;
* :mod:`.entry`: the command line, failing closed.

This package imports only the standard library and msgpack on the way to a decision,
so that a hook call costs little more than starting the interpreter.
"""
