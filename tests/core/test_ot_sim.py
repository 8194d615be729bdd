"""Central-server OT: OTServerDoc + OTClientDoc converge under any delivery order.

The simulation has N clients and one server. Each client has a FIFO channel to
the server and the server a FIFO channel to each client (as a socket gives). A
schedule interleaves local edits, deliveries, duplicate resends and
disconnect/reconnect (the channels are lost, an in-transit op may or may not have
reached the server, the client catches up from ``ops_since`` and resends).
Thousands of random schedules run; AGENTSHELL_STRESS=1 runs ten times more.
"""

from __future__ import annotations

import os
import random
from collections import deque
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentshell.core import ot
from tests.core.ot_strategies import random_op

STRESS = bool(os.environ.get("AGENTSHELL_STRESS"))
SCHEDULES = 20_000 if STRESS else 2_000


class Sim:
    def __init__(self, rng: random.Random, n_clients: int, initial: str = "") -> None:
        self.rng = rng
        self.server = ot.OTServerDoc(initial)
        self.initial = initial
        self.clients = [ot.OTClientDoc(initial) for _ in range(n_clients)]
        self.names = [f"agent{i}" for i in range(n_clients)]
        self.up: list[deque[tuple[int, ot.Op, int]]] = [deque() for _ in range(n_clients)]
        self.down: list[deque[tuple[Any, ...]]] = [deque() for _ in range(n_clients)]
        self.delivered: list[tuple[int, tuple[int, ot.Op, int]]] = []
        self.stats = {"edits": 0, "dups": 0, "reconnects": 0}

    def send(self, i: int, op: ot.Op | None) -> None:
        if op is not None:
            c = self.clients[i]
            self.up[i].append((c.revision, op, c.inflight_seq))

    def edit(self, i: int) -> None:
        c = self.clients[i]
        self.stats["edits"] += 1
        self.send(i, c.local(random_op(self.rng, len(c.text))))

    def to_server(self, i: int) -> None:
        msg = self.up[i].popleft()
        self.server_receive(i, msg)
        self.delivered.append((i, msg))

    def server_receive(self, i: int, msg: tuple[int, ot.Op, int]) -> None:
        base, op, seq = msg
        s = self.server
        assert not s.is_duplicate(self.names[i], seq)
        op2, rev = s.receive(base, op, self.names[i], seq)
        assert rev == s.revision
        for j in range(len(self.clients)):
            if j == i:
                self.down[j].append(("ack", rev, seq))
            else:
                self.down[j].append(("op", op2, rev))

    def duplicate(self) -> None:
        """A resend of something the server already applied changes nothing."""
        i, (base, op, seq) = self.rng.choice(self.delivered)
        s = self.server
        before = (s.text, s.revision, len(s.history))
        assert s.is_duplicate(self.names[i], seq)
        op2, rev = s.receive(base, op, self.names[i], seq)
        assert (s.text, s.revision, len(s.history)) == before
        assert s.history[rev - 1 - s.history_start] == op2
        self.stats["dups"] += 1

    def to_client(self, i: int) -> None:
        msg = self.down[i].popleft()
        c = self.clients[i]
        if msg[0] == "ack":
            assert msg[2] == c.inflight_seq
            self.send(i, c.ack(msg[1]))
        else:
            c.remote(msg[1], msg[2])

    def reconnect(self, i: int) -> None:
        self.stats["reconnects"] += 1
        for msg in self.up[i]:  # in transit: may or may not have reached the server
            if self.rng.random() < 0.5:
                self.server_receive(i, msg)
                self.delivered.append((i, msg))
            break  # (only the first: later ones were never sent before the ack)
        self.up[i].clear()
        self.down[i].clear()
        c = self.clients[i]
        for _rev, op, agent, seq in self.server.ops_since(c.revision):
            if c.inflight is not None and agent == self.names[i] and seq == c.inflight_seq:
                c.ack()
            else:
                c.remote(op)
        if c.inflight is not None:
            self.send(i, c.inflight)

    def step(self) -> None:
        rng = self.rng
        r = rng.random()
        n = len(self.clients)
        if r < 0.35:
            self.edit(rng.randrange(n))
            return
        if r < 0.37 and self.delivered:
            self.duplicate()
            return
        if r < 0.38:
            self.reconnect(rng.randrange(n))
            return
        busy = [("up", i) for i in range(n) if self.up[i]]
        busy += [("down", i) for i in range(n) if self.down[i]]
        if busy:
            where, i = rng.choice(busy)
            (self.to_server if where == "up" else self.to_client)(i)

    def drain(self) -> None:
        while True:
            busy = [("up", i) for i in range(len(self.clients)) if self.up[i]]
            busy += [("down", i) for i in range(len(self.clients)) if self.down[i]]
            if not busy:
                return
            where, i = self.rng.choice(busy)
            (self.to_server if where == "up" else self.to_client)(i)

    def check_converged(self) -> None:
        s = self.server
        for c in self.clients:
            assert c.state == "synchronized"
            assert c.revision == s.revision
            assert c.text == s.text
        # the server's history replays to its text (what the log replay relies on)
        text = self.initial
        for op in s.history:
            text = ot.apply(text, op)
        assert text == s.text


def run_schedule(seed: int, n_clients: int, steps: int) -> Sim:
    rng = random.Random(seed)
    sim = Sim(rng, n_clients, initial=rng.choice(["", "hello world", "ls -la\n"]))
    for _ in range(steps):
        sim.step()
    sim.drain()
    sim.check_converged()
    return sim


def test_thousands_of_random_schedules_converge() -> None:
    totals = {"edits": 0, "dups": 0, "reconnects": 0}
    for seed in range(SCHEDULES):
        rng = random.Random(seed)
        sim = run_schedule(seed, rng.randint(2, 5), rng.randint(5, 60))
        for k, v in sim.stats.items():
            totals[k] += v
    # the schedules really exercised every path
    assert totals["edits"] > SCHEDULES * 5
    assert totals["dups"] > SCHEDULES // 10
    assert totals["reconnects"] > SCHEDULES // 10


@given(st.integers(0, 2**32), st.integers(2, 8), st.integers(0, 150))
def test_random_schedules_converge_hypothesis(seed: int, n: int, steps: int) -> None:
    run_schedule(seed, n, steps)


def test_many_clients_long_schedule() -> None:
    sim = run_schedule(12345, 20, 3000)
    assert sim.stats["edits"] > 500


# --------------------------------------------------------------- unit examples


def test_client_three_states() -> None:
    c = ot.OTClientDoc("ab")
    assert c.state == "synchronized"
    first = c.insert(2, "c")
    assert first == (2, "c") and c.inflight_seq == 1 and c.state == "awaiting"
    assert c.insert(3, "d") is None and c.state == "awaiting_with_buffer"
    assert c.delete(0, 1) is None
    assert c.text == "bcd"
    nxt = c.ack(1)
    assert nxt is not None and ot.apply("abc", nxt) == "bcd"
    assert c.inflight_seq == 2 and c.state == "awaiting"
    assert c.ack(2) is None and c.state == "synchronized" and c.revision == 2
    with pytest.raises(ot.OTError):
        c.ack()


def test_client_remote_transforms_against_inflight_and_buffer() -> None:
    c = ot.OTClientDoc("xy")
    c.insert(1, "A")  # in flight: xAy
    c.insert(3, "B")  # buffered: xAyB
    applied = c.remote(ot.insert_op(2, 1, "R"), 1)  # server put R at 1 first
    assert c.text == "xRAyB"
    assert ot.apply("xAyB", applied) == "xRAyB"
    with pytest.raises(ot.OTError):
        c.remote(ot.identity(5), 7)


def test_server_transforms_against_history_and_dedups() -> None:
    s = ot.OTServerDoc("xy")
    op1, r1 = s.receive(0, ot.insert_op(2, 1, "A"), "a", 1)
    assert (op1, r1, s.text) == ((1, "A", 1), 1, "xAy")
    op2, r2 = s.receive(0, ot.insert_op(2, 1, "B"), "b", 1)  # concurrent, same spot
    assert r2 == 2 and s.text == "xABy"  # the earlier op keeps the left side
    assert s.receive(0, ot.insert_op(2, 1, "B"), "b", 1) == (op2, 2)
    assert s.text == "xABy" and s.revision == 2
    assert [(r, a, q) for r, _, a, q in s.ops_since(0)] == [(1, "a", 1), (2, "b", 1)]
    with pytest.raises(ot.OTError):
        s.receive(3, ot.identity(4), "c", 1)
    with pytest.raises(ot.OTError):  # does not fit the document at revision 0
        s.receive(0, ot.identity(9), "c", 1)
    assert s.revision == 2 and not s.is_duplicate("c", 1)


def test_server_restore_and_forget() -> None:
    s = ot.OTServerDoc("ab", revision=10)
    assert s.restore((2, "c"), "a", 5) == 11
    assert s.is_duplicate("a", 5) and s.text == "abc"
    s.receive(11, (3, "d"), "b", 1)
    s.forget_before(12)
    assert s.history_start == 12 and len(s.history) == 0
    with pytest.raises(ot.OTError):
        s.receive(11, (3, "x"), "c", 1)
    with pytest.raises(ot.OTError):
        s.ops_since(11)


def test_server_history_is_bounded_and_never_applies_a_resend_twice() -> None:
    s = ot.OTServerDoc("", keep=10)
    for i in range(100):
        s.receive(s.revision, ot.insert_op(len(s.text), len(s.text), "x"), "a", i)
    assert s.text == "x" * 100 and s.revision == 100
    assert 10 <= len(s.history) <= 20 and s.history_start == 100 - len(s.history)
    assert len(s._seen) == len(s.history)  # the dedup table shrinks with it
    # a client 10 ops behind is still transformed as usual
    op, rev = s.receive(90, ot.insert_op(90, 90, "B"), "b", 1)
    assert rev == 101 and s.text == "x" * 100 + "B"  # moved past the 10 newer x
    assert op == ot.insert_op(100, 100, "B")
    # a resend of a recent op is acknowledged, not applied again
    assert s.receive(99, ot.insert_op(99, 99, "x"), "a", 99)[1] == 100
    assert s.text == "x" * 100 + "B"
    # a resend of a forgotten op cannot be recognised: refused, not applied twice
    assert not s.is_duplicate("a", 5)
    with pytest.raises(ot.OTError, match="resynchronize"):
        s.receive(5, ot.insert_op(5, 5, "x"), "a", 5)
    assert s.text == "x" * 100 + "B" and s.revision == 101
    unbounded = ot.OTServerDoc("", keep=None)
    for i in range(100):
        unbounded.restore(ot.insert_op(i, i, "x"), "a", i)
    assert len(unbounded.history) == 100 and unbounded.is_duplicate("a", 0)
