"""Emulator behaviour, fed with crafted bytes and with recorded program output."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentshell.terminal import Emulator
from agentshell.terminal.style import DEFAULT

FIXTURES = Path(__file__).parent / "fixtures"


def rows(e: Emulator) -> list[str]:
    return [r.rstrip() for r in e.display]


def style_at(e: Emulator, x: int, y: int):  # type: ignore[no-untyped-def]
    return e.buffer[y][x].style


def test_plain_text_and_crlf() -> None:
    e = Emulator(10, 3)
    e.feed(b"hello\r\nworld")
    assert rows(e) == ["hello", "world", ""]
    assert (e.cursor.x, e.cursor.y) == (5, 1)


def test_autowrap_and_scroll_into_history() -> None:
    e = Emulator(4, 2, scrollback=10)
    e.feed(b"abcdefgh\r\nij")
    assert rows(e) == ["efgh", "ij"]
    assert e.history.text() == ["abcd"]


def test_sixteen_256_and_true_colour_bold_reverse() -> None:
    e = Emulator(20, 2)
    e.feed(b"\x1b[31mr\x1b[1;42mb\x1b[38;5;200mx\x1b[48;2;1;2;255my\x1b[0;7mz\x1b[93;4mu\x1b[m.")
    s = [style_at(e, x, 0) for x in range(7)]
    assert (s[0].fg, s[0].bold) == ("red", False)
    assert (s[1].fg, s[1].bg, s[1].bold) == ("red", "green", True)
    assert s[2].fg == "color(200)"
    assert s[3].bg == "#0102ff" and s[3].fg == "color(200)"
    assert s[4].reverse and s[4].fg == "default" and not s[4].bold
    assert s[5].fg == "bright_yellow" and s[5].underscore and s[5].reverse
    assert s[6] is DEFAULT


def test_styles_are_interned_and_row_segments() -> None:
    e = Emulator(10, 1)
    e.feed(b"ab\x1b[32mcd\x1b[0mef")
    segs = e.row_segments(0)
    assert [t for t, _ in segs] == ["ab", "cd", "ef    "]
    assert segs[0][1] is segs[2][1] is DEFAULT
    e.feed(b"\r\x1b[32mc")
    assert e.buffer[0][0] is e.buffer[0][2]  # one shared cell per (char, style)


def test_wide_characters() -> None:
    e = Emulator(6, 2)
    e.feed("中文x".encode())
    assert e.display[0] == "中文x "
    assert e.cursor.x == 5
    e.feed("\r\n12345中".encode())  # does not fit in the last column: wraps
    assert rows(e) == ["12345", "中"]  # the wrap scrolled the screen
    assert e.history.text() == ["中文x"]


def test_overwriting_half_of_a_wide_char_blanks_the_other_half() -> None:
    e = Emulator(6, 1)
    e.feed("中文".encode() + b"\x1b[2Gx")
    assert e.display[0].rstrip() == " x文"


def test_utf8_split_across_chunks_and_invalid_bytes() -> None:
    e = Emulator(10, 1)
    data = "añ中".encode()
    for b in data:
        e.feed(bytes([b]))
    e.feed(b"\xff!")
    assert e.display[0].startswith("añ中\ufffd!")


def test_escape_sequence_split_across_chunks() -> None:
    e = Emulator(10, 1)
    for piece in (b"\x1b", b"[", b"3", b"1", b"mR", b"\x1b[0", b"mN"):
        e.feed(piece)
    assert e.display[0].rstrip() == "RN"
    assert style_at(e, 0, 0).fg == "red" and style_at(e, 1, 0) is DEFAULT


def test_scroll_region() -> None:
    e = Emulator(5, 5, scrollback=10)
    e.feed(b"0\r\n1\r\n2\r\n3\r\n4")
    e.feed(b"\x1b[2;4r\x1b[4;1Hx\r\ny")  # region rows 2..4, LF at its bottom scrolls it
    assert rows(e) == ["0", "2", "x", "y", "4"]
    assert len(e.history) == 0  # a region not at the top never feeds the scrollback
    e.feed(b"\x1b[2;1H\x1bM")  # reverse index at the region top scrolls it down
    assert rows(e) == ["0", "", "2", "x", "4"]


def test_insert_delete_lines_and_chars_and_erase() -> None:
    e = Emulator(6, 3)
    e.feed(b"abcdef\r\nghijkl\r\nmnopqr")
    e.feed(b"\x1b[1;3H\x1b[2P")  # delete 2 chars at col 3
    assert rows(e)[0] == "abef"
    e.feed(b"\x1b[1;2H\x1b[3@")  # insert 3 blanks
    assert e.display[0] == "a   be"
    e.feed(b"\x1b[2;1H\x1b[L")  # insert a line at row 2
    assert rows(e) == ["a   be", "", "ghijkl"]
    e.feed(b"\x1b[1;1H\x1b[M")  # delete the first line
    assert rows(e) == ["", "ghijkl", ""]
    e.feed(b"\x1b[2;3H\x1b[K")
    assert rows(e)[1] == "gh"
    e.feed(b"\x1b[2J")
    assert rows(e) == ["", "", ""]


def test_device_status_and_attribute_queries_are_answered() -> None:
    answers: list[bytes] = []
    e = Emulator(20, 5, write_process_input=answers.append)
    e.feed(b"\x1b[3;7H\x1b[6n\x1b[5n\x1b[c\x1b[>c")
    assert answers == [b"\x1b[3;7R", b"\x1b[0n", b"\x1b[?62;22c", b"\x1b[>1;10;0c"]


def test_modes_bracketed_paste_mouse_cursor_title() -> None:
    e = Emulator(10, 2)
    e.feed(b"\x1b[?2004h\x1b[?1000h\x1b[?1006h\x1b[?25l\x1b]0;my title\x07")
    assert e.bracketed_paste and e.mouse_modes == {1000, 1006}
    assert not e.cursor_visible and e.title == "my title"
    e.feed(b"\x1b[?2004l\x1b[?1000l\x1b[?25h\x1b]2;other\x1b\\")
    assert not e.bracketed_paste and e.mouse_modes == {1006}
    assert e.cursor_visible and e.title == "other"


@pytest.mark.parametrize("mode", [b"1049", b"1047", b"47"])
def test_alternate_screen_leaves_the_shell_screen_intact(mode: bytes) -> None:
    e = Emulator(10, 3)
    e.feed(b"$ vim\r\n")
    e.feed(b"\x1b[?" + mode + b"h\x1b[H\x1b[2Jfull screen\x1b[3;1H~")
    assert e.alternate_screen and rows(e)[0] == "full scree"
    e.feed(b"\x1b[?" + mode + b"l")
    assert not e.alternate_screen
    assert rows(e) == ["$ vim", "", ""]
    if mode == b"1049":
        assert (e.cursor.x, e.cursor.y) == (0, 1)


def _feed_until(e: Emulator, data: bytes, marker: bytes) -> bytes:
    cut = data.index(marker)
    e.feed(data[:cut])
    return data[cut:]


def test_recorded_vim_session() -> None:
    data = (FIXTURES / "vim_session.bin").read_bytes()
    e = Emulator(80, 24)
    e.feed(b"$ vim sample.txt\r\n")
    rest = _feed_until(e, data, b"\x1b[?1049l")
    assert e.alternate_screen
    screen = rows(e)
    assert screen[0].startswith("HELLO line 0: the quick brown fox 中文 jumps")
    assert any(r.startswith("line 5:") for r in screen)
    e.feed(rest)
    assert not e.alternate_screen
    assert rows(e)[0] == "$ vim sample.txt"
    assert all(not r for r in rows(e)[2:])
    assert not any("line 5:" in r for r in e.history.text())


def test_recorded_less_session() -> None:
    data = (FIXTURES / "less_session.bin").read_bytes()
    e = Emulator(80, 24)
    e.feed(b"$ less sample.txt\r\n")
    rest = _feed_until(e, data, b"\x1b[?1049l")
    assert e.alternate_screen
    assert any(r.startswith("line 30:") for r in rows(e))  # after one page down
    e.feed(rest)
    assert rows(e)[0] == "$ less sample.txt"
    assert not any("line 30:" in r for r in rows(e) + e.history.text())


def test_recorded_ls_color() -> None:
    data = (FIXTURES / "ls_color.bin").read_bytes()
    e = Emulator(80, 24)
    e.feed(data)
    screen = rows(e)
    y = next(i for i, r in enumerate(screen) if r.endswith("subdir"))
    x = screen[y].index("subdir")
    assert e.buffer[y][x].style.fg == "blue" and e.buffer[y][x].style.bold
    y = next(i for i, r in enumerate(screen) if r.endswith("gamma"))
    assert e.buffer[y][screen[y].index("gamma")].style.fg == "green"
    y = next(i for i, r in enumerate(screen) if "link -> alpha.py" in r)
    assert e.buffer[y][screen[y].index("link")].style.fg == "cyan"


def test_resize_keeps_content_and_pushes_rows_above_the_cursor() -> None:
    e = Emulator(10, 4, scrollback=10)
    e.feed(b"a\r\nb\r\nc\r\nd")
    e.resize(5, 2)
    assert rows(e) == ["c", "d"] and e.history.text() == ["a", "b"]
    assert (e.columns, e.lines) == (5, 2)
    e.resize(8, 3)
    assert rows(e) == ["c", "d", ""] and len(e.display[0]) == 8


def test_history_is_bounded() -> None:
    e = Emulator(10, 2, scrollback=5)
    e.feed(b"".join(b"%d\r\n" % i for i in range(20)))
    assert e.history.text() == ["14", "15", "16", "17", "18"]


def _log(n: int, width: int = 30) -> bytes:
    out = []
    for i in range(n):
        out.append(b"\x1b[3%dm%05d\x1b[0m %s\x1b[1m!\r\n" % (i % 8, i, b"x" * (i % width)))
    return b"".join(out)


@pytest.mark.parametrize("scrollback", [0, 7, 100, 10000])
def test_bulk_scroll_fast_path_equals_full_emulation(scrollback: int) -> None:
    data = b"\x1b[1;1Hstart" + _log(3000) + b"tail \x1b[32mgreen"
    fast = Emulator(40, 10, scrollback)
    fast.feed(data)
    slow = Emulator(40, 10, scrollback, lazy_scrollback=False)
    for i in range(0, len(data), 7):
        slow.feed(data[i : i + 7])
    assert fast.display == slow.display
    assert (fast.cursor.x, fast.cursor.y, fast.cursor.attrs) == (
        slow.cursor.x,
        slow.cursor.y,
        slow.cursor.attrs,
    )
    assert list(fast.history) == list(slow.history)
    assert [fast.row_segments(y) for y in range(10)] == [slow.row_segments(y) for y in range(10)]


def test_bulk_path_declines_cursor_movement_and_long_lines() -> None:
    for extra in (b"\x1b[5;5Hmoved\r\n", b"y" * 100 + b"\r\n", b"a\nb\r\n"):
        data = _log(500) + extra + _log(500)
        fast = Emulator(40, 10, 1000)
        fast.feed(data)
        slow = Emulator(40, 10, 1000, lazy_scrollback=False)
        for i in range(0, len(data), 500):
            slow.feed(data[i : i + 500])
        assert fast.display == slow.display
        assert fast.history.text() == slow.history.text()


def test_reading_one_scrolled_back_row_emulates_only_its_block() -> None:
    """A burst is kept as blocks of a few hundred lines, so scrolling back after it
    costs one block's emulation, not the whole burst's."""
    from agentshell.terminal.scrollback import LazyBlock

    emu = Emulator(80, 24, 10_000)
    emu.feed(_log(20_000))
    entries = emu.history._rows

    def lazy() -> set[int]:
        return {id(e) for e in entries if isinstance(e, LazyBlock)}

    blocks = [e for e in entries if isinstance(e, LazyBlock)]
    assert len(lazy()) >= 20
    assert max(b.count for b in blocks) <= 512
    before = lazy()
    line = emu.history[5_000]
    assert len(before - lazy()) == 1  # only the block holding that row was emulated
    slow = Emulator(80, 24, 10_000, lazy_scrollback=False)
    slow.feed(_log(20_000))
    assert line == slow.history[5_000]
