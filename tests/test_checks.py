"""Tests for backprop_helper.checks: readable value checks and diagnoses."""

from __future__ import annotations

import numpy as np
import pytest
from backprop_helper.checks import (
    CheckFailed,
    an_array,
    check_below,
    check_returns,
    check_unchanged,
    check_values,
    checked_call,
    fail,
    gradient_check_by_weight,
)
from backprop_helper.mistakes import CATALOGUE

from tests.notebook_code import solution_functions

TANH = CATALOGUE["tanh-not-squared"].name


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
    ("expected", "rows", "count"),
    [
        ({"a": 1.5, "b": -0.25}, 2, 2),
        ({"a": 1.5, "w": np.array([0.1, 0.2, 0.3])}, 2, 4),
    ],
)
def test_success_prints_table_and_count(capsys, expected, rows, count):
    """Matches print title, key/expected/got/ok rows (one per array), and
    'All N values match.' counting every element."""
    check_values(dict(expected), expected, what="my_function")
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "my_function"
    assert lines[1].split() == ["key", "expected", "got", "ok"]
    found = table_rows(out)
    assert len(found) == rows
    assert all(row[-1] == "✓" for row in found.values())
    assert lines[-1] == f"All {count} values match."


def test_a_matching_array_is_one_short_row(capsys):
    """A whole array that matches is one row, its numbers shortened: 54 rows of
    17-digit numbers for three update rules became a handful."""
    w = np.array([0.44754999999999995, -0.25715, 0.13345, 0.04175, -0.14765])
    check_values({"w": w.copy()}, {"w": w}, what="momentum_update")
    out = capsys.readouterr().out
    (row,) = [line for line in out.splitlines() if line.startswith("w ")]
    assert "[0.44755, -0.25715, 0.13345, …, -0.14765]" in row
    assert "0.44754999999999995" not in out


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
        (float("nan"), "got NaN (look for 0/0"),
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
        (2.25, {"a": {"tanh-not-squared": 2.25}}, TANH),
        # A named mistake is preferred over the generic ratio hint.
        (3.0, {"a": {"tanh-not-squared": 3.0}}, TANH),
        # Mistakes for another key do not apply.
        (2.25, {"b": {"tanh-not-squared": 2.25}}, "different value"),
        # A named mistake whose value does not match falls through to the hints.
        (-1.5, {"a": {"tanh-not-squared": 2.25}}, "sign is flipped"),
        # A value copied with 4 digits still names it (rtol 1e-3).
        (2.251, {"a": {"tanh-not-squared": 2.25}}, TANH),
    ],
    ids=["named", "named_over_ratio", "other_key", "no_match", "rounded"],
)
def test_named_mistakes(got, mistakes, fragment):
    """mistakes={key: {mistake id: value}} names a matching mistake for that key."""
    expected = {"a": 1.5, "b": 1.0}
    message = failure({"a": got, "b": 1.0}, expected, mistakes=mistakes)
    assert fragment in problem(message, "a")


# --- arrays ---------------------------------------------------------------------


def test_arrays_are_compared_per_element(capsys):
    """A wrong 1-D array is shown element by element; only wrong ones are reported."""
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


def test_array_of_another_length_says_how_long_it_is():
    """An array shorter (or longer) than expected is reported with its shape."""
    message = failure({"w": np.array([1.0])}, {"w": np.array([1.0, 2.0])})
    assert "w: expected 2 values, got ndarray (1,)" in message


def test_same_slip_in_several_elements_is_reported_once(capsys):
    """Elements of one array with the same slip share one line: w[0, 2]: ..."""
    expected = {"w": np.array([1.0, 2.0, 3.0, 4.0])}
    message = failure({"w": np.array([-1.0, 2.0, -3.0, 8.0])}, expected)
    reasons = message.split(": ", 1)[1].split("; ")
    assert reasons == [
        "w[0, 2]: the sign is flipped",
        "w[3]: it is twice the expected value (an extra factor 2?)",
    ]
    out = capsys.readouterr().out
    assert out.count("sign is flipped") == 1


def test_same_slip_in_different_keys_is_reported_per_key():
    """The same slip in two different keys gives one line per key."""
    message = failure({"a": -1.0, "b": -2.0}, {"a": 1.0, "b": 2.0})
    assert problem(message, "a") == problem(message, "b") == "the sign is flipped"


def test_array_valued_mistake_is_named_when_every_element_matches_it():
    """mistakes={key: {id: array}}: the whole array matches, so every wrong
    element is named; elements the mistake leaves alone may be right."""
    expected = {"w": np.array([1.0, 2.0, 3.0])}
    mistakes = {"w": {"no-2a": np.array([0.5, 7.0, 3.0])}}
    message = failure({"w": np.array([0.5, 7.0, 3.0])}, expected, mistakes=mistakes)
    (reason,) = message.split(": ", 1)[1].split("; ")
    assert reason == f"w[0, 1]: {CATALOGUE['no-2a'].name}"


def test_a_mistake_that_matches_only_part_of_the_result_is_not_named():
    """Issue 17: values within 1e-3 of a mistake's, element by element, were named
    as it. Now one element that does not match means it is not that mistake."""
    expected = {"w": np.array([1.0, 2.0, 3.0])}
    mistakes = {"w": {"no-2a": np.array([0.5, 7.0, 9.0])}}
    message = failure({"w": np.array([0.5, 7.0, 3.0])}, expected, mistakes=mistakes)
    assert CATALOGUE["no-2a"].name not in message
    assert "w[1]: different value (off by 5, relative 2.5)" in message


def test_a_mistake_is_named_only_when_every_key_matches_it():
    """Across keys too: tanh-not-squared changes dw6 and dw7; a dw6 that matches
    it beside a dw7 that does not is not that mistake."""
    mistakes = {"dw6": {"tanh-not-squared": 0.3}, "dw7": {"tanh-not-squared": 0.2}}
    expected = {"dw6": 0.6, "dw7": 0.5}
    both = failure({"dw6": 0.3, "dw7": 0.2}, expected, mistakes=mistakes)
    assert problem(both, "dw6") == problem(both, "dw7") == TANH
    one = failure({"dw6": 0.3, "dw7": 0.9}, expected, mistakes=mistakes)
    assert TANH not in one


def test_a_tiny_difference_is_not_named_after_a_mistake_that_differs_as_little():
    """A mistake whose value is within 1e-6 of the right one (Adam's eps inside the
    square root at eps = 1e-8) cannot be told from it: no value is named after it,
    so the right update written another way is not called that mistake. Farther
    off (at eps = 1e-3) it is named, and only values near it are."""
    right = 0.468304166928
    mistakes = {"w": {"adam-eps-inside-sqrt": right + 4e-9}}
    for got in (right - 3e-9, right + 4e-9):
        message = failure({"w": got}, {"w": right}, mistakes=mistakes)
        assert "eps inside" not in message
    mistakes = {"w": {"adam-eps-inside-sqrt": right + 2e-4}}
    assert "eps inside" in failure({"w": right + 2e-4}, {"w": right}, mistakes=mistakes)
    assert "eps inside" not in failure(
        {"w": right + 1e-4}, {"w": right}, mistakes=mistakes
    )


def test_where_nothing_matches_it_says_by_how_much():
    """A wrong value no mistake explains: how far off, absolutely and relatively."""
    message = failure({"a": 1.5 + 3e-6}, {"a": 1.5})
    assert problem(message, "a") == "different value (off by 3e-06, relative 2e-06)"


def test_two_swapped_values_are_named():
    """dw4 holding dw5's value and dw5 dw4's: two values swapped, with which."""
    message = failure(
        {"dw4": 0.25, "dw5": -0.75, "dw6": 1.0},
        {"dw4": -0.75, "dw5": 0.25, "dw6": 1.0},
    )
    name = CATALOGUE["values-swapped"].name
    assert problem(message, "dw4") == f"{name} (with dw5)"
    assert problem(message, "dw5") == f"{name} (with dw4)"


def test_single_precision_is_named_when_every_wrong_value_is_float32():
    """float32 results agree to ~7 digits: named only when they came as float32."""
    want = np.array([0.1, 0.2, 0.3, 1 / 3])
    message = failure({"w": want.astype(np.float32)}, {"w": want})
    assert problem(message, "w[0, 1, 2, 3]") == CATALOGUE["float32"].name
    other = failure({"w": want * (1 + 1e-7)}, {"w": want})
    assert CATALOGUE["float32"].name not in other


def test_single_precision_is_named_for_float64_values_computed_from_float32_ones():
    """A forward pass in float32 with a float64 target: exp, tanh and sigmoid come
    as float32, the loss and dy_pred as float64 made from them; every wrong value
    is float32's, so the whole result is named float32, not "different value"."""
    exp, tanh, sigmoid, w9, y = 1.7, 0.93, 0.57, 0.8, 1.9
    y_pred = np.float32(tanh) + np.float32(sigmoid) * np.float32(w9)
    got = {
        "exp": np.float32(exp),
        "tanh": np.float32(tanh),
        "sigmoid": np.float32(sigmoid),
        "loss": (np.float64(y) - y_pred) ** 2,
        "dy_pred": -2.0 * (np.float64(y) - y_pred),
    }
    assert got["loss"].dtype == np.float64
    right = y - (tanh + sigmoid * w9)
    want = {
        "exp": exp, "tanh": tanh, "sigmoid": sigmoid,
        "loss": right**2, "dy_pred": -2 * right,
    }  # fmt: skip
    message = failure(got, want)
    for key in want:
        assert problem(message, key) == CATALOGUE["float32"].name, message
    no_float32 = {key: np.float64(value) for key, value in got.items()}
    assert CATALOGUE["float32"].name not in failure(no_float32, want)


def test_an_accepted_form_passes(capsys):
    """accepted={form: values}: another correct result passes and is said so."""
    check_values(
        {"w": 1.0 + 1e-6},
        {"w": 1.0},
        what="adam_update",
        accepted={"the Adam paper's form": {"w": 1.0 + 1e-6}},
    )
    assert "adam_update (the Adam paper's form)" in capsys.readouterr().out
    failure({"w": 1.0 + 2e-6}, {"w": 1.0}, accepted={"x": {"w": 1.0 + 1e-6}})


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
    assert message.startswith("forward: w: mutating input (")
    assert "forward changed the w it was given" in message
    assert excinfo.value.found[0][:2] == ("w", "mutating-input")
    assert "mutating input" in capsys.readouterr().out


def test_check_unchanged_passes_for_equal_arrays_holding_nan():
    """An untouched array that holds NaN is not reported as mutated."""
    check_unchanged(np.array([np.nan, 1.0]), np.array([np.nan, 1.0]), name="w", by="f")


def test_check_unchanged_quiet_prints_nothing(capsys):
    """quiet=True prints nothing when the input is unchanged."""
    check_unchanged(np.ones(2), np.ones(2), name="w", by="forward", quiet=True)
    assert capsys.readouterr().out == ""


def test_check_unchanged_advises_a_copy_of_the_right_kind():
    """An array is copied with np.array(...), a dict with dict(...)."""
    with pytest.raises(CheckFailed, match=r"w = np\.array\(w, dtype=float\)"):
        check_unchanged(np.ones(2), np.zeros(2), name="w", by="f")
    with pytest.raises(CheckFailed, match=r"forward_dict = dict\(forward_dict\)"):
        check_unchanged({"a": 1.0}, {"a": 2.0}, name="forward_dict", by="f")


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


def test_check_below_names_a_mistake_from_its_mistakes():
    """A value that is not one number but matches a mistake's test is named."""
    with pytest.raises(CheckFailed) as excinfo:
        check_below(
            np.ones(9),
            1e-7,
            what="error",
            hint="h",
            mistakes={"per-weight-ratios": an_array},
        )
    assert excinfo.value.found == (
        ("", "per-weight-ratios", CATALOGUE["per-weight-ratios"].name),
    )


# --- the catalogue's ids -------------------------------------------------------------


def test_unknown_mistake_id_is_an_error():
    """An id that is not in the catalogue is a mistake in the course, not a pass."""
    with pytest.raises(ValueError, match="unknown mistake id 'tanh-squared'"):
        check_values(
            {"a": 1.0}, {"a": 1.0}, what="f", mistakes={"a": {"tanh-squared": 2}}
        )


def test_mistakes_for_a_key_that_is_not_expected_is_an_error():
    """mistakes= may only name expected keys (a typo would silently name nothing)."""
    with pytest.raises(ValueError, match="'dw10'"):
        check_values(
            {"dw1": 1.0}, {"dw1": 1.0}, what="f", mistakes={"dw10": {"no-2a": 2.0}}
        )


def test_check_failed_carries_the_findings():
    """found: (key as written, mistake id or None, reason) per finding; dw6 matches
    tanh-not-squared's value, but the rest of the result does not, so it is only
    half its expected value."""
    with pytest.raises(CheckFailed) as excinfo:
        check_values(
            {"dw3": -1.0, "dw6": 0.25, "dw7": 5.0, "w": [1.0, -2.0, -3.0]},
            {"dw3": 1.0, "dw6": 0.5, "dw7": 1.0, "w": [1.0, 2.0, 3.0]},
            what="backward",
            mistakes={"dw6": {"tanh-not-squared": 0.25}},
        )
    assert excinfo.value.found == (
        ("dw3", "sign-flipped", "the sign is flipped"),
        ("dw6", "half", CATALOGUE["half"].name),
        ("dw7", None, "different value (off by 4, relative 4)"),
        ("w[1, 2]", "sign-flipped", "the sign is flipped"),
    )
    assert str(excinfo.value) == (
        f"backward: dw3: the sign is flipped; dw6: {CATALOGUE['half'].name}; "
        "dw7: different value (off by 4, relative 4); w[1, 2]: the sign is flipped"
    )


def test_the_closest_known_value_names_the_mistake():
    """Two mistakes within the naming tolerance: the one nearer the value wins."""
    mistakes = {"a": {"no-2a": 1.0004, "dw3-no-cos": 1.0001}}
    message = failure({"a": 1.0001}, {"a": 3.0}, mistakes=mistakes)
    assert problem(message, "a") == CATALOGUE["dw3-no-cos"].name


def test_two_mistakes_with_the_same_value_name_neither():
    """A value that two mistakes give exactly is not blamed on either."""
    mistakes = {"a": {"no-2a": 0.5, "dw3-no-cos": 0.5}}
    assert problem(failure({"a": 0.5}, {"a": 0.3}, mistakes=mistakes), "a") == (
        "different value (off by 0.2, relative 0.67)"
    )


def test_a_function_names_a_mistake_by_what_was_returned():
    """A mistake given as a function of the returned value (e.g. an array where one
    number belongs) is named when it says so."""
    message = failure(
        {"error": np.ones(9)},
        {"error": 1e-9},
        mistakes={"error": {"per-weight-ratios": an_array}},
    )
    assert problem(message, "error") == CATALOGUE["per-weight-ratios"].name


def test_named_mistakes_print_what_they_mean_and_where_it_is_taught(capsys):
    """Under each named mistake: its meaning and the section that teaches it."""
    failure({"a": 2.0}, {"a": 1.0}, mistakes={"a": {"tanh-not-squared": 2.0}})
    out = capsys.readouterr().out
    known = CATALOGUE["tanh-not-squared"]
    assert f"  - a: {known.name}\n    {known.meaning} See {known.taught}." in out


def test_hint_is_printed_only_when_something_differs(capsys):
    """hint= is shown after what to look at, and never on success."""
    check_values({"a": 1.0}, {"a": 1.0}, what="f", hint="fix notebook 02 first")
    assert "fix notebook 02 first" not in capsys.readouterr().out
    failure({"a": 2.0}, {"a": 1.0}, hint="fix notebook 02 first")
    assert "  fix notebook 02 first" in capsys.readouterr().out


# --- non-numeric mistakes ----------------------------------------------------------


def sigmoid_with_math_exp(z):
    import math

    return 1 / (1 + math.exp(-z))


def vanilla_on_lists(w, grads, learning_rate):
    return w - learning_rate * grads


def test_checked_call_names_math_exp_on_an_array():
    """math.exp given an array: CheckFailed naming the mistake, not numpy's
    TypeError; the exception it came from is kept as the cause."""
    with pytest.raises(CheckFailed) as excinfo:
        checked_call(sigmoid_with_math_exp, np.zeros(3), what="sigmoid(z)", key="z")
    failed = excinfo.value
    assert failed.found[0][:2] == ("z", "math-exp-on-array")
    assert "use np.exp" in str(failed)
    assert isinstance(failed.__cause__, TypeError)


def test_checked_call_names_arithmetic_on_lists():
    """0.5 * list fails with TypeError: named as arithmetic on a Python list."""
    with pytest.raises(CheckFailed) as excinfo:
        checked_call(
            vanilla_on_lists, [1.0], [2.0], 0.5, what="vanilla_update", key="w"
        )
    assert excinfo.value.found[0][:2] == ("w", "list-arithmetic")


def test_checked_call_names_a_mistake_raised_as_text():
    """In the grader a student's exception arrives as text inside another one."""

    def remote(*args):
        raise RuntimeError(
            "sigmoid raised TypeError: only 0-dimensional arrays can be converted "
            "to Python scalars (at sigmoid (line 3): return 1 / (1 + math.exp(-z)))"
        )

    with pytest.raises(CheckFailed, match=r"math\.exp on an array"):
        checked_call(remote, np.zeros(3), what="sigmoid")


@pytest.mark.parametrize(
    "error", [ValueError("no"), NotImplementedError(), KeyError(1)]
)
def test_checked_call_passes_other_exceptions_through(error):
    """An exception no known mistake raises is not swallowed or renamed."""

    def raises(*args):
        raise error

    with pytest.raises(type(error)):
        checked_call(raises, 1, what="f")


def test_checked_call_returns_the_result():
    assert checked_call(lambda a, b=0: a + b, 1, b=2, what="f") == 3


def test_fail_names_a_mistake_with_advice(capsys):
    """fail(what, key, id, advice) raises with the name, the advice in parentheses."""
    with pytest.raises(CheckFailed) as excinfo:
        fail("momentum_step_factor", "momentum_step_factor", "momentum-factor-for-0.9")
    assert excinfo.value.found[0][1] == "momentum-factor-for-0.9"
    assert CATALOGUE["momentum-factor-for-0.9"].meaning in capsys.readouterr().out


@pytest.mark.parametrize(
    ("result", "ok"),
    [((1, 2), True), ([1, 2], True), ((1, 2, 3), False), (np.ones(3), False),
     (None, False)],
)  # fmt: skip
def test_check_returns(result, ok):
    """A pair comes back as a tuple; anything else says what it was."""
    if ok:
        assert check_returns(result, ("a", "b"), what="f") == tuple(result)
    else:
        with pytest.raises(CheckFailed, match=r"f should return 2 values \(a, b\)"):
            check_returns(result, ("a", "b"), what="f")


# --- gradient_check_by_weight ---------------------------------------------------------


def test_gradient_check_by_weight_shows_which_gradient_is_off(monkeypatch, capsys):
    """With dw5's sign flipped (a total error of only 7.5e-4), dw5 alone is off
    (error 1, its own estimate has the other sign); every other weight is fine."""
    namespace = solution_functions("04_gradient_checking")
    correct = namespace["backward_propagation"]

    def backward_wrong_dw5(x, y, w, forward_dict):
        gradients = dict(correct(x, y, w, forward_dict))
        gradients["dw5"] = -gradients["dw5"]
        return gradients

    monkeypatch.setitem(namespace, "backward_propagation", backward_wrong_dw5)
    from backprop_helper import load_data

    X, y = load_data()
    errors = gradient_check_by_weight(
        namespace["gradient_checking"], X[0], y[0], np.full(9, 0.1), 1e-6
    )
    assert errors["dw5"] == pytest.approx(1.0)
    assert all(error < 1e-7 for key, error in errors.items() if key != "dw5")
    assert namespace["backward_propagation"] is backward_wrong_dw5, "restored"
    rows = {
        line.split()[0]: line.split()[-1]
        for line in capsys.readouterr().out.splitlines()
    }
    assert rows["dw5"] == "✗" and rows["dw1"] == "✓"
