"""Recognising a confirmation prompt in a CLI's output (no I/O: bytes in, matches out).

The watcher keeps the tail of what the CLI wrote. When the output goes quiet (the
CLI waits for an answer) the caller asks :meth:`PromptWatcher.check`: the tail is
turned into text (escape codes removed, CR-rewritten lines kept in their last
version) and its last line, the one the cursor waits on, is tried against each of
the profile's questions in order.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentshell.terminal.terminal import clean_output

from .profiles import Profile, PromptRule

#: Bytes of output kept for matching (a prompt and the lines above it fit easily).
TAIL = 16 * 1024
#: Lines above a question read as its subject, at most.
MAX_SUBJECT_LINES = 20


@dataclass(frozen=True, slots=True)
class PromptMatch:
    rule: PromptRule
    question: str
    subject: str
    #: The text of the approval item: one line.
    item: str


def _one_line(lines: list[str]) -> str:
    return "; ".join(x.strip() for x in lines if x.strip())


class PromptWatcher:
    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self._tail = bytearray()

    def feed(self, data: bytes) -> None:
        self._tail += data
        if len(self._tail) > TAIL:
            del self._tail[: len(self._tail) - TAIL]

    def consumed(self) -> None:
        """Forget the output so far (the prompt seen was answered)."""
        self._tail.clear()

    def check(self) -> PromptMatch | None:
        """The prompt the CLI now waits on, if its last line is one of the profile's."""
        if not self._tail:
            return None
        text = clean_output(bytes(self._tail))
        lines = text.split("\n")
        last = lines[-1]
        if not last.strip():
            return None
        for rule in self.profile.prompts:
            m = rule.question.search(last)
            if m is None:
                continue
            if rule.subject == "match":
                subject = (m.group("subject") or "").strip()
            else:
                above: list[str] = []
                for line in reversed(lines[:-1]):
                    if not line.strip():
                        if above:
                            break
                        continue
                    above.append(line)
                    if len(above) >= MAX_SUBJECT_LINES:
                        break
                subject = _one_line(list(reversed(above)))
            question = last.strip()
            item = rule.item.format(subject=subject, question=question).strip()
            return PromptMatch(rule, question, subject, item or question)
        return None
