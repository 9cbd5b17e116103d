"""grader.student_text: text a student controls, bounded where it enters and made
safe for each place it leaves (terminal, CSV, LMS files, pages, logs)."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.student_text import (
    CSV,
    ESCAPED_CATEGORIES,
    HTML,
    LMS,
    LOG,
    TERMINAL,
    bounded,
    safe_text,
)

SINKS = [TERMINAL, CSV, LMS, HTML, LOG]


@pytest.mark.parametrize(
    ("text", "sink", "shown"),
    [
        ("\x1b[2J\x1b[H\x1b[32m29 of 29\x1b[0m", TERMINAL,
         "\\x1b[2J\\x1b[H\\x1b[32m29 of 29\\x1b[0m"),
        ("line\nnext\ttab", TERMINAL, "line\\x0anext\\x09tab"),
        ("line\r\nnext\ttab\r", CSV, "line\nnext\ttab\\x0d"),
        ("=HYPERLINK(1)", CSV, "'=HYPERLINK(1)"),
        ("=HYPERLINK(1)", TERMINAL, "=HYPERLINK(1)"),
        ("Ada\nLovelace\t\x07", LMS, "Ada Lovelace \\x07"),
        ("abc\u202egpj.exe", HTML, "abc\\u202egpj.exe"),
        ("zero\u200bwidth\ufeff", LOG, "zero\\u200bwidth\\ufeff"),
        ("lone \ud800 surrogate", CSV, "lone \\ud800 surrogate"),
        ("tag \U000e0041", TERMINAL, "tag \\U000e0041"),
        ("zoë 李 ∑ é", TERMINAL, "zoë 李 ∑ é"),
    ],
    ids=repr,
)  # fmt: skip
def test_control_characters_are_shown_as_visible_escapes(text, sink, shown):
    assert safe_text(text, sink) == shown


@pytest.mark.parametrize("sink", SINKS, ids=lambda sink: sink.name)
def test_text_past_the_sinks_length_is_cut_with_a_marker(sink):
    text = "x" * (sink.limit * 2)
    shown = safe_text(text, sink)
    assert len(shown) == sink.limit
    assert shown.endswith(f" … [cut: {len(text):,} characters in all]")
    escapes = safe_text("\x1b" * sink.limit, sink)  # each becomes 4 characters
    assert len(escapes) <= sink.limit and "characters in all" in escapes


def test_bounded_cuts_where_text_enters():
    assert bounded("y" * 30, 10) == "y" * 10 + " … [cut: 30 characters in all]"
    assert bounded("short", 10) == "short"
    assert bounded(12345, 3) == "123 … [cut: 5 characters in all]"


@settings(max_examples=300, deadline=timedelta(seconds=1))
@given(st.sampled_from(SINKS), st.text(max_size=400), st.integers(0, 3))
def test_no_control_character_survives_in_any_sink(sink, text, repeats):
    """Whatever the text: no character of an escaped category is left but the ones
    the sink keeps, the length is bounded, a formula never starts a CSV cell."""
    shown = safe_text(text * (repeats * 50 or 1), sink)
    left = {
        char
        for char in shown
        if unicodedata.category(char) in ESCAPED_CATEGORIES and char not in sink.keep
    }
    assert left == set()
    assert len(shown) <= sink.limit + 1  # the leading ' of a defused formula
    if sink.formulas:
        assert not shown.startswith(("=", "+", "-", "@", "\t", "\r"))


@settings(max_examples=20, deadline=timedelta(seconds=5))
@given(st.sampled_from(SINKS), st.sampled_from(["\x1b", "é", "李", "\u202e", "a\n"]))
def test_megabytes_take_linear_time(sink, piece):
    safe_text(piece * 2_000_000, sink)
