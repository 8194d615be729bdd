"""Translate Textual key events into the bytes a terminal program expects."""

from __future__ import annotations

LEAVE_KEY = "ctrl+right_square_bracket"
LEAVE_KEY_DISPLAY = "ctrl+]"

#: The key Textual reports for alt+N (N = 1..9) from xterm, tmux and most terminals.
#: They send alt+N as ESC N, which Textual decodes as the character macOS's Option+N
#: types (ESC 1 -> ``¡``, ESC 2 -> ``™``, ...), so an ``alt+N`` binding never fires
#: there; it does where the terminal reports modifiers itself (the kitty protocol).
#: Bind both. macOS terminals that type Option+N as these characters match too.
ALT_DIGIT_KEYS = {
    1: "inverted_exclamation_mark",  # ¡
    2: "trade_mark_sign",  # ™
    3: "pound_sign",  # £
    4: "cent_sign",  # ¢
    5: "infinity",  # ∞
    6: "section_sign",  # §
    7: "pilcrow_sign",  # ¶
    8: "bullet",  # •
    9: "ª",
}

_CSI_TILDE = {
    "insert": 2,
    "delete": 3,
    "pageup": 5,
    "pagedown": 6,
    "f5": 15,
    "f6": 17,
    "f7": 18,
    "f8": 19,
    "f9": 20,
    "f10": 21,
    "f11": 23,
    "f12": 24,
}
_CURSOR = {"up": "A", "down": "B", "right": "C", "left": "D", "home": "H", "end": "F"}
_SS3_F = {"f1": "P", "f2": "Q", "f3": "R", "f4": "S"}
_SIMPLE = {
    "enter": b"\r",
    "tab": b"\t",
    "shift+tab": b"\x1b[Z",
    "backspace": b"\x7f",
    "ctrl+h": b"\x08",
    "escape": b"\x1b",
    "space": b" ",
    "ctrl+space": b"\x00",
    "ctrl+at": b"\x00",
    "ctrl+backslash": b"\x1c",
    "ctrl+circumflex_accent": b"\x1e",
    "ctrl+underscore": b"\x1f",
    "ctrl+left_square_bracket": b"\x1b",
}
# xterm modifier parameter: 1 + (shift=1, alt=2, ctrl=4)
_MODS = {"shift": 1, "alt": 2, "meta": 2, "ctrl": 4}


def _split(key: str) -> tuple[int, str]:
    parts = key.split("+")
    mods = 0
    for p in parts[:-1]:
        mods |= _MODS.get(p, 0)
    return mods, parts[-1]


def key_to_bytes(key: str, character: str | None, *, app_cursor: bool = False) -> bytes | None:
    """Bytes for one key press, or ``None`` when the key has no terminal meaning.

    ``app_cursor`` is DECCKM (application cursor keys, set by vim/less): unmodified
    arrows are then sent as ``ESC O A`` instead of ``ESC [ A``.
    """
    if key in _SIMPLE:
        return _SIMPLE[key]
    mods, base = _split(key)
    if base in _CURSOR:
        final = _CURSOR[base]
        if mods:
            return f"\x1b[1;{mods + 1}{final}".encode()
        return f"\x1bO{final}".encode() if app_cursor else f"\x1b[{final}".encode()
    if base in _SS3_F:
        if mods:
            return f"\x1b[1;{mods + 1}{_SS3_F[base]}".encode()
        return f"\x1bO{_SS3_F[base]}".encode()
    if base in _CSI_TILDE:
        n = _CSI_TILDE[base]
        return (f"\x1b[{n};{mods + 1}~" if mods else f"\x1b[{n}~").encode()
    if mods == 4 and len(base) == 1 and base.isalpha():
        return bytes([ord(base.lower()) - ord("a") + 1])
    if mods & 2 and character is None and len(base) == 1:
        return b"\x1b" + base.encode()
    if character is not None and character.isprintable() and character:
        data = character.encode("utf-8", "replace")
        if mods & 2 and not key.startswith("ctrl"):
            return b"\x1b" + data
        return data
    if character and len(character) == 1 and ord(character) < 32:
        return character.encode()
    return None


def paste_to_bytes(text: str, *, bracketed: bool) -> bytes:
    """Pasted text as terminal input, wrapped in bracketed-paste marks when the mode is on."""
    data = text.replace("\r\n", "\r").replace("\n", "\r").encode("utf-8", "replace")
    if bracketed:
        return b"\x1b[200~" + data + b"\x1b[201~"
    return data
