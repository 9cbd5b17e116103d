"""Readable checks: a table of expected against got, and what to look at if not."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

# A wrong value this close to a known mistake's value is named as that mistake: loose,
# because hard-coded answers are often copied from rounded, printed values.
_KNOWN_RTOL = 1e-3

# Ratios got/expected that point at a known slip, in the order they are tried.
_RATIO_HINTS = (
    (-1.0, "the sign is flipped"),
    (2.0, "it is twice the expected value (an extra factor 2?)"),
    (0.5, "it is half the expected value (a missing factor 2?)"),
    (-2.0, "it is −2 × the expected value (sign and a factor 2)"),
    (-0.5, "it is −½ × the expected value (sign and a factor 2)"),
)


class CheckFailed(AssertionError):
    """A check found values that differ from the expected ones."""


def _as_number(value: object) -> float | None:
    """The value as a float, or None when it is not a single real number."""
    if value is None or isinstance(value, (bool, str, bytes)):
        return None
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    return float(array) if array.shape == () else None


def _flatten(values: Mapping[str, object]) -> dict[str, object]:
    """Expand array values into one entry per element: w -> w[0], w[1], ..."""
    flat: dict[str, object] = {}
    for key, value in values.items():
        array = None if isinstance(value, (str, bytes)) else np.asarray(value)
        if array is not None and array.ndim == 1 and array.dtype.kind in "biuf":
            for index, element in enumerate(array):
                flat[f"{key}[{index}]"] = element
        else:
            flat[key] = value
    return flat


def _flatten_mistakes(
    mistakes: Mapping[str, Mapping[str, object]],
) -> dict[str, dict[str, float]]:
    """Per flattened key, {mistake: value}; array-valued mistakes split per element."""
    flat: dict[str, dict[str, float]] = {}
    for key, named in mistakes.items():
        for name, value in named.items():
            for flat_key, element in _flatten({key: value}).items():
                number = _as_number(element)
                if number is not None:
                    flat.setdefault(flat_key, {})[name] = number
    return flat


def _name_keys(keys: list[str]) -> str:
    """One key as it is; several elements of one array as 'w (4 of its elements)'."""
    if len(keys) == 1:
        return keys[0]
    return f"{keys[0].split('[')[0]} ({len(keys)} elements: {', '.join(keys)})"


def _close(expected: float, got: float, rtol: float, atol: float) -> bool:
    """True when got is within tolerance of expected (both finite)."""
    return math.isfinite(got) and abs(got - expected) <= atol + rtol * abs(expected)


def _diagnose(expected: float, got: object, known: Mapping[str, float]) -> str:
    """A short reason why got is wrong, naming a known mistake where one matches."""
    number = _as_number(got)
    if number is None:
        shape = getattr(np.asarray(got, dtype=object), "shape", None)
        return f"expected one number, got {type(got).__name__} {shape or ''}".strip()
    if math.isnan(number):
        return "got NaN: look for 0/0 or an overflow in exp"
    if math.isinf(number):
        return "got infinity: look for an overflow in exp"
    for name, wrong_value in known.items():
        if _close(wrong_value, number, _KNOWN_RTOL, 1e-12):
            return name
    if expected != 0:
        for ratio, reason in _RATIO_HINTS:
            if _close(ratio * expected, number, _KNOWN_RTOL, 1e-12):
                return reason
    return "different value"


def _format(value: object) -> str:
    """A value as printed in the table: floats in full precision."""
    number = _as_number(value)
    if number is not None:
        return repr(number)
    return "(missing)" if value is _MISSING else repr(value)[:24]


_MISSING = object()


def check_values(
    got: Mapping[str, object],
    expected: Mapping[str, object],
    *,
    what: str,
    rtol: float = 1e-9,
    atol: float = 1e-12,
    mistakes: Mapping[str, Mapping[str, float]] | None = None,
    quiet: bool = False,
) -> None:
    """Print a table of expected against got; raise CheckFailed when any differ.

    got, expected: name -> number or 1-D array (arrays are compared per element).
    what: what was called, shown as the table's title.
    mistakes: name -> {description of a known mistake: the value it gives}.
    quiet: print the table only when something differs.
    """
    if not isinstance(got, Mapping):
        message = (
            f"{what} should give a dict of values, got {type(got).__name__}: "
            "check what your function returns"
        )
        print(message)
        raise CheckFailed(message)
    got_flat, expected_flat = _flatten(got), _flatten(expected)
    known = _flatten_mistakes(mistakes or {})
    rows, problems = [], {}
    for key, want in expected_flat.items():
        have = got_flat.get(key, _MISSING)
        want_number = float(want)
        number = None if have is _MISSING else _as_number(have)
        ok = number is not None and _close(want_number, number, rtol, atol)
        rows.append((key, _format(want), _format(have), "✓" if ok else "✗"))
        if ok:
            continue
        if have is _MISSING:
            reason = f"missing from what {what} returned"
        else:
            reason = _diagnose(want_number, have, known.get(key, {}))
        problems.setdefault((key.split("[")[0], reason), []).append(key)
    if problems or not quiet:
        _print_table(what, rows)
    if problems:
        lines = [
            f"{_name_keys(keys)}: {reason}" for (_, reason), keys in problems.items()
        ]
        print("What to look at:")
        for line in lines:
            print(f"  - {line}")
        raise CheckFailed(f"{what}: " + "; ".join(lines))
    if not quiet:
        print(
            "The value matches." if len(rows) == 1 else f"All {len(rows)} values match."
        )


def check_unchanged(
    before: object, after: object, *, name: str, by: str, quiet: bool = False
) -> None:
    """Raise CheckFailed when `after` differs from the copy `before` taken earlier."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        same = before.keys() == after.keys() and all(
            _same_values(before[key], after[key]) for key in before
        )
    else:
        same = _same_values(before, after)
    if not same:
        message = (
            f"{by} changed its input {name} (mutating input): work on a copy, "
            f"e.g. {name} = np.array({name}, dtype=float), instead of editing it"
        )
        print(message)
        raise CheckFailed(message)
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
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)))


def check_below(value: object, limit: float, *, what: str, hint: str) -> None:
    """Print value against limit; raise CheckFailed with `hint` when not below it."""
    number = _as_number(value)
    if number is None:
        message = f"{what}: expected one number, got {type(value).__name__}"
        print(message)
        raise CheckFailed(message)
    ok = number < limit
    print(f"{what} = {number:.3e}  (expected below {limit:.0e})  {'✓' if ok else '✗'}")
    if not ok:
        print(f"What to look at: {hint}")
        raise CheckFailed(f"{what} = {number:.3e} is not below {limit:.0e}: {hint}")
