"""The catalogue of known mistakes (backprop_helper.mistakes): its contract, the
failure messages it reads back, and its use by every source notebook.

The contract (see the module's docstring) is what the grader's class report builds
on: ids, names, meanings and where each is taught; recognise(message) -> the
mistakes a failing test's message names, with a label to count them by.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import re
from datetime import timedelta

import numpy as np
import pytest
from backprop_helper import mistakes as catalogue
from backprop_helper.checks import (
    CheckFailed,
    an_array,
    check_unchanged,
    check_values,
    checked_call,
    fail,
)
from backprop_helper.mistakes import (
    CATALOGUE,
    RATIO_SLIPS,
    Mistake,
    Recognised,
    recognise,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.mistake_cases import NOTEBOOKS
from tests.notebook_code import code_cells, hidden_definitions

ID = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9.]+)*$")
# What a string in a notebook's code must look like to be taken for an id there.
SLUG = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9.]+)+$")
# Mistakes the helper itself names (from an exception or a changed input), not the
# notebooks' mistakes= arguments.
NAMED_BY_THE_HELPER = {
    "mutating-input",
    "math-exp-on-array",
    "list-arithmetic",
    "float32",
    "values-swapped",
}


# --- the catalogue ------------------------------------------------------------------


def test_catalogue_is_keyed_by_id_and_entries_are_frozen():
    """CATALOGUE maps each id to its frozen Mistake."""
    assert CATALOGUE
    for mistake_id, entry in CATALOGUE.items():
        assert isinstance(entry, Mistake) and entry.id == mistake_id
        with pytest.raises(dataclasses.FrozenInstanceError):
            entry.name = "changed"  # type: ignore[misc]
    assert [field.name for field in dataclasses.fields(Mistake)] == [
        "id", "notebook", "name", "meaning", "taught",
    ]  # fmt: skip


@pytest.mark.parametrize("entry", CATALOGUE.values(), ids=lambda entry: entry.id)
def test_entry_is_well_formed(entry):
    """A slug id, a known notebook (or "" for anywhere), a short name without ':' or
    ';', one sentence of meaning, and a place it is taught."""
    assert ID.match(entry.id), entry.id
    assert entry.notebook in ("", *NOTEBOOKS)
    assert entry.name and len(entry.name) <= 64
    assert not set(":;") & set(entry.name), entry.name
    assert entry.meaning.endswith(".") and ". " not in entry.meaning.replace(
        "e.g. ", ""
    )
    assert entry.taught and not entry.taught.endswith(".")
    if entry.notebook:
        assert entry.taught.startswith(f"{entry.notebook[:2]} · ")


def test_names_are_unique_and_none_is_a_prefix_of_another():
    """Each name stands for one mistake, and reading a message back cannot stop at a
    shorter name inside a longer one."""
    names = [entry.name for entry in CATALOGUE.values()]
    assert len(names) == len(set(names))
    for name in names:
        assert not [
            other for other in names if other != name and other.startswith(name)
        ]


def test_ratio_slips_are_the_generic_entries_with_their_ratios():
    """The ratio slips apply anywhere: notebook "" and the ratio got/expected."""
    assert RATIO_SLIPS == {
        "sign-flipped": -1.0, "twice": 2.0, "half": 0.5, "minus-twice": -2.0,
        "minus-half": -0.5,
    }  # fmt: skip
    assert all(CATALOGUE[mistake_id].notebook == "" for mistake_id in RATIO_SLIPS)


def _headings(stem: str) -> set[str]:
    """The "## " headings of a source notebook, without Markdown code marks."""
    found = set()
    for cell in _notebook_cells(stem):
        if cell["cell_type"] == "markdown":
            source = "".join(cell["source"])
            for line in source.splitlines():
                if line.startswith("## "):
                    found.add(line[3:].replace("`", "").strip())
    return found


def _notebook_cells(stem: str) -> list[dict]:
    import json

    from tests.notebook_code import notebook_path

    return json.loads(notebook_path(stem).read_text(encoding="utf-8"))["cells"]


SECTION = re.compile(r"(\d\d) · (.+?)(?: \(|$|;)")


@pytest.mark.parametrize("entry", CATALOGUE.values(), ids=lambda entry: entry.id)
def test_taught_names_real_sections(entry):
    """Every "NN · Heading" in `taught` is a section heading of notebook NN, so the
    class report can say where the notebook teaches the mistake."""
    for number, heading in SECTION.findall(entry.taught):
        (stem,) = [stem for stem in NOTEBOOKS if stem.startswith(number)]
        assert heading in _headings(stem), (entry.id, heading, _headings(stem))
    if entry.notebook:
        assert SECTION.findall(entry.taught), entry.taught


# --- recognise: real messages from the real checks ------------------------------------


def _message(run) -> str:
    """The printed output and CheckFailed line of a failing check, as a failing
    graded test's output reads in tests.csv."""
    with pytest.raises(CheckFailed) as excinfo:
        run()
    return str(excinfo.value)


def _message_of(mistake_id: str, capsys) -> tuple[str, str]:
    """(what the check printed plus its error line, the CheckFailed message) of a
    real check failing with this mistake, and the key it is found on."""
    if mistake_id in RATIO_SLIPS:
        key = "dw3"

        def run():
            check_values(
                {"dw3": RATIO_SLIPS[mistake_id] * 1.5}, {"dw3": 1.5}, what="backward"
            )
    elif mistake_id == "mutating-input":
        key = "w"

        def run():
            check_unchanged(np.ones(3), np.zeros(3), name="w", by="vanilla_update")
    elif mistake_id == "math-exp-on-array":
        key = "sigmoid(z)"

        def run():
            checked_call(
                lambda z: 1 / (1 + math.exp(-z)), np.zeros(3), what="sigmoid", key=key
            )
    elif mistake_id == "list-arithmetic":
        key = "w"

        def run():
            checked_call(
                lambda w, g, rate: w - rate * g, [1.0], [1.0], 0.1, what="f", key=key
            )
    elif mistake_id == "per-weight-ratios":
        key = "relative error"

        def run():
            check_values(
                {key: np.ones(9)}, {key: 1e-9}, what="gradient_checking",
                mistakes={key: {mistake_id: an_array}},
            )  # fmt: skip
    elif mistake_id.startswith("momentum-factor"):
        key = "momentum_step_factor"

        def run():
            fail("momentum_step_factor", key, mistake_id)
    elif mistake_id == "float32":
        key = "w[0, 1]"

        def run():
            want = np.array([0.1, 1 / 3])
            check_values({"w": want.astype(np.float32)}, {"w": want}, what="update")
    elif mistake_id == "values-swapped":
        key = "dw4"

        def run():
            check_values(
                {"dw4": 2.0, "dw5": 1.0}, {"dw4": 1.0, "dw5": 2.0}, what="backward"
            )
    else:
        key = "w[0, 2]"

        def run():
            check_values(
                {"w": [0.25, 1.0, 0.75]}, {"w": [0.5, 1.0, 1.5]}, what="update",
                mistakes={"w": {mistake_id: [0.25, 1.0, 0.75]}},
            )  # fmt: skip

    message = _message(run)
    printed = capsys.readouterr().out
    return printed + f"CheckFailed: {message}", message, key


@pytest.mark.parametrize("mistake_id", sorted(CATALOGUE))
def test_recognise_reads_every_mistake_from_a_real_failure(mistake_id, capsys):
    """Each catalogue entry, produced by the real checks, is read back from the
    message alone and from the whole output (table, what to look at, the error
    line), with the key it was found on and no duplicates."""
    output, message, key = _message_of(mistake_id, capsys)
    entry = CATALOGUE[mistake_id]
    label = (
        f"{key.split('[')[0]}: {entry.name}"
        if mistake_id in RATIO_SLIPS
        else entry.name
    )
    keys = ("dw4", "dw5") if mistake_id == "values-swapped" else (key,)
    expected = [Recognised(entry, each, label) for each in keys]
    assert recognise(message) == expected
    assert recognise(output) == expected
    assert recognise("Error: " + message) == expected
    assert recognise(output + "\nError: " + message) == expected


def test_one_mistake_on_two_keys_is_one_misconception(capsys):
    """1 − tanh on dw6 and on dw7: two findings with the same label."""
    tanh = CATALOGUE["tanh-not-squared"]
    message = _message(
        lambda: check_values(
            {"dw6": 0.3, "dw7": 0.2}, {"dw6": 0.6, "dw7": 0.5}, what="backward",
            mistakes={"dw6": {tanh.id: 0.3}, "dw7": {tanh.id: 0.2}},
        )
    )  # fmt: skip
    assert recognise(message) == [
        Recognised(tanh, "dw6", tanh.name),
        Recognised(tanh, "dw7", tanh.name),
    ]


def test_a_ratio_slip_on_two_keys_is_two_labels():
    """A flipped sign on dw3 and on dw5 are different misconceptions."""
    message = _message(
        lambda: check_values({"dw3": -1.0, "dw5": -2.0}, {"dw3": 1.0, "dw5": 2.0},
                             what="backward")
    )  # fmt: skip
    assert [found.label for found in recognise(message)] == [
        "dw3: the sign is flipped",
        "dw5: the sign is flipped",
    ]


def test_findings_that_name_no_mistake_come_back_without_one():
    """'different value', a missing key, NaN, a wrong type: mistake None, labelled
    by key and reason, so a report can tell them from named mistakes."""
    message = _message(
        lambda: check_values(
            {"a": 7.0, "c": float("nan"), "d": "text", "e": np.ones(3)},
            {"a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0, "e": [1.0, 2.0]},
            what="f",
        )
    )
    assert recognise(message) == [
        Recognised(None, "a", "a: different value"),
        Recognised(None, "b", "b: missing from what f returned"),
        Recognised(None, "c", "c: got NaN (look for 0/0 or an overflow in exp)"),
        Recognised(None, "d", "d: expected one number, got str"),
        Recognised(None, "e", "e: expected 2 values, got ndarray (3,)"),
    ]


def test_recognise_is_deterministic_and_ignores_other_text():
    """The same text gives the same list; text without findings gives none."""
    message = (
        "backward(X[5]): dw3: the sign is flipped; dw6: 1 − tanh instead of 1 − tanh²"
    )
    assert recognise(message) == recognise(message)
    assert [found.mistake.id for found in recognise(message)] == [
        "sign-flipped",
        "tanh-not-squared",
    ]
    assert recognise("") == []
    assert recognise("NameError: name 'train' is not defined") == []
    assert recognise("the sign is flipped somewhere") == []


@pytest.mark.parametrize("entry", CATALOGUE.values(), ids=lambda entry: entry.id)
def test_meanings_and_places_name_no_mistake(entry):
    """The lines printed under a finding (meaning, where it is taught) cannot be
    read back as more findings."""
    assert recognise(f"    {entry.meaning} See {entry.taught}.") == []


def test_the_message_format_is_the_one_the_checks_write():
    """finding/failure_message are what check_values joins its findings with."""
    assert catalogue.finding("dw3", "the sign is flipped") == "dw3: the sign is flipped"
    assert catalogue.finding("", "mutating input") == "mutating input"
    assert catalogue.failure_message("f", ["a: x", "b: y"]) == "f: a: x; b: y"


def test_an_unknown_id_names_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown mistake id 'nope'; known: .*half"):
        catalogue.mistake("nope")


# --- the notebooks use the catalogue ------------------------------------------------


def _literals(source: str) -> set[str]:
    """Every string constant in some Python code."""
    return {
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def _hidden_source(source: str) -> str:
    """The hidden regions of a graded cell, as code."""
    return ast.unparse(ast.parse(source)) if source.strip() else ""


def ids_used(stem: str) -> dict[str, set[str]]:
    """{"visible": ids in the check cells, "hidden": ids in the graded tests}: every
    string literal there that has the shape of an id."""
    used = {"visible": set(), "hidden": set()}
    for _, meta, source in code_cells(stem):
        if meta.get("solution"):
            continue
        kind = "hidden" if meta.get("grade") else "visible"
        if kind == "hidden":
            hidden_definitions(source)  # the markers must be well formed
        clean = "\n".join(
            line for line in source.splitlines() if not line.lstrip().startswith("%")
        )
        used[kind] |= {text for text in _literals(clean) if SLUG.match(text)}
    return used


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_every_id_a_notebook_uses_exists(stem):
    """An id the checks or the graded tests use is in the catalogue (a typo would
    otherwise only fail when that mistake is made)."""
    for kind, ids in ids_used(stem).items():
        assert ids - set(CATALOGUE) == set(), (kind, sorted(ids - set(CATALOGUE)))


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_what_the_graded_tests_name_the_checks_name_too(stem):
    """Every mistake a notebook's graded tests name, its visible checks name too;
    both name every mistake of that notebook."""
    used = ids_used(stem)
    assert used["hidden"] <= used["visible"], sorted(used["hidden"] - used["visible"])
    own = {
        mistake_id
        for mistake_id, entry in CATALOGUE.items()
        if entry.notebook == stem and mistake_id not in NAMED_BY_THE_HELPER
    }
    assert own <= used["hidden"], sorted(own - used["hidden"])


def test_every_catalogue_entry_is_used():
    """No dead entries: each is used by a notebook, or named by the helper itself."""
    used = set().union(*(ids_used(stem)["hidden"] for stem in NOTEBOOKS))
    unused = set(CATALOGUE) - used - set(RATIO_SLIPS) - NAMED_BY_THE_HELPER
    assert unused == set()


# --- reading findings back, whatever the text -----------------------------------------

# The reader as it was, with a regular expression (it backtracked: a megabyte of
# "missing from what " took minutes): the oracle its linear rewrite must agree with.
_ORACLE_UNNAMED = re.compile(
    r"different value(?: \([^()]*\))?|missing from what .+ returned|got NaN \(.+\)"
    r"|got infinity \(.+\)|expected (?:one number|[0-9]+ values), got .+"
)


def oracle_recognise(message: str) -> list[Recognised]:
    """recognise() as the regular expression read it."""
    results, seen = [], set()
    names = sorted((m.name for m in CATALOGUE.values()), key=len, reverse=True)
    by_name = {m.name: m for m in CATALOGUE.values()}

    def key_before(segment: str, start: int) -> str | None:
        if start == 0:
            return ""
        if segment[:start].endswith(": "):
            return segment[: start - 2].rsplit(": ", 1)[-1].strip()
        return None

    def add(found, key, reason):
        identity = (found.id if found else reason, key)
        if identity not in seen:
            seen.add(identity)
            results.append(Recognised(found, key, catalogue.label(found, key, reason)))

    for segment in catalogue._segments(message):
        found, taken = [], []
        for name in names:
            start = segment.find(name)
            while start >= 0:
                end = start + len(name)
                inside = any(lo <= start < hi for lo, hi in taken)
                rest = segment[end:]
                bounded = not rest or rest.startswith((" (", ":", ".", ","))
                key = key_before(segment, start)
                if not inside and bounded and key is not None:
                    found.append((start, by_name[name], key))
                    taken.append((start, end))
                start = segment.find(name, end)
        for _, mistake, key in sorted(found, key=lambda item: item[0]):
            add(mistake, key, mistake.name)
        if found:
            continue
        for match in _ORACLE_UNNAMED.finditer(segment):
            key = key_before(segment, match.start())
            if key and match.end() == len(segment):
                reason = match.group(0)
                if reason.startswith("different value"):
                    reason = "different value"
                add(None, key, reason)
                break
    return results


# Pieces of real findings and what could confuse a reader: keys, separators, the
# diagnoses' words, parentheses, digits, escape sequences, bidirectional overrides.
FRAGMENTS = [
    *sorted({m.name for m in CATALOGUE.values()})[::4],
    CATALOGUE["sign-flipped"].name, CATALOGUE["tanh-not-squared"].name,
    ": ", "; ", "\n", "- ", "dw3", "w[0, 2]", "loss", "different value", " (", ")",
    "(", "off by 0.0021, relative 1.5e-05", "missing from what ", " returned",
    "got NaN (", "got infinity (", "expected one number, got ", "expected ", "12",
    " values, got ", "list of 3", "x", ".", ",", "\x1b[2J", "\u202e", "\r", "٣",
]  # fmt: skip


@settings(max_examples=500, deadline=timedelta(seconds=2))
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40))
def test_recognise_reads_what_the_regular_expression_read(pieces):
    """On any mix of findings' pieces, the linear reader finds what the backtracking
    one found, in the same order, with the same labels."""
    message = "".join(pieces)
    assert recognise(message) == oracle_recognise(message)


@settings(max_examples=40, deadline=timedelta(seconds=10))
@given(
    st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=4),
    st.integers(min_value=1_000, max_value=60_000),
)
def test_recognise_is_linear_in_any_text(pieces, repeats):
    """Huge repetitive text (the issue's megabyte of "missing from what " took 138 s;
    612 KB 34 s) is read within the deadline per payload."""
    recognise("".join(pieces) * repeats)


def test_the_values_known_in_checks_name_catalogued_mistakes_by_number():
    """VALUES_IN_CHECKS (what `python -m grader mistake-entry` prints): each id is
    in the catalogue, each value a number or a list of numbers, as mistakes=."""
    for what, keys in catalogue.VALUES_IN_CHECKS.items():
        assert isinstance(what, str) and what
        for named in keys.values():
            for mistake_id, value in named.items():
                assert mistake_id in CATALOGUE, (what, mistake_id)
                assert np.asarray(value, dtype=float).ndim <= 1, (what, mistake_id)


def test_a_check_reads_the_values_the_catalogue_knows_for_its_title(monkeypatch):
    """The values under the check's what= name the mistake; another title's
    values are not read; the failure carries the title."""
    known = {
        "f(2)": {"x": {"hard-coded-output": 7.0}},
        "g(2)": {"x": {"w6-missing": 9.0}},
    }
    monkeypatch.setattr("backprop_helper.checks.VALUES_IN_CHECKS", known)
    for what, got, named in (
        ("f(2)", 7.0, "hard-coded-output"),
        ("g(2)", 7.0, None),
        ("g(2)", 9.0, "w6-missing"),
    ):
        with pytest.raises(CheckFailed) as failed:
            check_values({"x": got}, {"x": 2.0}, what=what, quiet=True)
        assert [found[1] for found in failed.value.found] == [named]
        assert failed.value.what == what
