"""Command palette entries for every action of the app.

The provider needs nothing of the app but Textual's ``run_action``: each entry names
an action (``approve``, ``show_tab('log')``) that the app defines as ``action_<name>``.
"""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

ACTIONS: list[tuple[str, str, str]] = [
    ("Approve selected request", "approve", "run the selected (or oldest) pending command"),
    ("Edit then approve", "edit", "open the editor on the selected command"),
    ("Reject selected request", "reject", "reject with a reason sent to the agent"),
    ("Approve similar (save a rule)", "similar", "preview the rule, then approve"),
    ("Take over the current terminal", "take_over", "type into the current pane"),
    ("Next terminal pane", "next_pane", "ctrl+pgdn"),
    ("Previous terminal pane", "prev_pane", "ctrl+pgup"),
    ("Zoom the current pane", "zoom", "toggle full size"),
    ("Show terminals", "show_tab('terminals')", "f2"),
    ("Show conflicts", "show_tab('conflicts')", "f3"),
    ("Show agents and tasks", "show_tab('agents')", "f4"),
    ("Show event log", "show_tab('log')", "f5"),
    ("Resolve conflict: keep first", "resolve('keep_first')", "the first agent's edit wins"),
    ("Resolve conflict: keep second", "resolve('keep_second')", "the second agent's edit wins"),
    ("Resolve conflict: keep both", "resolve('keep_both')", "both edits stand"),
    ("Resolve conflict: manual merge", "resolve('manual')", "you merge the file by hand"),
    *[
        (
            f"Start a supervised agent: {title}",
            f"start_agent('{vendor}')",
            f"a new pane running {binary}, wired to this session ({how})",
        )
        for vendor, title, binary, how in (
            ("claude", "Claude Code", "claude", "hooks"),
            ("codex", "Codex", "codex", "hooks"),
            ("gemini", "Gemini CLI", "gemini", "hooks"),
            ("aider", "aider", "aider", "agentshell wrap"),
        )
    ],
    ("Focus the approval queue", "focus_queue", "single-key decisions"),
    ("Help", "help", "every key"),
    ("Quit", "request_quit", "asks when commands are running"),
]


class AgentShellCommands(Provider):
    async def _run(self, action: str) -> None:
        await self.app.run_action(action)

    async def discover(self) -> Hits:
        for title, action, help_text in ACTIONS:
            yield DiscoveryHit(title, partial(self._run, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, action, help_text in ACTIONS:
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(title), partial(self._run, action), help=help_text
                )
