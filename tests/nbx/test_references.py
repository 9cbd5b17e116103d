"""grader.nbx.references: a test's reference runs in a child of the grader, within
the test's limits, on the arguments the student's code chose; a breach fails that
test and nothing else (the issue's adam_update(..., t=10**8, beta1=3) took a worker
240 s, status ok)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import nbformat
import numpy as np
import pytest

from grader.catalogue import contracts_module
from grader.course import SOURCE_DIR, Notebook
from grader.inside import wire
from grader.nbx.callbacks import Callbacks
from grader.nbx.cell_limits import CellLimits
from grader.nbx.references import ReferenceBreach, ReferenceRunner
from grader.nbx.remote import KernelChannel
from grader.nbx.trusted import TrustedTests
from tests.nbx.inprocess import InProcessKernel, graded

LIMIT = 2.0


def power(t, beta1):
    """adam's bias correction, as a reference computes it: beta1 ** t."""
    return beta1**t


def allocate(count):
    return np.ones(count)


def fails(x):
    raise ValueError(f"bad x: {x}")


def huge(count):
    return "x" * count


FUNCTIONS = {"power": power, "allocate": allocate, "fails": fails, "huge": huge}


def call(runner: ReferenceRunner, token: str, *args, **kwargs):
    """The decoded answer of one call, as the kernel would receive it."""
    arguments = (wire.encode(list(args), None), wire.encode(kwargs, None))
    answer = json.loads(runner.call(FUNCTIONS, token, arguments, LIMIT))
    if "error" in answer:
        return answer
    return wire.decode(answer["value"], None)


@pytest.fixture
def runner():
    runner = ReferenceRunner(memory_mb=256)
    yield runner
    runner.stop()


def test_a_reference_answers_with_data_from_one_child(runner):
    assert call(runner, "power", 3, 0.5) == 0.125
    assert call(runner, "power", t=2, beta1=3) == 9
    assert runner.forks == 1


def test_a_reference_stalled_by_the_students_arguments_is_stopped(runner):
    """3 ** (10 ** 8) is never computed to the end: the child is killed at the
    test's limit, and the next call starts a new one."""
    child = None
    with pytest.raises(ReferenceBreach, match=f"ran past the {LIMIT:g} s limit"):
        runner.call(FUNCTIONS, "power", ([10**8, 3], {"__dict__": []}), LIMIT)
    child = runner.pid
    assert child is None  # killed and reaped
    assert call(runner, "power", 2, 2) == 4 and runner.forks == 2


def test_memory_past_the_notebooks_limit_is_a_breach(runner):
    with pytest.raises(ReferenceBreach, match="memory"):
        call(runner, "allocate", 10**9)  # 8 GB
    assert call(runner, "allocate", 3).tolist() == [1.0, 1.0, 1.0]


def test_an_answer_past_its_size_is_a_breach(runner):
    with pytest.raises(ReferenceBreach, match="an answer of"):
        call(runner, "huge", 9 * 1024 * 1024)


def test_a_reference_that_raises_answers_with_its_error(runner):
    answer = call(runner, "fails", "\x1b[2J" * 1000)
    assert answer["error"].startswith("ValueError: bad x: \x1b[2J")
    assert len(answer["error"]) < 600  # bounded where the kernel will read it


@pytest.mark.parametrize(
    "arguments",
    [
        ([{"__handle__": 1}], {"__dict__": []}),  # an object of the notebook
        ({"not": "a list"}, {"__dict__": []}),
        ([], {"__dict__": [[1, 2]]}),  # a keyword that is not text
        ([{"__ndarray__": "AAAA", "dtype": "|O", "shape": [1]}], {"__dict__": []}),
    ],
    ids=["handle", "not-a-list", "keyword", "object-array"],
)
def test_arguments_that_are_not_data_are_refused(runner, arguments):
    answer = json.loads(runner.call(FUNCTIONS, "power", arguments, LIMIT))
    assert answer["error"].startswith("unusable arguments")


def test_the_child_dies_with_the_grader(tmp_path):
    """kill -9 of the process that forked the child: the child goes too."""
    code = textwrap.dedent(
        """
        import sys, time
        from grader.nbx.references import ReferenceRunner
        runner = ReferenceRunner()
        runner.call({"sleep": time.sleep}, "sleep", ([0.01], {"__dict__": []}), 5)
        print(runner.pid, flush=True)
        time.sleep(60)
        """
    )
    grader = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True
    )
    try:
        child = int(grader.stdout.readline())
        os.kill(grader.pid, signal.SIGKILL)
        grader.wait(10)
        for _ in range(100):
            if not os.path.exists(f"/proc/{child}") or _zombie(child):
                break
            time.sleep(0.05)
        assert not os.path.exists(f"/proc/{child}") or _zombie(child)
    finally:
        grader.kill()


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


# --- through a graded test ----------------------------------------------------------


def adam_notebook(train: str) -> Notebook:
    """A notebook whose graded test binds a reference (`update`) that the student's
    `train` calls back."""
    code = nbformat.v4.new_code_cell
    notebook = nbformat.v4.new_notebook(
        cells=[
            graded(code("import numpy as np"), "setup"),
            graded(code(train), "answer_train", solution=True),
            graded(
                code(
                    "def _ref_update(t, beta1):\n    return beta1 ** t\n"
                    "update = _ref_update\nassert train() == 1"
                ),
                "test_train",
                grade=True,
                points=1,
            ),
        ]
    )
    return Notebook("05_optimizers", notebook, None)


STALLS = "def update(t, beta1):\n    return 0\n\ndef train():\n{body}"


@pytest.mark.parametrize(
    "body",
    [
        "    update(10**8, 3)\n    return 1",
        "    try:\n        update(10**8, 3)\n    except Exception:\n        pass\n"
        "    return 1",
    ],
    ids=["raises", "catches-the-refusal"],
)
def test_a_breach_fails_the_test_that_bound_the_reference(tmp_path, body):
    """Whether or not the student's code catches the refusal, the test fails, with
    what the reference breached; the next test runs as usual."""
    model = adam_notebook(STALLS.format(body=body))
    kernel = InProcessKernel()
    kernel.define(model.source.cells[1].source)
    channel = KernelChannel(kernel, 2, reference_memory_mb=256)
    cell_limits = CellLimits(None, "05_optimizers", LIMIT, LIMIT)
    trusted = TrustedTests(model, tmp_path, channel, cell_limits)
    cell = trusted.run(model.source.cells[2], 2)
    error = cell.outputs[-1]
    assert error.ename == "CallbackBreach"
    assert error.evalue == (
        f"the grader's update, called by your code, ran past the {LIMIT:g} s limit "
        "on the arguments it was given"
    )
    assert channel.callbacks.breach == "" and channel.callbacks.forks == 1
    kernel.define("def train():\n    update(3, 2)\n    return 1")
    assert trusted.run(model.source.cells[2], 2).outputs == []


def test_callbacks_refuse_after_a_breach():
    callbacks = Callbacks(memory_mb=256)
    callbacks.limit = LIMIT
    token = callbacks.token(power, "update")["__callback__"]
    prompt = "\x1egrader-callback:" + json.dumps(
        {"callback": token, "args": [10**8, 3], "kwargs": {"__dict__": []}}
    )
    assert "ran past" in json.loads(callbacks.answer(prompt))["error"]
    again = json.loads(callbacks.answer(prompt.replace("10000", "1")))
    assert again["error"].startswith("refused: the grader's update")
    callbacks.forget()
    assert callbacks.breach == ""


def test_a_call_outside_the_contract_is_refused_without_running(tmp_path):
    """adam_update's contract (backprop_helper.contracts): t=10**8 with beta1=3 is
    refused at once, as the student's own function would refuse it; no breach, the
    child lives on."""
    runner = ReferenceRunner(256, contracts_module(SOURCE_DIR).check_call)
    try:
        w = wire.encode(np.zeros(9), None)
        arguments = ([w, w, w, w, 10**8, 0.01], {"__dict__": [["beta1", 3]]})
        answer = runner.call({"t": power}, "t", arguments, LIMIT, "adam_update")
        assert json.loads(answer) == {
            "error": "refused: adam_update's t must be below 1,000,000"
        }
        assert runner.pid is not None  # no breach: the child lives on
    finally:
        runner.stop()
