"""Hostile inputs: the names, zips, links and ids students choose, graded by the real
command in one small class.

A sibling of test_hostile.py, for issue 10's "Inputs". One class is graded once per
module through `python -m grader grade` (sandbox required, the hostile suite's small
limits). In the class:

- good: 01 and 02 solved, in a folder of its own (test_hostile's good student, whose
  run alone, `good_alone`, both suites compare with);
- Moodle's victim 99999 (01 solved, an old file) and three attackers whose newer
  files carry a second LMS prefix naming 99999 (or Blackboard's vera) inside the
  name the student chose: Moodle in Moodle (the issue's case), Moodle in Canvas,
  Blackboard in Blackboard;
- mallory, Moodle participant 55555, hands in a zip holding files named as 99999's
  (a Moodle name, a folder "99999/");
- bomber, 44444, hands in a 0.5 MB zip whose bomb.zip inflates to 512 MiB;
- linker (01 a symbolic link to the course's source notebook), copycat (a link to
  good's folder), piper (01 a FIFO), devnull (01 a character device);
- ids a spreadsheet runs ("-2-3", "@SUM(A1)") and ids that look alike (José and
  Jose, Alice with a Cyrillic А and Alice).

Checks: the run completes with exit 0 and no traceback; the victims are graded from
their own files; every attack file is listed as unmapped with its reason (CLI,
report); nothing in mallory's zip counts as 99999's; the bomb is refused and the
grader's peak memory stays far below what reading it would take; links, the FIFO
and the device are listed, never read; ids are defused in both CSV files and kept
apart, look-alikes listed in the report; the good student's rows equal the run
without the others; the gradebook agrees with grades.csv; no input changed (links,
FIFO and device included); nothing is left running.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest
from nbgrader.api import Gradebook
from sqlalchemy.exc import SAWarning

from grader.course import ASSIGNMENT, NOTEBOOKS, REPO, SOURCE_DIR
from grader.demo.sample_class import notebook_bytes
from grader.demo.submissions import solved, with_edits
from grader.intake.names import safe_student_id
from grader.kernel.probe import sandbox_problem
from grader.student_text import FORMULA_STARTS, HTML, TERMINAL, safe_text
from tests.grading.test_hostile import (
    good_rows,
    hostile_args,
    students_processes,
    write_good,
)
from tests.intake.zips import MIB, archive, deflated, honest, zeros
from tests.support import read_csv

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        sandbox_problem() is not None, reason=f"no sandbox: {sandbox_problem()}"
    ),
]

SIG, FWD, BWD = NOTEBOOKS[:3]
GOOD = "good-inputs"  # not test_hostile's "good": leftovers are told apart by id
OLD, NEW = 1_700_000_000, 1_700_000_100  # mtimes: victims' files, then attackers'
STAMP, LATER = "2024-05-17-09-00-00", "2024-05-17-10-00-00"
GARBAGE = b'{"cells": [ not json'

MOODLE_VICTIM = f"Victor Victim_99999_assignsubmission_file_{SIG}.ipynb"
BLACKBOARD_VICTIM = f"Backprop_vera_attempt_{STAMP}_{SIG}.ipynb"
ATTACKS = {  # the flat files whose names hold a second LMS prefix
    "moodle-in-moodle": (
        f"Mallory Evil_55555_assignsubmission_file_99999_assignsubmission_file_{SIG}"
        ".ipynb"
    ),
    "moodle-in-canvas": (
        f"evilmallory_55556_70002_Victor Victim_99999_assignsubmission_file_{SIG}.ipynb"
    ),
    "blackboard-in-blackboard": (
        f"Backprop_mallory_attempt_{LATER}_Backprop_vera_attempt_{LATER}_{SIG}.ipynb"
    ),
}
MALLORY_ZIP = "Mallory Evil_55555_assignsubmission_file_work.zip"
MALLORY_FILES = {  # in mallory's zip: named as 99999's
    f"Victor Victim_99999_assignsubmission_file_{FWD}.ipynb": FWD,
    f"99999/{BWD}.ipynb": BWD,
}
BOMBER_ZIP = "Bob Bomber_44444_assignsubmission_file_bombs.zip"
BOMB = 512 * MIB
FORMULA_IDS = ("-2-3", "@SUM(A1)")
LOOKALIKES = (("José", "Jose"), ("Аlice", "Alice"))  # the second Alice is Cyrillic
MAX_PEAK_MB = 400  # the grader's main process; reading the bomb takes > 512
# A file name that clears the terminal and prints a forged line (issue 20).
ESCAPE_NAME = "\x1b[2J\x1b[H\x1b[32mgrades: 29 of 29, all tests passed\x1b[0m.ipynb"


def write_class(root: Path) -> Path:
    """Every hostile input of the module's docstring, under root."""
    write_good(root, GOOD)
    wrong = notebook_bytes(with_edits(SIG, "sigmoid", ("np.exp(-", "np.exp(")))
    files = {
        MOODLE_VICTIM: (notebook_bytes(solved(SIG)), OLD),
        BLACKBOARD_VICTIM: (GARBAGE, OLD),
        **{name: (wrong, NEW) for name in ATTACKS.values()},
        MALLORY_ZIP: (honest(dict.fromkeys(MALLORY_FILES, GARBAGE)), NEW),
        BOMBER_ZIP: (
            archive(zeros(BOMB, "bomb.zip"), deflated(b"", f"{SIG}.ipynb")),
            NEW,
        ),
        f"{FORMULA_IDS[0]}/{SIG}.ipynb": (GARBAGE, OLD),
        f"{FORMULA_IDS[1]}/{SIG}.ipynb": (GARBAGE, OLD),
        f"José/{SIG}.ipynb": (notebook_bytes(solved(SIG)), OLD),
        f"Jose/{SIG}.ipynb": (GARBAGE, NEW),
        f"Аlice/{SIG}.ipynb": (GARBAGE, OLD),
        f"Alice/{SIG}.ipynb": (GARBAGE, OLD),
        ESCAPE_NAME: (GARBAGE, OLD),
    }
    for relative, (content, mtime) in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        os.utime(path, (mtime, mtime))
    (root / "linker").mkdir()
    (root / "linker" / f"{SIG}.ipynb").symlink_to(SOURCE_DIR / f"{SIG}.ipynb")
    (root / "copycat").symlink_to(root / GOOD)
    (root / "piper").mkdir()
    os.mkfifo(root / "piper" / f"{SIG}.ipynb")
    if os.geteuid() == 0:
        (root / "devnull").mkdir()
        device = stat.S_IFCHR | 0o600
        os.mknod(root / "devnull" / f"{SIG}.ipynb", device, os.makedev(1, 3))
    return root


def input_state(root: Path) -> dict[str, tuple]:
    """Every entry under root, links not followed: type, mode, mtime, and the bytes'
    hash (files), the target (links) or the device number (devices)."""
    state = {}
    for folder, folders, files in os.walk(root):
        for name in folders + files:
            path = Path(folder) / name
            info = path.lstat()
            if stat.S_ISREG(info.st_mode):
                what = hashlib.sha256(path.read_bytes()).hexdigest()
            elif stat.S_ISLNK(info.st_mode):
                what = os.readlink(path)
            else:
                what = info.st_rdev
            key = str(path.relative_to(root))
            state[key] = (
                stat.S_IFMT(info.st_mode),
                info.st_mode,
                info.st_mtime_ns,
                what,
            )
    return state


@dataclass
class Graded:
    out: Path
    grades: dict[tuple[str, str], dict[str, str]]  # (student as in the CSV, notebook)
    tests: list[dict[str, str]]
    stdout: str
    stderr: str
    peak_mb: float  # VmHWM of the grading command's own process


def grade(submissions: Path, out: Path) -> Graded:
    """`python -m grader grade` as test_hostile runs it, its peak memory watched."""
    process = subprocess.Popen(
        [sys.executable, "-m", "grader", *hostile_args(submissions, out)],
        cwd=REPO, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    peak_kb, deadline = 0, time.monotonic() + 300
    status = Path(f"/proc/{process.pid}/status")
    while process.poll() is None and time.monotonic() < deadline:
        try:
            line = next(x for x in status.read_text().splitlines() if "VmHWM" in x)
            peak_kb = max(peak_kb, int(line.split()[1]))
        except (OSError, StopIteration, ValueError):
            pass
        time.sleep(0.02)
    hung = process.poll() is None
    if hung:
        process.kill()
    stdout, stderr = process.communicate()
    assert not hung, "the grading command did not finish in 300 s: killed"
    assert process.returncode == 0, stdout + stderr
    _, rows = read_csv(out / "grades.csv")
    _, tests = read_csv(out / "tests.csv")
    grades = {(row["student"], row["notebook"]): row for row in rows}
    return Graded(out, grades, tests, stdout, stderr, peak_kb / 1024)


@dataclass
class InputsRun:
    run: Graded
    before: dict[str, tuple]
    after: dict[str, tuple]
    leftovers: list[str]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> InputsRun:
    root = tmp_path_factory.mktemp("hostile-inputs")
    submissions = write_class(root / "class")
    before = input_state(submissions)
    run = grade(submissions, root / "out")
    leftovers = students_processes({from_csv(student) for student, _ in run.grades})
    return InputsRun(run, before, input_state(submissions), leftovers)


def unmapped_reason(run: Graded, source: str) -> str:
    """Why the command said `source` (as printed) could not be matched; a source
    may hold ": " itself, so its line is found by the source, not split."""
    listed = run.stdout.split("could not be matched to a student:\n", 1)[1]
    lines = listed.split("\n\n", 1)[0].splitlines()
    (reason,) = [
        line.strip()[len(source) + 2 :]
        for line in lines
        if line.strip().startswith(f"{source}: ")
    ]
    return reason


def in_csv(student: str) -> str:
    """A student id as grades.csv writes it (formula starts defused)."""
    return "'" + student if student.startswith(FORMULA_STARTS) else student


def from_csv(student: str) -> str:
    """The student id that grades.csv wrote as `student`."""
    defused = student.startswith("'") and student[1:].startswith(FORMULA_STARTS)
    return student[1:] if defused else student


# --- the checks -------------------------------------------------------------------


def test_run_completes_without_a_traceback(inputs):
    assert "Traceback" not in inputs.run.stderr
    assert "WARNING" not in inputs.run.stderr


def test_victims_are_graded_from_their_own_files(inputs):
    grades = inputs.run.grades
    victim = grades[("99999", SIG)]
    assert (victim["status"], victim["score"]) == ("ok", "4"), victim["detail"]
    assert victim["source"] == MOODLE_VICTIM
    vera = grades[("vera", SIG)]
    assert (vera["status"], vera["source"]) == ("unreadable", BLACKBOARD_VICTIM)


@pytest.mark.parametrize("name", ATTACKS.values(), ids=ATTACKS.keys())
def test_a_second_lms_prefix_makes_a_name_ambiguous_and_unmapped(inputs, name):
    reason = unmapped_reason(inputs.run, name)
    assert reason.startswith("ambiguous name:"), reason
    assert name in (inputs.run.out / "report.html").read_text()
    assert all(row["source"] != name for row in inputs.run.grades.values())


def test_nothing_in_a_students_zip_counts_as_someone_elses(inputs):
    """mallory's zip is mallory's (55555), whatever its files' names say."""
    grades = inputs.run.grades
    for entry, stem in MALLORY_FILES.items():
        row = grades[("55555", stem)]
        assert (row["status"], row["source"]) == (
            "unreadable",
            f"{MALLORY_ZIP}:{entry}",
        )
        assert grades[("99999", stem)]["status"] == "missing"


def test_the_zip_bomb_is_refused_and_memory_stays_bounded(inputs):
    assert inputs.run.peak_mb < MAX_PEAK_MB, f"peak {inputs.run.peak_mb:.0f} MB"
    reason = unmapped_reason(inputs.run, f"{BOMBER_ZIP}:bomb.zip")
    assert "zip bomb" in reason, reason
    bomber = inputs.run.grades[("44444", SIG)]
    assert bomber["source"] == f"{BOMBER_ZIP}:{SIG}.ipynb"


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (f"linker/{SIG}.ipynb", "a symbolic link, not followed"),
        ("copycat", "a symbolic link, not followed"),
        (f"piper/{SIG}.ipynb", "a FIFO, not a regular file: not read"),
        (f"devnull/{SIG}.ipynb", "a character device, not a regular file"),
    ],
)
def test_links_fifos_and_devices_are_listed_not_read(inputs, source, reason):
    if source.startswith("devnull") and os.geteuid() != 0:
        pytest.skip("mknod needs root")
    assert unmapped_reason(inputs.run, source).startswith(reason)
    students = {student for student, _ in inputs.run.grades}
    assert not students & {"linker", "copycat", "piper", "devnull"}


def test_ids_a_spreadsheet_would_run_are_defused_in_both_files(inputs):
    for raw in FORMULA_IDS:
        student = in_csv(safe_student_id(raw))
        assert inputs.run.grades[(student, SIG)]["status"] == "unreadable"
    for student, _ in inputs.run.grades:
        assert not student.startswith(FORMULA_STARTS), student
    for row in inputs.run.tests:
        assert not row["student"].startswith(FORMULA_STARTS), row["student"]


def test_ids_that_look_alike_are_kept_apart_and_listed(inputs):
    grades = inputs.run.grades
    jose, plain_jose = (safe_student_id(name) for name in LOOKALIKES[0])
    assert (grades[(jose, SIG)]["status"], grades[(jose, SIG)]["score"]) == ("ok", "4")
    assert grades[(plain_jose, SIG)]["status"] == "unreadable"
    alices = {safe_student_id(name) for name in LOOKALIKES[1]}
    assert len(alices) == 2 and all((alice, SIG) in grades for alice in alices)
    report = (inputs.run.out / "report.html").read_text()
    section = report.split('id="lookalikes"', 1)[1].split("</section>", 1)[0]
    for student in [jose, plain_jose, *alices]:
        assert f"<td>{student}</td>" in section


def test_a_file_name_holding_escapes_is_listed_as_visible_escapes(inputs):
    """Listed unmapped with its escapes shown (before: printed raw, it cleared the
    terminal and left a forged green line), in the report too."""
    assert "\x1b" not in inputs.run.stdout + inputs.run.stderr
    assert unmapped_reason(inputs.run, safe_text(ESCAPE_NAME, TERMINAL))
    report = (inputs.run.out / "report.html").read_text()
    assert "\x1b" not in report and safe_text(ESCAPE_NAME, HTML) in report


def test_good_student_is_unaffected(inputs, good_alone):
    """The good student's rows are what a run without the others gives."""
    grades, tests = good_rows(good_alone, GOOD)
    for stem in NOTEBOOKS:
        assert inputs.run.grades[(GOOD, stem)] == grades[stem]
    good = [row for row in inputs.run.tests if row["student"] == GOOD]
    assert good == [row for stem in NOTEBOOKS for row in tests.get(stem, {}).values()]
    assert inputs.run.grades[(GOOD, SIG)]["score"] == "4"


def test_gradebook_agrees_with_grades_csv(inputs):
    run = inputs.run
    with (
        warnings.catch_warnings(),
        Gradebook(f"sqlite:///{run.out / 'gradebook.db'}") as gradebook,
    ):
        warnings.simplefilter("ignore", SAWarning)
        assignment = gradebook.find_assignment(ASSIGNMENT)
        students = sorted(in_csv(s.student_id) for s in assignment.submissions)
        assert students == sorted({student for student, _ in run.grades})
        for (student, stem), row in run.grades.items():
            if row["feedback"]:
                notebook = gradebook.find_submission_notebook(
                    stem, ASSIGNMENT, from_csv(student)
                )
                assert float(notebook.score) == float(row["score"]), (student, stem)


def test_no_input_changed(inputs):
    """Files, links, the FIFO and the device: as they were."""
    assert inputs.after == inputs.before


def test_nothing_is_left_running(inputs):
    assert inputs.leftovers == []
