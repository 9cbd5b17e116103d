"""grader.wire: values cross between grader and kernel exactly; nothing else does."""

import json
import math

import numpy as np
import pytest

from grader.inside import wire


def no_handles(value):
    raise AssertionError(f"{value!r} should have travelled as data")


def roundtrip(value):
    """Encode, pass through JSON text (as the kernel protocol does), decode."""
    text = json.dumps(wire.encode(value, no_handles), allow_nan=False)
    return wire.decode(json.loads(text), no_handles)


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        3,
        -2.5,
        0.1 + 0.2,
        "text",
        [1, 2.0, "x"],
        (1, (2, 3)),
        {"a": 1.0, 2: "b", (1, 2): None},
        np.float64(0.9298048963072919),
        np.int32(-7),
        np.array([1.5, -2.25, 1e-300]),
        np.arange(12, dtype=np.int16).reshape(3, 4),
        np.array([1 + 2j]),
        np.zeros((0, 3)),
        np.array([True, False]),
    ],
    ids=repr,
)
def test_roundtrip_keeps_type_and_every_bit(value):
    """What arrives has the same type, dtype, shape and exact values."""
    got = roundtrip(value)
    assert type(got) is type(value)
    if isinstance(value, np.ndarray):
        assert got.dtype == value.dtype and got.shape == value.shape
        assert got.tobytes() == value.tobytes()
    elif isinstance(value, np.generic):
        assert got.dtype == value.dtype and got.tobytes() == value.tobytes()
    else:
        assert got == value


@pytest.mark.parametrize("special", [math.nan, math.inf, -math.inf])
def test_special_floats_travel_as_floats(special):
    """nan and ±inf are not valid JSON numbers; they still arrive as floats."""
    got = roundtrip([special, np.array([special])])
    assert type(got[0]) is float and repr(got[0]) == repr(special)
    assert repr(float(got[1][0])) == repr(special)


def test_arrays_arrive_writable_and_unshared():
    """A decoded array is a fresh writable copy, not a view of the message."""
    got = roundtrip(np.array([1.0, 2.0]))
    got[0] = 5.0
    assert got.flags.writeable and got[0] == 5.0


def test_other_objects_travel_as_handles():
    """Objects that are not data go through handle_for and come back via resolve."""
    sent = []

    def handle_for(value):
        sent.append(value)
        return {"__handle__": len(sent) - 1}

    data = wire.encode({"f": len, "n": 1}, handle_for)
    back = wire.decode(data, lambda item: sent[item["__handle__"]])
    assert back == {"f": len, "n": 1} and sent == [len]


@pytest.mark.parametrize(
    ("message", "why"),
    [
        ({"__ndarray__": "AAAAAAAAAAA=", "dtype": "|O", "shape": [1]}, "object dtype"),
        ({"__ndarray__": "AAAAAAAAAAA=", "dtype": "<f8", "shape": [2]}, "size"),
        ({"__ndarray__": "AAAAAAAAAAA=", "dtype": "<f8", "shape": [-1]}, "shape"),
        ({"__ndarray__": "not base64!", "dtype": "<f8", "shape": [1]}, "base64"),
        ({"__ndarray__": "", "dtype": "V8", "shape": [0]}, "void dtype"),
        ({"__float__": "1e999"}, "only nan and inf"),
        ({"__dict__": [[[1], 2]]}, "unhashable key"),
        ({"__dict__": "no"}, "pairs"),
        ({"__tuple__": 5}, "tuple of a number"),
    ],
)
def test_malformed_messages_are_refused(message, why):
    """A hostile sender cannot make decode build objects or arrays of pointers."""
    with pytest.raises((wire.WireError, ValueError, TypeError)):
        wire.decode(message, lambda item: pytest.fail(f"{why}: resolved {item}"))


def test_deep_nesting_is_refused():
    """Messages nested beyond MAX_DEPTH are refused, not a RecursionError later."""
    message: list = []
    for _ in range(wire.MAX_DEPTH + 5):
        message = [message]
    with pytest.raises(wire.WireError, match="deeply"):
        wire.decode(message, no_handles)
