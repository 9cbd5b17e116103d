"""What crosses from a student's kernel into a graded test: values, objects that stay
in the kernel, and the student's exceptions.

Plain data and numeric arrays come back as copies (grader.inside.wire); anything
else comes back as a KernelObject, a handle that runs in the kernel when called.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from ..inside import wire

if TYPE_CHECKING:
    from .remote import KernelChannel


class StudentCodeError(Exception):
    """The student's code raised while a graded test called it."""


class GraderChannelError(Exception):
    """The kernel did not answer a graded test's request."""


class KernelObject:
    """Something that lives in the student's kernel; calling it runs it there."""

    def __init__(self, channel: KernelChannel, data: dict, label: str):
        self._channel = channel
        self._key = data["__handle__"]
        self._type = str(data.get("type", "object"))
        self._repr = str(data.get("repr", ""))
        self._callable = bool(data.get("callable"))
        self.label = label

    def __call__(self, *args, **kwargs):
        if not self._callable:
            raise TypeError(f"{self.label} is a {self._type}, not a function")
        return self._channel.call(self, args, kwargs)

    def __repr__(self) -> str:
        return f"<{self._type} from the notebook: {self._repr}>"


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
        return _kernel_type(str(item.get("type", "object")))(channel, item, label)

    try:
        return wire.decode(data, resolve)
    except (wire.WireError, RecursionError, ValueError, TypeError) as error:
        raise GraderChannelError(f"{label}: unreadable answer ({error})") from None


def student_error(error: dict, label: str) -> Exception:
    """The exception a graded test sees when the student's code raised."""
    name = str(error.get("ename", "Error"))
    message = str(error.get("evalue", ""))
    where = error.get("where") or []
    lines = "; ".join(str(line) for line in where[-2:] if isinstance(line, str))
    text = f"{label} raised {name}: {message}"
    return StudentCodeError(f"{text} (at {lines})" if lines else text)


def write_back(original, after) -> None:
    """Make a test's argument reflect what the student's function did to its copy."""
    if after is None:
        return
    if isinstance(original, np.ndarray) and isinstance(after, np.ndarray):
        if original.shape == after.shape and original.flags.writeable:
            original[...] = after
    elif type(original) is list and type(after) is list:
        original[:] = after
    elif type(original) is dict and type(after) is dict:
        original.clear()
        original.update(after)
