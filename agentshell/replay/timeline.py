"""A recorded session as a timeline you can seek in (no Textual, nothing executed).

Opening reads ``events.log`` once, read-only, and keeps a light index: each
record's byte offset and timestamp, the markers (approvals, rejections, conflicts)
and, per terminal, its ``terminal_opened``/``terminal_resized``/``terminal_output``/
``terminal_closed`` events (output kept as views of the log, which is mapped into
memory read-only, not read: only the pages a seek touches are resident, and they are
the page cache's). A torn or damaged end
stops the index at the last intact record (``Timeline.stopped`` says why): replay
shows everything durable and never repairs the log.

A *position* ``pos`` (0..len) is "the first ``pos`` records folded".
:meth:`Timeline.seek` returns the session state and one :class:`Emulator` per
terminal at that position:

* State: start from the best base at or before ``pos`` (the position the timeline
  is at now, an in-memory checkpoint, or a store snapshot from ``snapshots/``), then
  fold only the records in between with the store's fast fold. While folding
  forward, a copy of the state is kept every ``checkpoint_every`` records, so later
  seeks backwards are short too.
* Screens: a terminal's emulator moves forward with the timeline. While it is fed
  forward, a copy of it is kept every :data:`KEYFRAME_BYTES` of output (a keyframe,
  :meth:`Emulator.clone`, taken between escape sequences); a seek backwards, or far
  forwards past a keyframe, starts from a copy of the nearest keyframe (or the
  terminal's last reset, its ``terminal_opened``, when that is nearer) and re-feeds
  only the output after it. Replay never starts a shell or a PTY: only emulators
  fed recorded bytes.

Times: the *time of a position* is the largest event timestamp up to it (a running
maximum, so time never goes backwards even when producers' clocks disagree);
:meth:`position_at` maps a time back to the last position at or before it.
"""

from __future__ import annotations

import bisect
import mmap
import os
import zlib
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack  # type: ignore[import-untyped]

from agentshell.core.errors import AgentShellError
from agentshell.core.state import SessionState, copy_state, fold_records, new_state
from agentshell.store.framing import BATCH_FLAG, HEADER, HEADER_SIZE, MAX_RECORD, PROGRESS_STEP
from agentshell.store.session import LOG_NAME, SNAPSHOT_DIR, SessionNotFoundError
from agentshell.store.snapshots import Snapshot, iter_good_snapshots
from agentshell.terminal.emulator import Emulator

#: Marker kinds and the glyph the scrubber draws for each.
MARKER_GLYPHS = {"approved": "✓", "rejected": "✗", "conflict": "!"}
DEFAULT_SIZE = (80, 24)
#: A terminal's emulator is copied (a keyframe) every this many bytes of output fed:
#: a seek re-feeds at most about this much (realistic output: ~50 MB/s, so ~40 ms).
#: Each keyframe holds its screen rows and the scrollback's row references (~80 kB
#: with a full 10,000-row scrollback; the rows themselves are shared).
KEYFRAME_BYTES = 2 << 20
#: Event types the index pass looks into (the others only give an offset and a time).
_SPECIAL = frozenset(
    {
        "approval_queued",
        "approval_decided",
        "conflict_detected",
        "terminal_opened",
        "terminal_resized",
        "terminal_output",
        "terminal_closed",
    }
)


def _batch_items(payload: memoryview, base: int) -> list[tuple[Any, int]]:
    """The records of a batch frame's payload with the file offset where each starts."""
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, max_buffer_size=MAX_RECORD)
    unpacker.feed(payload)
    out = []
    start = 0
    for rec in unpacker:
        out.append((rec, base + start))
        start = unpacker.tell()
    if start != len(payload):
        raise ValueError("the batch ends inside a record")
    return out


class ReplayError(AgentShellError):
    """The recording cannot be replayed (no log, nothing in it, bad position)."""


@dataclass(frozen=True, slots=True)
class Marker:
    """A decision point: ``pos`` is the position just after the marked event."""

    pos: int
    seq: int
    ts: float
    kind: str  # approved | rejected | conflict
    label: str


@dataclass(slots=True)
class TerminalTrack:
    """One terminal's recorded events: ``(record index, kind, value)``.

    kind ``reset`` (value ``(columns, lines)``: a new emulator), ``resize`` (same
    value), ``output`` (bytes), ``closed`` (None).
    """

    name: str
    index: list[int] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)
    size: tuple[int, int] = DEFAULT_SIZE
    #: Where in the track its resets are (ascending).
    resets: list[int] = field(default_factory=list)
    #: ``output_before[j]``: bytes of output in the track's first ``j`` events.
    output_before: array[int] = field(default_factory=lambda: array("q", [0]))

    def add(self, i: int, kind: str, value: Any) -> None:
        if kind == "reset":
            self.resets.append(len(self.kinds))
        self.index.append(i)
        self.kinds.append(kind)
        self.values.append(value)
        self.output_before.append(self.output_before[-1] + (len(value) if kind == "output" else 0))


@dataclass(slots=True)
class _Screen:
    emulator: Emulator
    applied: int  # how many of the track's events are in the emulator
    fed: int = 0  # output bytes fed since the last keyframe (or reset)


@dataclass(slots=True)
class _Keyframes:
    """Copies of one terminal's emulator: ``emulators[i]`` has the first
    ``applied[i]`` events of the track in it (``applied`` ascending)."""

    applied: list[int] = field(default_factory=list)
    emulators: list[Emulator] = field(default_factory=list)

    def keep(self, applied: int, emulator: Emulator) -> None:
        i = bisect.bisect_left(self.applied, applied)
        if i == len(self.applied) or self.applied[i] != applied:
            self.applied.insert(i, applied)
            self.emulators.insert(i, emulator.clone())

    def at_or_before(self, k: int) -> int:
        """The index of the last keyframe with at most ``k`` events, or -1."""
        return bisect.bisect_right(self.applied, k) - 1


class Timeline:
    """The index of one recorded session (see the module docstring)."""

    def __init__(
        self,
        session_dir: str | Path,
        *,
        checkpoint_every: int = 5000,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """``progress(done, total)`` is called with the bytes indexed so far while
        the index pass reads a long log (every :data:`PROGRESS_STEP` bytes), and with
        ``(total, total)`` once it is done."""
        self.session_dir = Path(session_dir)
        self.log_path = self.session_dir / LOG_NAME
        if not self.log_path.is_file():
            raise SessionNotFoundError(f"no session at {self.session_dir} (no {LOG_NAME} there)")
        self.session_name = self.session_dir.name
        self.checkpoint_every = max(1, checkpoint_every)
        # mapped, not read: the log's pages stay the page cache's, and recorded output
        # is kept as views of them, not as copies (a 1 GB recording costs ~1 GB less)
        with open(self.log_path, "rb") as f:
            self.data: bytes | mmap.mmap = b""
            if os.fstat(f.fileno()).st_size:
                try:
                    self.data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
                except (OSError, ValueError):  # a file system that cannot map files
                    self.data = f.read()
        self._view = memoryview(self.data)
        #: Per record: where its msgpack body starts and ends in the file (record
        #: frames hold one body, batch frames several); ``offsets`` has one more
        #: entry, the end of the last intact frame.
        self.offsets = array("q")
        self.ends = array("q")
        self.times = array("d")  # running maximum of timestamps, per record
        self.seqs = array("q")
        self.markers: list[Marker] = []
        self.tracks: dict[str, TerminalTrack] = {}
        #: Why the index ends before the end of the file ("" when it reads to the end).
        self.stopped = ""
        self._scan(progress)
        self.start_time = self.times[0] if len(self.times) else 0.0
        self._snapshots: dict[int, Snapshot] = {}
        self._load_snapshots()
        self._checkpoints: dict[int, SessionState] = {0: new_state(self.session_name)}
        self._pos = 0
        self._state = new_state(self.session_name)
        self._screens: dict[str, _Screen] = {}
        self._keyframes: dict[str, _Keyframes] = {}

    # ------------------------------------------------------------------ index

    def _scan(self, progress: Callable[[int, int], None] | None) -> None:
        data = self.data
        mv = memoryview(data)
        n = len(data)
        pos = 0
        running = 0.0
        crc32 = zlib.crc32
        unpack_from = HEADER.unpack_from
        unpackb = msgpack.unpackb
        add_offset, add_end = self.offsets.append, self.ends.append
        add_time, add_seq = self.times.append, self.seqs.append
        special = _SPECIAL
        commands: dict[str, tuple[str, str]] = {}
        opened_pending: dict[str, bool] = {}  # terminal -> output seen, no opened yet
        i = 0
        report = PROGRESS_STEP if progress is not None else n + 1
        while pos < n:
            if pos >= report:
                assert progress is not None
                progress(pos, n)
                report = pos + PROGRESS_STEP
            if n - pos < HEADER_SIZE:
                self.stopped = f"torn header at byte {pos}"
                break
            length, crc = unpack_from(data, pos)
            batch = length & BATCH_FLAG
            length &= ~BATCH_FLAG
            end = pos + HEADER_SIZE + length
            if end > n:
                self.stopped = f"torn record at byte {pos}"
                break
            body = mv[pos + HEADER_SIZE : end]
            if crc32(body) != crc:
                self.stopped = f"bad checksum at byte {pos}"
                break
            try:
                if batch:
                    items = _batch_items(body, pos + HEADER_SIZE)
                else:
                    items = [(unpackb(body, raw=False, strict_map_key=False), pos + HEADER_SIZE)]
                found = [(rec, start, rec["t"], rec["ts"], rec["s"]) for rec, start in items]
                max(running, *(f[3] for f in found))  # timestamps compare (or it raises)
            except Exception as exc:  # a damaged body: the durable part ends here
                self.stopped = f"undecodable record at byte {pos} ({exc})"
                break
            for k, (rec, start, t, ts, seq) in enumerate(found):
                if ts > running:
                    running = ts
                add_offset(start)
                add_end(found[k + 1][1] if k + 1 < len(found) else end)
                add_time(running)
                add_seq(seq)
                i += 1
                if t in special:
                    self._index_special(i - 1, t, rec, running, commands, opened_pending)
            pos = end
        if progress is not None:
            progress(n, n)  # done, also when the log ends early (``stopped`` says why)
        if not len(self.offsets):
            raise ReplayError(f"the session at {self.session_dir} holds no events")
        self.offsets.append(pos)  # the end of the last intact frame

    def _index_special(
        self,
        i: int,
        t: str,
        rec: dict[str, Any],
        running: float,
        commands: dict[str, tuple[str, str]],
        opened_pending: dict[str, bool],
    ) -> None:
        p = rec["p"]
        seq = int(rec["s"])
        if t == "approval_queued":
            commands[p["approval_id"]] = (str(rec["a"]), str(p.get("command", "")))
        elif t == "approval_decided":
            decision = p.get("decision")
            if decision in ("approved", "rejected"):
                agent, cmd = commands.get(p["approval_id"], ("?", "?"))
                shown = p.get("command") or cmd
                label = f"{decision}: {agent} $ {shown}"
                self.markers.append(Marker(i + 1, seq, running, str(decision), label))
        elif t == "conflict_detected":
            agents = " vs ".join(p.get("agents", []))
            label = f"conflict: {p.get('file_path', '?')} ({agents})"
            self.markers.append(Marker(i + 1, seq, running, "conflict", label))
        else:
            self._index_terminal(i, t, p, opened_pending)

    def _index_terminal(
        self, i: int, t: str, p: dict[str, Any], opened_pending: dict[str, bool]
    ) -> None:
        name = str(p.get("terminal", ""))
        track = self.tracks.get(name)
        if track is None:
            track = self.tracks[name] = TerminalTrack(name)
        if t == "terminal_output":
            if name not in opened_pending:
                # output before this shell's terminal_opened (the coordinator logs the
                # opened event after the shell started): a reset whose size the
                # opened event fills in below
                opened_pending[name] = True
                track.add(i, "reset", None)
            data = p["data"]
            end = self.ends[i]
            n = len(data)
            view = self._view[end - n : end]
            if view.tobytes() == data:  # the output's bytes end the record (as written)
                track.add(i, "output", view)
            else:
                track.add(i, "output", data)
        elif t == "terminal_opened":
            size = (int(p.get("columns", 80)), int(p.get("lines", 24)))
            track.size = size
            if opened_pending.get(name):
                k = max(j for j, kind in enumerate(track.kinds) if kind == "reset")
                track.values[k] = size
            else:
                track.add(i, "reset", size)
            opened_pending[name] = False
        elif t == "terminal_resized":
            size = (int(p["columns"]), int(p["lines"]))
            track.size = size
            track.add(i, "resize", size)
        elif t == "terminal_closed":
            track.add(i, "closed", None)
            opened_pending.pop(name, None)

    def _load_snapshots(self) -> None:
        for got in iter_good_snapshots(self.session_dir / SNAPSHOT_DIR):
            if not isinstance(got, Snapshot) or got.last_seq <= 0:
                continue
            k = bisect.bisect_left(self.ends, got.log_offset) + 1
            # the snapshot fits this log when its offset ends record last_seq
            if (
                0 < k <= len(self.ends)
                and self.ends[k - 1] == got.log_offset
                and self.seqs[k - 1] == got.last_seq
            ):
                self._snapshots[k] = got

    # --------------------------------------------------------------- lookups

    def __len__(self) -> int:
        return len(self.seqs)

    @property
    def end_time(self) -> float:
        return self.times[len(self.times) - 1]

    @property
    def duration(self) -> float:
        return self.end_time - self.start_time

    @property
    def position(self) -> int:
        return self._pos

    @property
    def snapshot_positions(self) -> list[int]:
        return sorted(self._snapshots)

    def time_of(self, pos: int) -> float:
        """The time at position ``pos`` (the start time at 0)."""
        return self.start_time if pos <= 0 else self.times[min(pos, len(self)) - 1]

    def position_at(self, t: float) -> int:
        """The last position whose time is at or before ``t`` (absolute seconds)."""
        return bisect.bisect_right(self.times, t)

    def position_of_seq(self, seq: int) -> int:
        """The position just after the event with sequence number ``seq``."""
        return bisect.bisect_right(self.seqs, seq)

    def output_bytes(self, start: int, stop: int) -> int:
        """Bytes of terminal output recorded in positions ``start..stop-1`` (all
        terminals): what a seek from ``start`` to ``stop`` may have to feed."""
        return self._output_before(stop) - self._output_before(start)

    def position_after_output(self, start: int, nbytes: int) -> int:
        """The first position by which ``nbytes`` more of terminal output than up to
        ``start`` are recorded (the end when the recording holds less)."""
        lo, hi = start, len(self)
        while lo < hi:  # output_bytes(start, p) grows with p: bisect on it
            mid = (lo + hi) // 2
            if self.output_bytes(start, mid) >= nbytes:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def _output_before(self, pos: int) -> int:
        """Output recorded in positions before ``pos``, all terminals (per-track sums)."""
        return sum(t.output_before[bisect.bisect_left(t.index, pos)] for t in self.tracks.values())

    def next_marker(self, pos: int) -> Marker | None:
        for m in self.markers:
            if m.pos > pos:
                return m
        return None

    def previous_marker(self, pos: int) -> Marker | None:
        for m in reversed(self.markers):
            if m.pos < pos:
                return m
        return None

    def records(self, start: int, stop: int) -> Iterator[dict[str, Any]]:
        """Decoded records ``start..stop-1`` (fresh dicts each call)."""
        if stop <= start:
            return iter(())
        # The bodies were verified by the index pass; one unpacker decodes them all.
        mv = self._view
        starts, ends = self.offsets, self.ends
        unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, max_buffer_size=0)
        unpacker.feed(b"".join([mv[starts[i] : ends[i]] for i in range(start, stop)]))
        return iter(unpacker)

    # ------------------------------------------------------------------ seek

    def seek(
        self, target: int | None = None, *, t: float | None = None, seq: int | None = None
    ) -> tuple[SessionState, dict[str, Emulator]]:
        """State and screens at position ``target`` (or time ``t``, or after ``seq``).

        The state is a copy (safe to keep); the emulators belong to the timeline and
        move on with the next seek.
        """
        if t is not None:
            target = self.position_at(t)
        elif seq is not None:
            target = self.position_of_seq(seq)
        if target is None:
            raise ReplayError("seek needs a position, a time or a sequence number")
        target = max(0, min(int(target), len(self)))
        self._seek_state(target)
        self._pos = target
        return copy_state(self._state), self.screens_at(target)

    def _seek_state(self, target: int) -> None:
        if target == self._pos:
            return
        base = self._pos if self._pos < target else 0
        cps = [k for k in self._checkpoints if base <= k <= target]
        snaps = [k for k in self._snapshots if base <= k <= target]
        best = max([*cps, *snaps, base])
        if best == self._pos and self._pos <= target:
            state = self._state
        elif best in self._checkpoints:
            state = copy_state(self._checkpoints[best])
        elif best in self._snapshots:
            state = self._snapshots[best].state()
        else:  # pragma: no cover - position 0 is always a checkpoint
            state = new_state(self.session_name)
        every = self.checkpoint_every
        pos = best
        while pos < target:
            stop = min(target, (pos // every + 1) * every)
            fold_records(state, self.records(pos, stop), state["last_updated_at"])
            pos = stop
            if pos % every == 0 and pos not in self._checkpoints:
                self._checkpoints[pos] = copy_state(state)
        self._state = state

    @property
    def keyframe_count(self) -> int:
        """How many emulator copies the timeline keeps (see :data:`KEYFRAME_BYTES`)."""
        return sum(len(kf.applied) for kf in self._keyframes.values())

    def screens_at(self, target: int) -> dict[str, Emulator]:
        """One emulator per terminal that has a screen at ``target``."""
        out: dict[str, Emulator] = {}
        for name, track in self.tracks.items():
            k = bisect.bisect_left(track.index, target)  # events before target
            keyframes = self._keyframes.setdefault(name, _Keyframes())
            start, i = self._start(name, track, k)
            if start == "keyframe":
                screen = _Screen(keyframes.emulators[i].clone(), keyframes.applied[i])
                self._screens[name] = screen
            elif start == "reset":
                screen = self._screens[name] = _Screen(_new_emulator(track.size), i)
            else:
                screen = self._screens[name]
            _apply(track, screen, k, keyframes.keep)
            if k > 0 or screen.applied > 0:
                out[name] = screen.emulator
        return out

    def seek_cost(self, target: int) -> int:
        """Bytes of output :meth:`seek` to ``target`` would feed emulators (from the
        nearest keyframe, reset or the screens where they are)."""
        cost = 0
        for name, track in self.tracks.items():
            k = bisect.bisect_left(track.index, target)
            start, i = self._start(name, track, k)
            if start == "keyframe":
                i = self._keyframes[name].applied[i]
            elif start == "here":
                i = self._screens[name].applied
            cost += track.output_before[k] - track.output_before[i]
        return cost

    def _start(self, name: str, track: TerminalTrack, k: int) -> tuple[str, int]:
        """Where a screen of ``track`` with its first ``k`` events starts from: its
        emulator as it is (``("here", 0)``), a copy of keyframe ``i``
        (``("keyframe", i)``) or a new emulator at reset event ``i`` (``("reset",
        i)``), whichever leaves the least to feed."""
        screen = self._screens.get(name)
        keyframes = self._keyframes.get(name)
        i = keyframes.at_or_before(k) if keyframes is not None else -1
        kf = keyframes.applied[i] if keyframes is not None and i >= 0 else -1
        r = bisect.bisect_right(track.resets, k - 1) - 1
        reset = track.resets[r] if r >= 0 else 0
        now = -1 if screen is None or screen.applied > k else screen.applied
        if max(kf, reset) <= now:
            return "here", 0
        return ("keyframe", i) if kf > reset else ("reset", reset)


def _new_emulator(size: tuple[int, int] | None) -> Emulator:
    columns, lines = size or DEFAULT_SIZE
    return Emulator(columns, lines)  # no reply callback: nothing is written anywhere


def _apply(
    track: TerminalTrack, screen: _Screen, k: int, keep: Callable[[int, Emulator], None]
) -> None:
    """Feed ``screen`` the track's events up to ``k``; ``keep(applied, emulator)``
    every :data:`KEYFRAME_BYTES` of output (at the first event boundary after them
    where the emulator is between escape sequences)."""
    kinds, values = track.kinds, track.values
    em = screen.emulator
    run: list[bytes] = []  # consecutive output is fed as one chunk (the emulator's fast paths)
    size = 0
    for j in range(screen.applied, k):
        kind = kinds[j]
        if kind == "output":
            run.append(values[j])
            size += len(values[j])
            if screen.fed + size >= KEYFRAME_BYTES:
                em.feed(b"".join(run))
                run, screen.fed, size = [], screen.fed + size, 0
                if em.at_rest:
                    keep(j + 1, em)
                    screen.fed = 0
            continue
        if run:
            em.feed(b"".join(run))
            run, screen.fed, size = [], screen.fed + size, 0
        if kind == "reset":
            em = screen.emulator = _new_emulator(values[j])
            screen.fed = 0
        elif kind == "resize":
            em.resize(*values[j])
    if run:
        em.feed(b"".join(run))
        screen.fed += size
    screen.applied = max(screen.applied, k)


def find_session_dir(path: str | Path, session: str | None = None) -> Path:
    """The session directory meant by ``path``: a session directory itself, or a
    data directory holding exactly one session (or the one named ``session``)."""
    p = Path(path)
    if not p.exists():
        raise ReplayError(f"{p} does not exist")
    if not p.is_dir():
        raise ReplayError(f"{p} is not a directory (give a session directory or a data directory)")
    if session:
        cand = p / session
        if (cand / LOG_NAME).is_file():
            return cand
        if p.name == session and (p / LOG_NAME).is_file():
            return p
        raise ReplayError(f"no session {session!r} in {p}")
    if (p / LOG_NAME).is_file():
        return p
    found = sorted(c for c in p.iterdir() if (c / LOG_NAME).is_file())
    if not found:
        raise ReplayError(f"no recorded session in {p} (no {LOG_NAME} in it or below it)")
    if len(found) > 1:
        names = ", ".join(c.name for c in found)
        raise ReplayError(f"{p} holds several sessions ({names}): choose one with --session NAME")
    return found[0]
