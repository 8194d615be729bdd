"""A deterministic corpus of the output shapes an agent's terminal pane really gets.

Each case is what a program writes (``\\n`` line ends, as in a file ``cat`` prints);
:func:`pty_bytes` turns it into what a PTY with ``onlcr`` delivers (``\\n`` ->
``\\r\\n``, so a program printing ``\\r\\n`` gives ``\\r\\r\\n``). The same seed and
size give the same bytes. Every case ends at rest: SGR reset, no scroll region, the
main screen, the cursor on a fresh line.

Used by ``benchmarks/bench_terminal_corpus.py`` (speed against pyte and tmux) and
``tests/terminal/test_corpus.py`` (the same final screen, scrollback and attributes
as pyte, cell by cell).
"""

from __future__ import annotations

import random
from collections.abc import Callable

COLUMNS, LINES = 200, 50

_COLOURS = ["31", "32", "33", "34", "35", "36", "1;31", "1;32", "90", "38;5;208", "38;2;90;160;250"]
_LEVELS = [("32", "INFO"), ("33", "WARN"), ("31", "ERROR"), ("36", "DEBUG"), ("90", "TRACE")]
_WORDS = [
    "request",
    "handled",
    "worker",
    "queue",
    "flushed",
    "cache",
    "miss",
    "retry",
    "connection",
    "opened",
    "closed",
    "build",
    "step",
    "compile",
    "link",
    "test",
    "passed",
    "failed",
    "skipped",
    "module",
    "package",
    "install",
    "resolve",
    "fetch",
    "download",
    "upload",
    "parse",
    "render",
    "commit",
    "index",
    "merge",
    "branch",
    "shard",
    "replica",
    "lease",
]
_CJK = "中文字符测试终端输出日本語のテキスト한국어텍스트漢字處理進捗完了失敗成功警告错误"
_EMOJI = "😀🎉🚀✅❌🔥💡📦🐍⏳"
_COMBINING = ["e\u0301", "a\u0308", "o\u0302", "n\u0303", "u\u0300", "c\u0327", "i\u0306"]
_BOX = "─│┌┐└┘├┤┬┴┼═║"


def _words(rnd: random.Random, lo: int, hi: int) -> str:
    return " ".join(rnd.choice(_WORDS) for _ in range(rnd.randint(lo, hi)))


def _sgr(code: str) -> str:
    return f"\x1b[{code}m"


def plain(rnd: random.Random, size: int) -> str:
    """Coloured log lines, each ending ``\\n`` (``\\r\\n`` after the PTY)."""
    out: list[str] = []
    n = 0
    i = 0
    while n < size:
        colour, level = rnd.choice(_LEVELS)
        line = (
            f"{_sgr(colour)}{level:5}{_sgr('0')} {i // 3600 % 24:02d}:{i // 60 % 60:02d}:"
            f"{i % 60:02d} {_sgr('1')}worker-{i % 8}{_sgr('22')} {_words(rnd, 2, 14)}"
            f" {_sgr(rnd.choice(_COLOURS))}{rnd.randint(1, 999)}ms{_sgr('0')}\n"
        )
        out.append(line)
        n += len(line)
        i += 1
    return "".join(out)


def crcrlf(rnd: random.Random, size: int) -> str:
    """Lines a program ends with ``\\r\\n`` itself (``\\r\\r\\n`` after the PTY)."""
    out: list[str] = []
    n = 0
    i = 0
    while n < size:
        if rnd.random() < 0.7:
            line = f"[{i:6d}] {_words(rnd, 3, 16)}\r\n"
        else:
            line = f"{_sgr(rnd.choice(_COLOURS))}{_words(rnd, 1, 4)}{_sgr('0')}: {_words(rnd, 2, 10)}\r\n"
        out.append(line)
        n += len(line)
        i += 1
    return "".join(out)


def testrunner(rnd: random.Random, size: int) -> str:
    """Test-runner and build output: pytest lines with SGR, cargo-style status lines
    ending ``ESC[K``, ninja-style ``\\r...ESC[K`` counters, a failure block now and then."""
    out: list[str] = []
    n = 0
    i = 0
    while n < size:
        r = rnd.random()
        if r < 0.55:
            name = f"tests/test_{rnd.choice(_WORDS)}.py::test_{rnd.choice(_WORDS)}_{i}"
            verdict = rnd.choices(
                [("32", "PASSED"), ("31", "FAILED"), ("33", "SKIPPED")], [20, 1, 2]
            )[0]
            pct = f"[{i % 100:3d}%]"
            pad = " " * max(1, 120 - len(name) - len(verdict[1]))
            line = f"{name} {_sgr(verdict[0])}{verdict[1]}{_sgr('0')}{pad}{_sgr(verdict[0])}{pct}{_sgr('0')}\n"
        elif r < 0.8:
            verb = rnd.choice(["Compiling", "Checking", "Downloaded", "Fresh", "Building"])
            line = f"{_sgr('1')}{_sgr('32')}{verb:>12}{_sgr('0')} {rnd.choice(_WORDS)}-{rnd.choice(_WORDS)} v0.{i % 30}.{i % 7}\x1b[K\n"
        elif r < 0.97:
            total = rnd.randint(20, 400)
            steps = []
            for k in range(1, rnd.randint(3, 12)):
                steps.append(
                    f"\r[{k}/{total}] Building CXX object src/{rnd.choice(_WORDS)}.cc.o\x1b[K"
                )
            line = "".join(steps) + "\n"
        else:
            line = (
                f"{_sgr('31')}{'_' * 30} test_{rnd.choice(_WORDS)} {'_' * 30}{_sgr('0')}\n"
                f"    def test_{rnd.choice(_WORDS)}():\n"
                f">       assert {rnd.randint(1, 9)} == {rnd.randint(10, 99)}\n"
                f"{_sgr('1;31')}E       AssertionError{_sgr('0')}\n"
            )
        out.append(line)
        n += len(line)
        i += 1
    return "".join(out)


def progress(rnd: random.Random, size: int) -> str:
    """``\\r`` progress bars: full and partial redraws (shorter text + ``ESC[K``,
    ``ESC[nD`` back over the numbers, a spinner over ``\\b``), a final line each."""
    out: list[str] = []
    n = 0
    while n < size:
        name = f"{rnd.choice(_WORDS)}-{rnd.randint(1, 9)}.{rnd.randint(0, 20)}.tar.gz"
        steps = rnd.randint(10, 60)
        width = rnd.choice([20, 30, 40])
        unicode_bar = rnd.random() < 0.4
        parts = [f"Downloading {name}\n"]
        for s in range(steps + 1):
            done = width * s // steps
            pct = 100 * s // steps
            if unicode_bar:
                bar = "█" * done + " " * (width - done)
                text = f"\r{pct:3d}%|{bar}| {s * 37}k/{steps * 37}k [{_sgr('32')}{s * 3.1:.1f}MB/s{_sgr('0')}]"
            else:
                bar = "=" * done + ">" + " " * (width - done)
                text = f"\r  [{bar}] {pct:3d}% {s * 37}kB"
            r = rnd.random()
            if r < 0.2 and s:
                text = f"\x1b[{len(str(s * 37)) + 2}D{s * 37}kB"  # redraw the tail only
            elif r < 0.35:
                text += "\x1b[K"
            elif r < 0.45:
                text += " " + "|/-\\"[s % 4] + "\b"
            parts.append(text)
        parts.append(f"\r\x1b[K{_sgr('32')}done{_sgr('0')} {name}\n")
        chunk = "".join(parts)
        out.append(chunk)
        n += len(chunk)
    return "".join(out)


def wrapping(rnd: random.Random, size: int) -> str:
    """Long lines that wrap (compiler command lines, minified JSON), some coloured."""
    out: list[str] = []
    n = 0
    while n < size:
        length = rnd.randint(COLUMNS + 10, 4 * COLUMNS)
        pieces: list[str] = []
        got = 0
        while got < length:
            if rnd.random() < 0.15:
                pieces.append(_sgr(rnd.choice([*_COLOURS, "0"])))
            w = rnd.choice(_WORDS) + rnd.choice([" ", " -I/usr/include/", '":"', ",", " "])
            pieces.append(w)
            got += len(w)
        line = "".join(pieces) + _sgr("0") + "\n"
        out.append(line)
        n += len(line)
    return "".join(out)


def tabs(rnd: random.Random, size: int) -> str:
    """Tab-separated columns (``ps``, ``ls -l``-like tables, ``make`` recipes)."""
    out: list[str] = []
    n = 0
    i = 0
    while n < size:
        if rnd.random() < 0.7:
            cols = [str(rnd.randint(1, 99999)), rnd.choice(_WORDS), f"{rnd.random() * 100:.1f}"]
            cols += [rnd.choice(_WORDS) * rnd.randint(1, 2) for _ in range(rnd.randint(1, 6))]
            line = "\t".join(cols) + "\n"
        else:
            line = f"\t{_sgr('36')}{rnd.choice(_WORDS)}{_sgr('0')}\t-o {rnd.choice(_WORDS)}.o\t{_words(rnd, 1, 6)}\n"
        out.append(line)
        n += len(line)
        i += 1
    return "".join(out)


def cjk(rnd: random.Random, size: int) -> str:
    """CJK text, emoji and letters with combining marks, mixed with ASCII and colours."""
    out: list[str] = []
    n = 0
    while n < size:
        pieces: list[str] = []
        for _ in range(rnd.randint(2, 12)):
            r = rnd.random()
            if r < 0.4:
                pieces.append("".join(rnd.choice(_CJK) for _ in range(rnd.randint(1, 12))))
            elif r < 0.55:
                pieces.append(rnd.choice(_EMOJI))
            elif r < 0.7:
                pieces.append("".join(rnd.choice(_COMBINING) for _ in range(rnd.randint(1, 4))))
            elif r < 0.85:
                pieces.append(rnd.choice(_WORDS))
            else:
                pieces.append(_sgr(rnd.choice([*_COLOURS, "0"])))
            pieces.append(" ")
        line = "".join(pieces) + _sgr("0") + "\n"
        out.append(line)
        n += len(line)
    return "".join(out)


def _frame(rnd: random.Random, k: int, boxes: bool) -> str:
    """One full-screen redraw, top/htop/TUI-agent style, on a COLUMNS x LINES screen."""
    p: list[str] = ["\x1b[H"]
    p.append(
        f"{_sgr('1')}top - {k // 3600:02d}:{k // 60 % 60:02d}:{k % 60:02d} up 3 days, load average: "
        f"{rnd.random() * 4:.2f}, {rnd.random() * 4:.2f}{_sgr('0')}\x1b[K\r\n"
    )
    p.append(f"Tasks: {rnd.randint(100, 400)} total, {rnd.randint(1, 9)} running\x1b[K\r\n")
    p.append(f"\x1b[3;1H{_sgr('7')}  PID USER      %CPU %MEM COMMAND{' ' * 160}{_sgr('0')}\r\n")
    for y in range(4, LINES - 4):
        if rnd.random() < 0.6:  # only the rows that changed are redrawn
            p.append(
                f"\x1b[{y};1H{rnd.randint(1, 99999):5d} {rnd.choice(_WORDS):9.9} "
                f"{_sgr(rnd.choice(_COLOURS))}{rnd.random() * 100:5.1f}{_sgr('0')} "
                f"{rnd.random() * 10:4.1f} {rnd.choice(_WORDS)}\x1b[K"
            )
    if boxes:
        p.append(f"\x1b[{LINES - 3};1H{_BOX[2]}{_BOX[0] * 60}{_BOX[3]}\x1b[K")
        p.append(f"\x1b[{LINES - 2};1H{_BOX[1]} > {_words(rnd, 1, 6):56.56} {_BOX[1]}\x1b[K")
        p.append(f"\x1b[{LINES - 1};1H{_BOX[4]}{_BOX[0] * 60}{_BOX[5]}\x1b[K")
    r = rnd.random()
    if r < 0.3:  # a log pane inside a scroll region, scrolled by LF at its bottom
        p.append(f"\x1b[{LINES - 12};{LINES - 4}r\x1b[{LINES - 4};1H")
        for _ in range(rnd.randint(1, 4)):
            p.append(f"\n{_sgr('90')}{_words(rnd, 2, 8)}{_sgr('0')}\x1b[K")
        p.append("\x1b[r")
    elif r < 0.5:  # insert / delete lines in a region
        p.append(f"\x1b[5;{LINES - 5}r\x1b[{rnd.randint(5, 20)};1H\x1b[{rnd.randint(1, 3)}L")
        p.append(
            f"new row {_words(rnd, 1, 5)}\x1b[{rnd.randint(5, 30)};1H\x1b[{rnd.randint(1, 3)}M"
        )
        p.append("\x1b[r")
    elif r < 0.6:
        p.append(f"\x1b[{rnd.randint(10, LINES - 5)};1H\x1b[J")  # erase below
    elif r < 0.65:
        p.append("\x1b[2J")
    p.append(f"\x1b[{LINES};1H")
    return "".join(p)


def fullscreen(rnd: random.Random, size: int) -> str:
    """Cursor-addressed redraws of the main screen (CUP, EL, ED, DECSTBM, IL/DL)."""
    out: list[str] = ["\x1b[H\x1b[2J"]
    n = 0
    k = 0
    while n < size:
        f = _frame(rnd, k, boxes=False)
        out.append(f)
        n += len(f)
        k += 1
    out.append("\n")
    return "".join(out)


def altscreen(rnd: random.Random, size: int) -> str:
    """A TUI on the alternate screen (box drawing, redraws), a few lines between visits."""
    out: list[str] = []
    n = 0
    k = 0
    while n < size:
        parts = ["\x1b[?1049h\x1b[H\x1b[2J"]
        for _ in range(rnd.randint(3, 12)):
            parts.append(_frame(rnd, k, boxes=True))
            k += 1
        parts.append("\x1b[?1049l")
        parts.append(f"$ {_words(rnd, 1, 3)}\n{_sgr('32')}ok{_sgr('0')}\n")
        chunk = "".join(parts)
        out.append(chunk)
        n += len(chunk)
    return "".join(out)


def mix(rnd: random.Random, size: int) -> str:
    """A recorded-looking session: pieces of every other case, one after another."""
    makers = [plain, crcrlf, testrunner, progress, wrapping, tabs, cjk, fullscreen, altscreen]
    weights = [6, 3, 5, 3, 1, 1, 2, 1, 1]
    out: list[str] = []
    n = 0
    while n < size:
        maker = rnd.choices(makers, weights)[0]
        piece = maker(rnd, rnd.randint(2_000, 40_000))
        out.append(piece)
        n += len(piece)
    return "".join(out)


CASES: dict[str, Callable[[random.Random, int], str]] = {
    "plain": plain,
    "crcrlf": crcrlf,
    "testrunner": testrunner,
    "progress": progress,
    "wrapping": wrapping,
    "tabs": tabs,
    "cjk": cjk,
    "fullscreen": fullscreen,
    "altscreen": altscreen,
    "mix": mix,
}


def corpus(case: str, size: int = 1 << 20, seed: int = 19) -> bytes:
    """The program output of ``case`` (about ``size`` characters), UTF-8."""
    return CASES[case](random.Random(f"{case}:{seed}"), size).encode()


def pty_bytes(content: bytes) -> bytes:
    """What a PTY with ``onlcr`` delivers for ``content`` (``\\n`` -> ``\\r\\n``)."""
    return content.replace(b"\n", b"\r\n")
