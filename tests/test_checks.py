"""Tests for backprop_helper.checks: readable value checks and diagnoses."""

from __future__ import annotations

import numpy as np
import pytest
from backprop_helper.checks import (
    CheckFailed,
    check_below,
    check_unchanged,
    check_values,
)


def table_rows(out: str) -> dict[str, list[str]]:
    """The printed table's rows as key -> [expected, got, ok], header excluded."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == ["key"])
    rows = {}
    for line in lines[start + 1 :]:
        cells = line.split()
        if cells[-1:] not in (["✓"], ["✗"]):
            break
        rows[cells[0]] = cells[1:]
    return rows


def problem(message: str, key: str) -> str:
    """The reason CheckFailed's message gives for one key."""
    reasons = message.split(": ", 1)[1].split("; ")
    (reason,) = [r for r in reasons if r.startswith(f"{key}: ")]
    return reason.removeprefix(f"{key}: ")


def failure(got, expected, **kwargs) -> str:
    """The CheckFailed message for a check that must fail."""
    with pytest.raises(CheckFailed) as excinfo:
        check_values(got, expected, what="f", **kwargs)
    return str(excinfo.value)


# --- success --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "count"),
    [
        ({"a": 1.5, "b": -0.25}, 2),
        ({"a": 1.5, "w": np.array([0.1, 0.2, 0.3])}, 4),
    ],
)
def test_success_prints_table_and_count(capsys, expected, count):
    """Several matches print title, key/expected/got/ok rows, 'All N values match.'."""
    check_values(dict(expected), expected, what="my_function")
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "my_function"
    assert lines[1].split() == ["key", "expected", "got", "ok"]
    rows = table_rows(out)
    assert len(rows) == count
    for want, got, ok in rows.values():
        assert float(want) == float(got)
        assert ok == "✓"
    assert lines[-1] == f"All {count} values match."


def test_success_with_one_value_says_the_value_matches(capsys):
    """A single matching value ends with 'The value matches.'."""
    check_values({"a": 1.5}, {"a": 1.5}, what="f")
    out = capsys.readouterr().out
    assert table_rows(out) == {"a": ["1.5", "1.5", "✓"]}
    assert out.splitlines()[-1] == "The value matches."


def test_quiet_success_prints_nothing(capsys):
    """quiet=True prints nothing when every value matches."""
    check_values({"a": 1.5, "b": 2.0}, {"a": 1.5, "b": 2.0}, what="f", quiet=True)
    assert capsys.readouterr().out == ""


def test_quiet_failure_still_prints_the_table(capsys):
    """quiet=True still prints the table and hints when a value differs."""
    with pytest.raises(CheckFailed, match="b: the sign is flipped"):
        check_values({"a": 1.5, "b": -2.0}, {"a": 1.5, "b": 2.0}, what="f", quiet=True)
    out = capsys.readouterr().out
    assert table_rows(out)["b"] == ["2.0", "-2.0", "✗"]
    assert "What to look at:" in out


def test_success_accepts_numpy_scalars_and_zero_d_arrays():
    """np.float64 and 0-d arrays count as numbers."""
    check_values(
        {"a": np.float64(2.0), "b": np.array(3.0)}, {"a": 2.0, "b": 3.0}, what="f"
    )


# --- failure --------------------------------------------------------------------


def test_failure_is_an_assertion_error_naming_key_and_function(capsys):
    """A mismatch raises CheckFailed (an AssertionError) naming key and `what`."""
    with pytest.raises(AssertionError) as excinfo:
        check_values({"a": 1.0, "b": 7.0}, {"a": 1.0, "b": 2.0}, what="forward")
    assert isinstance(excinfo.value, CheckFailed)
    message = str(excinfo.value)
    assert message.startswith("forward:")
    assert "b:" in message
    assert "a:" not in message
    out = capsys.readouterr().out
    assert table_rows(out)["b"][2] == "✗"
    assert table_rows(out)["a"][2] == "✓"
    assert "What to look at:" in out
    assert "values match" not in out


@pytest.mark.parametrize(
    ("got", "fragment"),
    [
        (-1.5, "sign is flipped"),
        (3.0, "twice"),
        (0.75, "half"),
        (-3.0, "sign and a factor 2"),
        (-0.75, "sign and a factor 2"),
        (float("nan"), "NaN"),
        (float("inf"), "infinity"),
        (-float("inf"), "infinity"),
        ("abc", "expected one number, got str"),
        (np.ones((2, 2)), "expected one number, got ndarray (2, 2)"),
        ({"x": 1.0}, "expected one number, got dict"),
        (True, "expected one number, got bool"),
        (12.0, "different value"),
    ],
    ids=[
        "sign", "double", "half", "minus_double", "minus_half", "nan", "inf",
        "minus_inf", "string", "matrix", "dict", "bool", "other",
    ],
)  # fmt: skip
def test_failure_diagnosis(got, fragment):
    """Common slips against expected 1.5 are named in the message."""
    assert fragment in problem(failure({"a": got}, {"a": 1.5}), "a")


def test_missing_key_is_diagnosed(capsys):
    """A key absent from got is reported as missing and shown as (missing)."""
    message = failure({"a": 1.0}, {"a": 1.0, "b": 2.0})
    assert "b: missing from what f returned" in message
    assert table_rows(capsys.readouterr().out)["b"][1] == "(missing)"


def test_no_ratio_hint_for_zero_expected():
    """With expected 0 a wrong value is just 'different value'."""
    assert "a: different value" in failure({"a": 0.5}, {"a": 0.0})


@pytest.mark.parametrize(
    ("got", "mistakes", "fragment"),
    [
        (2.25, {"a": {"forgot the square root": 2.25}}, "forgot the square root"),
        # A named mistake is preferred over the generic ratio hint.
        (3.0, {"a": {"used x instead of x/2": 3.0}}, "used x instead of x/2"),
        # Mistakes for another key do not apply.
        (2.25, {"b": {"forgot the square root": 2.25}}, "different value"),
        # A named mistake whose value does not match falls through to the hints.
        (-1.5, {"a": {"forgot the square root": 2.25}}, "sign is flipped"),
    ],
    ids=["named", "named_over_ratio", "other_key", "no_match"],
)
def test_named_mistakes(got, mistakes, fragment):
    """mistakes={key: {name: value}} names a matching mistake for that key."""
    expected = {"a": 1.5, "b": 1.0}
    message = failure({"a": got, "b": 1.0}, expected, mistakes=mistakes)
    assert fragment in problem(message, "a")


# --- arrays ---------------------------------------------------------------------


def test_arrays_are_compared_per_element(capsys):
    """1-D arrays become keys w[0], w[1], ...; only wrong elements are reported."""
    expected = {"w": np.array([1.0, 2.0, 3.0])}
    message = failure({"w": np.array([1.0, -2.0, 3.0])}, expected)
    assert "w[1]: the sign is flipped" in message
    assert "w[0]" not in message
    assert "w[2]" not in message
    rows = table_rows(capsys.readouterr().out)
    assert [rows[f"w[{i}]"][2] for i in range(3)] == ["✓", "✗", "✓"]


def test_arrays_match_lists():
    """A list in got matches an array in expected element by element."""
    check_values({"w": [1.0, 2.0]}, {"w": np.array([1.0, 2.0])}, what="f")


def test_short_array_reports_missing_elements():
    """An array shorter than expected reports the absent elements as missing."""
    message = failure({"w": np.array([1.0])}, {"w": np.array([1.0, 2.0])})
    assert "w[1]: missing" in message


def test_same_slip_in_several_elements_is_reported_once(capsys):
    """Elements of one array with the same slip share one line naming each."""
    expected = {"w": np.array([1.0, 2.0, 3.0, 4.0])}
    message = failure({"w": np.array([-1.0, 2.0, -3.0, 8.0])}, expected)
    reasons = message.split(": ", 1)[1].split("; ")
    assert len(reasons) == 2, reasons
    (sign,) = [r for r in reasons if "sign is flipped" in r]
    assert "w[0]" in sign and "w[2]" in sign
    assert "w[1]" not in message
    (double,) = [r for r in reasons if "twice" in r]
    assert "w[3]" in double and "w[0]" not in double
    out = capsys.readouterr().out
    assert out.count("sign is flipped") == 1


def test_same_slip_in_different_keys_is_reported_per_key():
    """The same slip in two different keys gives one line per key."""
    message = failure({"a": -1.0, "b": -2.0}, {"a": 1.0, "b": 2.0})
    assert problem(message, "a") == problem(message, "b") == "the sign is flipped"


def test_array_valued_mistake_is_matched_per_element():
    """mistakes={key: {name: array}} names the mistake for each matching element."""
    expected = {"w": np.array([1.0, 2.0, 3.0])}
    wrong = np.array([0.5, 7.0, 3.0])
    mistakes = {"w": {"forgot the chain rule": np.array([0.5, 7.0, 9.0])}}
    message = failure({"w": wrong}, expected, mistakes=mistakes)
    (reason,) = message.split(": ", 1)[1].split("; ")
    assert reason.endswith(": forgot the chain rule")
    assert "w[0]" in reason and "w[1]" in reason and "w[2]" not in reason


# --- tolerance ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("relative_error", "rtol", "passes"),
    [
        (1e-6, 1e-9, False),
        (1e-6, 1e-5, True),
        (1e-3, 1e-2, True),
        (1e-3, 1e-4, False),
    ],
)
def test_rtol_is_honoured(relative_error, rtol, passes):
    """A relative error passes exactly when it is within rtol."""
    got = {"a": 2.0 * (1 + relative_error)}
    if passes:
        check_values(got, {"a": 2.0}, what="f", rtol=rtol)
    else:
        failure(got, {"a": 2.0}, rtol=rtol)


def test_atol_covers_expected_zero():
    """Around zero the absolute tolerance decides."""
    check_values({"a": 1e-8}, {"a": 0.0}, what="f", atol=1e-6)
    failure({"a": 1e-8}, {"a": 0.0})


# --- a non-dict result ----------------------------------------------------------


@pytest.mark.parametrize("got", [None, 1.5, (1.5,), [1.5], np.array([1.5])])
def test_non_dict_got_is_a_clear_failure(capsys, got):
    """A result that is not a dict raises CheckFailed saying a dict was expected."""
    with pytest.raises(CheckFailed) as excinfo:
        check_values(got, {"a": 1.5}, what="forward")
    message = str(excinfo.value)
    assert "forward should give a dict" in message
    assert type(got).__name__ in message
    assert message in capsys.readouterr().out


# --- known misdiagnoses (bugs in checks.py, see the test docstrings) --------------


def test_none_is_reported_as_not_a_number():
    """A None value (e.g. a forgotten return) is 'expected one number', not NaN."""
    assert "a: expected one number, got NoneType" in failure({"a": None}, {"a": 1.5})


def test_numeric_string_does_not_match():
    """The string '1.5' is not the number 1.5 and must fail the check."""
    failure({"a": "1.5"}, {"a": 1.5})


# --- check_unchanged ------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (np.array([1.0, 2.0]), np.array([1.0, 2.0])),
        ([1.0, 2.0], np.array([1.0, 2.0])),
        ({"w": np.array([1.0]), "b": 2.0}, {"w": np.array([1.0]), "b": 2.0}),
    ],
    ids=["array", "list_vs_array", "dict"],
)
def test_check_unchanged_passes_for_equal_inputs(capsys, before, after):
    """Equal arrays or dicts pass and print that the input was left unchanged."""
    check_unchanged(before, after, name="w", by="forward")
    assert "forward left w unchanged" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (np.array([1.0, 2.0]), np.array([1.0, 2.5])),
        (np.array([1.0, 2.0]), np.array([1.0, 2.0, 3.0])),
        ({"w": np.array([1.0])}, {"w": np.array([0.0])}),
        ({"w": np.array([1.0])}, {"w": np.array([1.0]), "extra": 1.0}),
        ({"w": np.array([1.0]), "b": 1.0}, {"w": np.array([1.0])}),
    ],
    ids=["value", "shape", "dict_value", "dict_key_added", "dict_key_removed"],
)
def test_check_unchanged_raises_when_input_changed(capsys, before, after):
    """A changed input raises CheckFailed saying 'mutating input' and who did it."""
    with pytest.raises(CheckFailed) as excinfo:
        check_unchanged(before, after, name="w", by="forward")
    message = str(excinfo.value)
    assert "mutating input" in message
    assert "forward changed its input w" in message
    assert message in capsys.readouterr().out


def test_check_unchanged_passes_for_equal_arrays_holding_nan():
    """An untouched array that holds NaN is not reported as mutated."""
    check_unchanged(np.array([np.nan, 1.0]), np.array([np.nan, 1.0]), name="w", by="f")


def test_check_unchanged_quiet_prints_nothing(capsys):
    """quiet=True prints nothing when the input is unchanged."""
    check_unchanged(np.ones(2), np.ones(2), name="w", by="forward", quiet=True)
    assert capsys.readouterr().out == ""


def test_check_unchanged_quiet_still_raises():
    """quiet=True does not silence a mutated input."""
    with pytest.raises(CheckFailed, match="mutating input"):
        check_unchanged(np.ones(2), np.zeros(2), name="w", by="forward", quiet=True)


# --- check_below ----------------------------------------------------------------


@pytest.mark.parametrize("value", [0.0, 1e-9, np.float64(-3.0), np.array(5e-8)])
def test_check_below_passes_under_the_limit(capsys, value):
    """A number under the limit passes and is printed with a tick."""
    check_below(value, 1e-7, what="max error", hint="look at dw3")
    out = capsys.readouterr().out
    assert out.startswith("max error = ")
    assert "✓" in out


@pytest.mark.parametrize("value", [1e-7, 2e-7, float("inf"), float("nan")])
def test_check_below_fails_at_or_over_the_limit(capsys, value):
    """A value at or over the limit (or NaN) raises CheckFailed with the hint."""
    with pytest.raises(CheckFailed) as excinfo:
        check_below(value, 1e-7, what="max error", hint="look at dw3")
    assert "max error" in str(excinfo.value)
    assert "look at dw3" in str(excinfo.value)
    assert "What to look at: look at dw3" in capsys.readouterr().out


@pytest.mark.parametrize("value", ["small", [1e-9, 1e-9], True])
def test_check_below_rejects_non_numbers(value):
    """A value that is not one number raises CheckFailed saying so."""
    with pytest.raises(CheckFailed, match="max error: expected one number, got"):
        check_below(value, 1e-7, what="max error", hint="look at dw3")
