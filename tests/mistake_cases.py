"""Mistake cases (a submission that makes one catalogued mistake), correct variants
and wrong pasted earlier work.

Data for the tests that grade them (tests/test_autograde.py, with both engines) and
for the tests that run the notebooks' visible checks and hidden tests on them
(tests/test_notebooks.py). Each case is the answer code of one notebook, as
{grade_id: code} for its answer cells (the rest keeps the instructor's answers); the
grading tests build the released notebook from it. Only the source notebooks are
read here, no grader code.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from tests.notebook_code import code_cells

SIG, FWD, BWD, GC, OPT = NOTEBOOKS = (
    "01_sigmoid",
    "02_forward_propagation",
    "03_backward_propagation",
    "04_gradient_checking",
    "05_optimizers",
)

Answers = Callable[[], dict[str, str]]


@cache
def _answers(stem: str) -> dict[str, str]:
    """grade_id -> the instructor's answer code, for each answer cell of a notebook."""
    return {gid: src for gid, meta, src in code_cells(stem) if meta.get("solution")}


def answer_code(stem: str, grade_id: str) -> str:
    """The instructor's answer in one answer cell."""
    return _answers(stem)[grade_id]


@dataclass(frozen=True)
class MistakeCase:
    """A submission of one notebook that makes one catalogued mistake.

    mistake: the catalogue id the hidden tests (and the visible checks) must name;
    key: the key it must be named on ("" when any key will do).
    """

    student: str
    notebook: str
    answers: Answers  # called once per use: {grade_id: code}
    lost: tuple[str, ...]  # graded cells that must score 0; the first names it
    mistake: str
    key: str = ""


def edit(stem: str, grade_id: str, old: str, new: str, *more: tuple[str, str]):
    """Answers with `old` replaced by `new` (and more pairs) in one answer cell."""

    def build() -> dict[str, str]:
        code = answer_code(stem, grade_id)
        for before, after in ((old, new), *more):
            if before not in code:
                raise ValueError(f"{stem}/{grade_id}: no {before!r} to replace")
            code = code.replace(before, after)
        return {grade_id: code}

    return build


def replace(stem: str, grade_id: str, code: str) -> Answers:
    """Answers with one answer cell replaced by `code`."""
    return lambda: {grade_id: textwrap.dedent(code).strip()}


DW_EXPRESSIONS = {
    "dw1": "da * x[0]",
    "dw2": "da * x[1]",
    "dw3": "dz * c * np.cos(w[2] * x[2]) * x[2]",
    "dw4": "dz * s * x[3]",
    "dw5": "dz * s * x[4]",
    "dw6": "dw6",
    "dw7": "dw7",
    "dw8": "dz",
    "dw9": "dy_pred * sig",
}
BIAS_CORRECTION = "m_hat = new_m / (1 - beta1**t)\n    v_hat = new_v / (1 - beta2**t)"
MOMENTUM = (
    "new_velocity = gamma * np.asarray(velocity, dtype=float)"
    " + np.asarray(grads, float)\n"
    "    return np.asarray(w, dtype=float) - learning_rate * new_velocity,"
    " new_velocity"
)
TRAIN_GRADS = (
    'grads = np.array([gradients[f"dw{i}"] for i in range(1, 10)], dtype=float)'
)
TRAIN_EPOCH = "        losses = np.empty(len(X))\n"
TRAIN_ADAM_T = "w, grads, m, v, t, learning_rate"
TRAIN_RECORD = "        epoch_losses[epoch] = losses.mean()"
TRAIN_RESET = "        velocity, m, v, t = np.zeros(9), np.zeros(9), np.zeros(9), 0\n"
HARD_CODED_FORWARD = """
def forward_propagation(x, y, w):
    return {"exp": 1.1272967040973583, "tanh": 0.8417934192562146,
            "sigmoid": 0.5279179387419721, "loss": 0.9298048963072919,
            "dy_pred": -1.9285278284819143}
"""
HARD_CODED_BACKWARD = """
def backward_propagation(x, y, w, forward_dict):
    return {"dw1": -0.229733, "dw2": -0.021408, "dw3": -0.005625, "dw4": -0.004658,
            "dw5": -0.001008, "dw6": -0.633475, "dw7": -0.561942, "dw8": -0.048063,
            "dw9": -1.018104}
"""
GC_IN_PLACE = """
def gradient_checking(x, y, w, eps):
    w = np.asarray(w, dtype=float)
    grads = backward_propagation(x, y, w, forward_propagation(x, y, w))
    analytic = np.array([grads[f"dw{i}"] for i in range(1, 10)])
    approx = np.empty(9)
    for i in range(9):
        w[i] += eps
        loss_plus = forward_propagation(x, y, w)["loss"]
        w[i] -= 2 * eps
        loss_minus = forward_propagation(x, y, w)["loss"]
        w[i] += eps
        approx[i] = (loss_plus - loss_minus) / (2 * eps)
    gap = np.linalg.norm(analytic - approx)
    return gap / (np.linalg.norm(analytic) + np.linalg.norm(approx))
"""
TRAIN_FULL_BATCH = """
def train(X, y, w, optimizer, learning_rate, epochs=20, **hyperparameters):
    w = np.array(w, dtype=float)
    velocity, m, v, t = np.zeros(9), np.zeros(9), np.zeros(9), 0
    epoch_losses = []
    for epoch in range(epochs):
        losses, batch = [], []
        for x_point, y_point in zip(X, y):
            forward_dict = forward_propagation(x_point, y_point, w)
            gradients = backward_propagation(x_point, y_point, w, forward_dict)
            batch.append([gradients[f"dw{i}"] for i in range(1, 10)])
            losses.append(forward_dict["loss"])
        grads = np.mean(batch, axis=0)
        if optimizer == "vanilla":
            w = vanilla_update(w, grads, learning_rate, **hyperparameters)
        elif optimizer == "momentum":
            w, velocity = momentum_update(w, grads, velocity, learning_rate,
                                          **hyperparameters)
        else:
            t += 1
            w, m, v = adam_update(w, grads, m, v, t, learning_rate, **hyperparameters)
        epoch_losses.append(np.mean(losses))
    return w, np.array(epoch_losses)
"""
TRAIN_GLOBAL_STATE = """
velocity, m, v, t = np.zeros(9), np.zeros(9), np.zeros(9), 0


def train(X, y, w, optimizer, learning_rate, epochs=20, **hyperparameters):
    global velocity, m, v, t
    w = np.array(w, dtype=float)
    epoch_losses = np.empty(epochs)
    for epoch in range(epochs):
        losses = np.empty(len(X))
        for index in range(len(X)):
            forward_dict = forward_propagation(X[index], y[index], w)
            gradients = backward_propagation(X[index], y[index], w, forward_dict)
            grads = np.array([gradients[f"dw{i}"] for i in range(1, 10)])
            losses[index] = forward_dict["loss"]
            if optimizer == "vanilla":
                w = vanilla_update(w, grads, learning_rate, **hyperparameters)
            elif optimizer == "momentum":
                w, velocity = momentum_update(
                    w, grads, velocity, learning_rate, **hyperparameters
                )
            else:
                t += 1
                w, m, v = adam_update(w, grads, m, v, t, learning_rate,
                                      **hyperparameters)
        epoch_losses[epoch] = losses.mean()
    return w, epoch_losses
"""
# train picks its update rule from a dict built beside it, at definition time: the
# hidden tests cannot swap these, so they grade train with the student's own rules.
UPDATE_RULES_DICT = """


UPDATE_RULES = {"vanilla": vanilla_update, "momentum": momentum_update,
                "adam": adam_update}
"""
TRAIN_WITH_RULES_DICT = """
def train(X, y, w, optimizer, learning_rate, epochs=20, **hyperparameters):
    update = UPDATE_RULES[optimizer]
    w = np.array(w, dtype=float)
    state, t, epoch_losses = {"vanilla": [], "momentum": [np.zeros(9)],
                              "adam": [np.zeros(9), np.zeros(9)]}[optimizer], 0, []
    for _ in range(epochs):
        losses = []
        for x_point, y_point in zip(X, y):
            forward_dict = forward_propagation(x_point, y_point, w)
            gradients = backward_propagation(x_point, y_point, w, forward_dict)
            grads = np.array([gradients[f"dw{i}"] for i in range(1, 10)])
            losses.append(forward_dict["loss"])
            if optimizer == "adam":
                t += 1
                w, *state = update(w, grads, *state, t, learning_rate,
                                   **hyperparameters)
            elif optimizer == "momentum":
                w, *state = update(w, grads, *state, learning_rate, **hyperparameters)
            else:
                w = update(w, grads, learning_rate, **hyperparameters)
        epoch_losses.append(np.mean(losses))
    return w, np.array(epoch_losses)
"""
BOTH_TRAIN_TESTS = ("test_train", "test_train_adam")
# 03 is graded per branch of the graph: the test that grades each gradient.
BRANCH_TEST = {
    **dict.fromkeys(("dw1", "dw2", "dw6", "dw7"), "test_backward_upper"),
    **dict.fromkeys(("dw3", "dw4", "dw5", "dw8"), "test_backward_lower"),
    "dw9": "test_backward_output",
}
BACKWARD_VALUE_TESTS = (
    "test_backward_upper",
    "test_backward_lower",
    "test_backward_output",
)
ALL_BACKWARD_TESTS = (*BACKWARD_VALUE_TESTS, "test_backward_robust")

MISTAKE_CASES = [
    # --- 01 ------------------------------------------------------------------------
    MistakeCase(
        "sig-sign", SIG,
        edit(SIG, "sigmoid", "np.exp(-np.asarray", "np.exp(np.asarray"),
        ("test_sigmoid_values", "test_sigmoid_arrays"), "sigmoid-sign-flipped",
    ),
    MistakeCase(
        "sig-hardcoded", SIG,
        replace(SIG, "sigmoid", "def sigmoid(z):\n    return 0.8807970779778823"),
        ("test_sigmoid_values", "test_sigmoid_arrays"), "hard-coded-output",
    ),
    MistakeCase(
        "sig-math-exp", SIG,
        replace(SIG, "sigmoid", """
            import math

            def sigmoid(z):
                return 1 / (1 + math.exp(-z))
            """),
        ("test_sigmoid_arrays",), "math-exp-on-array",
    ),
    MistakeCase(
        "sig-derivative", SIG,
        edit(SIG, "sigmoid_derivative", "return s * (1.0 - s)", "return s"),
        ("test_sigmoid_derivative",), "sigmoid-derivative-is-sigmoid",
    ),
    MistakeCase(
        "sig-derivative-one-minus", SIG,
        edit(SIG, "sigmoid_derivative", "return s * (1.0 - s)", "return 1.0 - s"),
        ("test_sigmoid_derivative",), "sigmoid-derivative-one-minus",
    ),
    # --- 02 ------------------------------------------------------------------------
    MistakeCase(
        "fwd-no-square", FWD,
        edit(FWD, "forward_propagation",
             '"loss": (y - y_pred) ** 2', '"loss": y - y_pred'),
        ("test_forward_values",), "loss-not-squared",
    ),
    MistakeCase(
        "fwd-dy-sign", FWD,
        edit(FWD, "forward_propagation", "-2.0 * (y - y_pred)", "2.0 * (y - y_pred)"),
        ("test_forward_values",), "sign-flipped", "dy_pred",
    ),
    MistakeCase(
        "fwd-w7-outside", FWD,
        edit(FWD, "forward_propagation", "tanh = np.tanh(exp + w[6])",
             "tanh = np.tanh(exp) + w[6]"),
        ("test_forward_values",), "w7-outside-tanh",
    ),
    MistakeCase(
        "fwd-hardcoded", FWD,
        replace(FWD, "forward_propagation", HARD_CODED_FORWARD),
        ("test_forward_values", "test_forward_robust"), "hard-coded-output",
    ),
    MistakeCase(
        "fwd-global-w", FWD,
        edit(FWD, "forward_propagation", "def forward_propagation(x, y, w):",
             "def forward_propagation(x, y, weights):",
             ("    w = np.asarray(w, dtype=float)\n", "")),
        ("test_forward_robust", "test_forward_values"), "forward-reads-global-w",
    ),
    MistakeCase(
        "fwd-mutates-w", FWD,
        edit(FWD, "forward_propagation", "exp = np.exp(a**2 + w[5])",
             "w[5] += a**2\n    exp = np.exp(w[5])"),
        ("test_forward_robust",), "mutating-input",
    ),
    # --- 03 ------------------------------------------------------------------------
    *[
        MistakeCase(
            f"bwd-sign-{key}", BWD,
            edit(BWD, "backward_propagation", f'"{key}": {expression},',
                 f'"{key}": -({expression}),'),
            (BRANCH_TEST[key],), "sign-flipped", key,
        )
        for key, expression in DW_EXPRESSIONS.items()
    ],
    MistakeCase(
        "bwd-no-2a", BWD,
        edit(BWD, "backward_propagation",
             "da = dw6 * 2.0 * (w[0] * x[0] + w[1] * x[1])", "da = dw6"),
        ("test_backward_upper",), "no-2a",
    ),
    MistakeCase(
        "bwd-no-2", BWD,
        edit(BWD, "backward_propagation", "da = dw6 * 2.0 * (", "da = dw6 * ("),
        ("test_backward_upper",), "half", "dw1",
    ),
    MistakeCase(
        "bwd-no-cos", BWD,
        edit(BWD, "backward_propagation", "dz * c * np.cos(w[2] * x[2]) * x[2]",
             "dz * c * x[2]"),
        ("test_backward_lower",), "dw3-no-cos",
    ),
    MistakeCase(
        "bwd-no-x3", BWD,
        edit(BWD, "backward_propagation", "dz * c * np.cos(w[2] * x[2]) * x[2]",
             "dz * c * np.cos(w[2] * x[2])"),
        ("test_backward_lower",), "dw3-no-x3",
    ),
    MistakeCase(
        "bwd-tanh-prime", BWD,
        edit(BWD, "backward_propagation", 'forward_dict["tanh"] ** 2',
             'forward_dict["tanh"]'),
        ("test_backward_upper",), "tanh-not-squared",
    ),
    MistakeCase(
        "bwd-hardcoded", BWD,
        replace(BWD, "backward_propagation", HARD_CODED_BACKWARD),
        ALL_BACKWARD_TESTS, "hard-coded-output",
    ),
    MistakeCase(
        "bwd-global-forward", BWD,
        edit(BWD, "backward_propagation", 'dy_pred = forward_dict["dy_pred"]',
             'forward_dict = forward_dict_x0\n    dy_pred = forward_dict["dy_pred"]'),
        ("test_backward_robust", *BACKWARD_VALUE_TESTS),
        "backward-reads-global-forward-dict",
    ),
    MistakeCase(
        "bwd-mutates-forward", BWD,
        edit(BWD, "backward_propagation", "s = np.sin(w[2] * x[2])",
             's = np.sin(w[2] * x[2])\n    forward_dict["dz"] = dz'),
        ("test_backward_robust",), "mutating-input",
    ),
    # --- 04 ------------------------------------------------------------------------
    MistakeCase(
        "gc-aliased-w", GC,
        edit(GC, "gradient_checking", "w_plus, w_minus = w.copy(), w.copy()",
             "w_plus, w_minus = w, w.copy()",
             ("w = np.array(w, dtype=float)", "w = np.asarray(w, dtype=float)")),
        ("test_gradient_checking_w", "test_gradient_checking_values"),
        "mutating-input",
    ),
    MistakeCase(
        "gc-restores-w-in-place", GC,
        replace(GC, "gradient_checking", GC_IN_PLACE),
        ("test_gradient_checking_w",), "mutating-input",
    ),
    MistakeCase(
        "gc-signed-ratios", GC,
        edit(GC, "gradient_checking",
             "return float(gap / (np.linalg.norm(d_w) + np.linalg.norm(d_w_approx)))",
             "return (d_w - d_w_approx) / (np.abs(d_w) + np.abs(d_w_approx))"),
        ("test_gradient_checking_values",),
        "per-weight-ratios",
    ),
    MistakeCase(
        "gc-one-sided", GC,
        edit(GC, "gradient_checking",
             "d_w_approx[i] = (loss_plus - loss_minus) / (2 * eps)",
             'd_w_approx[i] = (loss_plus - forward_propagation(x, y, w)["loss"])'
             " / eps"),
        ("test_gradient_checking_values",), "one-sided",
    ),
    MistakeCase(
        "gc-eps-not-2eps", GC,
        edit(GC, "gradient_checking", "(loss_plus - loss_minus) / (2 * eps)",
             "(loss_plus - loss_minus) / eps"),
        ("test_gradient_checking_values",),
        "eps-not-2eps",
    ),
    MistakeCase(
        "gc-shared-copies", GC,
        edit(GC, "gradient_checking", "w_plus, w_minus = w.copy(), w.copy()",
             "w_plus = w_minus = w.copy()"),
        ("test_gradient_checking_values",),
        "shared-copies",
    ),
    MistakeCase(
        "gc-sum-norm", GC,
        edit(GC, "gradient_checking",
             "return float(gap / (np.linalg.norm(d_w) + np.linalg.norm(d_w_approx)))",
             "return float(gap / np.linalg.norm(d_w + d_w_approx))"),
        ("test_gradient_checking_values",), "sum-norm-denominator",
    ),
    # --- 05: update rules and the question ----------------------------------------
    MistakeCase(
        "opt-vanilla-lists", OPT,
        edit(OPT, "updates",
             "return np.asarray(w, dtype=float) - learning_rate * np.asarray(grads, "
             "dtype=float)",
             "return w - learning_rate * grads"),
        ("test_vanilla",), "list-arithmetic",
    ),
    MistakeCase(
        "opt-adam-no-t", OPT,
        edit(OPT, "updates", BIAS_CORRECTION,
             "m_hat = new_m / (1 - beta1)\n    v_hat = new_v / (1 - beta2)"),
        ("test_adam",), "adam-t-ignored",
    ),
    MistakeCase(
        "opt-adam-uncorrected", OPT,
        edit(OPT, "updates", BIAS_CORRECTION, "m_hat = new_m\n    v_hat = new_v"),
        ("test_adam",), "adam-no-bias-correction",
    ),
    MistakeCase(
        "opt-adam-mutates-m", OPT,
        edit(OPT, "updates",
             "new_m = beta1 * np.asarray(m, dtype=float) + (1 - beta1) * grads",
             "new_m = np.asarray(m, dtype=float)\n"
             "    new_m *= beta1\n    new_m += (1 - beta1) * grads"),
        ("test_adam",), "mutating-input",
    ),
    MistakeCase(
        "opt-momentum-forgets", OPT,
        edit(OPT, "updates", "new_velocity = gamma * np.asarray(velocity",
             "new_velocity = 0 * np.asarray(velocity"),
        ("test_momentum",), "momentum-forgets-velocity",
    ),
    MistakeCase(
        "opt-momentum-cs231n", OPT,
        edit(OPT, "updates", MOMENTUM,
             "new_velocity = gamma * np.asarray(velocity, dtype=float) "
             "- learning_rate * np.asarray(grads, float)\n"
             "    return np.asarray(w, dtype=float) + new_velocity, new_velocity"),
        ("test_momentum",), "momentum-cs231n",
    ),
    MistakeCase(
        "opt-momentum-question", OPT,
        replace(OPT, "momentum_question", "momentum_step_factor = 10"),
        ("test_momentum_question",), "momentum-factor-for-0.9",
    ),
    # --- 05: the training loop -----------------------------------------------------
    MistakeCase(
        "train-value-order", OPT,
        edit(OPT, "train", TRAIN_GRADS, "grads = np.asarray(list(gradients.values()))"),
        BOTH_TRAIN_TESTS, "train-value-order",
    ),
    MistakeCase(
        "train-t-per-epoch", OPT,
        edit(OPT, "train", TRAIN_ADAM_T, "w, grads, m, v, epoch + 1, learning_rate"),
        ("test_train_adam",), "train-t-per-epoch",
    ),
    MistakeCase(
        "train-state-reset", OPT,
        edit(OPT, "train", TRAIN_EPOCH, TRAIN_EPOCH + TRAIN_RESET),
        BOTH_TRAIN_TESTS, "train-state-reset",
    ),
    MistakeCase(
        "train-loss-after-update", OPT,
        edit(OPT, "train", TRAIN_RECORD,
             '            losses[index] = forward_propagation(X[index], y[index], w)'
             '["loss"]\n' + TRAIN_RECORD),
        BOTH_TRAIN_TESTS, "train-loss-after-update",
    ),
    MistakeCase(
        "train-one-update-per-epoch", OPT,
        replace(OPT, "train", TRAIN_FULL_BATCH),
        BOTH_TRAIN_TESTS, "train-one-update-per-epoch",
    ),
    MistakeCase(
        "train-mutates-w", OPT,
        edit(OPT, "train", "w = np.array(w, dtype=float)",
             "w = np.asarray(w, dtype=float)",
             ("w = vanilla_update(w, grads, learning_rate, **hyperparameters)",
              "w[:] = vanilla_update(w, grads, learning_rate, **hyperparameters)")),
        ("test_train",), "mutating-input",
    ),
    MistakeCase(
        "train-skips-last-point", OPT,
        edit(OPT, "train", "for index in range(len(X)):",
             "for index in range(len(X) - 1):",
             ("losses = np.empty(len(X))", "losses = np.empty(len(X) - 1)")),
        BOTH_TRAIN_TESTS, "train-skips-last-point",
    ),
    MistakeCase(
        "train-state-in-globals", OPT,
        replace(OPT, "train", TRAIN_GLOBAL_STATE),
        BOTH_TRAIN_TESTS, "train-state-kept-between-calls",
    ),
    MistakeCase(
        "train-shuffles", OPT,
        edit(OPT, "train", "for index in range(len(X)):",
             "for index in np.random.permutation(len(X)):"),
        BOTH_TRAIN_TESTS, "train-random-order",
    ),
    MistakeCase(
        "opt-adam-eps-ignored", OPT,
        edit(OPT, "updates", "m_hat / (np.sqrt(v_hat) + eps)",
             "m_hat / (np.sqrt(v_hat) + 1e-8)"),
        ("test_adam",), "adam-eps-ignored",
    ),
    # a dampened momentum costs its own test, whether train reaches the update
    # functions by name or through a dict built beside it
    *[
        MistakeCase(
            f"opt-momentum-dampened{suffix}", OPT,
            lambda answers=answers: {
                **({"train": TRAIN_WITH_RULES_DICT.strip()} if answers else {}),
                "updates": answer_code(OPT, "updates").replace(
                    "new_velocity = gamma * np.asarray(velocity, dtype=float)"
                    " + np.asarray(grads, float)",
                    "new_velocity = gamma * np.asarray(velocity, dtype=float)"
                    " + (1 - gamma) * np.asarray(grads, float)",
                ) + answers,
            },
            ("test_momentum",), "momentum-dampened",
        )
        for suffix, answers in (("", ""), ("-dict", UPDATE_RULES_DICT))
    ],
    MistakeCase(
        "train-hyperparameters-ignored", OPT,
        edit(OPT, "train", "learning_rate, **hyperparameters", "learning_rate"),
        BOTH_TRAIN_TESTS, "train-hyperparameters-ignored",
    ),
]  # fmt: skip

CORRECT_VARIANTS = {
    ("var-sigmoid-where", SIG): {
        "sigmoid": """
            def sigmoid(z):
                z = np.asarray(z, dtype=float)
                e = np.exp(-np.abs(z))  # never overflows
                return np.where(z >= 0, 1 / (1 + e), e / (1 + e))
            """,
    },
    ("var-gradcheck-0d", GC): {
        "gradient_checking": """
            def gradient_checking(x, y, w, eps):
                w = np.array(w, dtype=float)
                grads = backward_propagation(x, y, w, forward_propagation(x, y, w))
                d_w = np.array([grads[f"dw{i}"] for i in range(1, 10)])
                d_w_approx = np.zeros(9)
                for i in range(9):
                    step = np.zeros(9)
                    step[i] = eps
                    d_w_approx[i] = (forward_propagation(x, y, w + step)["loss"]
                                     - forward_propagation(x, y, w - step)["loss"])
                    d_w_approx[i] /= 2 * eps
                norm = np.linalg.norm
                gap = norm(d_w - d_w_approx)
                return np.asarray(gap / (norm(d_w) + norm(d_w_approx)))
            """,
    },
    ("var-train-rules-dict", OPT): {
        "updates": answer_code(OPT, "updates") + UPDATE_RULES_DICT,
        "train": TRAIN_WITH_RULES_DICT,
    },
    ("var-adam-paper", OPT): {
        "updates": answer_code(OPT, "updates").replace(
            BIAS_CORRECTION + "\n    new_w = np.asarray(w, dtype=float) - learning_rate"
            " * m_hat / (np.sqrt(v_hat) + eps)",
            "step_size = learning_rate * np.sqrt(1 - beta2**t) / (1 - beta1**t)\n"
            "    new_w = np.asarray(w, dtype=float) - step_size * new_m"
            " / (np.sqrt(new_v) + eps)",
        ),
    },
    ("var-sigmoid-tanh", SIG): {
        "sigmoid": """
            def sigmoid(z):
                return 0.5 * (1.0 + np.tanh(np.asarray(z, dtype=float) / 2.0))
            """,
        "sigmoid_derivative": """
            def sigmoid_derivative(z):
                e = np.exp(-np.asarray(z, dtype=float))
                return e / (1.0 + e) ** 2
            """,
    },
    ("var-forward-math", FWD): {
        "forward_propagation": """
            import math

            def forward_propagation(x, y, w):
                w1, w2, w3, w4, w5, w6, w7, w8, w9 = (float(v) for v in w)
                x1, x2, x3, x4, x5 = (float(v) for v in x)
                e = math.exp((w1 * x1 + w2 * x2) ** 2 + w6)
                t = math.tanh(e + w7)
                s = 1 / (1 + math.exp(-(math.sin(w3 * x3) * (w4 * x4 + w5 * x5) + w8)))
                error = y - (t + s * w9)
                return {"exp": e, "tanh": t, "sigmoid": s, "loss": error * error,
                        "dy_pred": -2 * error}
            """,
    },
    ("var-backward-vector", BWD): {
        "backward_propagation": """
            def backward_propagation(x, y, w, forward_dict):
                x, w = np.array(x, dtype=float), np.array(w, dtype=float)
                d, t = forward_dict["dy_pred"], forward_dict["tanh"]
                s, e = forward_dict["sigmoid"], forward_dict["exp"]
                upper = d * (1 - t * t)
                lower = d * w[8] * s * (1 - s)
                grads = np.empty(9)
                grads[:2] = upper * e * 2 * (x[:2] @ w[:2]) * x[:2]
                grads[2] = lower * (x[3:5] @ w[3:5]) * np.cos(w[2] * x[2]) * x[2]
                grads[3:5] = lower * np.sin(w[2] * x[2]) * x[3:5]
                grads[5:8] = upper * e, upper, lower
                grads[8] = d * s
                return dict(zip([f"dw{i}" for i in range(1, 10)], grads))
            """,
    },
    ("var-gradcheck-eye", GC): {
        "gradient_checking": """
            def gradient_checking(x, y, w, eps):
                w = np.asarray(w, dtype=float)
                grads = backward_propagation(x, y, w, forward_propagation(x, y, w))
                analytic = np.array([grads["dw%d" % i] for i in range(1, 10)])
                approx = np.array([
                    (forward_propagation(x, y, w + step)["loss"]
                     - forward_propagation(x, y, w - step)["loss"]) / (2 * eps)
                    for step in np.eye(9) * eps
                ])
                return np.linalg.norm(analytic - approx) / (
                    np.linalg.norm(analytic) + np.linalg.norm(approx))
            """,
    },
    ("var-optimizers-lists", OPT): {
        "updates": """
            def vanilla_update(w, grads, learning_rate):
                return [wi - learning_rate * gi for wi, gi in zip(w, grads)]


            def momentum_update(w, grads, velocity, learning_rate, gamma=0.9):
                velocity = np.add(np.multiply(gamma, velocity), grads)
                return np.subtract(w, learning_rate * velocity), velocity


            def adam_update(w, grads, m, v, t, learning_rate, beta1=0.9, beta2=0.999,
                            eps=1e-8):
                g = np.array(grads, dtype=float)
                m = beta1 * np.array(m) + (1 - beta1) * g
                v = beta2 * np.array(v) + (1 - beta2) * g**2
                step_size = learning_rate / (1 - beta1**t)
                denominator = (v / (1 - beta2**t)) ** 0.5 + eps
                return np.array(w) - step_size * m / denominator, m, v
            """,
        "train": """
            def train(X, y, w, optimizer, learning_rate, epochs=20, **hyperparameters):
                state = {"vanilla": [], "momentum": [np.zeros(9)],
                         "adam": [np.zeros(9), np.zeros(9)]}[optimizer]
                update = {"vanilla": vanilla_update, "momentum": momentum_update,
                          "adam": adam_update}[optimizer]
                weights, steps, history = list(w), 0, []
                for _ in range(epochs):
                    seen = []
                    for x_point, y_point in zip(X, y):
                        values = forward_propagation(x_point, y_point, weights)
                        seen.append(values["loss"])
                        by_key = backward_propagation(x_point, y_point, weights, values)
                        grads = np.array([by_key["dw" + str(k)] for k in range(1, 10)])
                        steps += 1
                        extra = [steps] if optimizer == "adam" else []
                        result = update(weights, grads, *state[:1], *state[1:], *extra,
                                        learning_rate, **hyperparameters)
                        if optimizer == "vanilla":
                            weights = result
                        else:
                            weights, *state = result
                    history.append(sum(seen) / len(seen))
                return np.asarray(weights, dtype=float), np.array(history)
            """,
        "momentum_question": "momentum_step_factor = 2",
    },
}

WRONG_EARLIER_WORK = {
    "sigmoid": ("np.exp(-np.asarray(z", "np.exp(np.asarray(z"),
    "forward": ('"loss": (y - y_pred) ** 2', '"loss": abs(y - y_pred)'),
    "backward": ('"dw3": dz * c', '"dw3": 2 * dz * c'),
}


def with_wrong_pastes(stem: str, grade_id: str, *mistakes: str) -> Answers:
    """Answers whose pasted earlier functions carry these mistakes."""
    first, *more = (WRONG_EARLIER_WORK[mistake] for mistake in mistakes)
    return edit(stem, grade_id, *first, *more)


# Students whose earlier notebooks were wrong pasted that wrong code into a later one
# (or pasted nothing): their own work in that notebook still earns full marks.
STAGE_INDEPENDENCE = {
    ("stage-02", FWD): with_wrong_pastes(FWD, "paste_sigmoid", "sigmoid"),
    ("stage-04", GC): with_wrong_pastes(
        GC, "paste_functions", "sigmoid", "forward", "backward"
    ),
    ("stage-05", OPT): with_wrong_pastes(
        OPT, "paste_functions", "sigmoid", "forward", "backward"
    ),
    # nothing pasted at all: the functions the graded tests swap out do not exist
    ("stage-04-none", GC): replace(GC, "paste_functions", "# (nothing pasted)"),
    ("stage-05-none", OPT): replace(OPT, "paste_functions", "# (nothing pasted)"),
}


@dataclass(frozen=True)
class InputOverwrite:
    """Work that earns nothing, but overwrites in place the arrays a graded test
    hands it, so that expected values the test computed from them after the call
    would match what it returns (issue 20). `honest` hands in the same answer
    without the overwrite: both must score the same, which loses `lost`."""

    student: str
    honest: str
    notebook: str
    answers: Answers
    honest_answers: Answers
    lost: tuple[str, ...]


TRAIN_DOES_NOTHING = """
def train(X, y, w, optimizer, learning_rate, epochs=20, **hyperparameters):
    return np.array(w, dtype=float), np.zeros(epochs)
"""
# No training: the caller's data made to fit the starting weights instead (x = 0,
# y = the prediction at x = 0, from the forward_propagation train is handed), so
# that training on it would change nothing and every loss would be 0.
TRAIN_OVERWRITES_DATA = """
def train(X, y, w, optimizer, learning_rate, epochs=20, **hyperparameters):
    X[:] = 0.0
    y[:] = forward_propagation(np.zeros(5), 0.0, w)["dy_pred"] / 2
    return np.array(w, dtype=float), np.zeros(epochs)
"""
GC_START = "    w = np.array(w, dtype=float)\n    analytic ="

INPUT_OVERWRITES = [
    InputOverwrite(
        "bend-train-overwrites-data", "bend-train-does-nothing", OPT,
        replace(OPT, "train", TRAIN_OVERWRITES_DATA),
        replace(OPT, "train", TRAIN_DOES_NOTHING),
        BOTH_TRAIN_TESTS,
    ),
    # the relative error at x = 0, computed in the caller's x or in a copy
    InputOverwrite(
        "bend-gc-overwrites-x", "bend-gc-at-zero", GC,
        edit(GC, "gradient_checking", GC_START, "    x[:] = 0.0\n" + GC_START),
        edit(GC, "gradient_checking", GC_START,
             "    x = np.zeros(len(x))\n" + GC_START),
        ("test_gradient_checking_values",),
    ),
]  # fmt: skip


def variant_answers(answers: dict[str, str]) -> dict[str, str]:
    """CORRECT_VARIANTS' code as answer cells (dedented)."""
    return {gid: textwrap.dedent(code).strip() for gid, code in answers.items()}
