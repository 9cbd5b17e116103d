"""A graded test's own functions, bound in a student's kernel as callbacks.

A function the grader binds in the kernel (a test's reference, swapped in for stage
independence) is only a token there: calling it sends its arguments to the grader
on the stdin channel (an input_request whose prompt starts with
runtime.CALLBACK_PREFIX); the grader runs the function in a child process under the
notebook's limits (grader.nbx.references) and answers with an input_reply. So no
code of the grader's ever reaches the kernel, and no argument the student chose runs
in the grader's own process. A reference that breaches a limit on the student's
arguments fails the test that bound it (`breach`); the kernel gets a refusal for
that call and every later one. Tokens are revoked when the test ends.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable

from ..inside import runtime
from ..student_text import bounded
from .references import Contract, ReferenceBreach, ReferenceRunner

PROMPT_CHARS = 64 * 1024 * 1024  # a callback's arguments, as the kernel sent them


class CallbackBreach(Exception):
    """A reference breached a limit on the arguments the student's code gave it:
    the graded test that bound it fails, whatever else it found."""


class Callbacks:
    """The callbacks one notebook's graded test bound in its kernel.

    memory_mb: the memory a reference may use on the student's arguments.
    contract: checks each call's arguments (grader.nbx.references.Contract).
    limit: seconds each call may take (the graded test's cell limit; set by the
    channel for each test).
    """

    def __init__(self, memory_mb: int = 0, contract: Contract | None = None) -> None:
        self._functions: dict[str, Callable] = {}
        self._names: dict[str, str] = {}  # token -> the name bound in the kernel
        self._runner = ReferenceRunner(memory_mb, contract)
        self.limit: float | None = None
        self.running = False  # a callback runs: the kernel waits for its answer
        self.breach = ""  # what a reference breached in this test ("" if none)

    def token(self, function: Callable, name: str = "") -> dict:
        """What the kernel is sent for `function` (bound as `name`): a token it
        calls back with."""
        token = secrets.token_hex(16)
        self._functions[token] = function
        self._names[token] = name = name or function.__name__
        # the kernel knows it by the name it is bound to, never by the test's own
        return {"__callback__": token, "name": name}

    def forget(self) -> None:
        """Revoke every callback bound so far; stop their child process."""
        self._functions.clear()
        self._names.clear()
        self._runner.stop()
        self.breach = ""

    @property
    def forks(self) -> int:
        """Child processes started for references so far."""
        return self._runner.forks

    def answer(self, prompt: str) -> str:
        """The input_reply for one input_request: a callback's result, or ""."""
        if not prompt.startswith(runtime.CALLBACK_PREFIX):
            return ""  # the student's own input(): there is no one to answer
        if self.breach:
            return _error(f"refused: {self.breach}")
        try:
            if len(prompt) > PROMPT_CHARS:
                raise ValueError("arguments too large")
            request = json.loads(prompt[len(runtime.CALLBACK_PREFIX) :])
            token = request["callback"]
            if type(token) is not str or token not in self._functions:
                raise KeyError(token)
            arguments = (request["args"], request["kwargs"])
        except (ValueError, KeyError, TypeError, RecursionError):
            return _error("not a callback of this test")
        self.running = True
        try:
            return self._runner.call(
                self._functions, token, arguments, self.limit, self._names[token]
            )
        except ReferenceBreach as breach:
            name = self._names[token]
            self.breach = bounded(
                f"the grader's {name}, called by your code, {breach} on the "
                "arguments it was given",
                500,
            )
            return _error(f"refused: {self.breach}")
        finally:
            self.running = False


def _error(text: str) -> str:
    return json.dumps({"error": text})
