"""grader.wire: values cross between grader and kernel exactly; nothing else does."""

import json
import math
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

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


# --- every value students return, round-tripped (hypothesis) -----------------------

NUMERIC_DTYPES = (
    hnp.boolean_dtypes()
    | hnp.integer_dtypes(endianness="=")
    | hnp.unsigned_integer_dtypes(endianness="=")
    | hnp.floating_dtypes(endianness="=")
    | hnp.complex_number_dtypes(endianness="=")
    | hnp.floating_dtypes(endianness=">", sizes=(32, 64))
)
ARRAYS = hnp.arrays(
    NUMERIC_DTYPES, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
)
NUMPY_SCALARS = NUMERIC_DTYPES.flatmap(
    lambda dtype: hnp.from_dtype(dtype).map(lambda value: np.asarray(value, dtype)[()])
)
PLAIN = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
)
VALUES = st.recursive(
    PLAIN | ARRAYS | NUMPY_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=4).map(tuple)
        | st.dictionaries(st.text(max_size=4) | st.integers(), inner, max_size=4)
    ),
    max_leaves=12,
)


def assert_same(got, sent) -> None:
    """Same type, and for numpy values the same dtype, shape and bytes (NaN too)."""
    assert type(got) is type(sent), (type(got), type(sent))
    if isinstance(sent, (np.ndarray, np.generic)):
        assert got.dtype == sent.dtype and got.shape == sent.shape
        assert np.asarray(got).tobytes() == np.asarray(sent).tobytes()
    elif isinstance(sent, float):
        assert repr(got) == repr(sent)
    elif isinstance(sent, (list, tuple)):
        assert len(got) == len(sent)
        for item_got, item_sent in zip(got, sent):
            assert_same(item_got, item_sent)
    elif isinstance(sent, dict):
        assert list(got) == list(sent)
        for key in sent:
            assert_same(got[key], sent[key])
    else:
        assert got == sent


@settings(max_examples=400, deadline=timedelta(seconds=1))
@given(VALUES)
def test_every_value_students_return_crosses_unchanged(value):
    """0-d arrays, numpy scalars, float32, ints, bools, nested lists and tuples, dict
    values: each arrives with its type, dtype, shape and bits (a 0-d array once
    arrived as shape (1,): a correct 04 scored 0/4, a np.where sigmoid 2/4)."""
    assert_same(roundtrip(value), value)


@pytest.mark.parametrize(
    "value",
    [np.array(0.5), np.array(3, dtype=np.int8), np.array(True), np.float32(0.1)],
    ids=repr,
)
def test_zero_dimensional_values_stay_zero_dimensional(value):
    """The answers issue 17 found losing points: one number as a 0-d array."""
    got = roundtrip(value)
    assert got.shape == () and got.dtype == value.dtype and got == value


def test_a_view_in_another_order_crosses_as_its_values():
    """A transposed or strided view travels as the values it shows."""
    base = np.arange(12.0).reshape(3, 4)
    for view in (base.T, base[::-1, ::2], np.asfortranarray(base)):
        got = roundtrip(view)
        assert got.shape == view.shape and np.array_equal(got, view)
