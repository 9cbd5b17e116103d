"""Values sent between the grader and a student's kernel, as plain JSON.

This module runs on both sides: the grader imports it, and its source is sent into
the student's kernel. Numbers, strings, lists, tuples, dicts, numpy scalars and
numeric arrays travel as data; anything else stays where it lives and travels as a
handle. `decode` builds only plain data and numeric arrays from what it receives, so
a hostile sender cannot make the receiver run code. Only the standard library and
numpy may be imported here.
"""

import base64
import math

import numpy as np

MIME = "application/vnd.backprop-grader+json"
MAX_DEPTH = 40
MAX_ITEMS = 2_000_000
_NUMERIC_KINDS = "biufc"


class WireError(ValueError):
    """A message that is not a well-formed value."""


def encode(value, handle_for, depth=0):
    """value as JSON-ready data; handle_for(obj) -> JSON for what cannot travel."""
    if depth > MAX_DEPTH:
        raise WireError("the value is nested too deeply")
    kind = type(value)
    if value is None or kind is bool or kind is str or kind is int:
        return value
    if kind is float:
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, np.ndarray) and value.dtype.kind in _NUMERIC_KINDS:
        # tobytes(order="C") reads any layout; the shape is sent as it is (a 0-d
        # array stays 0-d: np.ascontiguousarray would make it shape (1,)).
        return {
            "__ndarray__": base64.b64encode(value.tobytes(order="C")).decode("ascii"),
            "dtype": value.dtype.str,
            "shape": list(value.shape),
        }
    if isinstance(value, np.generic) and value.dtype.kind in _NUMERIC_KINDS:
        raw = base64.b64encode(np.asarray(value).tobytes()).decode("ascii")
        return {"__npscalar__": raw, "dtype": value.dtype.str}
    if kind is list:
        return [encode(item, handle_for, depth + 1) for item in value]
    if kind is tuple:
        return {"__tuple__": [encode(item, handle_for, depth + 1) for item in value]}
    if kind is dict:
        return {
            "__dict__": [
                [encode(k, handle_for, depth + 1), encode(v, handle_for, depth + 1)]
                for k, v in value.items()
            ]
        }
    return handle_for(value)


def decode(data, resolve, depth=0):
    """The value `data` stands for; resolve(dict) -> object for handles and the like."""
    if depth > MAX_DEPTH:
        raise WireError("the value is nested too deeply")
    if data is None or type(data) in (bool, str, int, float):
        return data
    if type(data) is list:
        if len(data) > MAX_ITEMS:
            raise WireError("the list is too long")
        return [decode(item, resolve, depth + 1) for item in data]
    if type(data) is not dict:
        raise WireError(f"unexpected {type(data).__name__} in a message")
    if "__float__" in data:
        text = data["__float__"]
        if text not in ("nan", "inf", "-inf"):
            raise WireError(f"not a special float: {text!r}")
        return float(text)
    if "__ndarray__" in data:
        return _array(data["__ndarray__"], data.get("dtype"), data.get("shape"))
    if "__npscalar__" in data:
        return _array(data["__npscalar__"], data.get("dtype"), [])[()]
    if "__tuple__" in data:
        return tuple(decode(data["__tuple__"], resolve, depth + 1))
    if "__dict__" in data:
        pairs = data["__dict__"]
        if type(pairs) is not list or not all(
            type(pair) is list and len(pair) == 2 for pair in pairs
        ):
            raise WireError("a dict must be a list of [key, value] pairs")
        result = {}
        for key, item in pairs:
            key = decode(key, resolve, depth + 1)
            try:
                hash(key)
            except TypeError:
                raise WireError("a dict key must be hashable") from None
            result[key] = decode(item, resolve, depth + 1)
        return result
    return resolve(data)


def _array(raw, dtype, shape):
    """A numeric array from base64 bytes, checked against its dtype and shape."""
    try:
        kind = np.dtype(dtype) if isinstance(dtype, str) else None
    except TypeError:
        kind = None
    if kind is None or kind.kind not in _NUMERIC_KINDS or kind.hasobject:
        raise WireError(f"not a numeric dtype: {dtype!r}")
    if type(shape) is not list or not all(type(n) is int and n >= 0 for n in shape):
        raise WireError(f"not an array shape: {shape!r}")
    if not isinstance(raw, str):
        raise WireError("array data must be base64 text")
    count = math.prod(shape)
    if count > MAX_ITEMS:
        raise WireError("the array is too large")
    data = base64.b64decode(raw.encode("ascii"), validate=True)
    if len(data) != count * kind.itemsize:
        raise WireError("the array data does not match its shape")
    return np.frombuffer(data, dtype=kind).reshape(shape).copy()
