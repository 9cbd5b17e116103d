"""End to end through `python -m grader grade` / grade_class: what the instructor gets.

Each class below is graded once (grading is slow) and shared by the tests:
- the sample class (grader.demo.sample_class) through the command line, once per
  session (tests/conftest.py's sample_class), then once more in-process with the same
  OUT (nothing is graded again), then a copy with one student's notebook changed
  (only that student is graded again);
- a class interrupted after its first (second) student and started again;
- an "edge" class: deleted and duplicated graded cells, a cell that ignores interrupts;
- flat LMS/Colab file names, and unusable SUBMISSIONS folders (exit code 2).
Expected scores come from the inputs: which test cells a planted mistake fails, and
the points of each test cell in source/backprop.
"""

from __future__ import annotations

import copy
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter

from grader.course import ASSIGNMENT, COURSE, NOTEBOOKS, SOURCE_DIR
from grader.demo.sample_class import colab_download, notebook_bytes
from grader.demo.submissions import answer_cells, solved, with_edits
from grader.grading.grade import grade_class
from grader.model import (
    GRADES_COLUMNS,
    TESTS_COLUMNS,
    ClassResults,
    InputError,
    Limits,
    Status,
)
from tests.support import (
    SAMPLE_LIMITS,
    GradedSample,
    course_stamp,
    gradebook_submissions,
    hidden_test_lines,
    html_text,
    lines_found,
    nbgrader_export,
    read_csv,
    run_cli,
    snapshot,
    state_mtimes,
    write_notebook,
)

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
SIG, FWD, BWD, GC, OPT = NOTEBOOKS
MAX_POINTS = {SIG: 4, FWD: 5, BWD: 6, GC: 4, OPT: 10}
GRADED = (
    Status.OK,
    Status.TIMEOUT,
    Status.KERNEL_DIED,
)  # statuses of notebooks nbgrader ran
EDGE_LIMITS = Limits(cell_timeout=10, notebook_timeout=25)
SMALL_LIMITS = Limits(cell_timeout=15, notebook_timeout=30)
SIGMOID_SIGN = ("np.exp(-np.asarray", "np.exp(np.asarray")


# --- what the source notebooks say ----------------------------------------------------


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def source_tests(stem: str) -> dict[str, float]:
    """grade_id -> points of each graded cell of a source notebook, in cell order."""
    notebook = nbformat.read(SOURCE_DIR / f"{stem}.ipynb", as_version=4)
    return {
        _grade_id(cell): float(cell.metadata["nbgrader"]["points"])
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("grade")
    }


# --- small helpers --------------------------------------------------------------------


def skip_if_course_changed(out: Path, before: str) -> None:
    """Everything is graded again when source/ changes (others may edit it)."""
    if course_stamp(out) != before:
        pytest.skip("source/backprop changed while the tests ran: all was regraded")


def by_key(results: ClassResults) -> dict[tuple[str, str], object]:
    return {(grade.student, grade.notebook): grade for grade in results.grades}


def scratch_folders(out: Path, temp: Path) -> list[str]:
    """Students' private courses left behind: in OUT (none is ever made there) or
    in the run's temp folder (each is removed when its student is done): the test's
    own temp folder, where no other run on the machine works."""
    work = out / ".grader" / "work"
    left = sorted(path.name for path in work.iterdir()) if work.exists() else []
    found = [p.name for p in temp.glob("grader-student-*")]
    for run in temp.glob("grader-run-*-*"):
        found += [p.name for p in run.glob("grader-student-*")]
    return left + sorted(found)


# --- the sample class: what each row must be ------------------------------------------

STUDENTS = ("ada", "alan", "barbara", "grace", "katherine", "linus", "margaret")

# Statuses other than ok, from what sample_class planted.
STATUS = {
    ("alan", BWD): Status.UNREADABLE,  # cut off half-way: broken JSON
    ("alan", GC): Status.KERNEL_DIED,  # os._exit(1) in gradient_checking
    ("alan", OPT): Status.MISSING,
    ("barbara", OPT): Status.TIMEOUT,  # while True: pass at the top of the updates cell
    ("linus", GC): Status.MISSING,
    ("linus", OPT): Status.MISSING,
    ("margaret", GC): Status.MISSING,
    ("margaret", OPT): Status.MISSING,
}
# The test cells each planted mistake fails (every check is all-or-nothing).
FAILS = {
    # sign flipped in sigmoid; sigmoid_derivative is graded with a correct sigmoid
    ("grace", SIG): {"test_sigmoid_values", "test_sigmoid_arrays"},
    ("grace", BWD): {"test_backward_lower"},  # dw3 sign: its branch only
    ("grace", OPT): {"test_adam"},  # no bias correction by t
    ("katherine", FWD): {"test_forward_values"},  # no square
    ("linus", BWD): {"test_backward_upper"},  # 1 - tanh
    ("alan", GC): {"test_gradient_checking_values", "test_gradient_checking_w"},
    # the endless loop comes before the three update functions; the momentum
    # question is a separate answer cell further down
    ("barbara", OPT): {"test_vanilla", "test_momentum", "test_adam"},
}
MARGARET_SOURCES = {
    SIG: f"margaret/Copy of {SIG}.ipynb",
    FWD: f"margaret/{FWD} (1).ipynb",
    BWD: f"margaret/{BWD}.ipynb",
}
COLAB_REPAIRS = ("Colab metadata removed", "widget state removed", "nbformat 4.0")


def expected_status(student: str, stem: str) -> str:
    return STATUS.get((student, stem), Status.OK)


def expected_score(student: str, stem: str) -> float:
    if expected_status(student, stem) not in GRADED:
        return 0.0
    tests = source_tests(stem)
    return sum(tests.values()) - sum(tests[t] for t in FAILS.get((student, stem), ()))


def expected_source(student: str, stem: str) -> str:
    if expected_status(student, stem) == Status.MISSING:
        return ""
    if student == "katherine":
        return f"lms_download.zip:katherine_{stem}.ipynb"
    if student == "margaret":
        return MARGARET_SOURCES[stem]
    return f"{student}/{stem}.ipynb"


SAMPLE_KEYS = [(student, stem) for student in STUDENTS for stem in NOTEBOOKS]


@pytest.fixture(scope="module")
def sample(sample_class) -> GradedSample:
    """The sample class graded through the command line (once per session)."""
    return sample_class


@pytest.fixture(scope="module")
def rerun(sample) -> ClassResults:
    """grade_class again on the same SUBMISSIONS and OUT, same limits."""
    results = grade_class(
        sample.submissions, sample.out, course=COURSE, workers=2,
        limits=SAMPLE_LIMITS, progress=False,
    ).results  # fmt: skip
    skip_if_course_changed(sample.out, sample.stamp)
    return results


@pytest.fixture(scope="module")
def grades(sample) -> dict[tuple[str, str], dict[str, str]]:
    """grades.csv of the command-line run, by (student, notebook)."""
    _, rows = read_csv(sample.out / "grades.csv")
    return {(row["student"], row["notebook"]): row for row in rows}


@pytest.fixture(scope="module")
def tests_rows(sample) -> list[dict[str, str]]:
    return read_csv(sample.out / "tests.csv")[1]


def test_source_notebooks_are_worth_the_points_the_tests_expect():
    """The expectations below assume these totals per notebook."""
    assert {stem: sum(source_tests(stem).values()) for stem in NOTEBOOKS} == MAX_POINTS


def test_sample_class_is_the_one_described(sample):
    """The sample class still has the seven students these tests expect."""
    assert sorted(sample.about) == sorted(STUDENTS)


def test_grades_csv_starts_with_the_contract_columns(sample):
    """grades.csv begins student,notebook,score,max_score,status (more may follow)."""
    header, _ = read_csv(sample.out / "grades.csv")
    assert header[:5] == ["student", "notebook", "score", "max_score", "status"]
    assert tuple(header) == GRADES_COLUMNS


def test_grades_csv_has_one_row_per_student_and_released_notebook(sample):
    """7 students × 5 notebooks, each pair exactly once, missing ones included."""
    _, rows = read_csv(sample.out / "grades.csv")
    keys = [(row["student"], row["notebook"]) for row in rows]
    assert len(keys) == len(set(keys)) == len(STUDENTS) * len(NOTEBOOKS)
    assert set(keys) == set(SAMPLE_KEYS)


@pytest.mark.parametrize(("student", "stem"), SAMPLE_KEYS)
def test_sample_class_row(grades, student, stem):
    """Each row's score, max_score, status and source follow from the planted input."""
    row = grades[(student, stem)]
    assert row["status"] == expected_status(student, stem)
    assert float(row["score"]) == expected_score(student, stem)
    assert float(row["max_score"]) == MAX_POINTS[stem]
    assert row["source"] == expected_source(student, stem)
    graded = expected_status(student, stem) in GRADED
    assert row["feedback"] == (f"feedback/{student}/{stem}.html" if graded else "")


@pytest.mark.parametrize(
    ("student", "stem", "words"),
    [
        ("alan", BWD, "JSON"),
        ("alan", GC, "kernel died"),
        ("alan", GC, "check_gradient_checking"),  # the cell that crashed
        ("alan", OPT, "no file"),
        ("barbara", OPT, f"{SAMPLE_LIMITS.cell_timeout} s cell limit in updates"),
        ("linus", GC, "no file"),
    ],
)
def test_detail_says_why_a_notebook_lost_points(grades, student, stem, words):
    """The detail column names the cause of a status other than ok."""
    assert words in grades[(student, stem)]["detail"]


@pytest.mark.parametrize("stem", sorted(MARGARET_SOURCES))
def test_colab_downloads_are_graded_with_their_repairs_named(grades, stem):
    """Margaret's renamed Colab files: ok, full marks, the repairs in detail."""
    row = grades[("margaret", stem)]
    assert (row["status"], float(row["score"])) == (Status.OK, MAX_POINTS[stem])
    for repair in COLAB_REPAIRS:
        assert repair in row["detail"]


def test_clean_notebooks_have_no_detail(grades):
    """An ok row has an empty detail unless something was repaired (Colab)."""
    for (student, stem), row in grades.items():
        if row["status"] == Status.OK and student != "margaret":
            assert row["detail"] == "", (student, stem)


def test_a_function_that_kills_its_kernel_scores_zero_saying_so(tests_rows):
    """alan's 04: gradient_checking calls os._exit; each graded test, run in a
    kernel started again, scores 0 and says the kernel died while it ran."""
    rows = [r for r in tests_rows if (r["student"], r["notebook"]) == ("alan", GC)]
    assert [r["test"] for r in rows] == list(source_tests(GC))
    for row in rows:
        assert float(row["points"]) == 0
        assert "the kernel died" in row["message"] or "not run" in row["message"]


def test_endless_loop_keeps_the_credit_of_later_independent_cells(tests_rows):
    """barbara's 05 timed out in `updates`, yet the momentum question still scores."""
    rows = {
        r["test"]: float(r["points"])
        for r in tests_rows
        if (r["student"], r["notebook"]) == ("barbara", OPT)
    }
    assert rows["test_momentum_question"] == source_tests(OPT)["test_momentum_question"]
    assert rows["test_vanilla"] == rows["test_momentum"] == rows["test_adam"] == 0


def test_unmapped_readme_is_reported(rerun, sample):
    """readme.txt in the LMS zip is listed as unmapped, by the API and the CLI."""
    assert [item.source for item in rerun.unmapped] == ["lms_download.zip:readme.txt"]
    assert "lms_download.zip:readme.txt" in sample.result.stdout


def test_zip_submission_is_graded_from_the_zip(rerun):
    """katherine exists only inside lms_download.zip and is graded from it."""
    rows = [g for g in rerun.grades if g.student == "katherine"]
    assert [g.notebook for g in rows] == list(NOTEBOOKS)
    assert all(g.source.startswith("lms_download.zip:katherine_") for g in rows)
    assert all(g.status == Status.OK for g in rows)


# --- tests.csv ------------------------------------------------------------------------


def test_tests_csv_columns(sample):
    """tests.csv: student,notebook,test,points,max_points,message."""
    header, _ = read_csv(sample.out / "tests.csv")
    assert tuple(header) == TESTS_COLUMNS


def test_tests_csv_has_one_row_per_graded_test_cell(tests_rows):
    """One row per student × test cell of every notebook nbgrader ran, in cell order."""
    expected = [
        (student, stem, test)
        for student, stem in SAMPLE_KEYS
        if expected_status(student, stem) in GRADED
        for test in source_tests(stem)
    ]
    got = [(r["student"], r["notebook"], r["test"]) for r in tests_rows]
    assert got == expected


def test_tests_csv_points(tests_rows):
    """Each test scores all its points or none, as the planted mistakes say."""
    for row in tests_rows:
        key, test = (row["student"], row["notebook"]), row["test"]
        max_points = source_tests(row["notebook"])[test]
        assert float(row["max_points"]) == max_points
        assert float(row["points"]) == (0 if test in FAILS.get(key, ()) else max_points)


def test_tests_csv_has_a_message_exactly_when_points_were_lost(tests_rows):
    for row in tests_rows:
        lost = float(row["points"]) < float(row["max_points"])
        assert bool(row["message"].strip()) == lost, row


def test_tests_csv_adds_up_to_grades_csv(tests_rows, grades):
    """The points of a notebook's tests sum to its score in grades.csv."""
    sums: dict[tuple[str, str], float] = {}
    for row in tests_rows:
        key = (row["student"], row["notebook"])
        sums[key] = sums.get(key, 0.0) + float(row["points"])
    for key, row in grades.items():
        assert sums.get(key, 0.0) == float(row["score"]), key


# --- feedback -------------------------------------------------------------------------


def test_feedback_exists_exactly_for_graded_notebooks(sample):
    """OUT/feedback/<student>/<notebook>.html for every notebook nbgrader ran, and
    the student's own page, index.html, for every student."""
    expected = {
        f"{student}/{stem}.html"
        for student, stem in SAMPLE_KEYS
        if expected_status(student, stem) in GRADED
    }
    folder = sample.out / "feedback"
    found = {str(page.relative_to(folder)) for page in folder.rglob("*.html")}
    indexes = {f"{student}/index.html" for student, _ in SAMPLE_KEYS}
    assert found == expected | indexes


@pytest.mark.parametrize(
    ("student", "stem", "words"),
    [
        ("grace", SIG, "the sign in exp is flipped"),
        ("grace", BWD, "dw3: the sign is flipped"),
        ("katherine", FWD, "loss: the square is missing"),
        ("linus", BWD, "1 − tanh instead of 1 − tanh²"),
        ("alan", GC, "the kernel died"),
    ],
)
def test_feedback_shows_the_failing_checks_message(sample, student, stem, words):
    page = (sample.out / "feedback" / student / f"{stem}.html").read_text()
    assert words in html_text(page)


@pytest.mark.parametrize("stem", sorted(MARGARET_SOURCES))
def test_feedback_of_a_repaired_notebook_has_the_graders_notes(sample, stem):
    text = html_text(
        (sample.out / "feedback" / "margaret" / f"{stem}.html").read_text()
    )
    assert "Notes from the grader" in text
    assert "Colab metadata removed" in text


def test_feedback_of_an_untouched_notebook_has_no_notes(sample):
    text = html_text((sample.out / "feedback" / "ada" / f"{SIG}.html").read_text())
    assert "Notes from the grader" not in text


def test_hidden_test_detector_finds_hidden_code_in_html(sample):
    """The leak check below works: it finds hidden lines in HTML that has them.

    The autograded notebook holds the hidden tests (nbgrader restores them); exported
    to HTML like the feedback is, the detector finds them there, and it finds the
    student's own code in the real feedback.
    """
    lines = hidden_test_lines()
    assert len(lines) > 50
    autograded = sample.out / "autograded" / "ada" / ASSIGNMENT / f"{SIG}.ipynb"
    page, _ = HTMLExporter().from_filename(str(autograded))
    assert len(lines_found(html_text(page), lines)) > 10
    feedback = html_text((sample.out / "feedback" / "ada" / f"{SIG}.html").read_text())
    answer = answer_cells(SIG)["sigmoid"].splitlines()
    returns = next(line.strip() for line in answer if "return " in line)
    assert returns in feedback


def hidden_lines_in_feedback(out: Path) -> list[tuple[str, str]]:
    """(page, line) for every computing line of a hidden test in OUT's feedback."""
    lines = hidden_test_lines()
    return [
        (str(page), line)
        for page in (out / "feedback").rglob("*.html")
        for line in lines_found(html_text(page.read_text()), lines)
    ]


def test_feedback_shows_no_line_of_any_hidden_test(sample):
    """No computing line of a hidden test appears in any feedback page."""
    assert len(list((sample.out / "feedback").rglob("*.html"))) > 25
    assert hidden_lines_in_feedback(sample.out) == []


def test_restored_test_cells_show_no_line_of_any_hidden_test(edge):
    """Nor in the edge class's (a test cell restored by nbgrader comes from the
    source notebook, hidden tests included)."""
    assert len(list((edge.out / "feedback").rglob("*.html"))) >= 7
    assert hidden_lines_in_feedback(edge.out) == []


# --- inputs, CLI output, gradebook ----------------------------------------------------


def test_submissions_are_never_modified(sample, rerun):
    """sha256 and mtime of every input file are the same after two runs."""
    assert snapshot(sample.submissions) == sample.inputs_before


def test_cli_prints_the_summary_table(sample):
    """One line per student: the score or the status word per notebook, the total."""
    lines = {}
    for line in sample.result.stdout.splitlines():
        words = line.split()
        if words and words[0] in STUDENTS:
            lines[words[0]] = words
    for student in STUDENTS:
        cells = [
            f"{expected_score(student, stem):g}"
            if expected_status(student, stem) == Status.OK
            else expected_status(student, stem)
            for stem in NOTEBOOKS
        ]
        total = sum(expected_score(student, stem) for stem in NOTEBOOKS)
        assert lines[student] == [student, *cells, f"{total:g}"]


def test_cli_prints_where_the_outputs_are(sample):
    for name in ("grades.csv", "tests.csv", "report.html", "gradebook.db"):
        assert name in sample.result.stdout
    assert str(sample.out / "grades.csv") in sample.result.stdout
    assert str(sample.out / "feedback") in sample.result.stdout
    assert (sample.out / "report.html").exists()


def test_nbgrader_export_works_in_out_and_matches_grades_csv(sample, grades, tmp_path):
    """`nbgrader export` in (a copy of) OUT: one row per student, totals equal
    grades.csv."""
    out = tmp_path / "out"
    shutil.copytree(sample.out, out, symlinks=True)
    before = (out / "grades.csv").read_bytes()
    rows = nbgrader_export(out)
    assert (out / "grades.csv").read_bytes() == before
    assert sorted(row["student_id"] for row in rows) == sorted(STUDENTS)
    for row in rows:
        student = row["student_id"]
        mine = [r for (s, _), r in grades.items() if s == student]
        assert float(row["score"]) == sum(float(r["score"]) for r in mine)
        assert float(row["max_score"]) == sum(MAX_POINTS.values())


def test_gradebook_has_one_submission_per_student(sample):
    assert gradebook_submissions(sample.out) == sorted(STUDENTS)


def test_no_scratch_folder_is_left_after_a_complete_run(sample):
    """The per-student nbgrader courses (temporary folders) are removed."""
    assert scratch_folders(sample.out, sample.temp) == []


@pytest.mark.parametrize("student", STUDENTS)
def test_nbgraders_log_of_each_graded_student_is_kept(sample, student):
    """OUT/.grader/logs/<student>.log: what nbgrader said while grading them."""
    log = (sample.out / ".grader" / "logs" / f"{student}.log").read_text()
    assert f"Creating/updating student with ID '{student}'" in log


# --- running again --------------------------------------------------------------------


def test_rerun_with_the_same_out_grades_nothing_again(sample, rerun):
    """Same inputs, same OUT: no state file rewritten, the same results (how long a
    re-run takes is measured by benchmarks/grading_speed.py)."""
    assert state_mtimes(sample.out) == sample.states
    assert sorted(sample.states) == sorted(STUDENTS)
    assert (sample.out / "grades.csv").read_bytes() == sample.grades_csv
    assert (sample.out / "tests.csv").read_bytes() == sample.tests_csv
    got = {(g.student, g.notebook): (g.score, g.status) for g in rerun.grades}
    assert got == {
        key: (expected_score(*key), expected_status(*key)) for key in SAMPLE_KEYS
    }


def test_changing_one_notebook_regrades_only_that_student(sample, rerun, tmp_path):
    """linus fixes dw7 in 03: only his state file changes and he gets the points."""
    submissions, out = tmp_path / "class", tmp_path / "out"
    shutil.copytree(sample.submissions, submissions)
    shutil.copytree(sample.out, out)
    before = state_mtimes(out)
    write_notebook(submissions / "linus" / f"{BWD}.ipynb", solved(BWD))
    results = grade_class(
        submissions, out, course=COURSE, workers=2, limits=SAMPLE_LIMITS,
        progress=False,
    ).results  # fmt: skip
    skip_if_course_changed(out, sample.stamp)
    after = state_mtimes(out)
    changed = sorted(s for s in before if after[s] != before[s])
    assert changed == ["linus"]
    got = by_key(results)
    assert (got[("linus", BWD)].score, got[("linus", BWD)].status) == (6, Status.OK)
    for key in SAMPLE_KEYS:
        if key != ("linus", BWD):
            assert got[key].score == expected_score(*key), key
    _, rows = read_csv(out / "grades.csv")
    linus = next(r for r in rows if (r["student"], r["notebook"]) == ("linus", BWD))
    assert float(linus["score"]) == 6
    assert gradebook_submissions(out) == sorted(STUDENTS)


# --- interrupted and started again ----------------------------------------------------

SMALL = {  # student -> (01_sigmoid as handed in, its expected score)
    "s1": (lambda: solved(SIG), 4.0),
    "s2": (lambda: with_edits(SIG, "sigmoid", SIGMOID_SIGN), 1.0),
    "s3": (lambda: solved(SIG), 4.0),
    "s4": (lambda: with_edits(SIG, "sigmoid", SIGMOID_SIGN), 1.0),
}


@pytest.mark.parametrize("after", [1, 2])
def test_interrupted_run_finishes_every_student_exactly_once(tmp_path, own_temp, after):
    """Ctrl-C after N students, then run again: each student graded once, nothing
    duplicated, no scratch folders left, the same grades as a clean run."""
    submissions, out = tmp_path / "class", tmp_path / "out"
    for student, (build, _) in SMALL.items():
        write_notebook(submissions / student / f"{SIG}.ipynb", build())
    first: list[str] = []

    def interrupt(student: str) -> None:
        first.append(student)
        if len(first) == after:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        grade_class(
            submissions, out, course=COURSE, workers=2, limits=SMALL_LIMITS,
            progress=False, on_student_done=interrupt,
        )  # fmt: skip
    assert len(first) == after
    assert sorted(state_mtimes(out)) == sorted(first)
    assert set(scratch_folders(out, own_temp)) & set(first) == set()
    saved = state_mtimes(out)

    second: list[str] = []
    results = grade_class(
        submissions, out, course=COURSE, workers=2, limits=SMALL_LIMITS,
        progress=False, on_student_done=second.append,
    ).results  # fmt: skip
    assert sorted(first + second) == sorted(SMALL)
    assert {s: state_mtimes(out)[s] for s in saved} == saved
    expected = {
        (student, stem): (
            score if stem == SIG else 0.0,
            Status.OK if stem == SIG else Status.MISSING,
        )
        for student, (_, score) in SMALL.items()
        for stem in NOTEBOOKS
    }
    got = {(g.student, g.notebook): (g.score, g.status) for g in results.grades}
    assert got == expected, [g.detail for g in results.grades]
    _, rows = read_csv(out / "grades.csv")
    keys = [(row["student"], row["notebook"]) for row in rows]
    assert sorted(keys) == sorted(expected)
    assert gradebook_submissions(out) == sorted(SMALL)
    assert gradebook_submissions(out) == sorted(SMALL)
    assert scratch_folders(out, own_temp) == []


# --- deleted and duplicated graded cells, a cell that ignores interrupts --------------


def _without(notebook, grade_id: str):
    notebook.cells = [cell for cell in notebook.cells if _grade_id(cell) != grade_id]
    return notebook


def _duplicated(notebook, grade_id: str):
    index = [_grade_id(cell) for cell in notebook.cells].index(grade_id)
    twin = copy.deepcopy(notebook.cells[index])
    twin["id"] = f"{grade_id}-copy"  # Jupyter gives a copied cell a new id
    notebook.cells.insert(index, twin)
    return notebook


IGNORES_INTERRUPTS = (
    "import signal\n\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    "while True:\n    pass\n\n"
)
EDGE = {  # student -> {notebook: builder}
    # test_sigmoid_arrays follows another graded cell
    "restored": {SIG: lambda: _without(solved(SIG), "test_sigmoid_arrays")},
    "restoredwrong": {
        SIG: lambda: _without(
            with_edits(SIG, "sigmoid", SIGMOID_SIGN), "test_sigmoid_arrays"
        )
    },
    # test_sigmoid_values follows the read-only check_sigmoid cell
    "restoredfirst": {SIG: lambda: _without(solved(SIG), "test_sigmoid_values")},
    "duplicated": {
        SIG: lambda: _duplicated(solved(SIG), "sigmoid"),
        FWD: lambda: solved(FWD),
    },
    "sigign": {
        SIG: lambda: solved(
            SIG,
            {
                "sigmoid_derivative": IGNORES_INTERRUPTS
                + answer_cells(SIG)["sigmoid_derivative"]
            },
        ),
        FWD: lambda: solved(FWD),
    },
}


@dataclass
class EdgeRun:
    out: Path
    grades: dict[tuple[str, str], object]


@pytest.fixture(scope="module")
def edge(tmp_path_factory) -> EdgeRun:
    root = tmp_path_factory.mktemp("edge")
    submissions, out = root / "class", root / "out"
    for student, notebooks in EDGE.items():
        for stem, build in notebooks.items():
            write_notebook(submissions / student / f"{stem}.ipynb", build())
    results = grade_class(
        submissions, out, course=COURSE, workers=2, limits=EDGE_LIMITS, progress=False
    ).results
    return EdgeRun(out, by_key(results))


def _tests(grade) -> dict[str, float]:
    return {test.test: test.points for test in grade.tests}


def test_deleted_test_cell_is_restored_and_earns_its_points(edge):
    """nbgrader puts the deleted test back and runs it: a right answer scores it."""
    grade = edge.grades[("restored", SIG)]
    assert (grade.score, grade.max_score, grade.status) == (4, 4, Status.OK)
    assert _tests(grade) == source_tests(SIG)
    assert "deleted graded cells were restored: test_sigmoid_arrays" in grade.detail
    page = html_text((edge.out / grade.feedback).read_text())
    assert "Notes from the grader" in page
    assert "restored: test_sigmoid_arrays" in page


def test_restored_test_cell_is_run_not_given(edge):
    """A restored test fails a wrong answer like any other test: 0 for it."""
    grade = edge.grades[("restoredwrong", SIG)]
    assert (grade.score, grade.status) == (1, Status.OK)
    tests = _tests(grade)
    assert tests["test_sigmoid_arrays"] == 0
    assert tests["test_sigmoid_values"] == 0
    assert tests["test_sigmoid_derivative"] == 1


def test_deleted_first_test_cell_is_restored(edge):
    """test_sigmoid_values follows a read-only cell; it is restored all the same."""
    grade = edge.grades[("restoredfirst", SIG)]
    assert (grade.score, grade.max_score, grade.status) == (4, 4, Status.OK)
    assert "deleted graded cells were restored: test_sigmoid_values" in grade.detail


def test_duplicated_answer_cell_is_deduplicated_and_noted(edge):
    grade = edge.grades[("duplicated", SIG)]
    assert (grade.score, grade.max_score, grade.status) == (4, 4, Status.OK)
    assert "duplicated cells were de-duplicated: sigmoid" in grade.detail
    page = html_text((edge.out / grade.feedback).read_text())
    assert "de-duplicated: sigmoid" in page


def test_cell_ignoring_interrupts_is_stopped_as_a_timeout(edge):
    """SIGINT ignored: the run stops that notebook as a timeout; earlier cells keep
    their credit, every test after the hung cell scores 0."""
    grade = edge.grades[("sigign", SIG)]
    assert grade.status == Status.TIMEOUT
    assert f"ran past its {EDGE_LIMITS.cell_timeout} s limit" in grade.detail
    assert "sigmoid_derivative" in grade.detail
    assert (grade.score, grade.max_score) == (3, 4)
    assert _tests(grade) == {
        "test_sigmoid_values": 2,
        "test_sigmoid_arrays": 1,
        "test_sigmoid_derivative": 0,
    }


def test_edge_run_completes(edge):
    """The run returns a row for every student and notebook, whatever happened."""
    assert set(edge.grades) == {(s, stem) for s in EDGE for stem in NOTEBOOKS}


@pytest.mark.parametrize(
    "student",
    [
        "duplicated",
        "sigign",
    ],
)
def test_a_troubled_notebook_costs_only_itself(edge, student):
    """02 of a student whose 01 gave trouble is graded as usual (5/5)."""
    grade = edge.grades[(student, FWD)]
    assert (grade.score, grade.max_score, grade.status) == (5, 5, Status.OK)


# --- flat LMS / Colab names -----------------------------------------------------------


def test_flat_lms_and_colab_names_map_to_students(tmp_path):
    """alice_01_sigmoid.ipynb and "bob_Copy of 01_sigmoid (1).ipynb" both grade."""
    submissions, out = tmp_path / "class", tmp_path / "out"
    submissions.mkdir()
    (submissions / f"alice_{SIG}.ipynb").write_bytes(notebook_bytes(solved(SIG)))
    bob = with_edits(SIG, "sigmoid", SIGMOID_SIGN)
    (submissions / f"bob_Copy of {SIG} (1).ipynb").write_bytes(colab_download(bob))
    results = grade_class(
        submissions, out, course=COURSE, workers=2, limits=SMALL_LIMITS, progress=False
    ).results
    assert results.students == ["alice", "bob"]
    assert results.unmapped == []
    got = by_key(results)
    assert (got[("alice", SIG)].score, got[("alice", SIG)].status) == (4, Status.OK)
    assert (got[("bob", SIG)].score, got[("bob", SIG)].status) == (1, Status.OK)
    assert got[("alice", SIG)].source == f"alice_{SIG}.ipynb"
    assert got[("bob", SIG)].source == f"bob_Copy of {SIG} (1).ipynb"


# --- unusable input -------------------------------------------------------------------


def _only_unmappable(folder: Path) -> Path:
    folder.mkdir()
    (folder / "readme.txt").write_text("Exported from the LMS.")
    (folder / "notes.ipynb").write_bytes(notebook_bytes(solved(SIG)))
    return folder


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda tmp: tmp / "nowhere", "does not exist"),
        (lambda tmp: (tmp / "empty").mkdir() or tmp / "empty", "holds no files"),
        (
            lambda tmp: _only_unmappable(tmp / "junk"),
            "could be matched to a student",
        ),
    ],
    ids=["missing", "empty", "unmappable"],
)
def test_cli_rejects_unusable_submissions_with_exit_2(tmp_path, make, words):
    """A clear one-line reason naming the folder, exit code 2, no traceback, no OUT."""
    folder = make(tmp_path)
    out = tmp_path / "out"
    result = run_cli("grade", folder, "--out", out, "--quiet", timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("error: ")
    assert words in result.stderr
    assert str(folder) in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_cli_lists_why_each_file_is_unmappable(tmp_path):
    folder = _only_unmappable(tmp_path / "junk")
    result = run_cli("grade", folder, "--out", tmp_path / "out", timeout=120)
    assert result.returncode == 2
    assert "readme.txt: not a notebook" in result.stderr
    assert "notes.ipynb:" in result.stderr


def test_grade_class_raises_input_error_for_unusable_submissions(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        grade_class(
            tmp_path / "nowhere", tmp_path / "out", course=COURSE, progress=False
        )


@pytest.mark.parametrize("jobs", ["0", "-1", "two"])
def test_cli_rejects_a_bad_jobs_count(tmp_path, jobs):
    """argparse refuses --jobs below 1 (exit 2) before anything is read."""
    result = run_cli("grade", tmp_path, "--out", tmp_path / "out", "--jobs", jobs)
    assert result.returncode == 2
    assert "--jobs" in result.stderr
    assert not (tmp_path / "out").exists()


class KernelScratch(threading.Thread):
    """Watches a temp folder for the short folders that hold kernels' sockets while
    a student is graded: the names it saw, until stopped."""

    def __init__(self, temp: Path) -> None:
        super().__init__(daemon=True)
        self.temp, self.seen, self.stopped = temp, set(), threading.Event()

    def now(self) -> set[str]:
        return {path.name for path in self.temp.glob("grader-kernels-*")}

    def run(self) -> None:
        while not self.stopped.wait(0.02):
            self.seen |= self.now()


@pytest.mark.slow
def test_an_out_folder_deeper_than_a_socket_path_still_grades(tmp_path, own_temp):
    """Kernels' Unix sockets live in a short temp folder, not under OUT: an OUT path
    past Unix's 108-byte socket limit grades normally, and the folder is removed."""
    write_notebook(tmp_path / "class" / "alice" / f"{SIG}.ipynb", solved(SIG))
    out = tmp_path / ("deep" * 30) / "out"
    assert len(str(out / ".grader" / "state" / "alice" / "k12345678-1")) > 108
    watch = KernelScratch(own_temp)
    watch.start()
    try:
        results = grade_class(
            tmp_path / "class", out, course=COURSE, workers=1, limits=SMALL_LIMITS,
            progress=False,
        ).results  # fmt: skip
    finally:
        watch.stopped.set()
        watch.join()
    grade = by_key(results)[("alice", SIG)]
    assert grade.status == Status.OK, grade.detail
    assert grade.score == grade.max_score
    assert watch.seen, "the kernels' sockets were not in the temp folder"
    assert watch.now() == set()


@pytest.mark.slow
def test_a_relative_out_folder_grades_like_an_absolute_one(tmp_path, monkeypatch):
    """`--out graded` (as `make demo` passes it): grades land, not grader_error."""
    write_notebook(tmp_path / "class" / "alice" / f"{SIG}.ipynb", solved(SIG))
    monkeypatch.chdir(tmp_path)
    results = grade_class(
        Path("class"), Path("graded"), course=COURSE, workers=1, limits=SMALL_LIMITS,
        progress=False,
    ).results  # fmt: skip
    grade = by_key(results)[("alice", SIG)]
    assert grade.status == Status.OK, grade.detail
    assert grade.score == grade.max_score
    assert (tmp_path / "graded" / "grades.csv").exists()
