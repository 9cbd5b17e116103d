"""What crosses from a student's kernel into the grader, fed random and adversarial
payloads (hypothesis): the channel's decoder, the student's exceptions, callback
prompts, output messages and the misconception reader each answer every payload
(huge, deeply nested, odd types, control characters) with a value or their own
error, bounded, within a deadline per payload."""

from __future__ import annotations

import json
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from grader.course import COURSE
from grader.inside import runtime
from grader.model import ClassResults, NotebookGrade, Status
from grader.model import TestResult as CellResult
from grader.nbx.callbacks import Callbacks
from grader.nbx.kernel_values import GraderChannelError, decode, student_error
from grader.nbx.output_limit import OutputLimit, Verdict
from grader.output.misconceptions import class_misconceptions
from tests.nbx.inprocess import InProcessKernel
from tests.nbx.test_remote import channel_to

TIME = timedelta(seconds=5)
# Keys the wire format and the runtime's answers give meaning to.
KEYS = [
    "__handle__", "__callback__", "__float__", "__ndarray__", "__npscalar__",
    "__tuple__", "__dict__", "dtype", "shape", "type", "repr", "callable", "id",
    "error", "value", "ename", "evalue", "where", "result", "args", "kwargs",
]  # fmt: skip
TEXT = st.text(
    alphabet=st.characters(codec="utf-8") | st.sampled_from("\x1b[2J\r\n\u202e:;"),
    max_size=60,
)
SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT
    | st.sampled_from(["nan", "inf", "<i8", "|O", "AAAA", "float64", -1, 2**70])
)  # fmt: skip
PAYLOADS = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=6)
        | st.dictionaries(st.sampled_from(KEYS) | TEXT, inner, max_size=6)
    ),
    max_leaves=60,
)


PIECES = ["\x1b[2J", "missing from what ", "x", [], {"__dict__": []}]


class Huge:
    """An adversarial payload, made inside the test (hypothesis prints examples,
    and a structure 200,000 deep cannot be printed): one of PIECES repeated, or
    nested `times` deep."""

    def __init__(self, piece: int, times: int) -> None:
        self.piece, self.times = piece, times

    def __repr__(self) -> str:
        return f"Huge({PIECES[self.piece]!r}, {self.times})"

    def build(self) -> object:
        piece = PIECES[self.piece]
        if isinstance(piece, str):
            return piece * self.times
        nested: object = piece
        for _ in range(self.times):
            nested = {"__tuple__": nested} if isinstance(piece, dict) else [nested]
        return nested


ADVERSARIAL = st.builds(
    Huge, st.integers(0, len(PIECES) - 1), st.integers(min_value=1, max_value=200_000)
)


def built(payload: object) -> object:
    return payload.build() if isinstance(payload, Huge) else payload


@settings(max_examples=300, deadline=TIME)
@given(PAYLOADS | ADVERSARIAL)
def test_the_decoder_gives_a_value_or_its_own_error(payload):
    """Whatever the kernel answered: a value, or GraderChannelError naming what
    was wrong, its text bounded."""
    channel = channel_to(InProcessKernel())
    try:
        decode(built(payload), "f", channel)
    except GraderChannelError as error:
        assert len(str(error)) < 400


@settings(max_examples=300, deadline=TIME)
@given(PAYLOADS | ADVERSARIAL)
def test_a_students_exception_becomes_a_bounded_message(payload):
    error = student_error(built(payload), "f")
    assert isinstance(error, Exception)
    assert len(str(error)) < 3200


@settings(max_examples=200, deadline=TIME)
@given(PAYLOADS | ADVERSARIAL, st.booleans())
def test_a_callback_prompt_gets_a_json_answer(payload, prefixed):
    """Any prompt on the stdin channel gets an answer the kernel can read (no
    callback is bound: none runs)."""
    callbacks = Callbacks()
    payload = built(payload)
    try:
        text = payload if isinstance(payload, str) else json.dumps(payload)
    except RecursionError:  # the kernel's JSON has no depth limit: write it out
        text = "[" * 100_000 + "]" * 100_000
    prompt = (runtime.CALLBACK_PREFIX if prefixed else "") + text
    answer = callbacks.answer(prompt)
    assert answer == "" or "error" in json.loads(answer)
    callbacks.forget()


@settings(max_examples=300, deadline=TIME)
@given(
    st.sampled_from(["display_data", "stream", "comm_msg", "error", "status", 7]),
    PAYLOADS | ADVERSARIAL,
    st.integers(min_value=0, max_value=3),
)
def test_an_output_message_gets_a_verdict(kind, content, awaited):
    limit = OutputLimit(1000)
    limit.await_answer(awaited)
    message = {"msg_type": kind, "content": built(content)}
    assert isinstance(limit.count(message, 0), Verdict)
    answer = limit.take_answer()
    assert answer is None or (type(answer) is dict and answer.get("id") == awaited)


@settings(max_examples=100, deadline=TIME)
@given(TEXT | ADVERSARIAL.filter(lambda p: isinstance(PIECES[p.piece], str)))
def test_the_misconception_reader_reads_any_message(message):
    """A failing test's message as stock nbgrader leaves it (read with
    recognise()), anything at all: counted in linear time."""
    test = CellResult("test_f", 0.0, 1.0, built(message))
    grade = NotebookGrade("s", "01_sigmoid", 0.0, 1.0, Status.OK, tests=[test])
    for row in class_misconceptions(ClassResults([grade]), COURSE):
        assert row.students == ("s",)
