"""How much of a long text the feedback page shows, as a terminal shows it.

A long output keeps its first HEAD_LINES lines and its last TAIL_LINES, with a line
between them saying how many were left out; a very long line keeps its start and
end the same way. The autograded notebook keeps the whole output. A page shows at
most PAGE_TEXT_CHARS of text outputs in all (PageBudget), so that a notebook near
--output-mb opens in a second: the rest is a note. Every step is linear in the
text's length and copies only what is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

HEAD_LINES = 40
TAIL_LINES = 20
LINE_HEAD_CHARS = 1_500  # a longer line keeps its first LINE_HEAD_CHARS characters
LINE_TAIL_CHARS = 300  # and its last LINE_TAIL_CHARS
MAX_LINE_CHARS = LINE_HEAD_CHARS + LINE_TAIL_CHARS + 200
PAGE_TEXT_CHARS = 200_000  # of text outputs shown on one page
KEPT = "the whole output is in the graded notebook"


def cut_text(text: str) -> str:
    """The first and last lines of a long text, and how many lines are left out
    between them; each kept line cut in its middle when too long."""
    lines = text.count("\n") + (not text.endswith("\n"))
    if lines <= HEAD_LINES + TAIL_LINES:
        if len(text) <= MAX_LINE_CHARS:
            return text
        return _cut_lines(text)
    head_end = _nth(text, "\n", HEAD_LINES)
    tail_start = _nth_from_end(text, "\n", TAIL_LINES + text.endswith("\n"))
    left_out = lines - HEAD_LINES - TAIL_LINES
    note = f"… {left_out:,} lines not shown ({KEPT}) …\n"
    return _cut_lines(text[: head_end + 1]) + note + _cut_lines(text[tail_start + 1 :])


def _nth(text: str, char: str, count: int) -> int:
    """Index of the count-th `char` in text (count >= 1, and there are that many)."""
    index = -1
    for _ in range(count):
        index = text.index(char, index + 1)
    return index


def _nth_from_end(text: str, char: str, count: int) -> int:
    """Index of the count-th `char` from the end of text."""
    index = len(text)
    for _ in range(count):
        index = text.rindex(char, 0, index)
    return index


def _cut_lines(text: str) -> str:
    """Each line longer than MAX_LINE_CHARS cut in its middle, with a count."""
    if len(text) <= MAX_LINE_CHARS:
        return text
    kept, start = [], 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        line = text[start:end]
        body = line.removesuffix("\n")
        if len(body) > MAX_LINE_CHARS:
            left_out = len(body) - LINE_HEAD_CHARS - LINE_TAIL_CHARS
            line = (
                f"{body[:LINE_HEAD_CHARS]} … {left_out:,} characters not shown … "
                f"{body[-LINE_TAIL_CHARS:]}{line[len(body) :]}"
            )
        kept.append(line)
        start = end
    return "".join(kept)


@dataclass
class PageBudget:
    """Characters of text output one page has left to show."""

    left: int = PAGE_TEXT_CHARS
    noted: bool = False  # the note that the rest is not shown was given

    def shown(self, text: str) -> str | None:
        """`text` cut (cut_text); once the page has shown its share, a note the
        first time and None after (the output is left out)."""
        if self.left <= 0:
            if self.noted:
                return None
            self.noted = True
            return (
                f"[the rest of the output is not shown: this page has shown "
                f"{PAGE_TEXT_CHARS:,} characters of output; {KEPT}]"
            )
        cut = cut_text(text)
        self.left -= len(cut)
        return cut
