"""`python -m grader mistake-entry OUT GROUP`: the catalogue entry for an unnamed
group, which, pasted into a copy of the course's mistakes.py, makes the check that
found the group name it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from grader.catalogue import mistakes_module
from grader.cli import main
from grader.course import COURSE, REPO
from grader.output.mistake_entry import check_entry, entry_values, mistake_entry
from grader.output.unnamed import Answer, group_answers, groups_json

from .pasting import paste_entry

OPT, BWD = "05_optimizers", "03_backward_propagation"
ADAM = "adam_update, 10 steps, lr=0.01, betas=(0.9, 0.999), eps=1e-08"
BACKWARD = "backward_propagation(X[5], y=1.386, random w, forward_dict)"
CATALOGUE = mistakes_module(COURSE.source_dir).CATALOGUE


def group_of(notebook, test, what, expected: dict, got: dict, students=("ada",)):
    """The one group of students who all got `got` where the check expected
    `expected` (keys as the findings write them: "w[3]" for elements)."""
    compared = tuple((key, expected[key], got[key]) for key in expected)
    wrong = tuple(key for key in expected if got[key] != expected[key])
    (group,) = group_answers(
        Answer(student, notebook, test, what, compared, wrong) for student in students
    )
    return group


W_EXPECTED = {f"w[{i}]": 0.1 * i - 0.3 for i in range(9)}
W_GOT = W_EXPECTED | {"w[1]": 0.25, "w[7]": -1.5}
ARRAY_GROUP = group_of(OPT, "test_adam", ADAM, W_EXPECTED, W_GOT, ("ada", "bob"))
SCALAR_GROUP = group_of(
    BWD, "test_backward_lower", BACKWARD,
    {"dw3": 0.0104, "dw4": -0.0048}, {"dw3": 0.0312, "dw4": -0.0048},
)  # fmt: skip


def test_an_arrays_value_is_every_element_in_order():
    """The check's mistakes= map takes a 1-D array's value whole."""
    assert entry_values(ARRAY_GROUP) == {"w": [W_GOT[f"w[{i}]"] for i in range(9)]}
    assert entry_values(SCALAR_GROUP) == {"dw3": 0.0312}


def test_the_entry_names_the_notebook_by_the_catalogues_constant():
    entry = mistake_entry(ARRAY_GROUP, COURSE, name="adam steps off")
    assert '    ("adam-1", OPT,' in entry
    assert '"adam steps off",' in entry
    assert all(len(line) <= 88 for line in entry.splitlines())


@pytest.mark.parametrize(
    ("group", "expected", "got"),
    [
        (ARRAY_GROUP, {"w": list(W_EXPECTED.values())}, {"w": list(W_GOT.values())}),
        (SCALAR_GROUP, {"dw3": 0.0104, "dw4": -0.0048},
         {"dw3": 0.0312 * (1 + 1e-12), "dw4": -0.0048}),
    ],
    ids=["array", "number"],
)  # fmt: skip
def test_pasted_into_the_catalogue_the_check_names_it(tmp_path, group, expected, got):
    """In a copy of the helper with the entry pasted, check_values called with the
    group's check title names the new mistake on the wrong key (float noise and
    all); before pasting it named nothing."""
    helper = tmp_path / "backprop_helper"
    shutil.copytree(COURSE.source_dir / "backprop_helper", helper)
    entry = mistake_entry(group, COURSE)

    def found() -> list:
        code = (
            "import json, sys; sys.path.insert(0, sys.argv[1]); "
            "from backprop_helper.checks import CheckFailed, check_values\n"
            "try:\n"
            "    check_values(json.loads(sys.argv[2]), json.loads(sys.argv[3]), "
            "what=sys.argv[4], quiet=True)\n"
            "except CheckFailed as error:\n"
            "    print(json.dumps([found[:2] for found in error.found]))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path), json.dumps(got),
             json.dumps(expected), group.what],
            capture_output=True, text=True, check=True, cwd=REPO,
        )  # fmt: skip
        return json.loads(done.stdout.splitlines()[-1])

    assert all(mistake_id is None for _, mistake_id in found())
    paste_entry(helper / "mistakes.py", entry)
    new_id = entry.split('    ("', 1)[1].split('"', 1)[0]
    assert {mistake_id for _, mistake_id in found()} == {new_id}


@pytest.mark.parametrize(
    ("mistake_id", "name", "why"),
    [
        ("sign-flipped", "a new name", "has an id"),
        ("Not A Slug", "a new name", "not a slug"),
        ("new-one", "dw3: tripled", "no ':' or ';'"),
        ("new-one", "the sign is flipped and more", "start alike"),
        ("new-one", "the sign", "start alike"),
    ],
)
def test_an_id_or_name_against_the_catalogues_rules_is_refused(mistake_id, name, why):
    module = mistakes_module(COURSE.source_dir)
    with pytest.raises(ValueError, match=why):
        check_entry(module, mistake_id, name)


def test_the_command_prints_the_entry_of_a_group_in_out(tmp_path, capsys):
    (tmp_path / "unnamed-mistakes.json").write_text(
        groups_json([ARRAY_GROUP, SCALAR_GROUP])
    )
    assert main(["mistake-entry", str(tmp_path), SCALAR_GROUP.group_id]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(
        "# unnamed-test_backward_lower-1: 1 student (ada),\n"
        "# found by test_backward_lower of 03_backward_propagation."
    )
    assert f'    "{BACKWARD}": {{\n        "dw3": {{"backward-lower-1": 0.0312}},' in (
        printed
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["unnamed-test_adam-9"], "has no group 'unnamed-test_adam-9'; it has: "
         "unnamed-test_adam-1, unnamed-test_backward_lower-1"),
        (["unnamed-test_adam-1", "--id", "sign-flipped"], "has an id 'sign-flipped'"),
    ],
)  # fmt: skip
def test_the_command_says_what_is_wrong(tmp_path, capsys, arguments, message):
    (tmp_path / "unnamed-mistakes.json").write_text(
        groups_json([ARRAY_GROUP, SCALAR_GROUP])
    )
    assert main(["mistake-entry", str(tmp_path), *arguments]) == 2
    assert message in capsys.readouterr().err


def test_the_command_on_a_folder_not_graded_says_to_grade_first(tmp_path, capsys):
    assert main(["mistake-entry", str(tmp_path), "unnamed-test_adam-1"]) == 2
    assert "grade the class into it first" in capsys.readouterr().err
