"""A graded test's own functions, run in a child process under the notebook's limits.

A reference that the student's code calls back (grader.nbx.callbacks) runs on
arguments the student chose: `adam_update(..., t=10**8, beta1=3)` computes
3**(10**8), which no signal interrupts. So a reference never runs in the grader's
own process. The first callback of a test forks a child of the grader, which holds
the test's functions as the grader does; the child decodes each call's arguments
(plain data only: grader.inside.wire, nothing the kernel could make it run), checks
them against the contract of the function the reference stands in for (the
course's backprop_helper/contracts.py: a call that breaks it fails as the student's
own function would, without running), runs the function and answers with wire
data. Each call runs within the
test's time limit (the grader waits no longer, then kills the child), the same
seconds of CPU (RLIMIT_CPU) and the notebook's memory (RLIMIT_AS, beyond what the
child shares with the grader); a breach ends the child and fails the test, and
the next call forks a new one. The child dies with its test (stop) or with the
grader (PR_SET_PDEATHSIG), and never touches the grader's kernels or files.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import math
import os
import resource
import select
import signal
import struct
import time
from collections.abc import Callable

from ..inside import wire
from ..model import MB
from ..student_text import bounded

FRAME = struct.Struct("!I")  # each message: its length, then JSON
ANSWER_BYTES = 8 * MB  # the largest answer a reference may give
ERROR_CHARS = 500  # of a reference's own exception, in the answer
PR_SET_PDEATHSIG = 1
# contract(name, args, kwargs) -> what breaks the contract of the function bound as
# `name` in this call ("" when nothing does): the course's contracts.check_call.
Contract = Callable[[str, list, dict], str]


class ReferenceBreach(Exception):
    """A reference ran past a limit on the student's arguments (or its child
    died): the test that bound it fails."""


class ReferenceRunner:
    """Runs one test's functions in a child process (forked on first use).

    memory_mb: the memory a call may use beyond what the child shares with the
    grader (0: no limit).
    contract: contract(name, args, kwargs) -> what breaks the contract of the
    function bound as `name` ("" when nothing does); None checks nothing.
    """

    def __init__(self, memory_mb: int = 0, contract: Contract | None = None) -> None:
        self.memory_mb = memory_mb
        self.contract = contract
        self.pid: int | None = None
        self._requests: int | None = None  # our end of the request pipe
        self._answers: int | None = None  # our end of the answer pipe
        self._known: frozenset[str] = frozenset()  # the tokens the child holds
        self.forks = 0  # children forked so far (one per test, or after a breach)

    def call(
        self,
        functions: dict[str, Callable],
        token: str,
        arguments: tuple[object, object],
        seconds: float | None,
        name: str = "",
    ) -> str:
        """The answer (JSON: {"value": wire data} or {"error": text}) of
        functions[token], bound in the kernel as `name`, called with `arguments`
        ((args, kwargs) as the kernel sent them), within `seconds`.
        ReferenceBreach past a limit."""
        if self.pid is None or token not in self._known:
            self._fork(functions)
        args, kwargs = arguments
        fields = {"token": token, "name": name, "args": args, "kwargs": kwargs}
        request = json.dumps({**fields, "seconds": seconds})
        deadline = time.monotonic() + (seconds or 3600)
        try:
            _write_frame(self._requests, request.encode(), deadline)
            answer = _read_frame(self._answers, deadline, ANSWER_BYTES)
        except TimeoutError:
            self.stop()
            raise ReferenceBreach(f"ran past the {seconds:g} s limit") from None
        except (OSError, EOFError, ValueError) as error:
            reason = self._ended() or str(error)
            self.stop()
            raise ReferenceBreach(reason) from None
        if answer.startswith(b'{"breach"'):
            breach = json.loads(answer)["breach"]
            self.stop()
            raise ReferenceBreach(breach)
        return answer.decode()

    def stop(self) -> None:
        """End the child (its test is over, or it breached a limit)."""
        for fd in (self._requests, self._answers):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._requests = self._answers = None
        if self.pid is not None:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
        self.pid, self._known = None, frozenset()

    def _ended(self) -> str:
        """How the child ended, when it has ("" when it still runs)."""
        if self.pid is None:
            return ""
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            return ""
        if pid == 0:
            return ""
        self.pid = None
        if os.WIFSIGNALED(status):
            number = os.WTERMSIG(status)
            if number in (signal.SIGXCPU, signal.SIGKILL):
                return "ran past its limit of CPU time"
            return f"died ({signal.Signals(number).name})"
        return f"ended (exit code {os.WEXITSTATUS(status)})"

    def _fork(self, functions: dict[str, Callable]) -> None:
        """A new child holding `functions`, under the limits."""
        self.stop()
        requests_read, requests_write = os.pipe()
        answers_read, answers_write = os.pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(requests_write)
            os.close(answers_read)
            _child(parent, dict(functions), requests_read, answers_write, self)
        os.close(requests_read)
        os.close(answers_write)
        self.pid, self._requests, self._answers = pid, requests_write, answers_read
        self._known = frozenset(functions)
        self.forks += 1


def _child(
    parent: int,
    functions: dict[str, Callable],
    requests: int,
    answers: int,
    runner: ReferenceRunner,
) -> None:
    """The child's life: limits, then one answer per request until the pipe ends."""
    code = 0
    try:
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
            signal.signal(number, signal.SIG_DFL)
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the grader died while this child started
            os._exit(1)
        if runner.memory_mb:
            room = _address_space() + runner.memory_mb * MB
            resource.setrlimit(resource.RLIMIT_AS, (room, room))
        _serve(functions, requests, answers, runner)
    except BaseException:  # the child must never return into the grader
        code = 1
    finally:
        os._exit(code)


def _serve(
    functions: dict[str, Callable],
    requests: int,
    answers: int,
    runner: ReferenceRunner,
) -> None:
    """Answer each request: decode the arguments, run the function, encode."""
    while True:
        try:
            request = json.loads(_read_frame(requests, None, None))
        except EOFError:
            return
        seconds = float(request.get("seconds") or 0)
        answer = _answer(functions, request, seconds, runner.contract)
        _write_frame(answers, json.dumps(answer).encode(), None)


def _answer(
    functions: dict[str, Callable],
    request: dict,
    seconds: float,
    contract: Contract | None,
) -> dict:
    """One call's answer: {"value": ...}, {"error": ...} or {"breach": ...}."""
    function = functions.get(request.get("token"))
    if function is None:
        return {"error": "not a callback of this test"}
    try:
        args = wire.decode(request.get("args"), _refuse_handle)
        kwargs = wire.decode(request.get("kwargs"), _refuse_handle)
        if type(args) is not list or type(kwargs) is not dict:
            raise wire.WireError("malformed arguments")
        if not all(type(name) is str for name in kwargs):
            raise wire.WireError("keyword names must be text")
    except (wire.WireError, RecursionError, ValueError, TypeError) as error:
        return {"error": bounded(f"unusable arguments: {error}", ERROR_CHARS)}
    broken = contract(str(request.get("name")), args, kwargs) if contract else ""
    if broken:
        return {"error": bounded(f"refused: {broken}", ERROR_CHARS)}
    _limit_cpu(seconds)
    try:
        value = function(*args, **kwargs)
        return {"value": wire.encode(value, _unsendable)}
    except MemoryError:
        return {"breach": "ran past its memory limit"}
    except Exception as error:  # the reference itself failed on these arguments
        return {"error": bounded(f"{type(error).__name__}: {error}", ERROR_CHARS)}


def _limit_cpu(seconds: float) -> None:
    """At most `seconds` more CPU for the coming call (SIGXCPU, then SIGKILL)."""
    if not seconds:
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime + seconds)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _address_space() -> int:
    """This process's address space now, in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _refuse_handle(item: dict) -> object:
    raise wire.WireError("a reference takes data, not objects of the notebook")


def _unsendable(value: object) -> dict:
    raise TypeError(f"a reference cannot return a {type(value).__name__}")


def _write_frame(fd: int, payload: bytes, deadline: float | None) -> None:
    """Send one message (its length, then its bytes) before `deadline`."""
    view = memoryview(FRAME.pack(len(payload)) + payload)
    while view:
        _wait(fd, select.POLLOUT, deadline)
        view = view[os.write(fd, view) :]


def _read_frame(fd: int, deadline: float | None, largest: int | None) -> bytes:
    """One message, read before `deadline`; EOFError when the other end closed,
    ValueError when it is larger than `largest`."""
    size = FRAME.unpack(_read_exactly(fd, FRAME.size, deadline))[0]
    if largest is not None and size > largest:
        raise ValueError(f"an answer of {size:,} bytes (at most {largest:,})")
    return _read_exactly(fd, size, deadline)


def _read_exactly(fd: int, size: int, deadline: float | None) -> bytes:
    chunks, left = [], size
    while left:
        _wait(fd, select.POLLIN, deadline)
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other end closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _wait(fd: int, event: int, deadline: float | None) -> None:
    """Wait until fd is ready for `event`; TimeoutError past `deadline`."""
    if deadline is None:
        return
    poller = select.poll()
    poller.register(fd, event | select.POLLHUP | select.POLLERR)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        if poller.poll(left * 1000):
            return
