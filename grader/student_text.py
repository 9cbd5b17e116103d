"""Text a student controls, made safe where it enters the grader and where it leaves.

Students write more of what the grader shows than it seems: their code's exception
names and messages, what it printed, their file and folder names, the type names of
what their functions return. Such text is bounded where it enters the grader
(`bounded`: the channel from the kernel, grader.nbx.kernel_values) and made safe for
each place it leaves (`safe_text`, with the SINK it goes to): every sink the grader
writes student text to uses it, and none escapes by hand.

safe_text(text, sink):
- control and format characters (escape sequences, carriage returns, NULs,
  bidirectional overrides, line separators, lone surrogates) are shown as visible
  escapes ("\\x1b", "\\u202e"), except the ones the sink keeps (newlines and tabs
  in files, a Windows line end as a newline; none on the terminal);
- the text is cut to the sink's length, with a marker saying how much was cut;
- where a spreadsheet reads it (CSV files), text it would run as a formula gets a
  leading "'" (OWASP's advice).
HTML markup is the template engine's to escape (autoescape), never this module's.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

# What a spreadsheet takes for a formula at the start of a cell.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Unicode categories shown as escapes: controls, format characters (bidirectional
# overrides, zero-width), surrogates, line and paragraph separators.
ESCAPED_CATEGORIES = ("Cc", "Cf", "Cs", "Zl", "Zp")
CUT_MARKER = " … [cut: {count:,} characters in all]"
# The planes that hold characters of ESCAPED_CATEGORIES: the basic and the
# supplementary multilingual planes, and the supplementary special-purpose plane
# (tags). The others hold letters, symbols and private use only.
PLANES = (0x00000, 0x10000, 0xE0000)


@dataclass(frozen=True)
class Sink:
    """Where student text goes: how long it may be, what it keeps as it is."""

    name: str
    limit: int  # characters, the cut marker included
    keep: str = ""  # control characters kept as they are ("\n\t")
    formulas: bool = False  # defuse text a spreadsheet would run
    spaces: str = ""  # control characters shown as a space (a name on one line)


# One line of a terminal: the summary, the unmapped files, the notices.
TERMINAL = Sink("terminal", 300)
# A cell of grades.csv, tests.csv, misconceptions.csv and the LMS files: a
# spreadsheet cell holds 32,767 characters, Python's csv module reads 131,072.
CSV = Sink("csv", 32_000, keep="\n\t", formulas=True)
# A cell of an LMS's grade import (a student's name on one line).
LMS = Sink("lms", 1000, formulas=True, spaces="\n\t\r")
# Text on a page (the class report, feedback): the template escapes markup.
HTML = Sink("html", 100_000, keep="\n\t")
# A log file an instructor reads in a terminal or an editor.
LOG = Sink("log", 1_000_000, keep="\n\t")


def bounded(text: object, limit: int) -> str:
    """`text` as a string of at most `limit` characters and the cut marker."""
    text = text if isinstance(text, str) else str(text)
    if len(text) <= limit:
        return text
    return text[:limit] + CUT_MARKER.format(count=len(text))


def safe_text(text: object, sink: Sink) -> str:
    """`text` made safe for `sink` (see the module docstring); linear in its length
    (and at most the sink's limit is ever escaped)."""
    text = text if isinstance(text, str) else str(text)
    if "\n" in sink.keep:  # a Windows line end is a line end
        text = text.replace("\r\n", "\n")
    marker = CUT_MARKER.format(count=len(text))
    shown = _escaped(text[: sink.limit], sink.keep, sink.spaces)
    if len(text) > sink.limit or len(shown) > sink.limit:
        shown = shown[: max(sink.limit - len(marker), 0)] + marker
    if sink.formulas and shown.startswith(FORMULA_STARTS):
        shown = "'" + shown
    return shown


def _escaped(text: str, keep: str, spaces: str) -> str:
    """Every character of ESCAPED_CATEGORIES but those in `keep`, as a visible
    escape (those in `spaces` as a space)."""
    if spaces:
        return _pattern(keep).sub(lambda match: _escape(match, spaces), text)
    return _pattern(keep).sub(_escape, text)


def _escape(match: re.Match, spaces: str = "") -> str:
    char = match.group(0)
    if char in spaces:
        return " "
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


@cache
def _pattern(keep: str) -> re.Pattern:
    """A character class of ESCAPED_CATEGORIES without `keep` (made once)."""
    ranges: list[list[int]] = []
    for plane in PLANES:
        for code in range(plane, plane + 0x10000):
            char = chr(code)
            if char in keep or unicodedata.category(char) not in ESCAPED_CATEGORIES:
                continue
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    body = "".join(f"\\U{start:08x}-\\U{end:08x}" for start, end in ranges)
    return re.compile(f"[{body}]")
