"""Realistic mistakes, kept beside the catalogue's (tests/mistake_cases.py), most of
them not in it: what students hand in and TAs see. For each one the course promises that
work whose checks all pass loses no points: a check fails before any graded test
does (saying at least what differs), or the mistake costs nothing
(tests/test_notebooks.py). Each case is {grade_id: code} for one notebook's answer
cells, built from the instructor's answers like the mistake cases.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.mistake_cases import (
    BWD,
    FWD,
    GC,
    OPT,
    SIG,
    TRAIN_GLOBAL_STATE,
    Answers,
    edit,
    replace,
)


@dataclass(frozen=True)
class Realistic:
    """A mistake a student makes; what it is, in a TA's words."""

    student: str
    notebook: str
    answers: Answers
    what: str


REALISTIC = [
    Realistic(
        "real-sigmoid-rounded", SIG,
        edit(SIG, "sigmoid", "return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))",
             "return np.round(1 / (1 + np.exp(-np.asarray(z, dtype=float))), 6)"),
        "rounds the sigmoid to 6 decimals",
    ),
    Realistic(
        "real-forward-float32", FWD,
        edit(FWD, "forward_propagation", "x = np.asarray(x, dtype=float)",
             "x = np.asarray(x, dtype=np.float32)",
             ("w = np.asarray(w, dtype=float)",
              "w = np.asarray(w, dtype=np.float32)")),
        "computes the forward pass in float32",
    ),
    Realistic(
        "real-forward-abs-loss", FWD,
        edit(FWD, "forward_propagation", '"loss": (y - y_pred) ** 2',
             '"loss": abs(y - y_pred)'),
        "the absolute error as the loss",
    ),
    Realistic(
        "real-backward-dw4-dw5-swapped", BWD,
        edit(BWD, "backward_propagation", '"dw4": dz * s * x[3],',
             '"dw4": dz * s * x[4],',
             ('"dw5": dz * s * x[4],', '"dw5": dz * s * x[3],')),
        "x4 and x5 swapped in dw4 and dw5",
    ),
    Realistic(
        "real-backward-s-for-c", BWD,
        edit(BWD, "backward_propagation", '"dw3": dz * c * np.cos',
             '"dw3": dz * s * np.cos'),
        "s instead of c in dw3",
    ),
    Realistic(
        "real-gc-sum-norm", GC,
        edit(GC, "gradient_checking",
             "return float(gap / (np.linalg.norm(d_w)"
             " + np.linalg.norm(d_w_approx)))",
             "return float(gap / np.linalg.norm(d_w + d_w_approx))"),
        "‖dW + dW_approx‖ as the denominator (issue 17: passed every check)",
    ),
    Realistic(
        "real-gc-l1-norm", GC,
        edit(GC, "gradient_checking",
             "gap = np.linalg.norm(d_w - d_w_approx)\n    return float(gap / ("
             "np.linalg.norm(d_w) + np.linalg.norm(d_w_approx)))",
             "gap = np.abs(d_w - d_w_approx).sum()\n"
             "    return float(gap / (np.abs(d_w).sum() + np.abs(d_w_approx).sum()))"),
        "L1 norms instead of the Euclidean norm",
    ),
    Realistic(
        "real-gc-minus-2eps", GC,
        edit(GC, "gradient_checking", "w_minus[i] -= eps", "w_minus[i] -= 2 * eps"),
        "the lower point two steps away",
    ),
    Realistic(
        "real-momentum-minus-grads", OPT,
        edit(OPT, "updates", "+ np.asarray(grads, float)",
             "- np.asarray(grads, float)"),
        "subtracts the gradient inside the velocity",
    ),
    Realistic(
        "real-adam-t-minus-one", OPT,
        edit(OPT, "updates", "m_hat = new_m / (1 - beta1**t)",
             "m_hat = new_m / (1 - beta1 ** (t + 1))"),
        "bias correction one step ahead in m",
    ),
    Realistic(
        "real-train-state-in-globals", OPT,
        replace(OPT, "train", TRAIN_GLOBAL_STATE),
        "optimizer state in notebook globals (issue 17: passed every check)",
    ),
    Realistic(
        "real-train-seeded-shuffle", OPT,
        edit(OPT, "train", "for index in range(len(X)):",
             "for index in np.random.default_rng(0).permutation(len(X)):"),
        "visits the points in a shuffled order with a fixed seed",
    ),
    Realistic(
        "real-train-float32", OPT,
        edit(OPT, "train", "w = np.array(w, dtype=float)",
             "w = np.array(w, dtype=np.float32)"),
        "trains in float32",
    ),
    Realistic(
        "real-momentum-question-1.5", OPT,
        replace(OPT, "momentum_question", "momentum_step_factor = 1.5"),
        "a guess for the momentum question",
    ),
]  # fmt: skip
