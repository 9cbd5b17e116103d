"""Grading on a real Dask cluster on loopback: `python -m grader grade --scheduler`.

A `dask scheduler` and `dask worker` processes (Dask's own, started in the project
root, one thread each) are started by the tests and stopped after; the module's
cluster is the README's (TLS, with keys from `python -m grader cluster-keys`). A
tiny class (three students, 01_sigmoid) graded through the cluster gives the same
grades.csv, tests.csv, feedback and report as the same class graded locally; a
worker killed
with everything it started while it grades costs nothing (every student exactly
once, in OUT and in the gradebook); a worker started from a copy of the project
whose course differs is refused, named, and never given a student.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.course import CONFIG_NAME, NOTEBOOKS, REPO
from grader.demo.submissions import answer_cells, solved, with_edits
from grader.kernel.probe import sandbox_problem
from tests.grading.cluster_support import SPY, dask_cluster, make_keys
from tests.support import (
    cmdline,
    descendants,
    gradebook_submissions,
    kill_tree,
    read_csv,
    write_notebook,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        sandbox_problem() is not None, reason=f"no sandbox: {sandbox_problem()}"
    ),
]

SIG = NOTEBOOKS[0]
LIMITS = ("--cell-timeout", "30", "--notebook-timeout", "60")
SIGN = ("np.exp(-np.asarray", "np.exp(np.asarray")
EXPECTED = {"alice": 4.0, "bob": 1.0, "carol": 4.0}


def a_class(folder: Path, sleep: float = 0) -> Path:
    """alice and carol right, bob with the sign flipped in sigmoid; with `sleep`,
    alice's answer first sleeps that long (so she can be caught while graded)."""
    pause = f"import time\n\ntime.sleep({sleep})\n\n" if sleep else ""
    alice = solved(SIG, {"sigmoid": pause + answer_cells(SIG)["sigmoid"]})
    write_notebook(folder / "alice" / f"{SIG}.ipynb", alice)
    write_notebook(folder / "bob" / f"{SIG}.ipynb", with_edits(SIG, "sigmoid", SIGN))
    write_notebook(folder / "carol" / f"{SIG}.ipynb", solved(SIG))
    return folder


def grade_command(submissions: Path, out: Path, *extra: str) -> list[str]:
    """`python -m grader grade` with the tests' limits."""
    return [sys.executable, "-m", "grader", "grade", str(submissions), "--out",
            str(out), "--quiet", *LIMITS, *extra]  # fmt: skip


def grade(submissions: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        grade_command(submissions, out, *extra),
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def grading_on(cluster, submissions: Path, out: Path) -> subprocess.Popen:
    """The grade command on `cluster`, started in the background."""
    return subprocess.Popen(
        grade_command(submissions, out, *cluster.grade_options),
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def files_under(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def submissions(tmp_path_factory) -> Path:
    return a_class(tmp_path_factory.mktemp("cluster") / "class")


@pytest.fixture(scope="module")
def local(submissions) -> Path:
    """The class graded on this machine, as without a cluster."""
    out = submissions.parent / "local"
    result = grade(submissions, out, "--jobs", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A TLS scheduler and two workers from the project root (with keys from
    `cluster-keys` and a spy that notes the keys each holds), for this module."""
    keys = make_keys(tmp_path_factory.mktemp("keys") / "keys")
    logs = tmp_path_factory.mktemp("dask-logs")
    with dask_cluster(logs, keys=keys) as running:
        for number in range(2):
            running.add_worker(
                preload=SPY, env={"GRADER_TEST_SPY": str(logs / f"spy-{number}")}
            )
        running.wait_workers(2)
        yield running


@pytest.fixture(scope="module")
def on_cluster(submissions, cluster) -> tuple[Path, subprocess.CompletedProcess]:
    out = submissions.parent / "on-cluster"
    result = grade(submissions, out, *cluster.grade_options)
    assert result.returncode == 0, result.stdout + result.stderr
    return out, result


def test_the_cluster_gives_the_same_grades_byte_for_byte(local, on_cluster):
    """grades.csv and tests.csv are byte-identical to the local run's."""
    out, _ = on_cluster
    for name in ("grades.csv", "tests.csv"):
        assert (out / name).read_bytes() == (local / name).read_bytes(), name
    _, rows = read_csv(out / "grades.csv")
    scores = {r["student"]: float(r["score"]) for r in rows if r["notebook"] == SIG}
    assert scores == EXPECTED


def comparable(pages: dict[str, bytes]) -> dict[str, bytes]:
    """Feedback pages without what differs between any two runs, local or not:
    each page's Content-Security-Policy nonce (new for every page, by design) and
    the student's private course folder (a temporary folder) that tracebacks name."""
    return {
        name: re.sub(
            rb"/[\w/.-]*grader-student-[\w]+/",
            b"COURSE/",
            re.sub(rb"nonce(-|=\")[A-Za-z0-9_-]+", rb"nonce\1N", page),
        )
        for name, page in pages.items()
    }


def test_the_cluster_gives_the_same_feedback_and_report(local, on_cluster):
    """The same pages (but for each page's own CSP nonce), the same report."""
    out, _ = on_cluster
    pages = comparable(files_under(out / "feedback"))
    assert sorted(pages) == [
        f"{student}/{page}"
        for student in sorted(EXPECTED)
        for page in (f"{SIG}.html", "index.html")
    ]
    assert pages == comparable(files_under(local / "feedback"))
    assert (out / "report.html").read_bytes() == (local / "report.html").read_bytes()


def test_the_gradebook_has_each_student_once(on_cluster):
    out, _ = on_cluster
    assert gradebook_submissions(out) == sorted(EXPECTED)


def copy_with_other_course(folder: Path) -> Path:
    """A copy of the project whose 01_sigmoid source differs by one cell."""
    for name in ("grader", "source", "release"):
        shutil.copytree(
            REPO / name, folder / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    for name in (CONFIG_NAME, "course.toml", "pyproject.toml"):
        shutil.copy2(REPO / name, folder / name)
    notebook = folder / "source" / "backprop" / f"{SIG}.ipynb"
    text = notebook.read_text()
    notebook.write_text(text.replace("sigmoid", "sigmoid ", 1))
    return folder


def test_a_worker_with_another_course_is_refused_and_never_used(
    submissions, cluster, tmp_path, on_cluster
):
    """A worker started in a copy of the project whose source differs joins: the
    run names it and the part that differs, grades on the others, and the refused
    worker never starts grading anything, nor holds the course (hidden tests and
    solutions): the approved workers do."""
    copy = copy_with_other_course(tmp_path / "copy")
    spy = tmp_path / "stranger-spy"
    stranger = cluster.add_worker(copy, preload=SPY, env={"GRADER_TEST_SPY": str(spy)})
    cluster.wait_workers(3)
    result = grade(submissions, tmp_path / "out", *cluster.grade_options)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "refused worker tls://127.0.0.1:" in result.stderr
    assert "not the coordinator's course and grader: course:" in result.stderr
    assert "NOTE: refused worker" in result.stdout
    assert (tmp_path / "out" / "grades.csv").read_bytes() == (
        on_cluster[0] / "grades.csv"
    ).read_bytes()
    # Below `dask worker` (the nanny): its worker process; a student graded there
    # would add that worker's pool of grading processes below it.
    spawned = [p for p in descendants(stranger.pid) if "spawn_main" in cmdline(p)]
    assert len(spawned) == 1, [cmdline(p) for p in spawned]
    assert spy.read_text() == "", "the refused worker held data"
    held = "".join(
        path.read_text() for path in cluster.logs.glob("spy-*") if path.is_file()
    )
    assert "CourseBundle" in held, "no approved worker held the course"


def test_a_worker_killed_while_it_grades_costs_nothing(tmp_path):
    """kill -9 of the worker grading alice (and everything it started): she is
    graded again on the other worker; every student once in grades.csv and in the
    gradebook, with the grades of an undisturbed run."""
    submissions = a_class(tmp_path / "class", sleep=8)
    with dask_cluster(tmp_path / "logs", workers=2) as running:
        process = grading_on(running, submissions, tmp_path / "out")
        victim = None
        deadline = time.monotonic() + 180
        while victim is None and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            for worker in running.workers:
                if _grading_alice(worker.pid):
                    victim = worker
            time.sleep(0.1)
        assert victim is not None, "no worker was seen grading alice"
        kill_tree(victim.pid)
        stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stdout + stderr
    _, rows = read_csv(tmp_path / "out" / "grades.csv")
    keys = [(r["student"], r["notebook"]) for r in rows]
    assert len(keys) == len(set(keys)) == len(EXPECTED) * len(NOTEBOOKS)
    scores = {r["student"]: float(r["score"]) for r in rows if r["notebook"] == SIG}
    assert scores == EXPECTED
    assert {r["status"] for r in rows if r["notebook"] == SIG} == {"ok"}
    assert gradebook_submissions(tmp_path / "out") == sorted(EXPECTED)


def _grading_alice(worker: int) -> bool:
    """Whether a sandbox below this worker runs alice's notebook (bwrap's command
    line names her autograded folder as its working directory)."""
    return any("/autograded/alice/" in cmdline(pid) for pid in descendants(worker))


def test_a_lost_scheduler_ends_the_run_and_a_rerun_grades_the_rest(tmp_path):
    """The scheduler is killed once a student is recorded: the command stops with
    a message (exit 5, no traceback); the same command on a new cluster grades only
    the students not recorded, and the class comes out whole."""
    submissions = a_class(tmp_path / "class", sleep=8)
    out, states = tmp_path / "out", tmp_path / "out" / ".grader" / "state"
    with dask_cluster(tmp_path / "logs", workers=1) as running:
        process = grading_on(running, submissions, out)
        deadline = time.monotonic() + 180
        while not list(states.glob("*.json")) and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            time.sleep(0.1)
        kill_tree(running.scheduler.pid)
        stdout, stderr = process.communicate(timeout=180)
    assert process.returncode == 5, stdout + stderr
    assert "lost the Dask scheduler" in stderr
    assert "Traceback" not in stderr
    recorded = {path.stem: path.stat().st_mtime_ns for path in states.glob("*.json")}
    assert 1 <= len(recorded) < len(EXPECTED)
    with dask_cluster(tmp_path / "logs-again", workers=2) as again:
        result = grade(submissions, out, *again.grade_options)
    assert result.returncode == 0, result.stdout + result.stderr
    assert {s: (states / f"{s}.json").stat().st_mtime_ns for s in recorded} == recorded
    _, rows = read_csv(out / "grades.csv")
    scores = {r["student"]: float(r["score"]) for r in rows if r["notebook"] == SIG}
    assert scores == EXPECTED
    assert gradebook_submissions(out) == sorted(EXPECTED)


@pytest.fixture(scope="module")
def bare_cluster(tmp_path_factory):
    """A scheduler and one worker that finds no bwrap, prlimit or setpriv (its
    PATH holds only the venv's programs): a worker without a working sandbox."""
    with dask_cluster(tmp_path_factory.mktemp("bare-logs")) as running:
        running.add_worker(env={"PATH": str(Path(sys.executable).parent)})
        running.wait_workers(1)
        yield running


def test_sandbox_required_fails_on_a_worker_without_one(
    submissions, bare_cluster, tmp_path
):
    """--sandbox required: exit 3, naming the worker and why, nothing graded."""
    result = grade(
        submissions, tmp_path / "out", "--scheduler", bare_cluster.address,
        "--sandbox", "required",
    )  # fmt: skip
    assert result.returncode == 3, result.stdout + result.stderr
    assert "the sandbox does not work on worker tcp://127.0.0.1:" in result.stderr
    assert "not found" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "grades.csv").exists()


def test_sandbox_auto_names_a_worker_without_one_and_its_students(
    submissions, bare_cluster, local, tmp_path
):
    """--sandbox auto: a loud warning naming the worker, a note in the summary
    naming the students graded without the sandbox; the same grades."""
    out = tmp_path / "out"
    result = grade(submissions, out, "--scheduler", bare_cluster.address)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING: worker tcp://127.0.0.1:" in result.stderr
    assert "grades WITHOUT a sandbox" in result.stderr
    assert "NOTE: 3 student(s) graded WITHOUT the sandbox" in result.stdout
    assert (out / "grades.csv").read_bytes() == (local / "grades.csv").read_bytes()


def test_a_worker_restarted_by_its_nanny_grades_the_student_again(tmp_path):
    """One worker; its worker process (not the nanny) killed with all it started
    while it grades alice: the nanny starts a new one (a new address), which is
    checked, approved and given alice again; the class comes out whole."""
    submissions = a_class(tmp_path / "class", sleep=8)
    with dask_cluster(tmp_path / "logs", workers=1) as running:
        process = grading_on(running, submissions, tmp_path / "out")
        nanny = running.workers[0].pid
        deadline = time.monotonic() + 180
        while not _grading_alice(nanny) and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            time.sleep(0.1)
        worker = next(p for p in descendants(nanny) if "spawn_main" in cmdline(p))
        kill_tree(worker)
        stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stdout + stderr
    _, rows = read_csv(tmp_path / "out" / "grades.csv")
    scores = {r["student"]: float(r["score"]) for r in rows if r["notebook"] == SIG}
    assert scores == EXPECTED
    assert gradebook_submissions(tmp_path / "out") == sorted(EXPECTED)
