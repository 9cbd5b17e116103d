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
from dataclasses import dataclass

import numpy as np

from .mistakes import (
    CATALOGUE,
    RATIO_SLIPS,
    VALUES_IN_CHECKS,
    failure_message,
    finding,
    mistake,
)

# A wrong value this close to a known mistake's value may be named as that mistake:
# loose, because hard-coded answers are often copied from rounded, printed values,
# but never more than a quarter of the way to a neighbouring value (_whole_match).
_KNOWN_RTOL = 1e-3
# Values computed in float32 agree with float64's to about 7 digits; after a few
# dozen steps of training, to 5 or 6.
_FLOAT32_RTOL = 1e-4
# A mistake's value this close to the expected one does not change it (6 digits).
_UNCHANGED_RTOL = 1e-6
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
    compared: {key: (expected, got)} of every number the check compared ("w[3]" for
    an element of an array), right and wrong: what a wrong answer gave, as data.
    what: what the check called (its title): where mistakes.VALUES_IN_CHECKS puts
    the values a mistake gives there.
    """

    def __init__(
        self,
        message: str,
        found: Sequence[tuple[str, str | None, str]] = (),
        compared: Mapping[str, tuple[float, float]] | None = None,
        what: str = "",
    ):
        super().__init__(message)
        self.found = tuple(found)
        self.compared = dict(compared or {})
        self.what = what


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
    mistakes: Mapping[str, Mapping[str, object]],
    expected: Mapping[str, object],
    what: str = "",
) -> dict[str, dict[str, object]]:
    """mistakes checked: every id in the catalogue, every key an expected key; and
    the values the catalogue knows mistakes give in the check called `what`
    (VALUES_IN_CHECKS), on the keys it compares."""
    checked: dict[str, dict[str, object]] = {}
    for key, named in mistakes.items():
        if key not in expected:
            raise ValueError(f"mistakes name {key!r}, which is not an expected key")
        checked[key] = {
            mistake(mistake_id).id: value for mistake_id, value in named.items()
        }
    for key, named in VALUES_IN_CHECKS.get(what, {}).items():
        if key in expected:
            for mistake_id, value in named.items():
                checked.setdefault(key, {}).setdefault(mistake(mistake_id).id, value)
    return checked


class _Findings:
    """What a check found wrong, grouped per (key, mistake, reason); table rows."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.rows: list[tuple[str, str, str, str]] = []
        self.groups: dict[tuple[str, str | None, str], list[int] | None] = {}
        self.gaps: dict[tuple[str, str | None, str], list[tuple[float, float]]] = {}
        self.values = 0

    def add(self, key: str, mistake_id: str | None, reason: str, index=None) -> None:
        """A wrong value at key, or at element `index` of the array at key."""
        group = (key, mistake_id, reason)
        if index is None:
            self.groups[group] = None
        else:
            self.groups.setdefault(group, []).append(index)

    def add_gap(self, key: str, index, want: float, have: float) -> None:
        """A wrong value no known mistake explains: "different value (off by ...)"."""
        group = (key, None, _DIFFERENT)
        self.add(key, None, _DIFFERENT, index)
        self.gaps.setdefault(group, []).append((want, have))

    def found(self) -> list[tuple[str, str | None, str]]:
        """(key as written, mistake id, reason) per group, in the keys' order."""
        order = list(dict.fromkeys(row[0].split("[", 1)[0] for row in self.rows))
        groups = sorted(
            self.groups.items(),
            key=lambda item: order.index(item[0][0]) if item[0][0] in order else 0,
        )
        return [
            (
                key if indices is None else _element_keys(key, indices),
                mistake_id,
                _by_how_much(reason, self.gaps.get((key, mistake_id, reason))),
            )
            for (key, mistake_id, reason), indices in groups
        ]


_DIFFERENT = "different value"


def _by_how_much(reason: str, gaps: list[tuple[float, float]] | None) -> str:
    """ "different value (off by 0.0021, relative 1.5e-05)": the largest gap."""
    if not gaps:
        return reason
    size = max(abs(have - want) for want, have in gaps)
    relative = max(
        abs(have - want) / abs(want) if want else math.inf for want, have in gaps
    )
    text = f"off by {size:.2g}"
    if math.isfinite(relative):
        text += f", relative {relative:.2g}"
    return f"{reason} ({text})"


@dataclass
class _Element:
    """One compared number: key (and index in its array), expected, returned."""

    key: str
    index: int | None
    want: float
    have: float
    float32: bool  # the value came as single precision

    @property
    def name(self) -> str:
        return self.key if self.index is None else f"{self.key}[{self.index}]"


def _named_value(named: Mapping[str, object], mistake_id: str, index) -> float | None:
    """The value a mistake gives for one element (None: not given for this key)."""
    if mistake_id not in named or callable(named[mistake_id]):
        return None
    value = np.asarray(named[mistake_id], dtype=float)
    return float(value[index] if index is not None and value.ndim else value)


def _whole_match(
    elements: list[_Element], named_mistakes, rtol: float, atol: float
) -> str | None:
    """The one mistake whose values match every compared element, or None.

    A mistake gives, for each element, its named value, or the expected value
    where it names none or one within 1e-6 of it (a value printed to 6 digits
    cannot be told from the expected one: it does not change that one); it must
    change one at least. It matches when every
    returned value is within a tolerance of it that tells it from its neighbours
    (the expected value and the other mistakes' values): a quarter of the distance
    to the nearest one, and at most _KNOWN_RTOL. Two mistakes that match alike
    (the same values) name neither.
    """
    ids = list(dict.fromkeys(m for named in named_mistakes.values() for m in named))
    values = {
        mistake_id: [
            _named_value(named_mistakes.get(e.key, {}), mistake_id, e.index)
            for e in elements
        ]
        for mistake_id in ids
    }
    for mine in values.values():
        for position, element in enumerate(elements):
            if mine[position] is not None and _close(
                element.want, mine[position], _UNCHANGED_RTOL, 1e-15
            ):
                mine[position] = None
    matches = []
    for mistake_id in ids:
        mine = values[mistake_id]
        if all(value is None for value in mine):
            continue
        distance, ok = 0.0, True
        for position, element in enumerate(elements):
            value = element.want if mine[position] is None else mine[position]
            neighbours = [element.want] + [
                other[position]
                for other_id, other in values.items()
                if other_id != mistake_id and other[position] is not None
            ]
            gaps = [abs(value - n) for n in neighbours if abs(value - n) > 0]
            tolerance = atol + rtol * abs(value)
            if gaps:
                known = min(_KNOWN_RTOL * abs(value) + 1e-12, 0.25 * min(gaps))
                tolerance = max(tolerance, known)
            gap = abs(element.have - value)
            if not gap <= tolerance:
                ok = False
                break
            distance += gap
        if ok:
            matches.append((distance, mistake_id))
    matches.sort()
    if not matches:
        return None
    if len(matches) > 1 and values[matches[0][1]] == values[matches[1][1]]:
        return None  # two mistakes give these values: name neither
    return matches[0][1]


def _ratio_slip(element: _Element) -> str | None:
    """The ratio slip (sign, factor 2) that gives this value, if one does."""
    if element.want == 0:
        return None
    for mistake_id, ratio in RATIO_SLIPS.items():
        if _close(ratio * element.want, element.have, _KNOWN_RTOL, 1e-12):
            return mistake_id
    return None


def _swapped_with(element: _Element, others: list[_Element]) -> _Element | None:
    """Another wrong element whose expected value this one holds, and back."""
    for other in others:
        if other is element or _close(element.want, other.want, 1e-6, 1e-12):
            continue
        if _close(other.want, element.have, 1e-9, 1e-12) and _close(
            element.want, other.have, 1e-9, 1e-12
        ):
            return other
    return None


def _single_precision(wrong: list[_Element], elements: list[_Element]) -> bool:
    """Every wrong value is the expected one to float32's precision, and the result
    shows float32: a value of it came as float32 (values computed from float32 ones
    with a float64 number, such as a loss with a float64 y, are float64 but no
    closer), or every wrong value is a float32 number exactly."""
    close = all(_close(e.want, e.have, _FLOAT32_RTOL, 1e-12) for e in wrong)
    as_float32 = any(e.float32 for e in elements) or all(
        float(np.float32(e.have)) == e.have for e in wrong
    )
    return bool(wrong) and close and as_float32


def _explain(
    wrong: list[_Element], named_mistakes, rtol, atol, elements, findings
) -> None:
    """Add a finding for every wrong element: a mistake only when it is that one."""
    whole = _whole_match(elements, named_mistakes, rtol, atol)
    if whole is not None:
        for e in wrong:
            findings.add(e.key, whole, CATALOGUE[whole].name, e.index)
        return
    if _single_precision(wrong, elements):
        for e in wrong:
            findings.add(e.key, "float32", CATALOGUE["float32"].name, e.index)
        return
    for e in wrong:
        other = _swapped_with(e, wrong)
        slip = None if other else _ratio_slip(e)
        if other is not None:
            name = CATALOGUE["values-swapped"].name
            findings.add(
                e.key, "values-swapped", f"{name} (with {other.name})", e.index
            )
        elif slip:
            findings.add(e.key, slip, CATALOGUE[slip].name, e.index)
        else:
            findings.add_gap(e.key, e.index, e.want, e.have)


def _is_float32(value: object) -> bool:
    return getattr(value, "dtype", None) == np.float32


def _compare_number(key, want, have, named, rtol, atol, findings: _Findings):
    """One expected number against what was returned under key: its element, or
    None when it is not one number (then the finding is added here)."""
    number = None if have is _MISSING else _as_number(have)
    ok = number is not None and _close(float(want), number, rtol, atol)
    findings.rows.append((key, _format(want), _format(have), "✓" if ok else "✗"))
    findings.values += 1
    if have is _MISSING:
        findings.add(key, None, f"missing from what {findings.what} returned")
        return None
    for mistake_id, value in named.items():
        if callable(value) and not ok and value(have):
            findings.add(key, mistake_id, CATALOGUE[mistake_id].name)
            return None
    if number is None:
        findings.add(key, None, f"expected one number, got {_describe(have)}")
        return None
    if math.isnan(number):
        findings.add(key, None, "got NaN (look for 0/0 or an overflow in exp)")
        return None
    if math.isinf(number):
        findings.add(key, None, "got infinity (look for an overflow in exp)")
        return None
    return [_Element(key, None, float(want), number, _is_float32(have))]


def _compare_array(key, want, have, named, rtol, atol, findings: _Findings):
    """An expected 1-D array against what was returned under key: its elements,
    or None when it is not such an array (then the finding is added here)."""
    findings.values += len(want)
    if have is _MISSING:
        findings.rows.append((key, _short(want), "(missing)", "✗"))
        findings.add(key, None, f"missing from what {findings.what} returned")
        return None
    for mistake_id, value in named.items():
        if callable(value) and value(have):
            findings.rows.append((key, _short(want), _describe(have), "✗"))
            findings.add(key, mistake_id, CATALOGUE[mistake_id].name)
            return None
    try:
        array = np.asarray(have, dtype=float)
    except (TypeError, ValueError):
        array = None
    if isinstance(have, (str, bytes)) or array is None or array.shape != want.shape:
        findings.rows.append((key, _short(want), _describe(have), "✗"))
        findings.add(key, None, f"expected {len(want)} values, got {_describe(have)}")
        return None
    ok = [_close(w, g, rtol, atol) for w, g in zip(want, array)]
    if all(ok):
        findings.rows.append((key, _short(want), _short(array), "✓"))
    else:
        for index, (w, g, good) in enumerate(zip(want, array, ok)):
            element = f"{key}[{index}]"
            row = (element, repr(float(w)), repr(float(g)), "✓✗"[not good])
            findings.rows.append(row)
    single = _is_float32(have)
    return [
        _Element(key, index, float(w), float(g), single)
        for index, (w, g) in enumerate(zip(want, array))
    ]


def _compare(got, expected, named_mistakes, rtol, atol, what):
    """Compare every expected key: (findings, the numeric elements, wrong ones)."""
    findings = _Findings(what)
    elements: list[_Element] = []
    for key, want in expected.items():
        want_array = np.asarray(want, dtype=float)
        if want_array.ndim > 1:
            raise ValueError(f"{key}: expected values must be numbers or 1-D arrays")
        compare = _compare_number if want_array.ndim == 0 else _compare_array
        have = got.get(key, _MISSING)
        named = named_mistakes.get(key, {})
        compared = compare(key, want_array, have, named, rtol, atol, findings)
        elements.extend(compared or [])
    wrong = [e for e in elements if not _close(e.want, e.have, rtol, atol)]
    return findings, elements, wrong


def check_values(
    got: Mapping[str, object],
    expected: Mapping[str, object],
    *,
    what: str,
    rtol: float = 1e-9,
    atol: float = 1e-12,
    mistakes: Mapping[str, Mapping[str, object]] | None = None,
    accepted: Mapping[str, Mapping[str, object]] | None = None,
    quiet: bool = False,
    hint: str = "",
) -> None:
    """Print a table of expected against got; raise CheckFailed when any differ.

    got, expected: name -> a number or a 1-D array (compared element by element; an
      array that matches is shown as one row).
    what: what was called, shown as the table's title and the message's start.
    mistakes: name -> {mistake id: what that mistake gives}: a number, an array (one
      value per element) or a function of the returned value that says whether it is
      that mistake. A mistake is named only when the whole result matches it (every
      compared value; where it gives none for a key, it leaves that key as
      expected). Otherwise a wrong value is named by the generic slips (single
      precision for the whole result; then per value: a flipped sign or factor 2,
      two values swapped), or said to differ, and by how much. The catalogue's
      VALUES_IN_CHECKS[what] adds what it knows mistakes give in this check.
    accepted: other correct results, {what it is: expected values}: got passes when
      it matches one of them wholly (e.g. the Adam paper's form of the update).
    quiet: print the table only when something differs.
    hint: printed after what to look at, when something differs.
    """
    named_mistakes = _known(mistakes or {}, expected, what)
    if not isinstance(got, Mapping):
        message = (
            f"{what} should give a dict of values, got {_describe(got)}: "
            "check what your function returns"
        )
        print(message)
        raise CheckFailed(message)
    findings, elements, wrong = _compare(
        got, expected, named_mistakes, rtol, atol, what
    )
    if (wrong or findings.groups) and accepted:
        for form, values in accepted.items():
            alternative = _compare(got, values, {}, rtol, atol, what)
            if not alternative[2] and not alternative[0].groups:
                findings = alternative[0]
                findings.rows = [(*row[:3], "✓") for row in findings.rows]
                wrong, what = [], f"{what} ({form})"
                break
    if wrong:
        _explain(wrong, named_mistakes, rtol, atol, elements, findings)
    found = findings.found()
    if found or not quiet:
        _print_table(what, findings.rows)
    if found:
        compared = {e.name: (e.want, e.have) for e in elements}
        _fail(what, found, hint, compared, title=what)
    if not quiet:
        count = findings.values
        print("The value matches." if count == 1 else f"All {count} values match.")


def _fail(
    what: str,
    found: list[tuple[str, str | None, str]],
    hint: str = "",
    compared: Mapping[str, tuple[float, float]] | None = None,
    title: str = "",
) -> None:
    """Print what to look at, naming each mistake and what it means; raise.

    title: the check's what, when it compared values (CheckFailed.what)."""
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
    raise CheckFailed(message, found, compared, title)


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


def check_uses_arguments(
    got: object,
    same_as: Mapping[str, tuple[str, Mapping[str, object]]],
    *,
    what: str,
    keys: Sequence[str],
) -> None:
    """Raise CheckFailed naming a mistake when got is, on every key, what the
    function gives where it ignores an argument.

    same_as: {mistake id: (where, the function's own result there)}, e.g.
      {"forward-reads-global-w": ("with w = 0.1 everywhere", result)}: results of
      the same function at inputs where a correct one gives other values on every
      one of `keys`, so only a function that ignores that argument gives them
      again. A third item, (where, result, keys), compares those keys instead.
    """
    if not isinstance(got, Mapping):
        message = f"{what} should give a dict of values, got {_describe(got)}"
        print(message)
        raise CheckFailed(message)
    for mistake_id, (where, other, *compared) in same_as.items():
        if _same_result(got, other, compared[0] if compared else keys):
            fail(what, "", mistake_id, f"it gives the same values {where}")


def _same_result(got: Mapping, other: object, keys: Sequence[str]) -> bool:
    """Every key is in both, as numbers within 1e-5 of each other (printed values
    copied by hand agree to about 6 digits)."""
    if not isinstance(other, Mapping) or not all(k in got and k in other for k in keys):
        return False
    for key in keys:
        mine, theirs = _as_number(got[key]), _as_number(other[key])
        if mine is None or theirs is None or not _close(theirs, mine, 1e-5, 1e-12):
            return False
    return True


def check_repeatable(
    first: object, again: object, *, what: str, mistake_id: str
) -> None:
    """Raise CheckFailed naming mistake_id when a second call with the same
    arguments gave another result than the first (first, again: the results)."""
    if not repeated(first, again):
        fail(what, "", mistake_id, "a second call with the same arguments gave others")


def repeated(first: object, again: object) -> bool:
    """Whether two results are equal, item by item (arrays equal, NaN to NaN)."""
    if isinstance(first, (tuple, list)) and isinstance(again, (tuple, list)):
        return len(first) == len(again) and all(
            repeated(a, b) for a, b in zip(first, again)
        )
    try:
        return _same_values(first, again)
    except (TypeError, ValueError):
        return True  # not numbers: what they are is for the checks after this one


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
    gradient_checking: Callable,
    x,
    y,
    w,
    eps: float,
    *,
    limit: float = 1e-6,
    total: object = None,
) -> dict[str, float]:
    """Your gradient_checking, run for one weight at a time: which dw is off?

    For weight i it swaps in, for the duration of one call, a forward pass in which
    only w_i moves (the other weights stay at w) and a backward pass that returns
    your dw_i and 0 for the others. Your relative error then compares dw_i alone
    with its own estimate: |dw_i − approx_i| / (|dw_i| + |approx_i|). It uses the
    forward_propagation and backward_propagation that gradient_checking itself
    calls (the notebook's). Prints a table; returns {"dw1": error, ...}.

    total: gradient_checking's own result for all nine weights at once, shown as
    the table's last row; when every weight alone passes and the total does not,
    it says so, so the table and the total tell the same story.
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
    together = _as_number(total)
    if together is not None:
        mark = "✓" if together < limit else "✗"
        rows.append(("all nine", "", f"{together:.1e}", mark))
    header = ("weight", "your dw", f"error alone (eps {eps:g})", "ok")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    print("Each weight on its own: your dw against its centered difference")
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    alone_ok = all(row[3] == "✓" for row in rows[: len(errors)])
    if together is not None and alone_ok and not together < limit:
        print(
            "Every weight passes alone, but not all nine at once: look at how your "
            "gradient_checking moves w (a step left in w, or one weight's step still "
            "there when the next weight moves)."
        )
    return errors
