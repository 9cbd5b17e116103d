"""The course's reference math, checked against an independent oracle: PyTorch.

The references are the instructor's solutions (solution cells of the source
notebooks) and the reference functions the hidden tests grade students with
(``_ref_forward``, ``_ref_backward``, ...). Each is compared, in float64, with

* a PyTorch forward pass of the course graph and torch.autograd's dL/dw;
* centered differences of PyTorch's loss (a second, autograd-free check);
* torch.sigmoid and its autograd derivative;
* torch.optim.SGD (with and without momentum) and torch.optim.Adam, step by step;
* the same optimizers in a training loop over data points (notebook 05's train).

The numbers the check cells hard-code are checked too: against the oracle, and the
values they name mistakes by against the hidden tests' own references.

The graph: a = w1 x1 + w2 x2, exp = e^(a² + w6), tanh = tanh(exp + w7),
sig = sigmoid(sin(w3 x3) (w4 x4 + w5 x5) + w8), y' = tanh + sig w9,
L = (y - y')², dy_pred = dL/dy' = -2 (y - y').
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable

import numpy as np
import pytest
import torch
from backprop_helper import load_data

from tests.notebook_code import (
    code_cells,
    hidden_definitions,
    hidden_reference_cells,
    hidden_reference_functions,
    solution_functions,
)

F64 = torch.float64
FORWARD_KEYS = ("exp", "tanh", "sigmoid", "loss", "dy_pred")
GRAD_KEYS = tuple(f"dw{i}" for i in range(1, 10))

NB01 = "01_sigmoid"
NB02 = "02_forward_propagation"
NB03 = "03_backward_propagation"
NB04 = "04_gradient_checking"
NB05 = "05_optimizers"
STEMS = (NB01, NB02, NB03, NB04, NB05)

# Tolerances (float64 throughout). numpy and torch use different libm routines for
# exp/tanh/sin, so results may differ by a few ulps; nothing more is allowed.
FORWARD_RTOL = 1e-12
BACKWARD_RTOL, BACKWARD_ATOL = 1e-9, 1e-12
UPDATE_RTOL = 1e-10

CHECK_POINT = "X[0], w=0.1 (the notebooks' check point)"


# --- the oracle -------------------------------------------------------------------


def torch_graph(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> dict:
    """The course graph in torch, batched: x (n, 5), y (n,), w (n, 9) -> (n,) each."""
    a = w[:, 0] * x[:, 0] + w[:, 1] * x[:, 1]
    exp = torch.exp(a**2 + w[:, 5])
    tanh = torch.tanh(exp + w[:, 6])
    c = w[:, 3] * x[:, 3] + w[:, 4] * x[:, 4]
    sig = torch.sigmoid(torch.sin(w[:, 2] * x[:, 2]) * c + w[:, 7])
    y_pred = tanh + sig * w[:, 8]
    return {
        "exp": exp,
        "tanh": tanh,
        "sigmoid": sig,
        "y_pred": y_pred,
        "loss": (y - y_pred) ** 2,
    }


def torch_loss(xs: np.ndarray, ys: np.ndarray, ws: np.ndarray) -> np.ndarray:
    """torch's float64 loss at each row of (xs, ys, ws), as a numpy array."""
    with torch.no_grad():
        values = torch_graph(
            torch.tensor(xs, dtype=F64),
            torch.tensor(ys, dtype=F64),
            torch.tensor(ws, dtype=F64),
        )
    return values["loss"].numpy()


def torch_centered_differences(xs, ys, ws, eps: float) -> np.ndarray:
    """(L(w + eps e_i) - L(w - eps e_i)) / (2 eps) from torch's loss, shape (n, 9)."""
    xs, ys, ws = np.atleast_2d(xs), np.atleast_1d(ys), np.atleast_2d(ws)
    out = np.empty(ws.shape)
    for i in range(9):
        step = np.zeros(9)
        step[i] = eps
        plus, minus = torch_loss(xs, ys, ws + step), torch_loss(xs, ys, ws - step)
        out[:, i] = (plus - minus) / (2 * eps)
    return out


def torch_forward_backward(xs, ys, ws) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Forward values (with dy_pred = autograd's dL/dy') and autograd's dL/dw."""
    x = torch.tensor(np.atleast_2d(xs), dtype=F64)
    y = torch.tensor(np.atleast_1d(ys), dtype=F64)
    w = torch.tensor(np.atleast_2d(ws), dtype=F64, requires_grad=True)
    values = torch_graph(x, y, w)
    values["y_pred"].retain_grad()
    # The points are independent, so the gradient of the sum holds each point's own.
    values["loss"].sum().backward()
    forward = {key: value.detach().numpy() for key, value in values.items()}
    forward["dy_pred"] = values["y_pred"].grad.numpy()
    return forward, w.grad.numpy()


# --- the points -------------------------------------------------------------------


def make_points() -> list[tuple[str, np.ndarray, float, np.ndarray]]:
    """(name, x, y, w): 120 seeded random points, then edge cases."""
    rng = np.random.default_rng(20240611)
    points = [
        (
            f"random{i}",
            rng.normal(size=5),
            float(rng.normal()),
            rng.normal(0.0, 0.7, size=9),
        )
        for i in range(120)
    ]
    X, y = load_data()
    x1 = rng.normal(size=5)
    w1 = rng.normal(0.0, 0.7, size=9)

    def with_w(**changes: float) -> np.ndarray:
        w = w1.copy()
        for name, value in changes.items():
            w[int(name[1:]) - 1] = value
        return w

    ones = np.ones(5)
    points += [
        (CHECK_POINT, X[0], float(y[0]), np.full(9, 0.1)),
        ("data X[17], w=0.1", X[17], float(y[17]), np.full(9, 0.1)),
        ("data X[400], random w", X[400], float(y[400]), w1),
        ("random x, w=0.1", x1, 0.3, np.full(9, 0.1)),
        ("w=0", x1, -0.4, np.zeros(9)),
        ("a=+3: tanh saturated", ones, 1.0, with_w(w1=1.5, w2=1.5)),
        ("a=-3: tanh saturated", ones, 1.0, with_w(w1=-1.5, w2=-1.5)),
        ("a=+1.2: tanh nearly saturated", ones, 1.0, with_w(w1=0.6, w2=0.6, w7=0.0)),
        ("a=-1.2, w6=-2", ones, -0.5, with_w(w1=-0.6, w2=-0.6, w6=-2.0)),
        ("large |a| cancelled by w6=-20", ones, 0.2, with_w(w1=2.0, w2=2.0, w6=-20.0)),
        ("w8=+30: sigmoid saturated high", x1, 2.0, with_w(w8=30.0)),
        ("w8=-30: sigmoid saturated low", x1, -1.0, with_w(w8=-30.0)),
        ("w8=+12: sigmoid nearly saturated", x1, 0.0, with_w(w8=12.0)),
        (
            "sin argument large: w3 x3 = 40",
            np.array([0.3, -0.2, 4.0, 1.0, 1.0]),
            0.5,
            with_w(w3=10.0),
        ),
        ("large x", 5.0 * x1 / np.linalg.norm(x1), 1.0, 0.2 * w1),
        ("large w9", x1, 0.0, with_w(w9=25.0)),
        ("y far from y'", x1, 40.0, w1),
    ]
    return points


POINTS = make_points()
POINT_NAMES = [name for name, *_ in POINTS]
RANDOM_POINTS = [p for p in POINTS if p[0].startswith("random")]
XS = np.array([x for _, x, _, _ in POINTS], dtype=float)
YS = np.array([y for _, _, y, _ in POINTS], dtype=float)
WS = np.array([w for _, _, _, w in POINTS], dtype=float)


@functools.cache
def oracle() -> tuple[dict[str, np.ndarray], np.ndarray]:
    """torch's forward values and dL/dw at every point of POINTS."""
    return torch_forward_backward(XS, YS, WS)


def oracle_forward_dict(index: int) -> dict[str, float]:
    """The forward dict a backward pass reads, at POINTS[index], from torch."""
    forward, _ = oracle()
    return {key: float(forward[key][index]) for key in FORWARD_KEYS}


def grad_vector(gradients: dict) -> np.ndarray:
    """dw1..dw9 of a backward dict as an array, after checking the keys."""
    assert set(GRAD_KEYS) <= set(gradients), f"missing keys in {sorted(gradients)}"
    return np.array([float(gradients[key]) for key in GRAD_KEYS])


def assert_rows_close(got, want, rtol: float, atol: float, what: str) -> None:
    """assert_allclose over points, naming the points that fail."""
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    assert got.shape == want.shape
    bad = ~np.isclose(got, want, rtol=rtol, atol=atol)
    if bad.ndim > 1:
        bad = bad.any(axis=tuple(range(1, bad.ndim)))
    names = [POINT_NAMES[i] for i in np.flatnonzero(bad)][:5]
    np.testing.assert_allclose(
        got, want, rtol=rtol, atol=atol, err_msg=f"{what}; failing points: {names}"
    )


# --- the implementations under test ------------------------------------------------


def hidden(stem: str, name: str) -> list[tuple[str, Callable]]:
    """(id, function) for every grade cell of ``stem`` that defines ``name``."""
    return [
        (f"{stem[:2]} hidden {grade_id}.{name}", namespace[name])
        for grade_id, namespace in hidden_reference_cells(stem).items()
        if name in namespace
    ]


def solution(stem: str, name: str, label: str = "solution") -> tuple[str, Callable]:
    return (f"{stem[:2]} {label} {name}", solution_functions(stem)[name])


def params(implementations: list[tuple[str, object]]):
    return [pytest.param(impl, id=name) for name, impl in implementations]


SIGMOIDS = [
    solution(NB01, "sigmoid"),
    solution(NB02, "sigmoid", "pasted"),
    solution(NB04, "sigmoid", "pasted"),
    solution(NB05, "sigmoid", "pasted"),
    *hidden(NB01, "_ref_sigmoid"),
    *hidden(NB02, "_ref_sigmoid"),
]
SIGMOID_DERIVATIVES = [
    solution(NB01, "sigmoid_derivative"),
    *hidden(NB01, "_ref_sigmoid_derivative"),
]
FORWARDS = [
    solution(NB02, "forward_propagation"),
    solution(NB04, "forward_propagation", "pasted"),
    solution(NB05, "forward_propagation", "pasted"),
    *[
        item
        for stem in (NB02, NB03, NB04, NB05)
        for item in hidden(stem, "_ref_forward")
    ],
]


def backward_with_forward() -> list[tuple[str, tuple[Callable, Callable]]]:
    """(id, (backward, the forward it is used with in its notebook))."""
    nb02 = solution_functions(NB02)["forward_propagation"]
    items = [
        (
            "03 solution backward_propagation",
            (solution_functions(NB03)["backward_propagation"], nb02),
        ),
    ]
    for stem in (NB04, NB05):
        namespace = solution_functions(stem)
        items.append(
            (
                f"{stem[:2]} pasted backward_propagation",
                (namespace["backward_propagation"], namespace["forward_propagation"]),
            )
        )
    for stem in (NB03, NB04, NB05):
        for grade_id, namespace in hidden_reference_cells(stem).items():
            if "_ref_backward" in namespace:
                items.append(
                    (
                        f"{stem[:2]} hidden {grade_id}._ref_backward",
                        (namespace["_ref_backward"], namespace["_ref_forward"]),
                    )
                )
    return items


BACKWARDS = backward_with_forward()
SOLUTION_BACKWARDS = [item for item in BACKWARDS if "hidden" not in item[0]]


# --- the loader -------------------------------------------------------------------


def test_loader_keeps_only_top_level_defs_and_literals_in_hidden_regions():
    """hidden_definitions keeps the top-level defs and literal assignments inside
    hidden regions only: not code outside the markers, not imports, calls, computed
    values or statements nested in others; executing them runs no function body."""
    source = "\n".join(
        [
            "def outside(): pass",
            "### BEGIN HIDDEN TESTS",
            "import os",
            "from backprop_helper import check_unchanged",
            "",
            "",
            "def kept(z):",
            "    return undefined_global + z",
            "",
            "@functools.cache",
            "def decorated(): pass",
            "_KEYS = ('a', 'b')",
            "_N: int = 3",
            "_computed = np.zeros(3)",
            "_x = X[0]",
            "_a = _b = 1",
            "_t[0] = 1",
            "check_values(kept(1), 2)",
            "for _i in range(3):",
            "    def in_loop(): pass",
            "try:",
            "    def in_try(): pass",
            "finally:",
            "    pass",
            "### END HIDDEN TESTS",
            "after = 1",
            "def straddles():",
            "    ### BEGIN HIDDEN TESTS",
            "    pass",
            "### END HIDDEN TESTS",
            "  ### BEGIN HIDDEN TESTS",
            "def second_region(): pass",
            "  ### END HIDDEN TESTS",
        ]
    )
    module = hidden_definitions(source)
    kept = [
        f"def {node.name}" if hasattr(node, "name") else ast.unparse(node)
        for node in module.body
    ]
    assert kept == [
        "def kept",
        "def decorated",
        "_KEYS = ('a', 'b')",
        "_N: int = 3",
        "_a = _b = 1",
        "def second_region",
    ]
    namespace = {"functools": functools}
    exec(compile(module, "<test>", "exec"), namespace)
    assert {"kept", "decorated", "_KEYS", "_N", "_a", "_b", "second_region"} <= set(
        namespace
    )
    with pytest.raises(NameError, match="undefined_global"):
        namespace["kept"](1)


def test_loader_rejects_unbalanced_hidden_markers():
    """An unclosed or unopened hidden region is an error, not silently skipped."""
    with pytest.raises(ValueError, match="never closed"):
        hidden_definitions("### BEGIN HIDDEN TESTS\ndef f(): pass\n")
    with pytest.raises(ValueError, match="without BEGIN"):
        hidden_definitions("def f(): pass\n### END HIDDEN TESTS\n")


def test_loader_finds_every_reference_function():
    """The loader finds every reference the hidden tests define (so the
    parametrized tests below cannot pass by checking nothing), and each grade cell
    with a hidden region gets its definitions."""
    found = {
        (stem, grade_id, name)
        for stem in STEMS
        for grade_id, namespace in hidden_reference_cells(stem).items()
        for name in namespace
        if name.startswith("_ref_")
    }
    expected = {
        (NB01, "test_sigmoid_values", "_ref_sigmoid"),
        (NB01, "test_sigmoid_arrays", "_ref_sigmoid"),
        (NB01, "test_sigmoid_derivative", "_ref_sigmoid"),
        (NB01, "test_sigmoid_derivative", "_ref_sigmoid_derivative"),
        (NB02, "test_forward_values", "_ref_sigmoid"),
        (NB02, "test_forward_values", "_ref_forward"),
        (NB02, "test_forward_robust", "_ref_sigmoid"),
        *(
            (NB03, grade_id, name)
            for grade_id in (
                "test_backward_upper",
                "test_backward_lower",
                "test_backward_output",
            )
            for name in ("_ref_forward", "_ref_backward")
        ),
        (NB03, "test_backward_robust", "_ref_forward"),
        (NB03, "test_backward_robust", "_ref_backward"),
        (NB04, "test_gradient_checking_values", "_ref_forward"),
        (NB04, "test_gradient_checking_values", "_ref_backward"),
        (NB04, "test_gradient_checking_values", "_ref_backward_wrong"),
        (NB04, "test_gradient_checking_values", "_ref_backward_rolled"),
        (NB04, "test_gradient_checking_values", "_ref_gradient_check"),
        (NB04, "test_gradient_checking_w", "_ref_forward"),
        (NB04, "test_gradient_checking_w", "_ref_backward"),
        (NB04, "test_gradient_checking_w", "_ref_gradient_check"),
        (NB05, "test_vanilla", "_ref_vanilla"),
        *(
            (NB05, grade_id, name)
            for grade_id in ("test_momentum", "test_adam")
            for name in ("_ref_vanilla", "_ref_momentum", "_ref_adam")
        ),
        (NB05, "test_adam", "_ref_adam_paper"),
        *(
            (NB05, grade_id, name)
            for grade_id in ("test_train", "test_train_adam")
            for name in (
                "_ref_vanilla",
                "_ref_momentum",
                "_ref_adam",
                "_ref_forward",
                "_ref_backward",
                "_ref_train",
                "_ref_step",
            )
        ),
    }
    assert found == expected
    # the merged namespace holds the last definition of each name
    merged = hidden_reference_functions(NB04)
    last = hidden_reference_cells(NB04)["test_gradient_checking_w"]
    assert merged["_ref_gradient_check"] is not last["_ref_gradient_check"]
    assert (
        merged["_ref_gradient_check"].__code__ == last["_ref_gradient_check"].__code__
    )
    # every grade cell with a hidden region that defines something was loaded
    for stem in STEMS:
        defining = {
            grade_id
            for grade_id, meta, source in code_cells(stem)
            if meta.get("grade") and hidden_definitions(source).body
        }
        assert defining == set(hidden_reference_cells(stem))


# --- 1. forward and backward against torch ------------------------------------------


def check_cell_expectations(stem: str, grade_id: str) -> list:
    """The literal ``expected`` argument of each check_values call of a check cell."""
    (source,) = [src for gid, _, src in code_cells(stem) if gid == grade_id]
    return [
        ast.literal_eval(node.args[1])
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "check_values"
    ]


def test_check_cells_agree_with_oracle():
    """The values the check cells of 02 and 03 hard-code for X[0], w = 0.1 (the
    original assignment's) equal torch's forward values (rtol 1e-12) and autograd's
    dL/dw (rtol 1e-9); this also validates the oracle itself."""
    forward, grads = oracle()
    index = POINT_NAMES.index(CHECK_POINT)
    (expected_forward,) = check_cell_expectations(NB02, "check_forward")
    assert set(expected_forward) == set(FORWARD_KEYS)
    for key, value in expected_forward.items():
        np.testing.assert_allclose(value, forward[key][index], rtol=1e-12, err_msg=key)
    (expected_grads,) = check_cell_expectations(NB03, "check_backward")
    np.testing.assert_allclose(
        grad_vector(expected_grads), grads[index], rtol=BACKWARD_RTOL
    )
    assert np.all(np.isfinite(grads)) and len(RANDOM_POINTS) >= 100


@pytest.mark.parametrize("forward_propagation", params(FORWARDS))
def test_forward_matches_torch(forward_propagation):
    """exp, tanh, sigmoid, loss of every forward reference equal torch's forward
    pass, and dy_pred equals autograd's dL/dy', at every point (rtol 1e-12)."""
    want, _ = oracle()
    got = {key: [] for key in FORWARD_KEYS}
    for name, x, y, w in POINTS:
        result = forward_propagation(x.copy(), y, w.copy())
        for key in FORWARD_KEYS:
            assert np.ndim(result[key]) == 0, f"{key} at {name} is not a number"
            got[key].append(float(result[key]))
        if "y_pred" in result:
            got.setdefault("y_pred", []).append(float(result["y_pred"]))
    for key, values in got.items():
        assert_rows_close(values, want[key], FORWARD_RTOL, 0.0, f"forward {key!r}")


@pytest.mark.parametrize("backward_and_forward", params(BACKWARDS))
@pytest.mark.parametrize("forward_source", ["torch forward", "notebook forward"])
def test_backward_matches_autograd(backward_and_forward, forward_source):
    """dw1..dw9 of every backward reference equal torch.autograd's dL/dw at every
    point (rtol 1e-9, atol 1e-12), fed the forward dict from torch or from the
    forward pass the backward is paired with in its notebook."""
    backward, forward = backward_and_forward
    _, want = oracle()
    got = []
    for index, (_, x, y, w) in enumerate(POINTS):
        if forward_source == "torch forward":
            forward_dict = oracle_forward_dict(index)
        else:
            forward_dict = forward(x.copy(), y, w.copy())
        got.append(grad_vector(backward(x.copy(), y, w.copy(), forward_dict)))
    assert_rows_close(got, want, BACKWARD_RTOL, BACKWARD_ATOL, "dL/dw")


@pytest.mark.parametrize("backward_and_forward", params(SOLUTION_BACKWARDS))
def test_solution_backward_matches_torch_centered_differences(backward_and_forward):
    """A second check without autograd: each solution's dw1..dw9 agree with
    centered differences of torch's float64 loss (h = 1e-5), up to the
    differences' own error (rtol 1e-6 plus 1e-7 of the gradient's size)."""
    backward, forward = backward_and_forward
    approx = torch_centered_differences(XS, YS, WS, 1e-5)
    for index, (name, x, y, w) in enumerate(POINTS):
        got = grad_vector(backward(x, y, w, forward(x, y, w)))
        scale = 1.0 + np.max(np.abs(approx[index]))
        np.testing.assert_allclose(
            got, approx[index], rtol=1e-6, atol=1e-7 * scale, err_msg=name
        )


def test_centered_differences_would_catch_a_wrong_gradient():
    """The centered-difference check above is sharp enough to fail: doubling dw3 is
    detected at most random points."""
    backward = solution_functions(NB03)["backward_propagation"]
    forward = solution_functions(NB02)["forward_propagation"]
    approx = torch_centered_differences(XS, YS, WS, 1e-5)
    detected = 0
    for index, (_, x, y, w) in enumerate(RANDOM_POINTS):
        got = grad_vector(backward(x, y, w, forward(x, y, w)))
        got[2] *= 2
        scale = 1.0 + np.max(np.abs(approx[index]))
        detected += not np.allclose(got, approx[index], rtol=1e-6, atol=1e-7 * scale)
    assert detected >= 0.9 * len(RANDOM_POINTS)


# --- 2. sigmoid and its derivative ------------------------------------------------


def sigmoid_inputs():
    rng = np.random.default_rng(7)
    grid = np.array([-700.0, -50, -20, -5, -1e-8, 0, 1e-8, 0.5, 5, 20, 50, 700])
    return [
        pytest.param(grid, id="grid -700..700"),
        pytest.param(rng.normal(0, 4, size=(3, 4)), id="shape (3, 4)"),
        pytest.param(rng.normal(0, 4, size=(2, 3, 2)), id="shape (2, 3, 2)"),
        pytest.param(np.array(1.25), id="0-d array"),
    ]


SCALARS = [
    pytest.param(3, id="int 3"),
    pytest.param(-2, id="int -2"),
    pytest.param(0.0, id="float 0.0"),
    pytest.param(-1.5, id="float -1.5"),
    pytest.param(np.float64(0.25), id="np.float64"),
    pytest.param(np.float32(2.5), id="np.float32"),
]


def torch_sigmoid_and_derivative(z) -> tuple[np.ndarray, np.ndarray]:
    t = torch.tensor(np.asarray(z, dtype=float), dtype=F64, requires_grad=True)
    s = torch.sigmoid(t)
    s.sum().backward()
    return s.detach().numpy(), t.grad.numpy()


@pytest.mark.parametrize("z", sigmoid_inputs())
@pytest.mark.parametrize("sigmoid", params(SIGMOIDS))
def test_sigmoid_matches_torch_on_arrays(sigmoid, z):
    """sigmoid keeps an array's shape and equals torch.sigmoid (rtol 1e-13)."""
    want, _ = torch_sigmoid_and_derivative(z)
    got = sigmoid(z.copy())
    assert np.shape(got) == np.shape(z)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)


@pytest.mark.parametrize("z", SCALARS)
@pytest.mark.parametrize("sigmoid", params(SIGMOIDS))
def test_sigmoid_matches_torch_on_scalars(sigmoid, z):
    """sigmoid of a Python or numpy number is a number equal to torch.sigmoid."""
    want, _ = torch_sigmoid_and_derivative(z)
    got = sigmoid(z)
    assert np.ndim(got) == 0
    np.testing.assert_allclose(float(got), want, rtol=1e-13, atol=0)


@pytest.mark.parametrize("z", [*sigmoid_inputs(), *SCALARS])
@pytest.mark.parametrize("sigmoid_derivative", params(SIGMOID_DERIVATIVES))
def test_sigmoid_derivative_matches_autograd(sigmoid_derivative, z):
    """sigmoid_derivative equals torch.autograd's d sigmoid/dz, shape kept (rtol
    1e-12; atol 1e-16 because s (1 - s) cancels to ~1e-16 absolute for z >> 0)."""
    _, want = torch_sigmoid_and_derivative(z)
    got = sigmoid_derivative(z)
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-16)


# --- 3. the update rules against torch.optim ----------------------------------------


STEPS = 12


def gradient_sequence(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(w_start, gradients of STEPS steps) with scales from 1e-3 to 10, and zeros."""
    rng = np.random.default_rng(seed)
    w_start = rng.normal(size=9)
    grads = rng.normal(size=(STEPS, 9)) * 10.0 ** rng.uniform(-3, 1, size=(STEPS, 1))
    grads[3, 4] = 0.0
    if seed % 2:
        grads[:, 6] = 0.0  # a weight whose gradient is always 0
    return w_start, grads


def torch_trajectory(optimizer_class, w_start, grads, **hyper) -> list[dict]:
    """Weights and optimizer state after each step, grads set by hand each step."""
    param = torch.tensor(w_start, dtype=F64, requires_grad=True)
    optimizer = optimizer_class([param], **hyper)
    states = []
    for g in grads:
        param.grad = torch.tensor(g, dtype=F64)
        optimizer.step()
        state = {"w": param.detach().numpy().copy()}
        for key, value in optimizer.state[param].items():
            if torch.is_tensor(value) and value.shape == param.shape:
                state[key] = value.numpy().copy()
        states.append(state)
    return states


SGD_RATES = [0.1, 0.01, 0.7]
MOMENTUM_SETTINGS = [(0.1, 0.9), (0.05, 0.5), (0.01, 0.99), (0.2, 0.0)]
ADAM_SETTINGS = [
    (0.01, 0.9, 0.999, 1e-8),
    (0.1, 0.8, 0.99, 1e-3),
    (0.001, 0.5, 0.9, 1e-6),
    (0.05, 0.95, 0.9999, 1e-8),
]
VANILLAS = [solution(NB05, "vanilla_update"), *hidden(NB05, "_ref_vanilla")]
MOMENTUMS = [solution(NB05, "momentum_update"), *hidden(NB05, "_ref_momentum")]
ADAMS = [solution(NB05, "adam_update"), *hidden(NB05, "_ref_adam")]


@pytest.mark.parametrize("seed", [11, 12])
@pytest.mark.parametrize("learning_rate", SGD_RATES)
@pytest.mark.parametrize("vanilla_update", params(VANILLAS))
def test_vanilla_update_matches_torch_sgd(vanilla_update, learning_rate, seed):
    """vanilla_update (and the hidden _ref_vanilla), STEPS steps, equals
    torch.optim.SGD(lr, momentum=0)."""
    w_start, grads = gradient_sequence(seed)
    want = torch_trajectory(torch.optim.SGD, w_start, grads, lr=learning_rate)
    w = w_start.copy()
    for t, g in enumerate(grads):
        w = vanilla_update(w, g.copy(), learning_rate)
        np.testing.assert_allclose(w, want[t]["w"], rtol=UPDATE_RTOL, err_msg=f"t={t}")


@pytest.mark.parametrize("seed", [11, 12])
@pytest.mark.parametrize(("learning_rate", "gamma"), MOMENTUM_SETTINGS)
@pytest.mark.parametrize("momentum_update", params(MOMENTUMS))
def test_momentum_update_matches_torch_sgd_momentum(
    momentum_update, learning_rate, gamma, seed
):
    """momentum_update (and the hidden _ref_momentum, mistake=None): weights and
    velocity after each of STEPS steps equal torch.optim.SGD(lr, momentum=gamma)'s
    parameter and momentum_buffer (no dampening). gamma=0.9 is left to the default."""
    w_start, grads = gradient_sequence(seed)
    want = torch_trajectory(
        torch.optim.SGD, w_start, grads, lr=learning_rate, momentum=gamma
    )
    is_ref = momentum_update.__name__ == "_ref_momentum"
    w, velocity = w_start.copy(), np.zeros(9)
    for t, g in enumerate(grads):
        kwargs = {} if gamma == 0.9 else {"gamma": gamma}
        if is_ref:
            kwargs["mistake"] = None
        w, velocity = momentum_update(w, g.copy(), velocity, learning_rate, **kwargs)
        np.testing.assert_allclose(w, want[t]["w"], rtol=UPDATE_RTOL, err_msg=f"t={t}")
        if gamma:  # torch keeps no momentum buffer without momentum
            np.testing.assert_allclose(
                velocity, want[t]["momentum_buffer"], rtol=UPDATE_RTOL, err_msg=f"t={t}"
            )


def adam_without_bias_correction(w, grads, learning_rate, beta1, beta2, eps):
    """Weights after each step of Adam with m_hat = m, v_hat = v (a wrong Adam)."""
    m, v, out = np.zeros(9), np.zeros(9), []
    for g in grads:
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        w = w - learning_rate * m / (np.sqrt(v) + eps)
        out.append(w)
    return out


@pytest.mark.parametrize("seed", [11, 12])
@pytest.mark.parametrize(("learning_rate", "beta1", "beta2", "eps"), ADAM_SETTINGS)
@pytest.mark.parametrize("adam_update", params(ADAMS))
def test_adam_update_matches_torch_adam(
    adam_update, learning_rate, beta1, beta2, eps, seed
):
    """adam_update (and the hidden _ref_adam, mistake=None) with t counted from 1:
    w, m, v after each of STEPS steps equal torch.optim.Adam(lr, betas, eps)'s
    parameter, exp_avg and exp_avg_sq (rtol 1e-10). The first setting is left to the
    defaults. Also pins that Adam without bias correction is far from torch at every
    step, so this comparison is able to fail."""
    w_start, grads = gradient_sequence(seed)
    want = torch_trajectory(
        torch.optim.Adam,
        w_start,
        grads,
        lr=learning_rate,
        betas=(beta1, beta2),
        eps=eps,
    )
    defaults = (beta1, beta2, eps) == (0.9, 0.999, 1e-8)
    kwargs = {} if defaults else {"beta1": beta1, "beta2": beta2, "eps": eps}
    if adam_update.__name__ == "_ref_adam":
        kwargs["mistake"] = None
    wrong = adam_without_bias_correction(
        w_start, grads, learning_rate, beta1, beta2, eps
    )
    w, m, v = w_start.copy(), np.zeros(9), np.zeros(9)
    for t, g in enumerate(grads, start=1):
        w, m, v = adam_update(w, g.copy(), m, v, t, learning_rate, **kwargs)
        step = want[t - 1]
        message = f"t={t}"
        np.testing.assert_allclose(w, step["w"], rtol=UPDATE_RTOL, err_msg=message)
        np.testing.assert_allclose(
            m, step["exp_avg"], rtol=UPDATE_RTOL, err_msg=message
        )
        np.testing.assert_allclose(
            v, step["exp_avg_sq"], rtol=UPDATE_RTOL, err_msg=message
        )
        gap = np.max(np.abs(wrong[t - 1] - step["w"]) / np.abs(step["w"]))
        assert gap > 1e4 * UPDATE_RTOL, f"t={t}: no bias correction is too close"


# --- 4. gradient checking -------------------------------------------------------------


def relative_error(d_w: np.ndarray, d_w_approx: np.ndarray) -> float:
    return float(
        np.linalg.norm(d_w - d_w_approx)
        / (np.linalg.norm(d_w) + np.linalg.norm(d_w_approx))
    )


def torch_backward(x, y, w, forward_dict) -> dict[str, float]:
    """A correct backward pass from torch.autograd (ignores forward_dict)."""
    _, grads = torch_forward_backward(x, y, w)
    return dict(zip(GRAD_KEYS, grads[0].tolist()))


def with_mistake(mistake: str) -> Callable:
    """A backward pass from torch.autograd that makes a mistake."""

    def wrong_backward(x, y, w, forward_dict):
        gradients = torch_backward(x, y, w, forward_dict)
        if mistake == "dw3 doubled":
            gradients["dw3"] *= 2
        elif mistake == "dw2 negated, dw8 x1.5":
            gradients["dw2"] = -gradients["dw2"]
            gradients["dw8"] *= 1.5
        elif mistake == "dw9 zero":
            gradients["dw9"] = 0.0
        else:
            raise ValueError(mistake)
        return gradients

    wrong_backward.__name__ = f"backward with {mistake}"
    return wrong_backward


def independent_gradient_check(x, y, w, eps, backward) -> float:
    """The relative error from ``backward`` and centered differences of torch's loss."""
    d_w = grad_vector(backward(x, y, w, None))
    d_w_approx = torch_centered_differences(x, y, w, eps)[0]
    return relative_error(d_w, d_w_approx)


GRADIENT_CHECKS = [
    ("04 solution gradient_checking", None),
    *hidden(NB04, "_ref_gradient_check"),
]


def run_gradient_check(check, monkeypatch, x, y, w, eps, backward) -> float:
    """Call the solution (its namespace's backward_propagation swapped for
    ``backward`` if given) or a hidden _ref_gradient_check(x, y, w, eps, backward)."""
    if check is None:
        namespace = solution_functions(NB04)
        if backward is not None:
            monkeypatch.setitem(namespace, "backward_propagation", backward)
        return namespace["gradient_checking"](x.copy(), y, w.copy(), eps)
    if backward is None:
        backward = solution_functions(NB04)["backward_propagation"]
    return check(x.copy(), y, w.copy(), eps, backward)


@pytest.mark.parametrize("check", params(GRADIENT_CHECKS))
@pytest.mark.parametrize("backward_source", ["notebook backward", "torch backward"])
def test_gradient_check_is_small_for_correct_gradients(
    check, backward_source, monkeypatch
):
    """With correct gradients (04's pasted backward_propagation, or autograd's),
    the relative error is a float below 1e-7 at eps 1e-6 at every random point."""
    backward = None if backward_source == "notebook backward" else torch_backward
    errors = []
    for _, x, y, w in RANDOM_POINTS:
        error = run_gradient_check(check, monkeypatch, x, y, w, 1e-6, backward)
        assert np.ndim(error) == 0
        errors.append(float(error))
    worst = int(np.argmax(errors))
    assert errors[worst] < 1e-7, f"{RANDOM_POINTS[worst][0]}: {errors[worst]:.3g}"


WRONG_POINTS = [(CHECK_POINT, 1e-6)] + [
    (name, eps) for name in POINT_NAMES[:40:4] for eps in (1e-6, 1e-4)
]


@pytest.mark.parametrize(
    "mistake", ["dw3 doubled", "dw2 negated, dw8 x1.5", "dw9 zero"]
)
@pytest.mark.parametrize("check", params(GRADIENT_CHECKS))
def test_gradient_check_value_for_wrong_gradients(check, mistake, monkeypatch):
    """With a deliberately wrong backward pass, the relative error equals an
    independent computation (autograd's wrong gradients against centered
    differences of torch's loss, the same eps) to rtol 1e-6, and flags the mistake
    (> 1e-7). Points where the mistake's error is below 1e-3 are skipped: there the
    finite-difference rounding noise (~1e-10) would exceed rtol 1e-6."""
    backward = with_mistake(mistake)
    compared = 0
    for name, eps in WRONG_POINTS:
        _, x, y, w = POINTS[POINT_NAMES.index(name)]
        want = independent_gradient_check(x, y, w, eps, backward)
        if want < 1e-3:
            continue
        got = run_gradient_check(check, monkeypatch, x, y, w, eps, backward)
        assert np.ndim(got) == 0
        np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=f"{name}, eps={eps}")
        assert got > 1e-7
        compared += 1
    assert compared >= 10


def test_check_cell_value_for_doubled_dw3_matches_oracle():
    """The value notebook 04's check cell expects for dw3 doubled at X[0], w = 0.1,
    eps = 1e-6, equals the independent computation (rtol 1e-6)."""
    (expected,) = check_cell_expectations(NB04, "check_gradient_checking_catches")
    _, x, y, w = POINTS[POINT_NAMES.index(CHECK_POINT)]
    want = independent_gradient_check(x, y, w, 1e-6, with_mistake("dw3 doubled"))
    np.testing.assert_allclose(expected["error with dw3 doubled"], want, rtol=1e-6)


# --- 5. the training loop -----------------------------------------------------------


def torch_train(X, y, w, optimizer, learning_rate, epochs, **hyper) -> tuple:
    """Stochastic gradient descent with torch.optim on the course graph: one step
    per point in order, each point's loss recorded before its step; returns
    (w_final, the mean loss of each epoch)."""
    param = torch.tensor(np.asarray(w, dtype=float), dtype=F64, requires_grad=True)
    if optimizer == "vanilla":
        stepper = torch.optim.SGD([param], lr=learning_rate)
    elif optimizer == "momentum":
        stepper = torch.optim.SGD(
            [param], lr=learning_rate, momentum=hyper.get("gamma", 0.9)
        )
    else:
        stepper = torch.optim.Adam(
            [param],
            lr=learning_rate,
            betas=(hyper.get("beta1", 0.9), hyper.get("beta2", 0.999)),
            eps=hyper.get("eps", 1e-8),
        )
    xs, ys = torch.tensor(X, dtype=F64), torch.tensor(y, dtype=F64)
    means = []
    for _ in range(epochs):
        losses = []
        for index in range(len(xs)):
            stepper.zero_grad()
            loss = torch_graph(
                xs[index : index + 1], ys[index : index + 1], param[None]
            )
            loss["loss"].sum().backward()
            losses.append(float(loss["loss"].item()))
            stepper.step()
        means.append(np.mean(losses))
    return param.detach().numpy().copy(), np.array(means)


def _solution_train(X, y, w, optimizer, learning_rate, epochs, **hyper):
    return solution_functions(NB05)["train"](
        X, y, w, optimizer, learning_rate, epochs, **hyper
    )


TRAINS = [
    ("05 solution train", _solution_train),
    *hidden(NB05, "_ref_train"),
]
TRAIN_SETTINGS = [
    ("vanilla", 0.05, {}),
    ("momentum", 0.02, {}),
    ("momentum", 0.03, {"gamma": 0.6}),
    ("adam", 0.01, {}),
    ("adam", 0.05, {"beta1": 0.8, "beta2": 0.99, "eps": 1e-6}),
]


@pytest.mark.parametrize(
    ("optimizer", "learning_rate", "hyper"),
    TRAIN_SETTINGS,
    ids=[f"{o}-{lr}-{h}" for o, lr, h in TRAIN_SETTINGS],
)
@pytest.mark.parametrize("train", params(TRAINS))
def test_train_matches_a_torch_training_loop(train, optimizer, learning_rate, hyper):
    """The solution's train and the hidden tests' _ref_train (no mistake), 3
    epochs over 12 points, equal the same loop run by torch.optim on torch's graph
    and autograd: the weights and each epoch's mean loss (rtol 1e-9). The caller's
    w is left as it was."""
    X, y = load_data()
    w = np.random.default_rng(5).normal(0.0, 0.3, size=9)
    w_before = w.copy()
    w_final, losses = train(X[:12], y[:12], w, optimizer, learning_rate, 3, **hyper)
    want_w, want_losses = torch_train(
        X[:12], y[:12], w, optimizer, learning_rate, 3, **hyper
    )
    np.testing.assert_allclose(losses, want_losses, rtol=1e-9)
    np.testing.assert_allclose(w_final, want_w, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(w, w_before)


def test_train_mistakes_differ_from_the_right_loop_where_they_show():
    """Each mistake _ref_train plants changes the result in the setting that
    reveals it (the hidden tests name a mistake only where its values differ)."""
    _, ref_train = hidden(NB05, "_ref_train")[0]
    X, y = load_data()
    w = np.random.default_rng(8).normal(0.0, 0.3, size=9)
    reveals = {
        "train-value-order": "vanilla",
        "train-t-per-epoch": "adam",
        "train-t-restarts": "adam",
        "train-state-reset": "momentum",
        "train-loss-after-update": "vanilla",
        "train-one-update-per-epoch": "vanilla",
        "train-loss-sum": "vanilla",
        "train-loss-last": "vanilla",
        "train-skips-last-point": "vanilla",
        "train-hyperparameters-ignored": "momentum",
    }
    for mistake, optimizer in reveals.items():
        hyper = {"gamma": 0.7} if optimizer == "momentum" else {}
        right = ref_train(X[:8], y[:8], w, optimizer, 0.03, 3, **hyper)
        wrong = ref_train(X[:8], y[:8], w, optimizer, 0.03, 3, mistake=mistake, **hyper)
        assert not np.allclose(wrong[1], right[1], rtol=1e-6), mistake


# --- 6. the numbers in the check cells ----------------------------------------------


def cell_tree(stem: str, grade_id: str) -> ast.Module:
    """The parsed code of one cell."""
    (source,) = [src for gid, _, src in code_cells(stem) if gid == grade_id]
    return ast.parse(source)


def calls(stem: str, grade_id: str, function: str) -> list[ast.Call]:
    """The calls to `function` (a plain name) in one cell, in order."""
    return [
        node
        for node in ast.walk(cell_tree(stem, grade_id))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == function
    ]


def assigned(stem: str, grade_id: str, name: str):
    """The literal a cell assigns to `name` (np.array(<literal>) counts as one)."""
    for node in ast.walk(cell_tree(stem, grade_id)):
        if isinstance(node, ast.Assign) and any(
            getattr(target, "id", None) == name for target in node.targets
        ):
            return literal(node.value)
    raise LookupError(f"{stem}:{grade_id} assigns no {name}")


def literal(node: ast.expr):
    """A literal, reading np.array(<literal>) as its list."""
    if isinstance(node, ast.Call) and ast.unparse(node.func) == "np.array":
        return np.array(ast.literal_eval(node.args[0]), dtype=float)
    return ast.literal_eval(node)


def test_second_check_points_agree_with_oracle():
    """Check 2 of 02 and 03 (X[11], w_other): the expected forward values and
    forward_dict_other equal torch's, the expected gradients autograd's."""
    X, y = load_data()
    w_other = assigned(NB02, "check_forward_other", "w_other")
    forward, grads = torch_forward_backward(X[11], y[11], w_other)
    for key, value in assigned(NB02, "check_forward_other", "expected_other").items():
        np.testing.assert_allclose(value, forward[key][0], rtol=1e-12, err_msg=key)
    np.testing.assert_array_equal(
        assigned(NB03, "check_backward_other", "w_other"), w_other
    )
    given = assigned(NB03, "check_backward_other", "forward_dict_other")
    for key, value in given.items():
        np.testing.assert_allclose(value, forward[key][0], rtol=1e-12, err_msg=key)
    expected = assigned(NB03, "check_backward_other", "expected_other")
    np.testing.assert_allclose(grad_vector(expected), grads[0], rtol=BACKWARD_RTOL)


def test_gradient_check_cell_value_matches_oracle():
    """04's Check 1 (X[29], w_other, eps 1e-3): the expected relative error equals
    the independent computation (autograd's gradient, torch's loss differences)."""
    X, y = load_data()
    w_other = assigned(NB04, "check_gradient_checking", "w_other")
    (call, _) = calls(NB04, "check_gradient_checking", "check_values")
    expected = literal(call.args[1])["relative error"]
    want = independent_gradient_check(X[29], y[29], w_other, 1e-3, torch_backward)
    np.testing.assert_allclose(expected, want, rtol=1e-5)


def _update_examples() -> tuple[np.ndarray, list[np.ndarray]]:
    """05's example start and gradients (the cell the update checks share)."""
    w_start = assigned(NB05, "update_examples", "w_start")
    tree = cell_tree(NB05, "update_examples")
    (sequence,) = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and node.targets[0].id == "grads_sequence"
    ]
    return w_start, [literal(element) for element in sequence.elts]


def test_update_checks_agree_with_torch_optim():
    """05's checks of the update rules expect what torch.optim computes: one SGD
    step; 3 momentum steps at gamma 0.9 and 0.5; 5 Adam steps at the defaults and
    at lr 0.05, betas (0.8, 0.99), eps 1e-3."""
    w_start, grads = _update_examples()
    want = torch_trajectory(torch.optim.SGD, w_start, grads[:1], lr=0.1)
    np.testing.assert_allclose(
        assigned(NB05, "check_vanilla", "expected")["w"], want[0]["w"], rtol=1e-12
    )
    momentum = [
        literal(c.args[1]) for c in calls(NB05, "check_momentum", "check_values")
    ]
    for expected, gamma in zip(momentum, (0.9, 0.5)):
        want = torch_trajectory(
            torch.optim.SGD, w_start, grads[:3], lr=0.1, momentum=gamma
        )[-1]
        np.testing.assert_allclose(expected["w"], want["w"], rtol=1e-12)
        np.testing.assert_allclose(
            expected["velocity"], want["momentum_buffer"], rtol=1e-12
        )
    adam = [literal(c.args[1]) for c in calls(NB05, "check_adam", "check_values")]
    for expected, (rate, beta1, beta2, eps) in zip(
        adam, ((0.01, 0.9, 0.999, 1e-8), (0.05, 0.8, 0.99, 1e-3))
    ):
        want = torch_trajectory(
            torch.optim.Adam, w_start, grads, lr=rate, betas=(beta1, beta2), eps=eps
        )[-1]
        np.testing.assert_allclose(expected["w"], want["w"], rtol=1e-12)
        np.testing.assert_allclose(expected["m"], want["exp_avg"], rtol=1e-12)
        np.testing.assert_allclose(expected["v"], want["exp_avg_sq"], rtol=1e-12)


def test_train_check_agrees_with_a_torch_training_loop():
    """05's check of train (X[:5], 3 epochs from w = 0.1): each optimizer's
    expected epoch losses and final weights are torch.optim's."""
    X, y = load_data()
    checked = calls(NB05, "check_train", "check_train")
    assert [literal(call.args[0]) for call in checked] == [
        "vanilla",
        "momentum",
        "adam",
    ]
    for call in checked:
        optimizer, rate, hyper, expected, *_ = (literal(arg) for arg in call.args)
        w, losses = torch_train(
            X[:5], y[:5], np.full(9, 0.1), optimizer, rate, 3, **hyper
        )
        np.testing.assert_allclose(expected["epoch_losses"], losses, rtol=1e-10)
        np.testing.assert_allclose(expected["w_final"], w, rtol=1e-10)


def _hidden(stem: str, name: str):
    """The hidden tests' reference `name` (the first grade cell defining it)."""
    return hidden(stem, name)[0][1]


def _literal_mistakes(node: ast.expr) -> dict[str, dict[str, object]]:
    """{key: {mistake id: value}} of a mistakes= dict, its literal values only
    (a function such as an_array is skipped)."""
    found: dict[str, dict[str, object]] = {}
    for key, by_id in zip(node.keys, node.values):
        for mistake_id, value in zip(by_id.keys, by_id.values):
            try:
                found.setdefault(literal(key), {})[literal(mistake_id)] = literal(value)
            except ValueError:
                continue
    return found


def _visible_mistakes(stem: str, grade_id: str):
    """(key, mistake id, value) for every literal value a check names a mistake by."""
    found = []
    for call in calls(stem, grade_id, "check_values"):
        for item in call.keywords:
            if item.arg == "mistakes":
                for key, by_id in _literal_mistakes(item.value).items():
                    found += [(key, mistake_id, v) for mistake_id, v in by_id.items()]
    return found


def _close_enough(shown, computed) -> None:
    """A named value in a check equals the hidden tests' (6 digits suffice)."""
    np.testing.assert_allclose(shown, computed, rtol=1e-5)


def test_named_values_in_the_checks_are_the_hidden_tests_own():
    """Every value a check names a mistake by is what the hidden tests' reference
    computes for that mistake at the check's inputs: one source for both."""
    X, y = load_data()
    sigmoid = _hidden(NB01, "_ref_sigmoid")
    derivative = _hidden(NB01, "_ref_sigmoid_derivative")
    forward02 = hidden(NB02, "_ref_forward")[0][1]
    backward03 = hidden(NB03, "_ref_backward")[0][1]
    check04 = hidden(NB04, "_ref_gradient_check")[0][1]
    backward04 = hidden(NB04, "_ref_backward")[0][1]
    momentum, adam = _hidden(NB05, "_ref_momentum"), _hidden(NB05, "_ref_adam")
    vanilla, train = _hidden(NB05, "_ref_vanilla"), _hidden(NB05, "_ref_train")
    w01, x0 = np.full(9, 0.1), X[0]
    forward_x0 = forward02(X[0], y[0], w01)
    w_start, grads = _update_examples()
    checked = 0

    for key, mistake_id, value in _visible_mistakes(NB01, "check_sigmoid"):
        z = np.array([-2.0, 0.0, 2.0]) if key == "sigmoid(z)" else float(key[8:-1])
        want = (
            sigmoid(2) if mistake_id == "hard-coded-output" else sigmoid(z, mistake_id)
        )
        _close_enough(value, want)
        checked += 1
    for key, mistake_id, value in _visible_mistakes(NB01, "check_sigmoid_derivative"):
        z = np.array([-1.0, 0.5, 3.0]) if key.endswith("(z)") else float(key[19:-1])
        _close_enough(value, derivative(z, mistake_id))
        checked += 1
    for key, mistake_id, value in _visible_mistakes(NB02, "check_forward"):
        _close_enough(value, forward02(x0, y[0], w01, mistake=mistake_id)[key])
        checked += 1
    w_other = assigned(NB02, "check_forward_other", "w_other")
    inputs = {
        "hard-coded-output": (X[0], y[0], w01),
        "forward-reads-global-xy": (X[0], y[0], w_other),
        "forward-reads-global-w": (X[11], y[11], w01),
    }
    for key, mistake_id, value in _visible_mistakes(NB02, "check_forward_other"):
        _close_enough(value, forward02(*inputs[mistake_id])[key])
        checked += 1
    for key, mistake_id, value in _visible_mistakes(NB03, "check_backward"):
        _close_enough(
            value, backward03(x0, y[0], w01, forward_x0, mistake=mistake_id)[key]
        )
        checked += 1
    forward_other = assigned(NB03, "check_backward_other", "forward_dict_other")
    inputs = {
        "hard-coded-output": (X[0], y[0], w01, forward_x0),
        "backward-reads-global-forward-dict": (X[11], y[11], w_other, forward_x0),
        "backward-reads-global-w": (X[11], y[11], w01, forward_other),
    }
    for key, mistake_id, value in _visible_mistakes(NB03, "check_backward_other"):
        _close_enough(value, backward03(*inputs[mistake_id])[key])
        checked += 1
    w_gc = assigned(NB04, "check_gradient_checking", "w_other")
    for _, mistake_id, value in _visible_mistakes(NB04, "check_gradient_checking"):
        if isinstance(value, float):
            want = check04(X[29], y[29], w_gc, 1e-3, backward04, mistake=mistake_id)
            _close_enough(value, want)
            checked += 1
    for _, mistake_id, value in _visible_mistakes(NB05, "check_vanilla"):
        _close_enough(value, vanilla(w_start, grads[0], 0.1, mistake_id))
        checked += 1
    for key, mistake_id, value in _visible_mistakes(NB05, "check_momentum"):
        w, velocity = w_start, np.zeros(9)
        for g in grads[:3]:
            w, velocity = momentum(w, g, velocity, 0.1, 0.9, mistake=mistake_id)
        _close_enough(value, {"w": w, "velocity": velocity}[key])
        checked += 1
    paper = hidden(NB05, "_ref_adam_paper")[0][1]
    settings = ((0.01, 0.9, 0.999, 1e-8), (0.05, 0.8, 0.99, 1e-3))
    for call, hyper in zip(calls(NB05, "check_adam", "check_values"), settings):
        given = {item.arg: item.value for item in call.keywords}
        named = _literal_mistakes(given["mistakes"]) if "mistakes" in given else {}
        for key, by_id in named.items():
            for mistake_id, value in by_id.items():
                w, m, v = w_start, np.zeros(9), np.zeros(9)
                for t, g in enumerate(grads, start=1):
                    w, m, v = adam(w, g, m, v, t, *hyper, mistake=mistake_id)
                _close_enough(value, {"w": w, "m": m, "v": v}[key])
                checked += 1
        # the accepted form is the hidden test's own too
        (accepted,) = literal(given["accepted"]).values()
        w, m, v = w_start, np.zeros(9), np.zeros(9)
        for t, g in enumerate(grads, start=1):
            w, m, v = paper(w, g, m, v, t, *hyper)
        for key, value in (("w", w), ("m", m), ("v", v)):
            _close_enough(accepted[key], value)
    for call in calls(NB05, "check_train", "check_train"):
        optimizer, rate, hyper, _, named, *_ = (literal(arg) for arg in call.args)
        for mistake_id, value in named.items():
            _, losses = train(
                X[:5], y[:5], np.full(9, 0.1), optimizer, rate, 3, mistake=mistake_id,
                **hyper,
            )  # fmt: skip
            _close_enough(value, losses)
            checked += 1
    assert checked >= 80
