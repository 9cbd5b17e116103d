"""The grader's side of a graded test, inside the student's kernel.

The grader sends this module's source (and wire.py's) into the kernel before the
first graded test cell. Each request then asks it to read a name, bind a name or
call a function of the student's, and it answers with a display message of type
wire.MIME. Nothing here decides a grade: the grader checks every answer in its own
process. A function the grader binds in the kernel (a test's reference) is a
Callback here: a token, whose calls go to the grader as input requests and come
back as values, so no code of the grader's is ever in the kernel. Only the standard
library and numpy may be imported here.
"""

import json
import traceback

import numpy

# An input request whose prompt starts with this is a call back to the grader.
CALLBACK_PREFIX = "\x1egrader-callback:"


class GraderCallbackError(Exception):
    """The grader's function failed, or the grader refused the call."""


class Callback:
    """A function of the grader's: calling it asks the grader to run it."""

    def __init__(self, runtime, token, name):
        self._runtime = runtime
        self._token = token
        self.__name__ = name

    def __call__(self, *args, **kwargs):
        runtime = self._runtime
        prompt = CALLBACK_PREFIX + json.dumps(
            {
                "callback": self._token,
                "args": runtime._encode(list(args)),
                "kwargs": runtime._encode(dict(kwargs)),
            }
        )
        answer = json.loads(runtime.shell.kernel.raw_input(prompt))
        if "error" in answer:
            raise GraderCallbackError(f"{self.__name__}: {answer['error']}")
        return runtime._decode(answer["value"])

    def __repr__(self):
        return f"<the grader's {self.__name__}>"


class Runtime:
    """Answer the grader's requests: get, set and call names in the user namespace."""

    def __init__(self, wire, shell):
        self.wire = wire
        self.shell = shell
        self.namespace = shell.user_ns
        self.handles = {}

    def request(self, text):
        """Do one JSON request and display the answer (the shell's own display)."""
        request = json.loads(text)
        try:
            answer = {"value": getattr(self, "_" + request["op"])(request)}
        except Exception as error:
            answer = {
                "error": {
                    "ename": type(error).__name__,
                    "evalue": str(error)[:2000],
                    "where": _student_frames(error),
                }
            }
        answer["id"] = request["id"]
        self.shell.display_pub.publish(data={self.wire.MIME: answer}, metadata={})

    def _get(self, request):
        """The value bound to a name in the notebook."""
        name = request["name"]
        if name not in self.namespace:
            raise NameError(f"name {name!r} is not defined in the notebook")
        return self._encode(self.namespace[name])

    def _set(self, request):
        """Bind a name in the notebook to a value the grader sent."""
        self.namespace[request["name"]] = self._decode(request["value"])
        return None

    def _call(self, request):
        """Call a function; return its result and its mutable arguments afterwards."""
        target = self._decode(request["target"])
        args = self._decode(request["args"])
        kwargs = self._decode(request["kwargs"])
        result = target(*args, **kwargs)
        return {
            "result": self._encode(result),
            "args": [self._after(value) for value in args],
            "kwargs": {name: self._after(value) for name, value in kwargs.items()},
        }

    def _after(self, value):
        """A mutable argument's state after the call (None for immutable ones)."""
        if isinstance(value, (list, dict, numpy.ndarray)):
            return self._encode(value)
        return None

    def _encode(self, value):
        return self.wire.encode(value, self._handle_for)

    def _decode(self, data):
        return self.wire.decode(data, self._resolve)

    def _handle_for(self, value):
        """Keep a value that cannot travel; send a handle to it."""
        key = len(self.handles)
        self.handles[key] = value
        try:
            text = repr(value)[:200]
        except Exception:
            text = "?"
        return {
            "__handle__": key,
            "type": type(value).__name__,
            "repr": text,
            "callable": callable(value),
        }

    def _resolve(self, data):
        """A handle sent back, or a callback to a function of the grader's."""
        if "__handle__" in data:
            return self.handles[data["__handle__"]]
        if "__callback__" in data:
            return Callback(self, str(data["__callback__"]), str(data.get("name", "")))
        raise self.wire.WireError(f"unknown value {sorted(data)!r}")


def _student_frames(error):
    """The notebook's own lines in a traceback (not the grader's), as short text."""
    frames = [
        f"{frame.name} (line {frame.lineno}): {frame.line}"
        for frame in traceback.extract_tb(error.__traceback__)
        if not frame.filename.startswith("<grader")
    ]
    return frames[-3:]
