"""grader.nbx.remote: the channel's requests, their time limits and how they fail,
with the real kernel runtime run in this process (tests.nbx.inprocess)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from grader.nbx.kernel_values import GraderChannelError, StudentCodeError
from grader.nbx.remote import PROBE_SECONDS, CallTimedOut, KernelChannel
from tests.nbx.inprocess import Dies, IgnoresStop, InProcessKernel, Interrupted

LIMIT, HUNG = 6.0, 2.0


def channel_to(kernel: InProcessKernel) -> KernelChannel:
    """A channel whose requests are made for graded test `test_f`, cell 3."""
    channel = KernelChannel(kernel, HUNG)
    channel.begin(3, "test_f", LIMIT)
    return channel


def stops(*args):
    raise Interrupted


def test_a_value_comes_back_as_a_copy():
    kernel = InProcessKernel(weights=np.arange(3.0))
    value = channel_to(kernel).get("weights")
    np.testing.assert_array_equal(value, [0.0, 1.0, 2.0])
    value[0] = 9
    assert kernel.user_ns["weights"][0] == 0


def test_the_runtime_is_installed_once_per_kernel_and_requests_get_the_cells_limit():
    kernel = InProcessKernel(a=1, b=2)
    channel = channel_to(kernel)
    assert (channel.get("a"), channel.get("b")) == (1, 2)
    assert [(index, limit) for _, index, limit in kernel.runs] == [(3, LIMIT)] * 3
    assert "__grader_install" in kernel.runs[0][0]
    channel.reset()  # a new kernel
    channel.get("a")
    assert "__grader_install" in kernel.runs[-2][0]


def test_a_call_runs_the_students_function_and_names_the_type_it_returned():
    kernel = InProcessKernel()
    kernel.define("def f(x):\n    return 2 * x\ndef g():\n    return object()")
    channel = channel_to(kernel)
    assert channel.get("f")(21) == 42
    returned = channel.get("g")()
    assert type(returned).__name__ == "object"
    assert repr(returned).startswith("<object from the notebook: <object object")


def test_the_students_exception_names_the_function():
    kernel = InProcessKernel()
    kernel.define("def f(x):\n    return x / 0")
    with pytest.raises(StudentCodeError, match=r"^f raised ZeroDivisionError: "):
        channel_to(kernel).get("f")(1)


def test_a_call_stopped_at_its_limit_fails_and_is_given_a_short_limit_after():
    kernel = InProcessKernel(f=stops)
    channel = channel_to(kernel)
    f = channel.get("f")
    with pytest.raises(CallTimedOut, match=r"^f ran past the 6 s cell limit$"):
        f()
    assert kernel.runs[-2][2] == LIMIT  # the call, then the probe
    assert kernel.runs[-1] == ("None", 3, PROBE_SECONDS)
    assert channel.hung == {"f": "test_f"} and not channel.stuck
    with pytest.raises(CallTimedOut, match=r"again \(2 s now: .* in cell test_f\)"):
        f()
    assert kernel.runs[-2][2] == HUNG


def test_a_function_that_hung_a_cell_gets_the_short_limit_in_a_test():
    kernel = InProcessKernel()
    kernel.define("def f():\n    return 1")
    channel = channel_to(kernel)
    channel.note_hung("f", "check_f")
    assert channel.get("f")() == 1
    assert kernel.runs[-1][2] == HUNG


def test_a_kernel_busy_after_a_stop_is_stuck_and_refuses_further_requests():
    kernel = InProcessKernel(f=stops, a=1)
    kernel.deaf = True
    channel = channel_to(kernel)
    with pytest.raises(CallTimedOut):
        channel.get("f")()
    assert channel.stuck
    runs = len(kernel.runs)
    with pytest.raises(CallTimedOut, match=r"still busy with f$"):
        channel.get("a")
    assert len(kernel.runs) == runs  # nothing more was sent


def test_a_stop_the_kernel_ignored_is_a_timeout_too():
    def ignores(*args):
        raise IgnoresStop

    channel = channel_to(InProcessKernel(f=ignores))
    with pytest.raises(CallTimedOut, match="f ran past the 6 s cell limit"):
        channel.get("f")()


def test_a_kernel_that_died_is_a_channel_error():
    def dies(*args):
        raise Dies

    channel = channel_to(InProcessKernel(f=dies))
    with pytest.raises(GraderChannelError, match=r"kernel died while .* ran f$"):
        channel.get("f")()
    assert channel.dead


def test_a_test_function_bound_in_the_kernel_runs_here_until_revoked():
    seen = []

    def reference(x):
        seen.append(x)
        return x + 1

    kernel = InProcessKernel()
    kernel.define("def uses_reference(x):\n    return reference(x) * 10")
    channel = channel_to(kernel)
    channel.set("reference", reference)
    assert type(kernel.user_ns["reference"]).__name__ == "Callback"
    assert channel.get("uses_reference")(4) == 50 and seen == [4]
    channel.callbacks.forget()
    with pytest.raises(StudentCodeError, match="not a callback of this test"):
        channel.get("uses_reference")(4)


def test_the_kernel_cannot_call_the_grader_from_inside_a_callback():
    kernel = InProcessKernel()
    kernel.define("def f():\n    return 1\ndef g():\n    return calls_f()")
    channel = channel_to(kernel)
    f = channel.get("f")

    def calls_f():
        return f()

    channel.set("calls_f", calls_f)
    with pytest.raises(StudentCodeError, match="cannot be called while the kernel"):
        channel.get("g")()


def bare_value(runtime, number):
    """An answer that is not the runtime's {result, args, kwargs}."""
    answer = {"id": number, "value": 7}
    runtime.shell.display_pub.publish(data={runtime.wire.MIME: answer}, metadata={})


def no_answer(runtime, number):
    """No answer at all."""


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (bare_value, "f: a malformed answer"),
        (no_answer, "the notebook's kernel did not answer the grader"),
    ],
)
def test_a_runtime_the_student_replaced_is_a_channel_error(answer, message):
    """The student's code may rewrite __grader__ in its kernel: what comes back
    is checked, never trusted."""
    kernel = InProcessKernel()
    kernel.define("def f():\n    return 1")
    channel = channel_to(kernel)
    f = channel.get("f")
    runtime = kernel.user_ns["__grader__"]
    runtime.request = lambda text: answer(runtime, json.loads(text)["id"])
    with pytest.raises(GraderChannelError, match=message):
        f()
