"""Bulk drawing of plain lines (printable text, SGR colours, CR LF).

A region of plain ASCII lines, each fitting its row, is drawn as a whole
(:meth:`BulkScreen._block_lines`): one ``re.split`` for the region, per SGR a lookup
in a per-style transition table, one ``chain`` of ``map(getter, run)`` turning the
region into one list of cells; each line is a slice of it. Lines that scroll off
within the region go to the scrollback as their slice, never built into a row.
Other plain lines take the per-line path (:meth:`BulkScreen._plain_lines`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import accumulate, chain, compress
from operator import add
from typing import Any

from pyte import modes as mo

from agentshell.terminal.parser import ParsingScreen
from agentshell.terminal.scan import (
    CRS_LF,
    LINE_CTRL,
    NEXT,
    NOT_SGR,
    SGR,
    TAB_CTRL,
    TRANSITIONS,
    Marks,
    sgr_step,
    trim,
)
from agentshell.terminal.screen import expansion
from agentshell.terminal.style import BLANK, DEFAULT, Cell, Style, cells_for, sgr

SGR_OR_NL = re.compile(r"\x1b\[([0-9;:]*|\n)m")


def _clusters(text: str, split: Callable[[str], list[str]]) -> list[str] | None:
    """``text`` as its characters, a character followed by marks of no width taken
    as one (a cluster: see :class:`Expansion`); None if it starts with a mark."""
    pieces = split(text)
    if not pieces[0]:
        return None
    keys: list[str] = []
    for k in range(0, len(pieces) - 1, 2):
        before = pieces[k]
        keys += before[:-1]
        keys.append(before[-1] + pieces[k + 1])
    keys += pieces[-1]
    return keys


# style -> params -> (the style after CSI params m, its Expansion getter, the next
# style's table); None -> (style, its getter, table) itself
_Steps = dict[str | None, tuple[Style, Callable[[str], tuple[Cell, ...]], Any]]
_STEPS: dict[Style, _Steps] = {}


def _steps(style: Style) -> _Steps:
    table = _STEPS.get(style)
    if table is None:
        if len(_STEPS) > 4096:
            _STEPS.clear()
        table = _STEPS.setdefault(style, {})
        table[None] = (style, expansion(style).__getitem__, table)
    return table


def _step(table: _Steps, params: str) -> tuple[Style, Callable[[str], tuple[Cell, ...]], Any]:
    nxt = _steps(sgr(table[None][0], params))[None]
    if len(table) < 256:
        table[params] = nxt
    return nxt


class BulkScreen(ParsingScreen):
    """A :class:`ParsingScreen` that draws runs of plain lines in bulk."""

    def _plain_lines(self, text: str, pos: int, n: int) -> int:
        """Draw complete plain lines (printable ASCII + SGR, each ending CR LF) in bulk.

        Returns where the caller continues (the first line it did not handle).
        """
        end = text.rfind("\r\n", pos, n)
        if (
            end < 0
            or not self._stream._taking_plain_text
            or mo.IRM in self.mode
            or self._g[self.charset] is not None
        ):
            return pos
        region = text[pos:end]  # plain (feed_text checked it)
        if self._block_lines(region):
            return end + 2
        cursor = self.cursor
        cols = self.columns
        split = SGR.split
        ctrl = LINE_CTRL.search
        style = cursor.attrs
        get = cells_for(style).__getitem__
        trans = TRANSITIONS
        if len(trans) > 4096:
            trans.clear()
        hints = self._width_hints
        if len(hints) > 4 * self.lines:
            hints.clear()
        clean = self._clean
        tails = self._blank_tails
        if len(tails) != cols + 1:
            blank = [BLANK] * cols
            tails = self._blank_tails = [blank[k:] for k in range(cols + 1)]
        # the common case, scrolling the whole main screen, is done inline below
        simple = self.margins is None and self._alt is None
        buffer = self.buffer
        bottom = self.lines - 1
        dirty = self.dirty
        all_rows = range(self.lines)
        keep = self.history.maxlen > 0
        remember = self.history.append

        def retire(top: list[Any]) -> None:
            """A row scrolled off the top: into the scrollback (trimmed by its width
            hint when that is still true), and every row is now dirty."""
            if keep:
                hint = hints.pop(id(top), None)
                if hint is not None and hint[0] is top:
                    e = hint[1]
                    if top[e - 1] is not BLANK and top[e:] == tails[e]:
                        remember(top[:e])
                    else:
                        self._push_history(top)
                else:
                    self._push_history(top)
            if len(dirty) < len(all_rows):
                dirty.update(all_rows)

        fresh = simple and buffer[bottom] == tails[0]
        start = pos
        # TAB, BS, BEL or a lone CR anywhere: check each line (else no line has one)
        odd = (
            "\t" in region
            or "\x08" in region
            or "\x07" in region
            or region.count("\r") != region.count("\r\n")
        )
        # an escape other than SGR (erase in line, moves along the row) anywhere
        moves = NOT_SGR.search(region) is not None
        # the last tab stop when they are the default ones (every 8 columns), else 0
        tab_stop = 0
        if "\t" in region and self.tabstops == set(range(8, cols, 8)):
            tab_stop = max(self.tabstops, default=0)
        self._pos = pos
        for line in region.split("\r\n"):
            line_style = style
            if (
                line.isascii()
                and (not odd or ctrl(line) is None)
                and (not moves or NOT_SGR.search(line) is None)
            ):
                parts = split(line)
                first = parts[0]
                cells = list(map(get, first)) if first else []
                if len(parts) > 1:
                    key = (style, *parts[1::2])
                    steps = trans.get(key)
                    if steps is None:
                        getters = []
                        nxt = style
                        for p in parts[1::2]:
                            nxt = sgr(nxt, p)
                            getters.append(cells_for(nxt).__getitem__)
                        steps = trans[key] = (nxt, getters[-1], tuple(getters))
                    style, get, funcs = steps
                    for g, t in zip(funcs, parts[2::2]):  # noqa: B905
                        cells.extend(map(g, t))
                x = cursor.x
                width = len(cells)
                if fresh and x == 0 and width <= cols and cursor.y == bottom:
                    # the line fills the blank bottom row: make it a new row, scroll
                    # it up, keep the same blank row at the bottom
                    cells.extend(tails[width])
                    buffer.insert(bottom, cells)
                    top = buffer.pop(0)
                    if width:
                        hints[id(cells)] = (cells, width)
                    retire(top)
                    cursor.attrs = style
                    start += len(line) + 2
                    continue
                if x + width <= cols:
                    row = buffer[cursor.y]
                    clean.pop(id(row), None)
                    stop = x + width
                    if 0 < x < cols and row[x].data == "":
                        row[x - 1] = BLANK
                    row[x:stop] = cells
                    if stop < cols and row[stop].data == "":
                        row[stop] = BLANK
                    cursor.x = stop
                    cursor.attrs = style
                    if width:
                        dirty.add(cursor.y)
                        hints[id(row)] = (row, stop)
                else:  # it wraps
                    cursor.attrs = line_style
                    self._pos = start
                    self._draw_line(text, start, start + len(line), False)
                    style = cursor.attrs
                    get = cells_for(style).__getitem__
            elif (
                tab_stop
                and fresh
                and style is DEFAULT
                and cursor.x == 0
                and cursor.y == bottom
                and line.isascii()
                and "\x1b" not in line
                and TAB_CTRL.search(line) is None
                and len(expanded := line.expandtabs(8)) <= tab_stop
            ):
                # TAB-separated columns, no colours, on the fresh bottom row: the row
                # is the line with its tabs expanded (blank cells in default style
                # are what a TAB leaves on a blank row)
                cells = list(map(get, expanded))
                width = len(expanded.rstrip(" "))
                cells.extend(tails[len(cells)])
                buffer.insert(bottom, cells)
                top = buffer.pop(0)
                if width:
                    hints[id(cells)] = (cells, width)
                retire(top)
                start += len(line) + 2
                continue
            else:
                cursor.attrs = style
                self._pos = start
                self._draw_line(text, start, start + len(line), fresh and cursor.y == bottom)
                style = cursor.attrs
                get = cells_for(style).__getitem__
            cursor.x = 0
            fresh = False
            if simple and cursor.y == bottom:
                top = buffer.pop(0)
                buffer.append([BLANK] * cols)
                retire(top)
                fresh = True
            else:
                self.index()
            start += len(line) + 2
        return end + 2

    def _text_cells(self, region: str) -> tuple[list[Cell], list[int], Style] | None:
        """The cells of ``region`` (lines of printable text and SGR sequences,
        separated by CR LF, some characters wide or of no width), the width of each
        line (its cells follow one another, nothing between them) and the style
        after it; None when something in it is not that, or a mark of no width
        starts it, a line, or follows an SGR sequence (it joins a cell drawn before).

        One ``re.split`` on SGR and CR LF (as a pseudo SGR sequence); per text run
        between them a ``map`` over its characters through the style's
        :class:`Expansion` (a wide character gives its cell and its right half); a
        run holding marks is cut into characters and clusters (a character and its
        marks: one cell, or a wide one) first."""
        if self.columns < 2:
            return None
        marks = Marks.update()
        seen = marks.seen
        has_marks = marks.ONE.search(region) is not None
        # "\x1b[" never comes before a CR in a plain region: "\x1b[\nm" stands for CR LF
        pieces = SGR_OR_NL.split(region.replace("\r\n", "\x1b[\nm"))
        texts: list[Any] = pieces[0::2]
        if "\x1b" in "".join(texts):  # erase in line, moves along the row: line by line
            return None
        style = self.cursor.attrs
        steps = _steps(style)
        exp = steps[None][1]
        exps = [exp]
        more = exps.append
        starts = [0]  # where each line's text runs start
        i = 0
        for params in pieces[1::2]:
            i += 1
            if params == "\n":  # CR LF
                starts.append(i)
            else:
                step = steps.get(params)
                if step is None:
                    step = _step(steps, params)
                style, exp, steps = step
            more(exp)
        starts.append(i + 1)
        if has_marks:
            for k in compress(range(len(texts)), map(marks.ONE.search, texts)):
                keys = _clusters(texts[k], marks.SPLIT)
                if keys is None:  # a mark joining a cell drawn before: line by line
                    return None
                texts[k] = keys
        runs = list(map(chain.from_iterable, map(map, exps, texts)))
        rows = list(
            map(
                list,
                map(
                    chain.from_iterable, map(runs.__getitem__, map(slice, starts[:-1], starts[1:]))
                ),
            )
        )
        if Marks.update().seen != seen:  # met a new mark: the patterns were not up to date
            return self._text_cells(region)
        return list(chain.from_iterable(rows)), list(map(len, rows)), style

    def _block_lines(self, region: str) -> bool:
        """Draw ``region`` + CR LF: lines of printable ASCII and SGR sequences only,
        separated by CR LF, each fitting the row it starts on. False (nothing done)
        when ``region`` is anything else.

        The whole region is turned into cells in one pass (one regex split, one
        ``map`` per SGR run, with the newlines as throw-away cells); each line is then
        a slice of that list. Once the cursor sits on a fresh bottom row of the whole
        main screen, lines that will scroll off before the end of the region go to
        the scrollback as their (trimmed) slice, never built into a full row; the
        ones that stay become rows. Exactly what drawing line by line gives.
        """
        if "\r\r" in region:  # CR CR LF draws as CR LF (a CR twice is a CR)
            region = CRS_LF.sub("\r\n", region).rstrip("\r")
        if (
            "\t" in region
            or "\x08" in region
            or "\x07" in region
            or region.count("\r") != region.count("\r\n")
        ):
            return False
        cursor = self.cursor
        cols = self.columns
        if region.isascii():
            parts = SGR.split(region)
            stripped = "".join(parts[0::2])
            if "\x1b" in stripped:  # erase in line, moves along the row: line by line
                return False
            widths = list(map(len, stripped.split("\r\n")))
            if max(widths) > cols or cursor.x + widths[0] > cols:
                return False
            # cells of the whole region (CR and LF included, as cells nobody keeps)
            style = cursor.attrs
            table = NEXT.get(style)
            if table is None:
                table = NEXT.setdefault(style, {})
            getters = [cells_for(style).__getitem__]
            more = getters.append
            for params in parts[1::2]:  # the style of each text run, via transition tables
                step = table.get(params)
                if step is None:
                    step = sgr_step(style, params)
                    if len(table) < 256:
                        table[params] = step
                style, get, table = step
                more(get)
            cells = list(chain.from_iterable(map(map, getters, parts[0::2])))
            sep = 2  # the cells of CR LF between lines
            blank_ends = " \r\n" in stripped or stripped.endswith(" ")
        else:
            got = self._text_cells(region)
            if got is None:
                return False
            cells, widths, style = got
            if max(widths) > cols or cursor.x + widths[0] > cols:
                return False
            sep = 0
            blank_ends = " \r\n" in region or " \x1b[" in region or region.endswith(" ")
        buffer = self.buffer
        dirty = self.dirty
        hints = self._width_hints
        if len(hints) > 4 * self.lines:
            hints.clear()
        clean = self._clean
        if len(clean) > 4 * self.lines:
            clean.clear()
        tails = self._blank_tails
        if len(tails) != cols + 1:
            blank = [BLANK] * cols
            tails = self._blank_tails = [blank[k:] for k in range(cols + 1)]
        bottom = self.lines - 1
        simple = self.margins is None and self._alt is None
        count = len(widths)
        a = 0  # where line i starts in cells
        i = 0
        # line by line until the cursor is on a fresh bottom row of the main screen
        while i < count:
            if simple and cursor.y == bottom and cursor.x == 0 and buffer[bottom] == tails[0]:
                break
            w = widths[i]
            if w:
                x = cursor.x
                row = buffer[cursor.y]
                clean.pop(id(row), None)
                stop = x + w
                if 0 < x < cols and row[x].data == "":
                    row[x - 1] = BLANK
                row[x:stop] = cells[a : a + w]
                if stop < cols and row[stop].data == "":
                    row[stop] = BLANK
                dirty.add(cursor.y)
                hints[id(row)] = (row, stop)
            a += w + sep
            i += 1
            cursor.x = 0
            self.index()
        cursor.attrs = style
        if i == count:
            return True
        # the cursor is at column 0 of a fresh bottom row: every remaining line
        # scrolls the screen by one. The rows leaving the top, in order: the rows
        # above the cursor, then the new lines; the screen keeps the last rows of
        # that sequence plus a fresh blank row.
        m = count - i
        ws = widths[i:]
        starts = list(accumulate([w + sep for w in ws[:-1]], initial=a))
        # line k is cells[lines[k]] (map/slice: no Python-level loop per line)
        lines = list(map(slice, starts, map(add, starts, ws)))
        above = buffer[:bottom]
        gone = min(m, bottom)  # rows of the old screen that scroll off
        first_stay = max(0, m - bottom)  # the first new line that stays on screen
        keep = self.history.maxlen
        if keep > 0:
            out: list[list[Cell]] = []
            push = out.append
            for row in above[max(0, gone - keep) : gone]:
                done = clean.pop(id(row), None)
                if done is not None and done[0] is row:
                    push(done[1])
                    continue
                hint = hints.pop(id(row), None)
                if hint is not None and hint[0] is row:
                    # a width hint (see _push_history), verified
                    e = hint[1]
                    if 0 < e <= cols and row[e - 1] is not BLANK and row[e:] == tails[e]:
                        push(row[:e])
                        continue
                push(trim(row, tails))
            if first_stay > 0:
                lo = len(out)
                out += map(cells.__getitem__, lines[max(0, first_stay - keep) : first_stay])
                if blank_ends:  # trim trailing blanks
                    out[lo:] = [trim(row, tails) for row in out[lo:]]
            self.history.extend(out)
        shown = list(map(cells.__getitem__, lines[first_stay:]))
        new_rows = list(map(add, shown, map(tails.__getitem__, ws[first_stay:])))
        if blank_ends:
            shown = [trim(row, tails) for row in shown]
        clean.update(zip(map(id, new_rows), zip(new_rows, shown)))  # noqa: B905
        buffer[:] = above[gone:] + new_rows + [[BLANK] * cols]
        cursor.y = bottom
        cursor.x = 0
        if len(dirty) < self.lines:
            dirty.update(range(self.lines))
        return True
