"""What crosses from a student's kernel into a graded test: values, objects that stay
in the kernel, and the student's exceptions.

Plain data and numeric arrays come back as copies (grader.inside.wire); anything
else comes back as a KernelObject, a handle that runs in the kernel when called.
Every text the kernel sends (type and exception names, messages, reprs, traceback
lines) is bounded here, where it enters the grader (grader.student_text.bounded).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from ..inside import wire
from ..student_text import bounded

if TYPE_CHECKING:
    from .remote import KernelChannel


NAME_CHARS = 100  # a type or exception name from the kernel
MESSAGE_CHARS = 2000  # an exception's message
LINE_CHARS = 200  # a traceback line, a repr


class StudentCodeError(Exception):
    """The student's code raised while a graded test called it.

    function: what the test called (the grader's label); ename: the exception's
    name as the kernel sent it (bounded)."""

    def __init__(self, message: str, function: str = "", ename: str = "") -> None:
        super().__init__(message)
        self.function, self.ename = function, ename


class GraderChannelError(Exception):
    """The kernel did not answer a graded test's request."""


class KernelObject:
    """Something that lives in the student's kernel; calling it runs it there."""

    def __init__(self, channel: KernelChannel, data: dict, label: str):
        self._channel = channel
        self._key = data["__handle__"]
        self._type = kernel_name(data.get("type", "object"))
        self._repr = bounded(data.get("repr", ""), LINE_CHARS)
        self._callable = bool(data.get("callable"))
        self.label = label

    def __call__(self, *args, **kwargs):
        if not self._callable:
            raise TypeError(f"{self.label} is a {self._type}, not a function")
        return self._channel.call(self, args, kwargs)

    def __repr__(self) -> str:
        return f"<{self._type} from the notebook: {self._repr}>"


def kernel_name(name: object) -> str:
    """A type or exception name the kernel sent, bounded (a class name can be a
    megabyte: type() takes any string)."""
    return bounded(name, NAME_CHARS)


@lru_cache(maxsize=256)
def _kernel_type(name: str) -> type[KernelObject]:
    """A KernelObject class named as the object's type in the kernel, so that a
    check saying "got <type>" names what the student's code returned."""
    return type(name, (KernelObject,), {"__module__": "notebook"})


def decode(data, label: str, channel: KernelChannel):
    """A value from the kernel: plain data, or a KernelObject (of `channel`) for the
    rest. GraderChannelError when it is not a well-formed value."""

    def resolve(item: dict):
        if "__handle__" not in item or type(item["__handle__"]) is not int:
            raise wire.WireError(f"unexpected {sorted(item)!r}")
        return _kernel_type(kernel_name(item.get("type", "object")))(
            channel, item, label
        )

    try:
        return wire.decode(data, resolve)
    except (wire.WireError, RecursionError, ValueError, TypeError) as error:
        reason = bounded(error, LINE_CHARS)
        raise GraderChannelError(f"{label}: unreadable answer ({reason})") from None


def student_error(error: object, label: str) -> Exception:
    """The exception a graded test sees when the student's code raised: its name,
    message and last lines, each bounded."""
    if type(error) is not dict:
        return GraderChannelError(f"{label}: a malformed answer")
    name = kernel_name(error.get("ename", "Error"))
    message = bounded(error.get("evalue", ""), MESSAGE_CHARS)
    where = error.get("where")
    where = where[-2:] if type(where) is list else []
    lines = "; ".join(bounded(line, LINE_CHARS) for line in where if type(line) is str)
    text = f"{label} raised {name}: {message}"
    return StudentCodeError(f"{text} (at {lines})" if lines else text, label, name)


def write_back(original, after) -> None:
    """Let a test observe what the student's function did to its argument: the
    argument's new contents, as data of its own kind, never an object to adopt.

    An array takes the new values only at its own shape and dtype; a list or a dict
    takes new contents only when they are plain data (no object of the notebook).
    Anything else is left as it was. Graded tests compute their expected values
    from copies of their own before the call, so what the student wrote into an
    argument can fail a check on that argument ("w unchanged"), nothing more."""
    if after is None:
        return
    if isinstance(original, np.ndarray) and isinstance(after, np.ndarray):
        if (
            original.shape == after.shape
            and original.dtype == after.dtype
            and original.flags.writeable
        ):
            original[...] = after
    elif type(original) is list and type(after) is list and _plain(after):
        original[:] = after
    elif type(original) is dict and type(after) is dict and _plain(after):
        original.clear()
        original.update(after)


def _plain(value) -> bool:
    """Whether value holds only data (no KernelObject at any depth)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, KernelObject):
            return False
        if isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return True
