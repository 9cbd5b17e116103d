"""Readable checks: a table of expected against got, and what to look at if not.

A wrong value that matches a known mistake is named by that mistake's id in the
course's catalogue (mistakes.py): ``check_values(..., mistakes={"dw6":
{"tanh-not-squared": -0.3439}})``. The failure message reads "WHAT: KEY: NAME; ..."
(mistakes.py describes the format) and CheckFailed carries the same findings as data.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from .mistakes import CATALOGUE, RATIO_SLIPS, failure_message, finding, mistake

# A wrong value this close to a known mistake's value is named as that mistake: loose,
# because hard-coded answers are often copied from rounded, printed values.
_KNOWN_RTOL = 1e-3
_GRADIENT_KEYS = tuple(f"dw{i}" for i in range(1, 10))

# Exceptions that a known mistake raises, recognised by their text (in the grader a
# student's exception arrives as text: "sigmoid raised TypeError: ...").
_RAISED_BY = (
    (re.compile(r"TypeError: only (?:\S+ )?arrays can be converted to Python scalars"
                r"|TypeError: must be real number, not ndarray"),
     "math-exp-on-array"),
    (re.compile(r"TypeError: (?:can't multiply sequence by non-int"
                r"|unsupported operand type\(s\) for .*'list'"
                r"|bad operand type for unary -: 'list')"),
     "list-arithmetic"),
)  # fmt: skip

_MISSING = object()


class CheckFailed(AssertionError):
    """A check found values that differ from the expected ones.

    found: one (key, mistake id or None, reason) per finding, as the message states
    them ("KEY: REASON"); the mistake id is None when no known mistake matched.
    """

    def __init__(self, message: str, found: Sequence[tuple[str, str | None, str]] = ()):
        super().__init__(message)
        self.found = tuple(found)


def _as_number(value: object) -> float | None:
    """The value as a float, or None when it is not a single real number."""
    if value is None or isinstance(value, (bool, str, bytes)):
        return None
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    return float(array) if array.shape == () else None


def _describe(value: object) -> str:
    """A short description of a value that is not what was expected."""
    if value is _MISSING:
        return "(missing)"
    shape = getattr(value, "shape", None)
    if isinstance(value, np.ndarray) and shape:
        return f"{type(value).__name__} {shape}"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__} of {len(value)}"
    return type(value).__name__


def _close(expected: float, got: float, rtol: float, atol: float) -> bool:
    """True when got is within tolerance of expected (both finite)."""
    return math.isfinite(got) and abs(got - expected) <= atol + rtol * abs(expected)


def _format(value: object) -> str:
    """A single value as printed in the table: floats in full precision."""
    number = _as_number(value)
    if number is not None:
        return repr(number)
    return _describe(value) if value is _MISSING else repr(value)[:24]


def _short(values: np.ndarray) -> str:
    """An array of numbers in one short cell: [0.48, -0.29, 0.195, …, -0.115]."""
    shown = [f"{v:.6g}" for v in values]
    if len(shown) > 4:
        shown = [*shown[:3], "…", shown[-1]]
    return f"[{', '.join(shown)}]"


def _element_keys(key: str, indices: list[int]) -> str:
    """How a group of elements of one array is named: "w[1]", "w[0, 2, 5]"."""
    return f"{key}[{', '.join(map(str, indices))}]"


def _known(
    mistakes: Mapping[str, Mapping[str, object]], expected: Mapping[str, object]
) -> dict[str, dict[str, object]]:
    """mistakes checked: every id in the catalogue, every key an expected key."""
    checked: dict[str, dict[str, object]] = {}
    for key, named in mistakes.items():
        if key not in expected:
            raise ValueError(f"mistakes name {key!r}, which is not an expected key")
        checked[key] = {
            mistake(mistake_id).id: value for mistake_id, value in named.items()
        }
    return checked


def _diagnose(
    expected: float, got: object, named: Mapping[str, object], index: int | None = None
) -> tuple[str | None, str]:
    """(mistake id or None, reason) for a wrong value; index: the array element."""
    for mistake_id, value in named.items():
        if callable(value) and index is None and value(got):
            return mistake_id, CATALOGUE[mistake_id].name
    number = _as_number(got)
    if number is None:
        return None, f"expected one number, got {_describe(got)}"
    if math.isnan(number):
        return None, "got NaN (look for 0/0 or an overflow in exp)"
    if math.isinf(number):
        return None, "got infinity (look for an overflow in exp)"
    matches = []  # (distance, order, id): the closest known value names it
    for order, (mistake_id, value) in enumerate(named.items()):
        if callable(value):
            continue
        wrong = np.asarray(value, dtype=float)
        if index is not None and wrong.ndim:
            wrong = wrong[index]
        if _close(float(wrong), number, _KNOWN_RTOL, 1e-12):
            matches.append((abs(number - float(wrong)), order, mistake_id))
    matches.sort()
    if len(matches) > 1 and matches[1][0] <= matches[0][0] + 1e-12 * abs(number):
        return None, "different value"  # two mistakes give this value: name neither
    if matches:
        mistake_id = matches[0][2]
        return mistake_id, CATALOGUE[mistake_id].name
    if expected != 0:
        for mistake_id, ratio in RATIO_SLIPS.items():
            if _close(ratio * expected, number, _KNOWN_RTOL, 1e-12):
                return mistake_id, CATALOGUE[mistake_id].name
    return None, "different value"


class _Findings:
    """What a check found wrong, grouped per (key, mistake, reason); table rows."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.rows: list[tuple[str, str, str, str]] = []
        self.groups: dict[tuple[str, str | None, str], list[int] | None] = {}
        self.values = 0

    def add(self, key: str, mistake_id: str | None, reason: str, index=None) -> None:
        """A wrong value at key, or at element `index` of the array at key."""
        group = (key, mistake_id, reason)
        if index is None:
            self.groups[group] = None
        else:
            self.groups.setdefault(group, []).append(index)

    def found(self) -> list[tuple[str, str | None, str]]:
        """(key as written, mistake id, reason) per group, in order of appearance."""
        return [
            (
                key if indices is None else _element_keys(key, indices),
                mistake_id,
                reason,
            )
            for (key, mistake_id, reason), indices in self.groups.items()
        ]


def _compare_number(key, want, have, named, rtol, atol, findings: _Findings) -> None:
    """One expected number against what was returned under key."""
    number = None if have is _MISSING else _as_number(have)
    ok = number is not None and _close(float(want), number, rtol, atol)
    findings.rows.append((key, _format(want), _format(have), "✓" if ok else "✗"))
    findings.values += 1
    if ok:
        return
    if have is _MISSING:
        findings.add(key, None, f"missing from what {findings.what} returned")
    else:
        findings.add(key, *_diagnose(float(want), have, named))


def _compare_array(key, want, have, named, rtol, atol, findings: _Findings) -> None:
    """An expected 1-D array against what was returned under key, element-wise."""
    findings.values += len(want)
    if have is _MISSING:
        findings.rows.append((key, _short(want), "(missing)", "✗"))
        findings.add(key, None, f"missing from what {findings.what} returned")
        return
    for mistake_id, value in named.items():
        if callable(value) and value(have):
            findings.rows.append((key, _short(want), _describe(have), "✗"))
            findings.add(key, mistake_id, CATALOGUE[mistake_id].name)
            return
    try:
        array = np.asarray(have, dtype=float)
    except (TypeError, ValueError):
        array = None
    if isinstance(have, (str, bytes)) or array is None or array.shape != want.shape:
        findings.rows.append((key, _short(want), _describe(have), "✗"))
        findings.add(key, None, f"expected {len(want)} values, got {_describe(have)}")
        return
    ok = [_close(w, g, rtol, atol) for w, g in zip(want, array)]
    if all(ok):
        findings.rows.append((key, _short(want), _short(array), "✓"))
        return
    for index, (w, g, good) in enumerate(zip(want, array, ok)):
        element = f"{key}[{index}]"
        findings.rows.append((element, repr(float(w)), repr(float(g)), "✓✗"[not good]))
        if not good:
            findings.add(key, *_diagnose(float(w), float(g), named, index), index)


def check_values(
    got: Mapping[str, object],
    expected: Mapping[str, object],
    *,
    what: str,
    rtol: float = 1e-9,
    atol: float = 1e-12,
    mistakes: Mapping[str, Mapping[str, object]] | None = None,
    quiet: bool = False,
    hint: str = "",
) -> None:
    """Print a table of expected against got; raise CheckFailed when any differ.

    got, expected: name -> a number or a 1-D array (compared element by element; an
      array that matches is shown as one row).
    what: what was called, shown as the table's title and the message's start.
    mistakes: name -> {mistake id: what that mistake gives}: a number, an array (one
      value per element) or a function of the returned value that says whether it is
      that mistake. Named mistakes are tried first, then the ratio slips.
    quiet: print the table only when something differs.
    hint: printed after what to look at, when something differs.
    """
    named_mistakes = _known(mistakes or {}, expected)
    if not isinstance(got, Mapping):
        message = (
            f"{what} should give a dict of values, got {_describe(got)}: "
            "check what your function returns"
        )
        print(message)
        raise CheckFailed(message)
    findings = _Findings(what)
    for key, want in expected.items():
        want_array = np.asarray(want, dtype=float)
        compare = _compare_number if want_array.ndim == 0 else _compare_array
        if want_array.ndim > 1:
            raise ValueError(f"{key}: expected values must be numbers or 1-D arrays")
        have = got.get(key, _MISSING)
        named = named_mistakes.get(key, {})
        compare(key, want_array, have, named, rtol, atol, findings)
    found = findings.found()
    if found or not quiet:
        _print_table(what, findings.rows)
    if found:
        _fail(what, found, hint)
    if not quiet:
        count = findings.values
        print("The value matches." if count == 1 else f"All {count} values match.")


def _fail(what: str, found: list[tuple[str, str | None, str]], hint: str = "") -> None:
    """Print what to look at, naming each mistake and what it means; raise."""
    print("What to look at:")
    explained = set()
    for key, mistake_id, reason in found:
        print(f"  - {finding(key, reason)}")
        if mistake_id not in explained and mistake_id not in (None, *RATIO_SLIPS):
            known = CATALOGUE[mistake_id]
            print(f"    {known.meaning} See {known.taught}.")
            explained.add(mistake_id)
    if hint:
        print(f"  {hint}")
    message = failure_message(what, (finding(key, reason) for key, _, reason in found))
    raise CheckFailed(message, found)


def fail(what: str, key: str, mistake_id: str, advice: str = "") -> None:
    """Raise CheckFailed for a known mistake found without comparing values.

    advice: a hint shown after the mistake's name, in parentheses.
    """
    reason = mistake(mistake_id).name + (f" ({advice})" if advice else "")
    print(what)
    _fail(what, [(key, mistake_id, reason)])


def _advice(mistake_id: str, raised: str) -> str:
    """The hint shown with a mistake recognised from an exception's text."""
    use = {"math-exp-on-array": "use np.exp, which works element by element. "}
    return use.get(mistake_id, "") + f"It raised {raised[:120]}".replace(";", ",")


def checked_call(function: Callable, *args, what: str, key: str = "", **kwargs):
    """function(*args, **kwargs); an exception a known mistake raises is named.

    E.g. math.exp given an array raises TypeError: that becomes CheckFailed naming
    "math.exp on an array". Other exceptions pass through unchanged.
    """
    try:
        return function(*args, **kwargs)
    except Exception as error:
        text = f"{type(error).__name__}: {error}"
        for pattern, mistake_id in _RAISED_BY:
            if pattern.search(text):
                try:
                    fail(what, key, mistake_id, _advice(mistake_id, text))
                except CheckFailed as failed:
                    raise failed from error
        raise


def an_array(value: object) -> bool:
    """True for an array of one or more dimensions: for mistakes= where one number
    was expected and a mistake returns several (e.g. one ratio per weight)."""
    return np.ndim(value) > 0 and not isinstance(value, (str, bytes))


def check_returns(result: object, names: Sequence[str], *, what: str) -> tuple:
    """The result as a tuple of len(names) values, or CheckFailed saying what it is."""
    if isinstance(result, (tuple, list)) and len(result) == len(names):
        return tuple(result)
    message = (
        f"{what} should return {len(names)} values ({', '.join(names)}), "
        f"got {_describe(result)}"
    )
    print(message)
    raise CheckFailed(message)


def check_unchanged(
    before: object, after: object, *, name: str, by: str, quiet: bool = False
) -> None:
    """Raise CheckFailed when `after` differs from the copy `before` taken earlier."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        same = before.keys() == after.keys() and all(
            _same_values(before[key], after[key]) for key in before
        )
        copy = f"dict({name})"
    else:
        same = _same_values(before, after)
        copy = f"np.array({name}, dtype=float)"
    if not same:
        advice = (
            f"{by} changed the {name} it was given. Work on a copy, e.g. "
            f"{name} = {copy}, instead of changing it"
        )
        fail(by, name, "mutating-input", advice)
    if not quiet:
        print(f"{by} left {name} unchanged ✓")


def _same_values(before: object, after: object) -> bool:
    """Equal shapes and values, NaN equal to NaN where the values are numbers."""
    before, after = np.asarray(before), np.asarray(after)
    numeric = before.dtype.kind in "biufc" and after.dtype.kind in "biufc"
    return bool(np.array_equal(before, after, equal_nan=numeric))


def _print_table(title: str, rows: list[tuple[str, str, str, str]]) -> None:
    """Print rows (key, expected, got, ok) under a title, columns aligned."""
    header = ("key", "expected", "got", "ok")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    print(title)
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def check_below(
    value: object,
    limit: float,
    *,
    what: str,
    hint: str,
    mistakes: Mapping[str, Callable[[object], bool]] | None = None,
) -> None:
    """Print value against limit; raise CheckFailed with `hint` when not below it.

    mistakes: {mistake id: function of the value that says whether it is that
      mistake}, tried when the value is not one number.
    """
    number = _as_number(value)
    if number is None:
        for mistake_id, matches in (mistakes or {}).items():
            if matches(value):
                print(what)
                _fail(what, [("", mistake_id, mistake(mistake_id).name)])
        reason = f"expected one number, got {_describe(value)}"
        print(f"{what}: {reason}")
        raise CheckFailed(f"{what}: {reason}", [("", None, reason)])
    ok = number < limit
    print(f"{what} = {number:.3e}  (expected below {limit:.0e})  {'✓' if ok else '✗'}")
    if not ok:
        print(f"What to look at: {hint}")
        raise CheckFailed(f"{what} = {number:.3e} is not below {limit:.0e}: {hint}")


def gradient_check_by_weight(
    gradient_checking: Callable, x, y, w, eps: float, *, limit: float = 1e-6
) -> dict[str, float]:
    """Your gradient_checking, run for one weight at a time: which dw is off?

    For weight i it swaps in, for the duration of one call, a forward pass in which
    only w_i moves (the other weights stay at w) and a backward pass that returns
    your dw_i and 0 for the others. Your relative error then compares dw_i alone
    with its own estimate: |dw_i − approx_i| / (|dw_i| + |approx_i|). It uses the
    forward_propagation and backward_propagation that gradient_checking itself
    calls (the notebook's). Prints a table; returns {"dw1": error, ...}.
    """
    names = gradient_checking.__globals__
    forward, backward = names["forward_propagation"], names["backward_propagation"]
    at = np.array(w, dtype=float)  # the weights every pass starts from
    analytic = backward(x, y, at.copy(), forward(x, y, at.copy()))
    errors = {}
    for index, key in enumerate(_GRADIENT_KEYS):

        def forward_moving_one(x_, y_, w_moved, index=index):
            w_here = at.copy()
            w_here[index] = np.asarray(w_moved, dtype=float)[index]
            return forward(x_, y_, w_here)

        def backward_one(x_, y_, w_moved, forward_dict, key=key):
            return {
                name: analytic[name] if name == key else 0.0 for name in _GRADIENT_KEYS
            }

        names["forward_propagation"], names["backward_propagation"] = (
            forward_moving_one,
            backward_one,
        )
        try:
            error = _as_number(gradient_checking(x, y, at.copy(), eps))
        finally:
            names["forward_propagation"], names["backward_propagation"] = (
                forward,
                backward,
            )
        if error is None:
            print("gradient_checking does not return one number: no view by weight")
            return {}
        errors[key] = error
    rows = []
    for key, error in errors.items():
        gradient = float(analytic[key])
        ok = error < limit or (gradient == 0 and math.isnan(error))
        rows.append((key, f"{gradient:+.6e}", f"{error:.1e}", "✓" if ok else "✗"))
    header = ("weight", "your dw", f"error alone (eps {eps:g})", "ok")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    print("Each weight on its own: your dw against its centered difference")
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return errors
