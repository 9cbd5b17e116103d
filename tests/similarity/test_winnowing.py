"""Normalized tokens and winnowed hashes: disguises leave them unchanged, a
long enough shared run always leaves a common winnowed hash, the hashes are the same
in every process, and hostile code (huge, odd, unparseable) is read in bounded time
without an error."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.course import REPO
from grader.similarity.answers import MAX_CODE_CHARS, answer_code, notebook_answers
from grader.similarity.copies import find_copies
from grader.similarity.tokens import normalized_tokens, source_lines
from grader.similarity.winnowing import (
    WINDOW,
    K,
    kept_positions,
    kgram_hashes,
    read_plain_batch,
    winnow,
    winnow_batch,
    winnow_batch_plain,
)

TIME = timedelta(seconds=5)
ORIGINAL = """\
def loss(prediction, target):
    # squared error
    difference = prediction - target
    return np.mean(difference ** 2) / 2.0
"""


@pytest.mark.parametrize(
    "disguised",
    [
        # renamed
        "def loss(p, t):\n    # squared error\n    d = p - t\n"
        "    return np.mean(d ** 2) / 2.0\n",
        # other literals, comments and layout
        "def loss(prediction, target):  # mine\n\n    difference = prediction-target"
        "\n    return np.mean(difference ** 3) / 4  # half\n",
    ],
)
def test_renamed_variables_literals_comments_and_layout_leave_the_tokens(disguised):
    assert normalized_tokens(disguised).words == normalized_tokens(ORIGINAL).words


def test_names_become_one_token_keywords_and_attributes_stay():
    words = normalized_tokens("for item in np.sort(values): total += f'{item}'").words
    assert words == ["for", "V", "in", "V", ".", "sort", "(", "V", ")", ":",
                     "V", "+=", "S"]  # fmt: skip


def test_tokens_keep_their_lines():
    tokens = normalized_tokens("a = 1\n\n# note\nb = (2 +\n     3)\n")
    assert tokens.lines == [1, 1, 1, 4, 4, 4, 4, 4, 5, 5]


def test_code_the_tokenizer_cannot_read_is_split_all_the_same():
    tokens = normalized_tokens("x = 1\ny = '''never closed\nz = w + 2\n")
    assert tokens.words[:3] == ["V", "=", "N"]
    assert "+" in tokens.words and tokens.lines[-1] == 3


@settings(max_examples=200, deadline=TIME)
@given(
    st.lists(st.sampled_from(["V", "=", "+", "(", ")", "N", "S", ".", "exp"]),
             min_size=K + WINDOW - 1, max_size=40),
    st.lists(st.sampled_from(["V", "-", "N", "*", "[", "]"]), max_size=30),
    st.lists(st.sampled_from(["if", "V", ":", "N", "/"]), max_size=30),
)  # fmt: skip
def test_a_shared_run_of_k_plus_window_minus_one_tokens_shares_a_hash(
    shared, before, after
):
    """Winnowing's guarantee: the run's own windows select the same hashes."""
    first = kgram_hashes(before + shared + after)
    second = kgram_hashes(after + shared + before)
    kept_first = set(first[kept_positions(first)].tolist())
    kept_second = set(second[kept_positions(second)].tolist())
    assert kept_first & kept_second


def test_every_window_keeps_a_hash_and_each_once():
    hashes = kgram_hashes(normalized_tokens(ORIGINAL * 3).words)
    kept = kept_positions(hashes)
    assert len(set(kept.tolist())) == len(kept)
    for start in range(len(hashes) - WINDOW + 1):
        assert set(range(start, start + WINDOW)) & set(kept.tolist())


def test_the_hashes_are_the_same_in_another_process():
    """Python's own hash() of a string changes with PYTHONHASHSEED: winnowed hashes
    made on a Dask worker must meet the coordinator's."""
    script = (
        "import json, sys; from grader.similarity.winnowing import winnow;"
        "print(json.dumps(winnow(sys.stdin.read()).hashes.tolist()))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], input=ORIGINAL, capture_output=True,
        text=True, cwd=REPO, env={"PYTHONHASHSEED": "12345", "PATH": ""},
        check=True,
    )  # fmt: skip
    assert json.loads(done.stdout) == winnow(ORIGINAL).hashes.tolist()


def test_winnowed_hashes_know_the_lines_they_come_from():
    prints = winnow(ORIGINAL)
    assert len(prints.hashes) > 0
    assert (prints.first_lines <= prints.last_lines).all()
    assert prints.first_lines.min() >= 1 and prints.last_lines.max() <= 4


def test_code_shorter_than_a_kgram_has_no_winnowed_hash():
    assert len(winnow("x = 1").hashes) == 0
    assert len(winnow("").hashes) == 0


# --- hostile code ---------------------------------------------------------------------

ODD = st.one_of(
    st.text(max_size=3000),
    st.text(alphabet="'\"\\#([{}])\n\t :=.0123456789abcdef_\x00\u202e$!%",
            max_size=3000),
)  # fmt: skip


@settings(max_examples=300, deadline=TIME)
@given(ODD)
def test_any_text_is_tokenized_and_winnowed(code):
    tokens = normalized_tokens(code)
    assert len(tokens.words) == len(tokens.lines)
    assert all(1 <= line <= len(source_lines(code)) for line in tokens.lines)
    prints = winnow(code)
    assert prints.hashes.dtype == np.uint64


HUGE = {
    "brackets": "x = (" * 50_000,
    "quotes": "'" * 40_000,
    "open-string": '"""' + "a\n" * 20_000,
    "deep-indent": "if x:\n" + "".join(" " * n + "if y:\n" for n in range(1, 2000)),
    "long-name": "a" * 40_000,
    "joins": "\\\n" * 20_000,
    "nul-and-bidi": "x\x00 = \u202e1\n" * 5_000,
}


@settings(max_examples=len(HUGE), deadline=TIME)
@given(st.sampled_from(sorted(HUGE)))
def test_huge_and_unreadable_cells_are_read_within_the_deadline(name):
    prints = winnow(HUGE[name][:MAX_CODE_CHARS])
    assert len(prints.hashes) == len(prints.first_lines)


@settings(max_examples=100, deadline=TIME)
@given(st.lists(ODD, min_size=2, max_size=4))
def test_a_class_of_hostile_code_gives_similarities_between_0_and_1(texts):
    code = {f"s{n}": {"01_sigmoid": text} for n, text in enumerate(texts)}
    report = find_copies(code, np.empty(0, dtype=np.uint64))
    assert all(0 <= pair.similarity <= 1 for pair in report.pairs)


def notebook(cells: object) -> dict:
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def answer(grade_id: object, source: object, cell_type: str = "code") -> dict:
    return {
        "cell_type": cell_type,
        "metadata": {"nbgrader": {"grade_id": grade_id, "solution": True}},
        "source": source,
    }


def test_only_answer_cells_count_and_magics_are_dropped():
    cells = [
        answer("sigmoid", ["%timeit f()\n", "def f():\n", "    return 1\n"]),
        answer("other", "x = 2"),
        answer("sigmoid_derivative", "y = 3", cell_type="markdown"),
        answer("sigmoid_derivative", "!pip install x\nz = 4"),
    ]
    code = answer_code(cells, ["sigmoid", "sigmoid_derivative"])
    assert code == "def f():\n    return 1\n\nz = 4"


@settings(max_examples=200, deadline=TIME)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=50),
        lambda inner: st.lists(inner, max_size=5)
        | st.dictionaries(st.sampled_from(["cells", "cell_type", "metadata",
                                           "nbgrader", "grade_id", "source"]),
                          inner, max_size=5),
        max_leaves=40,
    )
)  # fmt: skip
def test_any_notebook_structure_gives_text(cells):
    assert isinstance(answer_code(cells, ["sigmoid"]), str)
    assert isinstance(answer_code(notebook(cells)["cells"], ["sigmoid"]), str)


def test_a_file_that_is_not_a_notebook_has_no_answer_code(tmp_path):
    cases = {
        "missing.ipynb": None,
        "garbage.ipynb": b"\xff\xfe not json",
        "deep.ipynb": b"[" * 100_000 + b"]" * 100_000,
        "list.ipynb": b"[1, 2, 3]",
        "huge-cell.ipynb": json.dumps(
            notebook([answer("sigmoid", "x = 1\n" * 100_000)])
        ).encode(),
    }
    for name, content in cases.items():
        if content is not None:
            (tmp_path / name).write_bytes(content)
    found = {name: notebook_answers(tmp_path / name, ["sigmoid"]) for name in cases}
    assert found["huge-cell.ipynb"] == ("x = 1\n" * 100_000)[:MAX_CODE_CHARS]
    assert {
        name: text for name, text in found.items() if name != "huge-cell.ipynb"
    } == {name: "" for name in cases if name != "huge-cell.ipynb"}


BATCH = [
    ("ada", {"01_sigmoid": "def f(z):\n    return 1 / (1 + np.exp(-z))\n" * 3}),
    ("bob", {"01_sigmoid": "x = 1\n", "02_forward_propagation": "y = [*x]\n"}),
]


def test_a_batch_crosses_as_plain_data_and_reads_back_the_same():
    """What a worker sends is bytes, strings and lists only, and reads back as the
    winnowed hashes made here."""
    plain = winnow_batch_plain(BATCH)
    assert json.dumps(plain, default=lambda part: part.hex())  # nothing but data
    read = read_plain_batch(BATCH, plain)
    for (student, got), (same, made) in zip(read, winnow_batch(BATCH), strict=True):
        assert student == same and set(got) == set(made)
        for stem in made:
            assert np.array_equal(got[stem].hashes, made[stem].hashes)
            assert np.array_equal(got[stem].first_lines, made[stem].first_lines)


FORGED = [
    None, [], [["ada", {}]], [["bob", {}], ["ada", {}]],
    [["ada", {"05_optimizers": [b"", b"", b""]}], ["bob", {}]],
    [["ada", {"01_sigmoid": [b"1234567", b"", b""]}], ["bob", {}]],
    [["ada", {"01_sigmoid": [b"\0" * 8, b"\0" * 4, b""]}], ["bob", {}]],
    [["ada", {"01_sigmoid": [b"\0" * 8 * 10**4, b"\0" * 4 * 10**4,
                             b"\0" * 4 * 10**4]}], ["bob", {}]],
    [["ada", {"01_sigmoid": "not bytes"}], ["bob", {}]],
]  # fmt: skip


@pytest.mark.parametrize("plain", FORGED)
def test_what_is_not_the_batchs_hashes_is_refused(plain):
    """Another batch's students, a notebook not handed in, lengths that do not
    match, more hashes than the code has characters, odd types: ValueError (the
    batch is then made on the coordinator)."""
    with pytest.raises(ValueError):
        read_plain_batch(BATCH, plain)


PLAIN_VALUES = st.recursive(
    st.none() | st.integers() | st.binary(max_size=64) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["01_sigmoid", "x"]), inner, max_size=3)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=TIME)
@given(PLAIN_VALUES)
def test_any_reply_is_read_or_refused_with_value_error(plain):
    try:
        read_plain_batch(BATCH, plain)
    except ValueError:
        pass
