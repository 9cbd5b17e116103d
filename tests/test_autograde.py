"""End to end through real nbgrader: what each kind of submission scores.

Every submission below is graded twice, by both engines, with the same expectations:
stock `nbgrader autograde` (hidden tests run in the student's kernel) and the grader's
`grade_class` (hidden tests run in the grader's process, grader/trusted_tests.py):
- the untouched release (0 everywhere) and the instructor's answers (full marks);
- planted mistakes that students really make: each loses exactly the graded cells it
  should, with a message that names the mistake, and keeps the rest of its credit;
- correct answers written differently (pure Python, vectorized, lists): full marks.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import nbformat
import pytest

from grader.authoring import stock as stock_autograde
from grader.authoring.release import make_course
from grader.course import NOTEBOOKS
from grader.demo.submissions import solved, untouched, with_edits
from grader.grading.grade import grade_class

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Planted:
    """A submission of one notebook with one planted mistake."""

    student: str
    notebook: str
    answer: object  # a callable building the notebook, called once per session
    lost: tuple[str, ...]  # graded cells that must score 0
    says: str  # words the first lost cell's message must contain


def edit(stem, grade_id, old, new, *more):
    """A builder that replaces `old` with `new` (and more pairs) in one answer cell."""
    return lambda: with_edits(stem, grade_id, (old, new), *more)


def replace(stem, grade_id, code):
    """A builder that replaces a whole answer cell with `code`."""
    return lambda: solved(stem, {grade_id: textwrap.dedent(code).strip()})


SIG, FWD, BWD, GC, OPT = NOTEBOOKS
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

PLANTED = [
    Planted(
        "sig-sign", SIG,
        edit(SIG, "sigmoid", "np.exp(-np.asarray", "np.exp(np.asarray"),
        ("test_sigmoid_values", "test_sigmoid_arrays"),
        "the sign in exp is flipped",
    ),
    Planted(
        "sig-hardcoded", SIG,
        replace(SIG, "sigmoid", "def sigmoid(z):\n    return 0.8807970779778823"),
        ("test_sigmoid_values", "test_sigmoid_arrays"),
        "hard-coded output",
    ),
    Planted(
        "sig-math-exp", SIG,
        replace(SIG, "sigmoid", """
            import math

            def sigmoid(z):
                return 1 / (1 + math.exp(-z))
            """),
        ("test_sigmoid_arrays",),
        "TypeError",
    ),
    Planted(
        "sig-derivative", SIG,
        edit(SIG, "sigmoid_derivative", "return s * (1.0 - s)", "return s"),
        ("test_sigmoid_derivative",),
        "that is sigmoid(z) itself",
    ),
    Planted(
        "fwd-no-square", FWD,
        edit(FWD, "forward_propagation",
             '"loss": (y - y_pred) ** 2', '"loss": y - y_pred'),
        ("test_forward_values", "test_forward_robust"),
        "the square is missing",
    ),
    Planted(
        "fwd-dy-sign", FWD,
        edit(FWD, "forward_propagation", "-2.0 * (y - y_pred)", "2.0 * (y - y_pred)"),
        ("test_forward_values", "test_forward_robust"),
        "the sign is flipped",
    ),
    Planted(
        "fwd-hardcoded", FWD,
        replace(FWD, "forward_propagation", HARD_CODED_FORWARD),
        ("test_forward_values", "test_forward_robust"),
        "hard-coded output",
    ),
    Planted(
        "fwd-global-w", FWD,
        edit(FWD, "forward_propagation", "def forward_propagation(x, y, w):",
             "def forward_propagation(x, y, weights):",
             ("    w = np.asarray(w, dtype=float)\n", "")),
        ("test_forward_robust", "test_forward_values"),
        "reads the global w instead of the argument w",
    ),
    Planted(
        "fwd-mutates-w", FWD,
        edit(FWD, "forward_propagation", "exp = np.exp(a**2 + w[5])",
             "w[5] += a**2\n    exp = np.exp(w[5])"),
        ("test_forward_robust",),
        "mutating input",
    ),
    *[
        Planted(
            f"bwd-sign-{key}", BWD,
            edit(BWD, "backward_propagation", f'"{key}": {expression},',
                 f'"{key}": -({expression}),'),
            ("test_backward_values", "test_backward_robust"),
            f"{key}: the sign is flipped",
        )
        for key, expression in DW_EXPRESSIONS.items()
    ],
    Planted(
        "bwd-no-2a", BWD,
        edit(BWD, "backward_propagation",
             "da = dw6 * 2.0 * (w[0] * x[0] + w[1] * x[1])", "da = dw6"),
        ("test_backward_values", "test_backward_robust"),
        "the 2a from the derivative of the square is missing",
    ),
    Planted(
        "bwd-no-2", BWD,
        edit(BWD, "backward_propagation", "da = dw6 * 2.0 * (", "da = dw6 * ("),
        ("test_backward_values", "test_backward_robust"),
        "dw1: it is half the expected value (a missing factor 2?)",
    ),
    Planted(
        "bwd-no-cos", BWD,
        edit(BWD, "backward_propagation", "dz * c * np.cos(w[2] * x[2]) * x[2]",
             "dz * c * x[2]"),
        ("test_backward_values", "test_backward_robust"),
        "cos(w3 x3) is missing",
    ),
    Planted(
        "bwd-tanh-prime", BWD,
        edit(BWD, "backward_propagation", 'forward_dict["tanh"] ** 2',
             'forward_dict["tanh"]'),
        ("test_backward_values", "test_backward_robust"),
        "1 - tanh instead of 1 - tanh^2",
    ),
    Planted(
        "bwd-hardcoded", BWD,
        replace(BWD, "backward_propagation", HARD_CODED_BACKWARD),
        ("test_backward_values", "test_backward_robust"),
        "hard-coded output",
    ),
    Planted(
        "bwd-global-forward", BWD,
        edit(BWD, "backward_propagation", 'dy_pred = forward_dict["dy_pred"]',
             'forward_dict = forward_dict_x0\n    dy_pred = forward_dict["dy_pred"]'),
        ("test_backward_robust", "test_backward_values"),
        "reads the global forward_dict_x0",
    ),
    Planted(
        "bwd-mutates-forward", BWD,
        edit(BWD, "backward_propagation", "s = np.sin(w[2] * x[2])",
             's = np.sin(w[2] * x[2])\n    forward_dict["dz"] = dz'),
        ("test_backward_robust",),
        "mutating input",
    ),
    Planted(
        "gc-aliased-w", GC,
        edit(GC, "gradient_checking", "w_plus, w_minus = w.copy(), w.copy()",
             "w_plus, w_minus = w, w.copy()",
             ("w = np.array(w, dtype=float)", "w = np.asarray(w, dtype=float)")),
        ("test_gradient_checking_w", "test_gradient_checking_values"),
        "mutating input",
    ),
    Planted(
        "gc-restores-w-in-place", GC,
        replace(GC, "gradient_checking", """
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
            """),
        ("test_gradient_checking_w",),
        "mutating input",
    ),
    Planted(
        "gc-signed-ratios", GC,
        edit(GC, "gradient_checking",
             "return float(gap / (np.linalg.norm(d_w) + np.linalg.norm(d_w_approx)))",
             "return (d_w - d_w_approx) / (np.abs(d_w) + np.abs(d_w_approx))"),
        ("test_gradient_checking_values", "test_gradient_checking_w"),
        "not a signed ratio per weight",
    ),
    Planted(
        "gc-one-sided", GC,
        edit(GC, "gradient_checking",
             "d_w_approx[i] = (loss_plus - loss_minus) / (2 * eps)",
             'd_w_approx[i] = (loss_plus - forward_propagation(x, y, w)["loss"])'
             " / eps"),
        ("test_gradient_checking_values", "test_gradient_checking_w"),
        "one-sided differences instead of centered ones",
    ),
    Planted(
        "opt-adam-no-t", OPT,
        edit(OPT, "updates", BIAS_CORRECTION,
             "m_hat = new_m / (1 - beta1)\n    v_hat = new_v / (1 - beta2)"),
        ("test_adam",),
        "bias correction ignores t",
    ),
    Planted(
        "opt-adam-uncorrected", OPT,
        edit(OPT, "updates", BIAS_CORRECTION, "m_hat = new_m\n    v_hat = new_v"),
        ("test_adam",),
        "no bias correction",
    ),
    Planted(
        "opt-adam-mutates-m", OPT,
        edit(OPT, "updates",
             "new_m = beta1 * np.asarray(m, dtype=float) + (1 - beta1) * grads",
             "new_m = np.asarray(m, dtype=float)\n"
             "    new_m *= beta1\n    new_m += (1 - beta1) * grads"),
        ("test_adam",),
        "mutating input",
    ),
    Planted(
        "opt-momentum-forgets", OPT,
        edit(OPT, "updates", "new_velocity = gamma * np.asarray(velocity",
             "new_velocity = 0 * np.asarray(velocity"),
        ("test_momentum",),
        "forgets its velocity",
    ),
    Planted(
        "opt-momentum-question", OPT,
        replace(OPT, "momentum_question", "momentum_step_factor = 10"),
        ("test_momentum_question",),
        "momentum_step_factor is 10",
    ),
]  # fmt: skip

CORRECT_VARIANTS = {
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
        "momentum_question": "momentum_step_factor = 2",
    },
}


WRONG_EARLIER_WORK = {
    "sigmoid": ("np.exp(-np.asarray(z", "np.exp(np.asarray(z"),
    "forward": ('"loss": (y - y_pred) ** 2', '"loss": abs(y - y_pred)'),
    "backward": ('"dw3": dz * c', '"dw3": 2 * dz * c'),
}


def with_wrong_pastes(stem: str, grade_id: str, *mistakes: str):
    """The solved notebook whose pasted earlier functions carry these mistakes."""
    return with_edits(stem, grade_id, *(WRONG_EARLIER_WORK[m] for m in mistakes))


# Students whose earlier notebooks were wrong, pasted that wrong code into a later one.
STAGE_INDEPENDENCE = {
    ("stage-02", FWD): lambda: with_wrong_pastes(FWD, "paste_sigmoid", "sigmoid"),
    ("stage-04", GC): lambda: with_wrong_pastes(
        GC, "paste_functions", "sigmoid", "forward", "backward"
    ),
    ("stage-05", OPT): lambda: with_wrong_pastes(
        OPT, "paste_functions", "sigmoid", "forward", "backward"
    ),
}


def all_submissions() -> dict[str, dict[str, object]]:
    """student -> {notebook stem -> notebook} for every case of this module."""
    found = {
        "key": {stem: solved(stem) for stem in NOTEBOOKS},
        "blank": {stem: untouched(stem) for stem in NOTEBOOKS},
    }
    for case in PLANTED:
        found[case.student] = {case.notebook: case.answer()}
    for (student, stem), answers in CORRECT_VARIANTS.items():
        code = {gid: textwrap.dedent(src).strip() for gid, src in answers.items()}
        found[student] = {stem: solved(stem, code)}
    for (student, stem), build in STAGE_INDEPENDENCE.items():
        found[student] = {stem: build()}
    return found


def grade_with_stock(folder, submissions):
    """Stock `nbgrader autograde` in a scratch course: student -> stem -> result."""
    root = make_course(folder)
    for student, notebooks in submissions.items():
        stock_autograde.submit(root, student, notebooks)
    stock_autograde.autograde(root)
    return {student: stock_autograde.results(root, student) for student in submissions}


def grade_with_grader(folder, submissions):
    """The grader's grade_class on a folder per student: student -> stem -> result."""
    for student, notebooks in submissions.items():
        (folder / "class" / student).mkdir(parents=True)
        for stem, notebook in notebooks.items():
            nbformat.write(notebook, folder / "class" / student / f"{stem}.ipynb")
    results = grade_class(folder / "class", folder / "out", progress=False)
    found: dict = {student: {} for student in submissions}
    for row in results.grades:
        if row.notebook in submissions[row.student]:
            found[row.student][row.notebook] = row
    return found


def tests_of(grade) -> dict:
    """grade_id -> TestResult of one graded notebook."""
    return {test.test: test for test in grade.tests}


@pytest.fixture(scope="module", params=["stock", "grader"])
def graded(request, tmp_path_factory):
    """Every submission of this module graded in one run of one engine."""
    engine = grade_with_stock if request.param == "stock" else grade_with_grader
    return engine(tmp_path_factory.mktemp(request.param), all_submissions())


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_untouched_release_scores_zero(graded, stem):
    """A release notebook handed in as received earns nothing."""
    result = graded["blank"][stem]
    assert result.max_score > 0
    assert result.score == 0, {t.test: t.points for t in result.tests}


@pytest.mark.parametrize("case", PLANTED, ids=lambda case: case.student)
def test_planted_mistake_loses_its_points_and_says_why(graded, case):
    """The mistake costs exactly its graded cells; the message names it."""
    cells = tests_of(graded[case.student][case.notebook])
    scores = {gid: (cell.points, cell.max_points) for gid, cell in cells.items()}
    for gid, (score, max_score) in scores.items():
        if gid in case.lost:
            assert score == 0, f"{gid} should lose its points: {scores}"
        else:
            assert score == max_score, f"{gid} should keep its points: {cells[gid]}"
    assert case.says in cells[case.lost[0]].message


FULL_MARKS = [
    *(("key", stem) for stem in NOTEBOOKS),
    *CORRECT_VARIANTS,
    *STAGE_INDEPENDENCE,
]


@pytest.mark.parametrize("student, stem", FULL_MARKS)
def test_correct_work_gets_full_marks(graded, student, stem):
    """Full marks for: the answer key submitted into the release; correct answers
    written differently (scalar or vectorized, numpy or pure Python, lists or arrays);
    correct work in a later notebook next to wrong pasted work from earlier ones."""
    result = graded[student][stem]
    failing = {
        t.test: t.message for t in result.tests if t.points < t.max_points
    }
    assert not failing and result.score == result.max_score > 0
