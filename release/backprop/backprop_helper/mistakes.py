"""The course's catalogue of known mistakes, and how failure messages name them.

One source for both sides: the visible checks in the notebooks and the hidden tests
name a mistake by its id (``check_values(..., mistakes={"dw6": {"tanh-not-squared":
value}})``), never by re-typed text, and an id that is not in CATALOGUE is an error.

The contract
------------
Mistake(id, notebook, name, meaning, taught)
    id        a stable slug, e.g. "tanh-not-squared".
    notebook  the released notebook stem that teaches it ("03_backward_propagation"),
              or "" for a mistake that can happen in any notebook (a flipped sign, a
              hard-coded output, a mutated input, ...).
    name      the short phrase students see in a check ("1 − tanh instead of
              1 − tanh²"); names are unique, none is a prefix of another, and none
              holds ":" or ";".
    meaning   one sentence on what the mistake means.
    taught    where the notebook teaches it: "NN · section heading (detail)".
CATALOGUE: dict[str, Mistake], keyed by id.

A failure message (CheckFailed's text) reads::

    WHAT: KEY: REASON; KEY: REASON

where WHAT says what was called, KEY is the value's name ("dw3"; "w[0, 2]" for
elements of an array) and REASON is a mistake's name when the wrong value matches a
known mistake, or a plain diagnosis ("different value (off by 0.0021, relative
1.5e-05)", "missing from what ... returned", "got NaN (...)", "expected one number,
got ..."). A mistake's name may be
followed by more advice in parentheses. The checks also print the table and a
"What to look at:" block with the same "KEY: REASON" lines (under the first line of
each mistake: its meaning and where it is taught); CheckFailed carries the same
findings as data (``found``: (key, mistake id or None, reason) per finding).

recognise(message) reads such text back (a failing test's output, as in tests.csv,
possibly with the printed table, the "What to look at:" block and an "Error: ..."
line) and returns each finding once, in the order it first appears:
Recognised(mistake, key, label):
    mistake  the Mistake, or None when the check found KEY wrong without naming a
             known mistake ("different value", ...).
    key      the key it was found on ("dw3", "w[0, 2]"), "" when the text has none.
    label    what to count across a class: the mistake's name for a mistake of a
             notebook or a non-numeric one ("1 − tanh instead of 1 − tanh²" on dw6
             and on dw7 is one misconception), "KEY: NAME" for the ratio slips (flipped
             sign, factor 2, ...), which mean something different on every key
             ("dw3: the sign is flipped" and "dw5: the sign is flipped" are two), with
             KEY without its element indices ("w: the sign is flipped"); "KEY:
             REASON" when mistake is None ("dw3: different value", without by how
             much). A student counts once per label.
label(mistake, key, reason) gives that label for a finding held as data (the
grader counts the findings its own run of the tests recorded, and reads text back
with recognise() only when the tests ran in the student's kernel).

VALUES_IN_CHECKS: {what: {key: {mistake id: value}}}, what known mistakes give in
the check whose title is `what` (check_values' what=), beside the mistakes= map the
check itself passes: how a mistake the class report found among the wrong answers
no catalogue named is added (`python -m grader mistake-entry OUT GROUP` prints the
entry and these values); a value as in mistakes= (a number, or a list for a 1-D
array).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

SIG, FWD, BWD, GC, OPT = (
    "01_sigmoid",
    "02_forward_propagation",
    "03_backward_propagation",
    "04_gradient_checking",
    "05_optimizers",
)


@dataclass(frozen=True)
class Mistake:
    """A known mistake: its id, notebook, the name checks show, what it means."""

    id: str
    notebook: str
    name: str
    meaning: str
    taught: str


@dataclass(frozen=True)
class Recognised:
    """A finding read back from a failure message (see the module docstring)."""

    mistake: Mistake | None
    key: str
    label: str


_ENTRIES = (
    # --- anywhere: ratio slips (got / expected), tried after the named mistakes ----
    ("sign-flipped", "", "the sign is flipped",
     "The value has the right size but the opposite sign: a minus sign was lost or "
     "added somewhere along its chain of factors.",
     "the derivation above the exercise (the sign of each factor)"),
    ("twice", "", "it is twice the expected value (an extra factor 2?)",
     "The value is exactly 2 × the right one, usually a factor 2 counted twice.",
     "the derivation above the exercise (each factor)"),
    ("half", "", "it is half the expected value (a missing factor 2?)",
     "The value is exactly ½ × the right one, usually a factor 2 left out (the "
     "derivative of a square brings one).",
     "the derivation above the exercise (each factor)"),
    ("minus-twice", "", "it is −2 × the expected value (sign and a factor 2)",
     "The value is −2 × the right one: a flipped sign and an extra factor 2.",
     "the derivation above the exercise (each factor)"),
    ("minus-half", "", "it is −½ × the expected value (sign and a factor 2)",
     "The value is −½ × the right one: a flipped sign and a missing factor 2.",
     "the derivation above the exercise (each factor)"),
    # --- anywhere: not about one formula ---------------------------------------------
    ("hard-coded-output", "", "hard-coded output (a check's values)",
     "The function returns numbers copied from a check instead of computing them "
     "from its arguments, so it is right at that one input only.",
     "the introduction of 01 (How to work: a check tests one input, the graded "
     "tests others)"),
    ("mutating-input", "", "mutating input",
     "The function changed an array or dict it was given (w[i] += eps, m *= beta1, "
     "a new key in forward_dict) instead of working on a copy, so the caller's "
     "values changed under it.",
     "the function's docstring (“not changed”): work on a copy, e.g. "
     "w = np.array(w, dtype=float)"),
    ("list-arithmetic", "", "arithmetic on a Python list (convert it first)",
     "A list argument was used in arithmetic (0.5 * list, list − list), which Python "
     "does not do element by element; np.asarray(w, dtype=float) makes it an array.",
     "the function's docstring (“array or list”)"),
    ("float32", "", "computed in single precision (float32)",
     "The values agree with the expected ones to about 7 significant digits only, "
     "as float32 arithmetic gives: somewhere the numbers became np.float32, while "
     "the course computes in float64, NumPy's default.",
     "02 · The data (numbers are float64)"),
    ("values-swapped", "", "two values swapped",
     "Each of two keys (or elements) holds the value the other should, e.g. the "
     "gradient of w4 under dw5 and back, or w[4] where w[3] belongs.",
     "the derivation above the exercise (which value goes where; the code counts "
     "from 0: w1 is w[0])"),
    # --- 01 the sigmoid -------------------------------------------------------------
    ("sigmoid-sign-flipped", SIG, "the sign in exp is flipped (that is σ(−z))",
     "e^z instead of e^(−z) computes σ(−z) = 1 − σ(z): the sigmoid mirrored left to "
     "right.",
     "01 · The sigmoid function"),
    ("math-exp-on-array", SIG, "math.exp on an array",
     "math.exp takes one number, so the function fails on an array; np.exp works "
     "element by element on any shape.",
     "01 · The sigmoid function (np.exp, not math.exp)"),
    ("sigmoid-derivative-is-sigmoid", SIG, "σ(z) instead of σ(z)(1 − σ(z))",
     "The derivative returns the sigmoid itself: the factor 1 − σ(z) from the chain "
     "rule is missing.",
     "01 · The derivative of the sigmoid"),
    ("sigmoid-derivative-one-minus", SIG, "1 − σ(z) instead of σ(z)(1 − σ(z))",
     "The derivative returns 1 − σ(z): the factor σ(z) is missing.",
     "01 · The derivative of the sigmoid"),
    ("sigmoid-derivative-of-z", SIG, "z(1 − z) instead of σ(z)(1 − σ(z))",
     "The formula s(1 − s) was applied to z itself instead of to s = σ(z).",
     "01 · The derivative of the sigmoid"),
    # --- 02 forward propagation -----------------------------------------------------
    ("loss-not-squared", FWD, "the square is missing from the loss",
     "L = y − y′ (or |y − y′|) instead of (y − y′)²: not the squared error the "
     "gradients are derived from (and y − y′ can be negative).",
     "02 · The graph (prediction and loss)"),
    ("dy-pred-no-factor", FWD, "dy_pred without the factor −2 (that is y − y′)",
     "dy_pred = y − y′ instead of ∂L/∂y′ = −2(y − y′), the outer derivative 2(y − y′) "
     "times the inner derivative −1.",
     "02 · The graph (the first gradient)"),
    ("w6-missing", FWD, "w6 is missing from the exponent",
     "exp = e^(a²) instead of e^(a² + w6): the bias w6 inside the exponential is "
     "left out.",
     "02 · The graph (upper branch)"),
    ("w7-outside-tanh", FWD, "w7 added after tanh instead of inside it",
     "tanh(exp) + w7 instead of tanh(exp + w7): the bias is added to tanh's output, "
     "not to its input.",
     "02 · The graph (upper branch)"),
    ("w8-missing", FWD, "w8 is missing inside the sigmoid",
     "σ(s·c) instead of σ(s·c + w8): the bias w8 is left out.",
     "02 · The graph (lower branch)"),
    ("w9-missing", FWD, "w9 is missing from y′ = tanh + sigmoid·w9",
     "y′ = tanh + sigmoid: the weight w9 on the lower branch is left out.",
     "02 · The graph (prediction and loss)"),
    ("forward-reads-global-xy", FWD, "reads the globals X[0], y[0] instead of x, y",
     "The function uses the notebook's data point X[0], y[0] instead of its "
     "arguments x and y, so it computes the same point whatever it is given.",
     "02 · Your task: forward_propagation (only the arguments)"),
    ("forward-reads-global-w", FWD, "reads the global w instead of the argument w",
     "The function uses the notebook's w (0.1 everywhere) instead of its argument w.",
     "02 · Your task: forward_propagation (only the arguments)"),
    # --- 03 backward propagation ----------------------------------------------------
    ("no-2a", BWD, "the 2a from the derivative of the square is missing",
     "∂(a²)/∂a = 2a is left out of the chain to w1 and w2.",
     "03 · The chain rule, weight by weight (w1, w2)"),
    ("dw3-no-cos", BWD, "cos(w3·x3) is missing (the derivative of sin)",
     "The factor cos(w3·x3) = ∂ sin(u)/∂u is left out of dw3.",
     "03 · The chain rule, weight by weight (w3)"),
    ("dw3-sin-not-cos", BWD, "sin instead of cos (the derivative of sin is cos)",
     "dw3 uses sin(w3·x3) where the derivative of sin, cos(w3·x3), belongs.",
     "03 · Local derivatives (s = sin(w3 x3))"),
    ("dw3-no-x3", BWD, "the inner factor x3 is missing (∂(w3·x3)/∂w3 = x3)",
     "The chain rule stops at sin's argument: the derivative of w3·x3 with respect "
     "to w3, x3, is left out of dw3.",
     "03 · The chain rule, weight by weight (w3)"),
    ("c-instead-of-s", BWD, "c = w4·x4 + w5·x5 instead of s = sin(w3·x3)",
     "dw4 and dw5 multiply by the other factor of the product z = s·c: "
     "∂z/∂c = s, not c.",
     "03 · The chain rule, weight by weight (w4, w5)"),
    ("tanh-not-squared", BWD, "1 − tanh instead of 1 − tanh²",
     "The derivative of tanh is 1 − tanh², not 1 − tanh.",
     "03 · The chain rule, weight by weight (w7)"),
    ("tanh-derivative-missing", BWD, "tanh′ is missing (the factor 1 − tanh²)",
     "The chain from y′ to w7 skips the tanh node: its local derivative 1 − tanh² "
     "is left out.",
     "03 · The chain rule, weight by weight (w7)"),
    ("exp-factor-missing", BWD, "the factor exp is missing (e^v is its own derivative)",
     "The chain from w7 to w6 skips the exp node: its local derivative, exp itself, "
     "is left out.",
     "03 · The chain rule, weight by weight (w6)"),
    ("sigmoid-derivative-missing", BWD, "sigmoid·(1 − sigmoid) is missing",
     "The chain into the lower branch skips the sigmoid node: its local derivative "
     "sigmoid·(1 − sigmoid) is left out of ∂L/∂z.",
     "03 · The chain rule, weight by weight (∂L/∂z)"),
    ("dz-without-w9", BWD, "w9 is missing from ∂L/∂z",
     "∂y′/∂sigmoid = w9 is left out of ∂L/∂z, the factor every lower-branch "
     "gradient shares.",
     "03 · The chain rule, weight by weight (∂L/∂z)"),
    ("w9-instead-of-sigmoid", BWD, "w9 instead of sigmoid in dw9",
     "∂y′/∂w9 is sigmoid, the other factor of the product sigmoid·w9, not w9.",
     "03 · The chain rule, weight by weight (w9)"),
    ("backward-reads-global-forward-dict", BWD,
     "reads the global forward_dict_x0 instead of forward_dict",
     "The function uses the notebook's forward values for X[0] instead of its "
     "argument forward_dict.",
     "03 · Your task: backward_propagation (only the arguments)"),
    ("backward-reads-global-w", BWD, "reads the global w_x0 instead of the argument w",
     "The function uses the notebook's w_x0 (0.1 everywhere) instead of its "
     "argument w.",
     "03 · Your task: backward_propagation (only the arguments)"),
    # --- 04 gradient checking -------------------------------------------------------
    ("one-sided", GC, "one-sided differences instead of centered ones",
     "(L(w + eps·eᵢ) − L(w)) / eps has an error of order eps, not eps²: at eps = 1e-3 "
     "it is a thousand times less accurate.",
     "04 · Centered differences"),
    ("eps-not-2eps", GC, "divides by eps instead of 2·eps",
     "The centered difference spans 2·eps; dividing by eps doubles every estimate, "
     "which makes the relative error exactly 1/3.",
     "04 · Centered differences"),
    ("shared-copies", GC, "w_plus and w_minus are one array (not two copies)",
     "Both perturbations went into one array (w_plus = w_minus = w.copy()), so the "
     "two losses are equal, every estimate is 0 and the relative error exactly 1.",
     "04 · Your task: gradient_checking (one copy per perturbation)"),
    ("all-weights-at-once", GC, "moves every weight at once (w + eps, not w + eps·eᵢ)",
     "Each estimate must move one weight only; adding eps to the whole vector "
     "measures how the loss changes along (1, …, 1) instead.",
     "04 · Centered differences (eᵢ moves only weight i)"),
    ("no-denominator", GC, "no denominator (that is ‖dW − dW_approx‖ alone)",
     "The distance between the gradients is not divided by their sizes, so it "
     "depends on the scale of the gradients.",
     "04 · One number for all nine weights"),
    ("analytic-denominator", GC, "divides by ‖dW‖ alone, not ‖dW‖ + ‖dW_approx‖",
     "The relative error divides by the sum of both norms, which keeps it between 0 "
     "and 1 and symmetric in the two gradients.",
     "04 · One number for all nine weights"),
    ("per-weight-ratios", GC, "one ratio per weight instead of one number",
     "gradient_checking returns the relative error of the whole vector, "
     "‖dW − dW_approx‖ / (‖dW‖ + ‖dW_approx‖), not an array of nine ratios.",
     "04 · One number for all nine weights"),
    ("sum-norm-denominator", GC, "divides by ‖dW + dW_approx‖, not ‖dW‖ + ‖dW_approx‖",
     "The norm of the sum is close to the sum of the norms only while the two "
     "vectors point the same way, so the error passes where the gradients agree and "
     "is far off (up to infinite) where they do not.",
     "04 · One number for all nine weights"),
    # --- 05 optimizers: the update rules --------------------------------------------
    ("vanilla-uphill", OPT, "steps uphill (w + η·g)",
     "The gradient points uphill; gradient descent subtracts it: w − η·g.",
     "05 · Three update rules (vanilla SGD)"),
    ("momentum-forgets-velocity", OPT, "forgets its velocity (u = g, plain SGD)",
     "The velocity is not carried from step to step, so momentum is plain SGD.",
     "05 · Three update rules (momentum)"),
    ("momentum-dampened", OPT, "dampened velocity (u = γu + (1 − γ)g)",
     "That is an average of the gradients; PyTorch's momentum (no dampening) adds "
     "the whole gradient: u = γu + g.",
     "05 · Three update rules (momentum)"),
    ("momentum-lr-in-velocity", OPT, "η inside the velocity (u = γu + η·g)",
     "The weights follow the same path, but the velocity holds η times PyTorch's: "
     "u = γu + g, then w − η·u.",
     "05 · Three update rules (momentum)"),
    ("momentum-cs231n", OPT, "the cs231n form (u = γu − η·g, w += u)",
     "That form gives the same weights, but its velocity is −η times PyTorch's "
     "u = γu + g, which the function returns.",
     "05 · Three update rules (momentum)"),
    ("adam-no-bias-correction", OPT, "no bias correction",
     "m and v are used as they are; dividing by 1 − βᵗ undoes their pull towards 0 "
     "in the first steps.",
     "05 · Three update rules (Adam)"),
    ("adam-t-ignored", OPT, "bias correction ignores t (β, not βᵗ)",
     "The correction divides by 1 − β instead of 1 − βᵗ, which is only right at "
     "t = 1.",
     "05 · Three update rules (Adam)"),
    ("adam-eps-inside-sqrt", OPT, "eps inside the square root",
     "√(v̂ + ε) instead of √v̂ + ε: a small difference that PyTorch's Adam does not "
     "make.",
     "05 · Three update rules (Adam)"),
    ("adam-eps-ignored", OPT, "uses eps = 1e-8 whatever eps it is given",
     "adam_update adds the eps it was given to √v̂; a fixed 1e-8 is right only for "
     "the default.",
     "05 · Three update rules (Adam)"),
    ("momentum-factor-for-0.9", OPT, "the factor for γ = 0.9, not for γ = 0.5",
     "The answer repeats the text's example (10 for γ = 0.9) instead of solving "
     "u = γu + g for γ = 0.5.",
     "05 · A question on momentum"),
    ("momentum-factor-one-minus-gamma", OPT, "1 − γ instead of 1/(1 − γ)",
     "Solving u = γu + g gives u = g/(1 − γ): the factor is 1/(1 − γ).",
     "05 · A question on momentum"),
    # --- 05 optimizers: the training loop -------------------------------------------
    ("train-value-order", OPT,
     "the gradient vector in the dict's value order, not by key",
     "list(gradients.values()) is in the order backward_propagation built its dict; "
     "the update needs dw1 … dw9 in that order, taken by key.",
     "05 · Your task: the training loop"),
    ("train-t-per-epoch", OPT, "Adam's t counts epochs, not updates",
     "t is the number of the update, 1, 2, 3, … across all epochs, not the epoch's "
     "number.",
     "05 · Your task: the training loop (Adam's t)"),
    ("train-t-restarts", OPT, "Adam's t restarts at 1 every epoch",
     "t counts updates from the first one on and does not restart with each epoch.",
     "05 · Your task: the training loop (Adam's t)"),
    ("train-state-reset", OPT, "the optimizer state is reset every epoch",
     "The velocity (and Adam's m, v and t) start at zero once and carry across "
     "epochs.",
     "05 · Your task: the training loop (the optimizer state)"),
    ("train-loss-after-update", OPT, "each loss recorded after that point's update",
     "An epoch's loss is the mean of the losses each point had before its update, "
     "the loss forward_propagation returned.",
     "05 · Your task: the training loop (epoch_losses)"),
    ("train-one-update-per-epoch", OPT, "one update per epoch with the mean gradient",
     "Stochastic gradient descent updates after every data point, not once per "
     "epoch with the average gradient.",
     "05 · Your task: the training loop"),
    ("train-loss-sum", OPT, "the epoch's losses summed, not averaged",
     "epoch_losses holds the mean loss of each epoch, not the sum.",
     "05 · Your task: the training loop (epoch_losses)"),
    ("train-loss-last", OPT, "the epoch's last loss, not the mean",
     "epoch_losses holds the mean over all points of each epoch, not the loss of the "
     "last point.",
     "05 · Your task: the training loop (epoch_losses)"),
    ("train-skips-last-point", OPT, "the epoch's last point is skipped",
     "range(len(X) - 1) visits n − 1 points: every epoch leaves the last one out, "
     "its update and its loss.",
     "05 · Your task: the training loop"),
    ("train-random-order", OPT, "visits the points in a random order",
     "train visits the points in their order, X[0] first, every epoch; a shuffled "
     "order gives another result at every call.",
     "05 · Your task: the training loop"),
    ("train-state-kept-between-calls", OPT, "the optimizer state is kept between calls",
     "The velocity, m, v and t start at zero in every call of train (variables of "
     "the call); kept in globals, a second call starts where the first one ended.",
     "05 · Your task: the training loop (the optimizer state)"),
    ("train-hyperparameters-ignored", OPT,
     "the hyperparameters are not passed to the update",
     "train(..., gamma=0.5) must call momentum_update with gamma=0.5 (and Adam with "
     "its beta1, beta2, eps), not with their defaults.",
     "05 · Your task: the training loop (**hyperparameters)"),
)  # fmt: skip

CATALOGUE: dict[str, Mistake] = {entry[0]: Mistake(*entry) for entry in _ENTRIES}

# What known mistakes give in checks that do not name them themselves (see above).
VALUES_IN_CHECKS: dict[str, dict[str, dict[str, object]]] = {
    # --- values pasted from `python -m grader mistake-entry` ---------------------
}

# got / expected for the ratio slips, in the order the checks try them.
RATIO_SLIPS: dict[str, float] = {
    "sign-flipped": -1.0,
    "twice": 2.0,
    "half": 0.5,
    "minus-twice": -2.0,
    "minus-half": -0.5,
}

# Diagnoses that find a value wrong without naming a mistake (see recognise): each
# ends its finding, and is read without backtracking (_unnamed_reason).
_DIFFERENT = "different value"
_MISSING = ("missing from what ", " returned")
_NOT_FINITE = ("got NaN (", "got infinity (")
_NOT_ONE = "expected one number, got "
_NOT_VALUES = ("expected ", " values, got ")
_BY_NAME = {mistake.name: mistake for mistake in CATALOGUE.values()}
_NAMES_LONGEST_FIRST = sorted(_BY_NAME, key=len, reverse=True)
_AFTER_NAME = (" (", ":", ".", ",")  # what may follow a name
_OPENINGS = (_DIFFERENT, _MISSING[0], *_NOT_FINITE, _NOT_VALUES[0])


def mistake(mistake_id: str) -> Mistake:
    """The catalogue entry for an id; an unknown id is an error naming the known."""
    try:
        return CATALOGUE[mistake_id]
    except KeyError:
        known = ", ".join(sorted(CATALOGUE))
        raise ValueError(f"unknown mistake id {mistake_id!r}; known: {known}") from None


def finding(key: str, reason: str) -> str:
    """One finding as the messages write it: "KEY: REASON" ("REASON" without key)."""
    return f"{key}: {reason}" if key else reason


def failure_message(what: str, findings: Iterable[str]) -> str:
    """A check's failure message: "WHAT: KEY: REASON; KEY: REASON"."""
    return f"{what}: " + "; ".join(findings)


def base_key(key: str) -> str:
    """The key without element indices: "w[0, 2]" -> "w"."""
    return key.split("[", 1)[0].strip()


def label(found: Mistake | None, key: str, reason: str) -> str:
    """What a class report counts (see the module docstring)."""
    if found is None:
        return finding(base_key(key), reason)
    if found.id in RATIO_SLIPS:
        return finding(base_key(key), found.name)
    return found.name


def _segments(message: str) -> list[str]:
    """The message's findings-sized pieces: lines split at "; ", bullets removed."""
    pieces = []
    for line in message.splitlines():
        for piece in line.split("; "):
            piece = piece.strip()
            pieces.append(piece[2:] if piece.startswith("- ") else piece)
    return pieces


def _key_before(segment: str, start: int) -> str | None:
    """The key written just before position `start` ("…: KEY: " or segment start).

    None when the text there is not a finding's start (so no match there). Reads
    back from `start` to the previous ": " only."""
    if start == 0:
        return ""
    if start < 2 or not segment.startswith(": ", start - 2):
        return None
    before = segment.rfind(": ", 0, start - 2)
    return segment[before + 2 if before >= 0 else 0 : start - 2].strip()


def _named_in(segment: str, names: list[str]) -> list[tuple[int, Mistake, str]]:
    """(position, mistake, key) of every catalogue name (of `names`, longest
    first) written as a finding; linear in the segment's length (a longer name's
    text is not read again)."""
    found = []
    taken = bytearray(len(segment) + 1)  # 1 where a name already found stands
    for name in names:
        if len(name) > len(segment):
            continue
        start = segment.find(name)
        while start >= 0:
            end = start + len(name)
            bounded = end == len(segment) or segment.startswith(_AFTER_NAME, end)
            if not taken[start] and bounded:
                key = _key_before(segment, start)
                if key is not None:
                    found.append((start, _BY_NAME[name], key))
                    taken[start:end] = b"\1" * len(name)
            start = segment.find(name, end)
    return sorted(found, key=lambda item: item[0])


def _unnamed_reason(segment: str, start: int, last_open: int) -> str | None:
    """The diagnosis that runs from `start` to the end of the segment, if one does
    ("different value (off by ...)" is read as "different value"); no regular
    expression, so no text makes it backtrack. last_open: where the segment's last
    "(" is when the segment ends in "(...)" with no other parenthesis, else -1."""
    end = len(segment)
    if segment.startswith(_DIFFERENT, start):
        rest = start + len(_DIFFERENT)
        if rest == end or (last_open == rest + 1 and segment[rest] == " "):
            return _DIFFERENT
        return None
    opening, closing = _MISSING
    if segment.startswith(opening, start) and segment.endswith(closing):
        return segment[start:] if end - start > len(opening) + len(closing) else None
    for opening in _NOT_FINITE:
        if segment.startswith(opening, start) and segment.endswith(")"):
            return segment[start:] if end - start > len(opening) + 1 else None
    if segment.startswith(_NOT_ONE, start):
        return segment[start:] if end - start > len(_NOT_ONE) else None
    opening, middle = _NOT_VALUES
    if segment.startswith(opening, start):
        digits = start + len(opening)
        after = digits
        while after < end and segment[after] in "0123456789":
            after += 1
        rest = after + len(middle)
        if after > digits and segment.startswith(middle, after) and rest < end:
            return segment[start:]
    return None


def _final_diagnosis(segment: str) -> int | None:
    """Where the diagnosis that ends the segment starts, when the diagnoses are read
    left to right, each taking the text it spans (one that starts inside another is
    part of that one's text); None when the last one does not reach the end.
    Linear: each diagnosis's opening is looked for once past each position."""
    spans = _DiagnosisSpans(segment)
    position = 0
    while True:
        found = [spans.next_from(opening, position) for opening in _OPENINGS]
        starts = [item for item in found if item is not None]
        if not starts:
            return None
        start, stop = min(starts)
        if stop == len(segment):
            return start
        position = stop


class _DiagnosisSpans:
    """Where each diagnosis that starts at a given opening ends, in one segment."""

    def __init__(self, segment: str) -> None:
        self.segment = segment
        self.last_close = segment.rfind(")")
        self.last_returned = segment.rfind(_MISSING[1])
        self._next: dict[str, tuple[int, int] | None] = {}
        self._searched: dict[str, int] = {}
        self._found: dict[str, int] = {}  # text -> its next place past a position

    def next_from(self, opening: str, position: int) -> tuple[int, int] | None:
        """(start, end) of the first diagnosis with this opening at or after
        `position`; positions asked for never decrease."""
        known = self._next.get(opening, ())
        if known is None or (known and known[0] >= position):
            return known
        at = self.segment.find(opening, max(position, self._searched.get(opening, 0)))
        while at >= 0:
            end = self._end(opening, at)
            if end is not None:
                break
            at = self.segment.find(opening, at + 1)
        self._searched[opening] = at + 1 if at >= 0 else len(self.segment) + 1
        self._next[opening] = (at, end) if at >= 0 else None
        return self._next[opening]

    def _first(self, text: str, position: int) -> int:
        """The first place of `text` at or after `position` (cached forward)."""
        known = self._found.get(text, -2)
        if known == -1 or known >= position:
            return known
        self._found[text] = self.segment.find(text, position)
        return self._found[text]

    def _end(self, opening: str, start: int) -> int | None:
        """Where a diagnosis opening at `start` ends; None when none does."""
        segment, after = self.segment, start + len(opening)
        if opening == _DIFFERENT:
            if not segment.startswith(" (", after):
                return after
            close, inner = self._first(")", after + 2), self._first("(", after + 2)
            return close + 1 if close >= 0 and not 0 <= inner < close else after
        if opening == _MISSING[0]:
            fits = self.last_returned >= after + 1
            return self.last_returned + len(_MISSING[1]) if fits else None
        if opening in _NOT_FINITE:
            return self.last_close + 1 if self.last_close >= after + 1 else None
        if segment.startswith(_NOT_ONE[len(opening) :], after):
            return len(segment) if len(segment) > start + len(_NOT_ONE) else None
        digits = after
        while digits < len(segment) and segment[digits] in "0123456789":
            digits += 1
        rest = digits + len(_NOT_VALUES[1])
        if digits > after and segment.startswith(_NOT_VALUES[1], digits):
            return len(segment) if rest < len(segment) else None
        return None


def _last_open(segment: str) -> int:
    """Where the segment's closing "(...)" opens, when it ends in one with no other
    parenthesis inside; else -1."""
    opened = segment.rfind("(")
    if opened < 0 or not segment.endswith(")"):
        return -1
    return opened if segment.find(")", opened) == len(segment) - 1 else -1


def recognise(message: str) -> list[Recognised]:
    """The findings a failure message states, each once, in order (see above);
    linear in the message's length, whatever the text."""
    results: list[Recognised] = []
    seen: set[tuple[str, str]] = set()

    def add(found: Mistake | None, key: str, reason: str) -> None:
        identity = (found.id if found else reason, key)
        if identity not in seen:
            seen.add(identity)
            results.append(Recognised(found, key, label(found, key, reason)))

    names = [name for name in _NAMES_LONGEST_FIRST if name in message]
    for segment in _segments(message):
        named = _named_in(segment, names) if names else []
        for _, found, key in named:
            add(found, key, found.name)
        if named:
            continue
        start = _final_diagnosis(segment)
        if start is not None:
            key = _key_before(segment, start)
            reason = _unnamed_reason(segment, start, _last_open(segment))
            if key and reason:
                add(None, key, reason)
    return results
