"""backprop_helper.contracts: the arguments each function the notebooks ask for
accepts, as its docstring states them; what the grader checks a call into a
reference against before it runs it."""

from __future__ import annotations

import inspect
from datetime import timedelta

import numpy as np
import pytest
from backprop_helper.contracts import CONTRACTS, FORWARD_KEYS, check_call
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.mistake_cases import NOTEBOOKS
from tests.notebook_code import solution_functions

W = np.linspace(-0.4, 0.4, 9)
X = np.array([0.1, -0.2, 0.3, 0.4, -0.5])
FORWARD = dict.fromkeys(FORWARD_KEYS, 0.5)
LEGAL = [
    ("sigmoid", (0.5,), {}),
    ("sigmoid", (np.zeros((3, 4)),), {}),
    ("sigmoid", ([1, 2, 3],), {}),
    ("sigmoid_derivative", (np.float32(2.0),), {}),
    ("forward_propagation", (X, 0.3, W), {}),
    ("forward_propagation", (list(X), np.float64(0.3), list(W)), {}),
    ("forward_propagation", (tuple(X), 1, W), {}),
    ("forward_propagation", (), {"x": X, "y": np.array(0.3), "w": W}),
    ("backward_propagation", (X, 0.3, W, FORWARD), {}),
    ("backward_propagation", (X, 0.3, W, {**FORWARD, "extra": "kept"}), {}),
    ("vanilla_update", (W, W, 0.1), {}),
    ("vanilla_update", (W, W, -0.1), {}),
    ("momentum_update", (W, W, W, 0.1), {}),
    ("momentum_update", (W, W, W, 0.1), {"gamma": 0.0}),
    ("momentum_update", (W, W, W, 0.1, 0.99), {}),
    ("adam_update", (W, W, W, W, 1, 0.01), {}),
    ("adam_update", (W, W, W, W, np.int64(10_000), 0.01, 0.9, 0.999, 1e-8), {}),
    ("adam_update", (W, W, W, W, 3.0, 0.01), {"beta1": 0.85, "eps": 1e-3}),
    (
        "forward_propagation",
        (X, float("nan"), np.full(9, np.inf)),
        {},
    ),  # diverged: allowed
    ("train", ("anything", "goes"), {"for": "names without a contract"}),
]


@pytest.mark.parametrize(("function", "args", "kwargs"), LEGAL, ids=repr)
def test_every_call_the_docstrings_allow_is_kept(function, args, kwargs):
    assert check_call(function, args, kwargs) == ""


@pytest.mark.parametrize(
    ("function", "args", "kwargs", "problem"),
    [
        ("adam_update", (W, W, W, W, 10**8, 0.01), {"beta1": 3},
         "adam_update's t must be below 1,000,000"),
        ("adam_update", (W, W, W, W, 5, 0.01), {"beta1": 3},
         "adam_update's beta1 must be below 1"),
        ("adam_update", (W, W, W, W, 0, 0.01), {}, "t must be at least 1"),
        ("adam_update", (W, W, W, W, 2.5, 0.01), {}, "t must be a whole number"),
        ("adam_update", (W, W, W, W, 2, 0.01), {"eps": -1.0}, "eps must be at least 0"),
        ("adam_update", (W, W, W, W, 2, 0.01), {"mistake": "adam-t-ignored"},
         "adam_update has no argument 'mistake'"),
        ("adam_update", (W, W, W, W), {}, "adam_update is missing 't'"),
        ("momentum_update", (W, W, W, 0.1), {"gamma": -0.5},
         "gamma must be at least 0"),
        ("forward_propagation", (X, 0.3, W[:8]), {}, "w must be 9 numbers"),
        ("forward_propagation", (X, 0.3, np.ones((3, 3))), {}, "w must be 9 numbers"),
        ("forward_propagation", (X, "0.3", W), {}, "y must be a number"),
        ("forward_propagation", (X, 10**400, W), {}, "y must be a number"),
        ("forward_propagation", (X, 0.3, W, 1), {}, "takes 3 arguments, got 4"),
        ("forward_propagation", (X, 0.3), {"x": X, "w": W}, "got 'x' twice"),
        ("backward_propagation", (X, 0.3, W, {"exp": 1.0}), {},
         "forward_dict must hold tanh, sigmoid, loss, dy_pred"),
        ("backward_propagation", (X, 0.3, W, [1, 2]), {},
         "forward_dict must be forward_propagation's dict"),
        ("sigmoid", (np.zeros(2_000_000),), {}, "must be a number or at most"),
        ("sigmoid", ({"z": 1},), {}, "must be a number or at most"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)  # fmt: skip
def test_a_call_outside_the_contract_says_what_breaks_it(
    function, args, kwargs, problem
):
    assert problem in check_call(function, args, kwargs)


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_the_contracts_name_the_answer_keys_parameters(stem):
    """Each contract lists its function's parameters as the answer key defines
    them, in order, and only those with a default are optional."""
    for name, function in solution_functions(stem).items():
        if name not in CONTRACTS:
            continue
        parameters = list(inspect.signature(function).parameters.values())
        assert [(p.name, p.default is p.empty) for p in parameters] == [
            (parameter, required) for parameter, _, required in CONTRACTS[name]
        ], name


def test_every_contract_is_of_a_function_the_notebooks_ask_for():
    asked = set().union(*(solution_functions(stem) for stem in NOTEBOOKS))
    assert set(CONTRACTS) <= asked


ODD = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    | st.binary(max_size=20),
    lambda inner: st.lists(inner, max_size=12) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=8), inner, max_size=8),
    max_leaves=40,
)  # fmt: skip


@settings(max_examples=300, deadline=timedelta(seconds=1))
@given(
    st.sampled_from(sorted(CONTRACTS)),
    st.lists(ODD, max_size=10),
    st.dictionaries(st.text(max_size=12), ODD, max_size=5),
)
def test_any_arguments_get_an_answer_never_an_exception(function, args, kwargs):
    """Odd types, huge ints, NaN, nesting: check_call says yes or what is wrong,
    in time, and never raises."""
    assert isinstance(check_call(function, args, kwargs), str)
