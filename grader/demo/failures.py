"""Students whose code fails the ways that used to cost time and points: a function
that never returns (a CPU loop, a sleep, a sleep that ignores the interrupt), one that
kills its kernel, and correct work that is five times slower than the answer key's.

Used by the fairness tests (tests/grading/test_fairness.py) and by
benchmarks/failure_cost.py.
"""

from __future__ import annotations

from collections.abc import Callable

import nbformat

from ..course import COURSE, NOTEBOOKS
from .submissions import answer_cells, solved, with_edits

SIG, FWD, BWD, GC, OPT = NOTEBOOKS
FORWARD_BODY = "    a = w[0] * x[0] + w[1] * x[1]\n"
BACKWARD_BODY = '    dy_pred = forward_dict["dy_pred"]\n'
# Where each notebook defines forward_propagation / backward_propagation.
FORWARD_CELLS = {
    FWD: "forward_propagation",
    GC: "paste_functions",
    OPT: "paste_functions",
}
BACKWARD_CELLS = {
    BWD: "backward_propagation",
    GC: "paste_functions",
    OPT: "paste_functions",
}

# Makes each named function take five times its own time (nested calls of other
# slowed functions are counted once, so a whole run is five times slower too).
SLOWER = """

import time as _time

_nested = [0.0]


def _five_times_slower(function):
    def slow(*args, **kwargs):
        _nested.append(0.0)
        start = _time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            own = _time.perf_counter() - start - _nested.pop()
            until = _time.perf_counter() + 4 * own
            while _time.perf_counter() < until:
                pass
            _nested[-1] += _time.perf_counter() - start

    slow.__name__ = function.__name__
    return slow


for _name in NAMES:
    globals()[_name] = _five_times_slower(globals()[_name])
"""


def broken(cells: dict[str, str], body: str, code: str) -> dict:
    """stem -> notebook with `code` run first in the function in each cell."""
    indented = "".join(f"    {line}\n" for line in code.splitlines())
    return {
        stem: with_edits(stem, cell, (body, indented + body))
        for stem, cell in cells.items()
    }


def slow_student() -> dict[str, nbformat.NotebookNode]:
    """Every notebook right, every function five times slower than the answer's."""
    notebooks = {}
    for stem in NOTEBOOKS:
        names = COURSE.notebook(stem).answer_names
        answers = dict(answer_cells(stem))
        for cell, source in answers.items():
            defined = sorted(name for name in names if f"def {name}(" in source)
            if defined:
                answers[cell] = source + SLOWER.replace("NAMES", repr(defined))
        notebooks[stem] = solved(stem, answers)
    return notebooks


STUDENTS: dict[str, Callable[[], dict[str, nbformat.NotebookNode]]] = {
    "correct": lambda: {stem: solved(stem) for stem in NOTEBOOKS},
    "looper": lambda: broken(FORWARD_CELLS, FORWARD_BODY, "while True:\n    pass"),
    "sleeper": lambda: broken(
        FORWARD_CELLS, FORWARD_BODY, "import time\ntime.sleep(10**6)"
    ),
    "deaf": lambda: broken(  # ignores the interrupt: its kernel must be replaced
        FORWARD_CELLS,
        FORWARD_BODY,
        "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "time.sleep(10**6)",
    ),
    "crasher": lambda: broken(BACKWARD_CELLS, BACKWARD_BODY, "import os\nos._exit(1)"),
    "slow": slow_student,
}
# The notebook whose own function fails, and the status it gets.
OWN_FAILURE = {
    "looper": (FWD, "timeout"),
    "sleeper": (FWD, "timeout"),
    "deaf": (FWD, "timeout"),
    "crasher": (BWD, "kernel_died"),
}
