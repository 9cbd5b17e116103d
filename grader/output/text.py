"""Student text made fit to show: its first line, its width, its control characters.

Messages, student ids and file names come from students: these functions decide
what of them a reader sees; what makes them safe for where they go is
grader.student_text, and markup is the template's to escape.
"""

from __future__ import annotations

import re
import unicodedata

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
RULE_LINE = re.compile(r"[-=_~*#\s]*")
NO_MESSAGE = "(no message)"


def first_line(message: str) -> str:
    """The first line that says something: no colour codes, blanks or ---- rules."""
    for line in ANSI_ESCAPE.sub("", message).splitlines():
        if not RULE_LINE.fullmatch(line):
            return line.strip()
    return NO_MESSAGE


def char_width(char: str) -> int:
    """Terminal columns one character takes: wide East Asian 2, combining 0."""
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


def display_width(text: str) -> int:
    """Terminal columns `text` takes: wide East Asian characters 2, combining 0."""
    return sum(char_width(char) for char in text)


def shorten(text: str, width: int) -> str:
    """`text` cut to at most `width` columns, ending in "…" when cut."""
    if display_width(text) <= width:
        return text
    kept, used = [], 0
    for char in text:
        used += char_width(char)
        if used > width - 1:
            break
        kept.append(char)
    return "".join(kept) + "…"
