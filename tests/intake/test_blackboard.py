"""blackboard: a receipt's user and name, where a user name begins, the attempt's
time; and the name readers against random and hostile names, within a deadline."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.intake.blackboard import (
    RECEIPT_BYTES,
    Receipt,
    attempt_of,
    attempt_time,
    read_receipt,
    receipt_key,
    user_name,
)
from grader.intake.names import NameReading, read_name, read_owner

STAMP = "2024-05-17-10-00-00"
RECEIPT = f"Backprop_ada_l_attempt_{STAMP}.txt"
QUICK = settings(max_examples=300, deadline=timedelta(seconds=1))


@pytest.mark.parametrize(
    ("first_line", "user", "name"),
    [
        ("Name: Ada Lovelace (ada_l)", "ada_l", "Ada Lovelace"),
        ("Name: Ada (Countess) Lovelace (ada_l)", "ada_l", "Ada (Countess) Lovelace"),
        ("Name:  (ada_l)", "ada_l", ""),
        ("Name: Zoë Müller (l)", "l", "Zoë Müller"),
    ],
)
def test_a_receipt_gives_the_user_and_full_name(first_line, user, name):
    """The last parenthesis holds the user name, which must end the receipt's own
    name; Windows line ends and a byte-order mark are read too."""
    head = f"Backprop_ada_{user}" if user == "l" else "Backprop_ada_l"
    file_name = f"{head}_attempt_{STAMP}.txt"
    content = ("\ufeff" + first_line + "\r\nAssignment: Backprop\r\n").encode()
    assert read_receipt(file_name, content) == Receipt(head, STAMP, user, name)


def test_a_receipt_larger_than_any_receipt_is_not_read():
    content = b"Name: Ada (ada_l)\n" + b"x" * RECEIPT_BYTES
    assert "too large" in read_receipt(RECEIPT, content)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        (RECEIPT, ("Backprop_ada_l", STAMP)),
        (f"Back prop_x@y.z_attempt_{STAMP}.TXT", ("Back prop_x@y.z", STAMP)),
        (f"Backprop_ada_l_attempt_{STAMP}_notes.txt", None),
        ("readme.txt", None),
    ],
)
def test_receipt_names_are_known_by_their_shape(name, key):
    assert receipt_key(name) == key


def test_a_receipt_tells_the_user_before_the_assignments_name():
    receipts = {("A_b_c", STAMP): Receipt("A_b_c", STAMP, "c", "")}
    assert user_name("A_b_c", STAMP, receipts, ["A"]) == "c"
    assert user_name("A_b_c", STAMP, {}, ["A"]) == "b_c"
    assert user_name("A_b_c", STAMP, {}, []) is None
    assert user_name("A_b", STAMP, {}, []) == "b"


def test_the_attempt_date_is_local_time():
    assert attempt_of(f"Backprop_ada_l_attempt_{STAMP}_01_sigmoid.ipynb") == STAMP
    assert attempt_time(STAMP) == datetime(2024, 5, 17, 10).astimezone()
    assert attempt_time("2024-13-40-99-00-00") is None


# ---------------------------------------------------------------- properties

PIECES = [
    "_", "anon_", "LATE_", "_attempt_", STAMP, "_assignsubmission_file_", "12345",
    "_67890_", "01_sigmoid", ".ipynb", ".zip", " ", "-1", "(1)", "Ada", "é", "\n",
]  # fmt: skip
NAME_PIECES = st.sampled_from(PIECES)
NAMES = st.one_of(
    st.text(max_size=200),
    st.lists(NAME_PIECES, max_size=40).map("".join),
)


@QUICK
@given(NAMES)
def test_any_name_is_read_or_refused_with_a_reason(name):
    """read_name and read_owner never raise; an LMS reading's id is non-empty and
    its prefix is where the name starts (the LMS wrote it first)."""
    for reading in (read_name(name), read_owner(name)):
        assert reading is None or isinstance(reading, NameReading | str)
        if isinstance(reading, NameReading) and reading.lms:
            assert reading.student_id
    reading = read_name(name)
    if isinstance(reading, NameReading) and reading.lms:
        assert name.startswith(reading.prefix + reading.student_id)


@settings(max_examples=20, deadline=timedelta(seconds=2))
@given(NAME_PIECES, st.integers(1, 5000))
def test_long_repetitive_names_are_read_in_time(piece, times):
    """Zip entries' names can be 64 KB: no reader backtracks on them."""
    name = piece * times + "_01_sigmoid.ipynb"
    read_name(name)
    read_owner(name)


RECEIPT_LINES = st.sampled_from(
    ["Name: ", "Ada Lovelace", " (", "ada_l", ")", "\n", "\r\n", "(", " ", "\ufeff",
     "Assignment: Backprop", "\x00", "é"]
)  # fmt: skip


@QUICK
@given(
    st.one_of(
        st.binary(max_size=500),
        st.lists(RECEIPT_LINES, max_size=30).map(lambda p: "".join(p).encode()),
    )
)
def test_any_receipt_is_read_or_refused_with_a_reason(content):
    """A receipt believed names a user that ends its own file name, on one line."""
    read = read_receipt(RECEIPT, content)
    if isinstance(read, Receipt):
        assert read.head == "Backprop_ada_l" and read.head.endswith("_" + read.user)
        assert "\n" not in read.name and "\n" not in read.user
    else:
        assert isinstance(read, str) and read


@QUICK
@given(st.text(max_size=80), st.lists(st.text(max_size=20), max_size=3))
def test_a_user_name_is_always_the_end_of_the_head(head, assignments):
    user = user_name(head, STAMP, {}, assignments)
    assert user is None or (user and head.endswith("_" + user))
