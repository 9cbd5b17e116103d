"""What a failing graded test found, as data: carried to the grader's records, never
read back from text.

A graded test runs in the grader's process (grader.nbx.trusted), so when its check
fails the grader holds the course helper's CheckFailed itself: which keys were
wrong, the mistake each matches (an id of the catalogue), and every number compared
(expected, got). That goes, as plain JSON-ready data, into the run's record
(grader.nbx.status), then TestResult.findings, the resume state and the autograded
notebook's grader metadata, and the class's misconceptions are counted from it: a
student's own text (an exception that spells "exp: the sign is flipped") names no
mistake. recognise() reads text back only for stock nbgrader, which runs the tests
in the student's kernel.

findings_of(error) -> {"found": [[key, mistake id or "", reason], ...],
                       "compared": {key: [expected, got]},
                       "what": the check's title (what it called; "" for none),
                       "headline": the grader's words for a failure no check explains
                       ("" for a check's: its message says it)}
Every text is bounded, numbers that are not finite are written as their repr.
"""

from __future__ import annotations

import builtins
import math

from ..student_text import bounded
from .callbacks import CallbackBreach
from .kernel_values import StudentCodeError

HELPER_MODULE = "backprop_helper"  # CheckFailed is the course helper's
MAX_FOUND = 200  # findings kept per test
MAX_COMPARED = 5000  # numbers kept per test
KEY_CHARS = 200
REASON_CHARS = 500
# Exception names every student may raise without writing them: kept in a headline.
BUILTIN_ERRORS = frozenset(
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
)


def empty() -> dict:
    """The findings of a test that failed without a check's finding."""
    return {"found": [], "compared": {}, "what": "", "headline": ""}


def findings_of(error: BaseException) -> dict:
    """What the failing test's `error` says, as data (see the module docstring)."""
    data = empty()
    if _is_check(error):
        data["found"] = [
            [
                bounded(key, KEY_CHARS),
                mistake_id if isinstance(mistake_id, str) else "",
                bounded(reason, REASON_CHARS),
            ]
            for key, mistake_id, reason in list(error.found)[:MAX_FOUND]
        ]
        data["compared"] = {
            bounded(key, KEY_CHARS): [_number(want), _number(got)]
            for key, (want, got) in list(getattr(error, "compared", {}).items())[
                :MAX_COMPARED
            ]
        }
        what = getattr(error, "what", "")
        data["what"] = bounded(what, REASON_CHARS) if isinstance(what, str) else ""
    elif isinstance(error, StudentCodeError):
        kind = error.ename if error.ename in BUILTIN_ERRORS else "an exception"
        data["headline"] = f"{error.function} raised {kind}"
    elif isinstance(error, CallbackBreach):
        data["headline"] = bounded(error, REASON_CHARS)
    return data


def _is_check(error: BaseException) -> bool:
    """Whether error is the course helper's CheckFailed, raised by the test's own
    checks in the grader (the kernel can send back no exception: only data)."""
    kind = type(error)
    return (
        kind.__name__ == "CheckFailed"
        and kind.__module__.startswith(HELPER_MODULE)
        and isinstance(getattr(error, "found", None), tuple)
    )


def _number(value: object) -> float | str:
    """A compared number as JSON takes it: its repr when it is not finite."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return bounded(repr(value), KEY_CHARS)
    return number if math.isfinite(number) else repr(number)
