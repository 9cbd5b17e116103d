"""What each function the notebooks ask for accepts: its docstring's contract, as data.

The graded tests swap correct references in under the names of earlier functions
(stage independence), and the student's later code calls them. The grader runs such
a call only when its arguments keep the contract of the function the reference
stands in for (the kinds, shapes and ranges the docstrings state); otherwise the
call fails with what breaks the contract, as the student's own function would
(`adam_update(..., t=10**8, beta1=3)` asks for 3 ** (10 ** 8)). Only the standard
library and numpy are imported here.

The contract
------------
Argument(kind, low, high)
    kind  "number" (a real number: int, float, numpy scalar or 0-d array),
          "numbers" (a number or an array of numbers, at most MAX_ELEMENTS),
          "vector5" / "vector9" (5 or 9 numbers: an array or a list),
          "step" (a whole number), "forward" (forward_propagation's dict).
    low, high  the closed lower and open upper bound of a number (None: none).
CONTRACTS: function name -> its parameters in order: (name, Argument, required).
check_call(function, args, kwargs) -> str: "" when the call keeps the contract of
    `function` (a name of CONTRACTS; any call of another name keeps it), else what
    breaks it, in words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

MAX_ELEMENTS = 1_000_000  # numbers in one argument
MAX_STEP = 10**6  # Adam's t is below it: 20 epochs of 500 points are 10,000 steps
FORWARD_KEYS = ("exp", "tanh", "sigmoid", "loss", "dy_pred")


@dataclass(frozen=True)
class Argument:
    """One parameter's kind and range (see the module docstring)."""

    kind: str
    low: float | None = None
    high: float | None = None


NUMBER = Argument("number")
RATE = Argument("number", 0.0, 1.0)  # gamma, beta1, beta2: in [0, 1)
FORWARD = Argument("forward")
POINT = (("x", Argument("vector5"), True), ("y", NUMBER, True))
WEIGHTS = ("w", Argument("vector9"), True)
UPDATE = (WEIGHTS, ("grads", Argument("vector9"), True))

CONTRACTS: dict[str, tuple[tuple[str, Argument, bool], ...]] = {
    "sigmoid": (("z", Argument("numbers"), True),),
    "sigmoid_derivative": (("z", Argument("numbers"), True),),
    "forward_propagation": (*POINT, WEIGHTS),
    "backward_propagation": (*POINT, WEIGHTS, ("forward_dict", FORWARD, True)),
    "vanilla_update": (*UPDATE, ("learning_rate", NUMBER, True)),
    "momentum_update": (
        *UPDATE,
        ("velocity", Argument("vector9"), True),
        ("learning_rate", NUMBER, True),
        ("gamma", RATE, False),
    ),
    "adam_update": (
        *UPDATE,
        ("m", Argument("vector9"), True),
        ("v", Argument("vector9"), True),
        ("t", Argument("step", 1, MAX_STEP), True),
        ("learning_rate", NUMBER, True),
        ("beta1", RATE, False),
        ("beta2", RATE, False),
        ("eps", Argument("number", 0.0, None), False),
    ),
}


def check_call(function: str, args: Sequence, kwargs: Mapping) -> str:
    """What breaks `function`'s contract in this call ("" when nothing does)."""
    parameters = CONTRACTS.get(function)
    if parameters is None:
        return ""
    names = [name for name, _, _ in parameters]
    if len(args) > len(parameters):
        return f"{function} takes {len(parameters)} arguments, got {len(args)}"
    given = dict(zip(names, args))
    for name in kwargs:
        if name not in names:
            return f"{function} has no argument {name!r}"
        if name in given:
            return f"{function} got {name!r} twice"
        given[name] = kwargs[name]
    for name, argument, required in parameters:
        if name not in given:
            if required:
                return f"{function} is missing {name!r}"
            continue
        problem = _check(given[name], argument)
        if problem:
            return f"{function}'s {name} {problem}"
    return ""


def _check(value: object, argument: Argument) -> str:
    """What is wrong with one argument ("" when nothing is)."""
    kind = argument.kind
    if kind == "forward":
        if not isinstance(value, Mapping):
            return "must be forward_propagation's dict"
        missing = [key for key in FORWARD_KEYS if key not in value]
        if missing:
            return f"must hold {', '.join(missing)}"
        for key in FORWARD_KEYS:
            if _number(value[key]) is None:
                return f"[{key!r}] must be a number"
        return ""
    if kind in ("vector5", "vector9"):
        size = int(kind[-1])
        array = _array(value)
        if array is None or array.shape != (size,):
            return f"must be {size} numbers"
        return ""
    if kind == "numbers":
        array = _array(value)
        if array is None or array.size > MAX_ELEMENTS:
            return f"must be a number or at most {MAX_ELEMENTS:,} numbers"
        return ""
    number = _number(value)
    if number is None:
        return "must be a number"
    if kind == "step" and not float(number).is_integer():
        return "must be a whole number"
    if argument.low is not None and not number >= argument.low:
        return f"must be at least {_shown(argument.low)}"
    if argument.high is not None and not number < argument.high:
        return f"must be below {_shown(argument.high)}"
    return ""


def _shown(bound: float) -> str:
    return f"{int(bound):,}" if float(bound).is_integer() else f"{bound:g}"


def _array(value: object) -> np.ndarray | None:
    """value as an array of real numbers, or None when it is not one."""
    if isinstance(value, (str, bytes, Mapping)):
        return None
    if isinstance(value, (list, tuple)) and len(value) > MAX_ELEMENTS:
        return None
    try:
        array = np.asarray(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if array.dtype.kind not in "biuf" or array.size > MAX_ELEMENTS:
        return None
    return array


def _number(value: object) -> float | None:
    """value as one real number (int, float, numpy scalar, 0-d array), or None."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int):
        return float(value) if abs(value) <= 2**63 else None
    array = _array(value)
    if array is None or array.shape != ():
        return None
    return float(array)
