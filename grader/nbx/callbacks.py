"""A graded test's own functions, bound in a student's kernel as callbacks.

A function the grader binds in the kernel (a test's reference, swapped in for stage
independence) is only a token there: calling it sends its arguments to the grader
on the stdin channel (an input_request whose prompt starts with
runtime.CALLBACK_PREFIX); the grader runs the function here and answers with an
input_reply. So no code of the grader's ever reaches the kernel. Tokens are
revoked when the test ends.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable

from ..inside import runtime, wire
from .kernel_values import GraderChannelError


class Callbacks:
    """The callbacks one notebook's graded test bound in its kernel.

    decode(data, label): a value the kernel sent (GraderChannelError if malformed).
    """

    def __init__(self, decode: Callable[[object, str], object]) -> None:
        self._decode = decode
        self._functions: dict[str, Callable] = {}
        self.running = False  # a callback runs: the kernel waits for its answer

    def token(self, function: Callable) -> dict:
        """What the kernel is sent for `function`: a token it calls back with."""
        token = secrets.token_hex(16)
        self._functions[token] = function
        return {"__callback__": token, "name": function.__name__}

    def forget(self) -> None:
        """Revoke every callback bound so far."""
        self._functions.clear()

    def answer(self, prompt: str) -> str:
        """The input_reply for one input_request: a callback's result, or ""."""
        if not prompt.startswith(runtime.CALLBACK_PREFIX):
            return ""  # the student's own input(): there is no one to answer
        try:
            request = json.loads(prompt[len(runtime.CALLBACK_PREFIX) :])
            function = self._functions[str(request["callback"])]
            label = f"the grader's {function.__name__}"
            args = self._decode(request["args"], label)
            kwargs = self._decode(request["kwargs"], label)
            if type(args) is not list or type(kwargs) is not dict:
                raise GraderChannelError(f"{label}: malformed arguments")
        except (ValueError, KeyError, TypeError, GraderChannelError):
            return json.dumps({"error": "not a callback of this test"})
        self.running = True
        try:
            value = function(*args, **kwargs)
            answer = {"value": wire.encode(value, _unsendable)}
        except Exception as error:  # the reference itself failed on these arguments
            answer = {"error": f"{type(error).__name__}: {error}"[:500]}
        finally:
            self.running = False
        return json.dumps(answer)


def _unsendable(value) -> dict:
    raise TypeError(f"a reference cannot return a {type(value).__name__}")
