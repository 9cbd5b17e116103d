"""Student text made fit to show: first line, terminal width, control characters."""

from __future__ import annotations

import pytest

from grader.output.text import display_width, first_line, shorten


@pytest.mark.parametrize(
    ("message", "line"),
    [
        ("AssertionError: wrong\nsecond line", "AssertionError: wrong"),
        ("\n\n   \n  ValueError: bad  \n", "ValueError: bad"),
        ("\x1b[0;31m------\x1b[0m\n\x1b[1mKeyError\x1b[0m: 'w'", "KeyError: 'w'"),
        ("=====\n____\nTimeout", "Timeout"),
        ("", "(no message)"),
        ("----\n\n", "(no message)"),
    ],
)
def test_first_line_skips_colour_codes_blank_lines_and_rules(message, line):
    """The line shown for a failure is the first one with words in it."""
    assert first_line(message) == line


@pytest.mark.parametrize(
    ("text", "width"),
    [("abc", 3), ("zoë", 3), ("zoe\u0308", 3), ("李雷", 4), ("", 0)],
)
def test_display_width_counts_terminal_columns(text, width):
    """Wide East Asian characters take 2 columns, combining marks none."""
    assert display_width(text) == width


@pytest.mark.parametrize("text", ["a" * 30, "李" * 30, "zoë_müller_" * 3])
def test_long_text_is_cut_to_the_width_with_an_ellipsis(text):
    """Text wider than the width ends in "…" and fits it exactly or one less."""
    cut = shorten(text, 20)
    assert cut.endswith("…")
    assert text.startswith(cut[:-1])
    assert 19 <= display_width(cut) <= 20


@pytest.mark.parametrize("text", ["", "abc", "李" * 10, "a" * 20])
def test_text_that_fits_is_left_whole(text):
    """Up to the width nothing is cut."""
    assert shorten(text, 20) == text
