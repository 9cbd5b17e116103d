"""An instructor's mistakes and crashes, through the real `python -m grader grade`.

Two runs on one OUT at once; `--out` at an nbgrader course, at or inside
SUBMISSIONS; a read-only OUT; `kill -9` of the command while it grades; a worker
killed while it grades a student (grader_error), then re-runs. Classes are tiny (one
student, 01_sigmoid only) so the file runs in about a minute of CPU.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from grader.course import ASSIGNMENT, CONFIG_NAME, NOTEBOOKS, REPO
from grader.demo.submissions import answer_cells, solved
from grader.kernel.probe import sandbox_problem
from grader.kernel.uids import UID_BASE, UID_SLOTS
from tests.support import (
    cmdline,
    comm,
    descendants,
    kill_tree,
    read_csv,
    snapshot,
    write_notebook,
)

pytestmark = pytest.mark.slow

SIG = NOTEBOOKS[0]
LIMITS = ("--cell-timeout", "30", "--notebook-timeout", "60")
# Sleeps in the answer cell, so the student is still being graded when killed.
SLEEPY = "import time\n\ntime.sleep(25)\n\n"


def a_class(folder: Path, sleep: bool = False) -> Path:
    """One student, alice, who hands in a correct 01_sigmoid (that first sleeps,
    with `sleep`)."""
    answers = {"sigmoid": SLEEPY + answer_cells(SIG)["sigmoid"]} if sleep else None
    write_notebook(folder / "alice" / f"{SIG}.ipynb", solved(SIG, answers))
    return folder


def command(submissions: Path, out: Path | str, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "grader", "grade", str(submissions), "--out", str(out),
        "--quiet", "--jobs", "1", *LIMITS, *extra,
    ]  # fmt: skip


def run(args: list[str], cwd: Path = REPO, timeout: float = 300):
    return subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def alice_row(out: Path) -> dict[str, str]:
    _, rows = read_csv(out / "grades.csv")
    return next(r for r in rows if (r["student"], r["notebook"]) == ("alice", SIG))


# --- processes ------------------------------------------------------------------------


def alive(pid: int, started: str) -> bool:
    """Whether the process that had this start time still runs (not a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return stat[19] == started and stat[0] != "Z"


def start_time(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except OSError:
        return ""


def grading_worker(root: int) -> int | None:
    """A worker process of the command at `root` (forked from it: the command's
    own command line) that has a kernel's sandbox (or, without one, a kernel)
    running below it."""
    command_line = cmdline(root)
    for pid in descendants(root):
        if cmdline(pid) == command_line:
            below = descendants(pid)
            if any(comm(child) in ("bwrap", "python3", "python") for child in below):
                return pid
    return None


def wait_for(predicate, timeout: float = 120.0, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")


class WorkerKiller(threading.Thread):
    """Kills the command's worker (and what it started) `times` times, each time
    one is grading."""

    def __init__(self, process: subprocess.Popen, times: int) -> None:
        super().__init__(daemon=True)
        self.process, self.times, self.killed = process, times, 0

    def run(self) -> None:
        while self.killed < self.times and self.process.poll() is None:
            worker = grading_worker(self.process.pid)
            if worker is not None:
                kill_tree(worker)
                self.killed += 1
                with contextlib.suppress(AssertionError):
                    wait_for(lambda w=worker: not Path(f"/proc/{w}").exists(), 10)
            time.sleep(0.05)


def started(args: list[str], **kwargs) -> subprocess.Popen:
    """The command started, its output captured."""
    return subprocess.Popen(
        args, cwd=REPO, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        **kwargs,
    )  # fmt: skip


def graded_with_killed_worker(submissions: Path, out: Path, times: int = 1):
    """Run the command while killing its worker `times` times; (result, kills)."""
    process = started(command(submissions, out))
    killer = WorkerKiller(process, times)
    killer.start()
    stdout, stderr = process.communicate(timeout=300)
    killer.join(10)
    return subprocess.CompletedProcess(
        process.args, process.returncode, stdout, stderr
    ), killer.killed


# --- two runs at once -----------------------------------------------------------------


def test_two_runs_on_one_out_one_grades_the_other_says_who_holds_it(tmp_path):
    """Started together: one grades (exit 0, alice 4/4 ok); the other exits 4 at
    once, naming the run that holds OUT (pid, host, since, command); no traceback."""
    submissions, out = a_class(tmp_path / "class"), tmp_path / "out"
    runs = [started(command(submissions, out)) for _ in range(2)]
    outputs = [process.communicate(timeout=300) for process in runs]
    codes = [process.returncode for process in runs]
    assert sorted(codes) == [0, 4], outputs
    winner, loser = (0, 1) if codes[0] == 0 else (1, 0)
    message = outputs[loser][1]
    assert message.startswith("error: ")
    assert "Traceback" not in message
    assert f"pid {runs[winner].pid} on " in message
    assert "-m grader grade" in message and "since" in message
    row = alice_row(out)
    assert (row["status"], float(row["score"])) == ("ok", 4.0)


# --- where OUT may be -----------------------------------------------------------------


def a_course(folder: Path) -> Path:
    """An nbgrader course folder: its config, source/ and release/."""
    folder.mkdir()
    shutil.copy2(REPO / CONFIG_NAME, folder / CONFIG_NAME)
    shutil.copytree(REPO / "source", folder / "source")
    shutil.copytree(REPO / "release", folder / "release")
    return folder


def test_out_at_an_nbgrader_course_is_refused_and_nothing_changes(tmp_path):
    """`--out .` in a course root: exit 2 with a message; release/, source/ and
    nbgrader_config.py untouched."""
    course = a_course(tmp_path / "course")
    submissions = a_class(tmp_path / "class")
    before = snapshot(course)
    result = run(command(submissions, "."), cwd=course)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "did not make" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(course) == before


@pytest.mark.parametrize(
    "where", ["equal", "inside", "contains"], ids=lambda where: f"out-{where}"
)
def test_out_and_submissions_apart(tmp_path, where):
    """OUT equal to or inside SUBMISSIONS, or SUBMISSIONS inside OUT: exit 2, no
    file written."""
    if where == "contains":
        out = tmp_path / "out"
        submissions = a_class(out / "class")
    else:
        submissions = a_class(tmp_path / "class")
        out = submissions if where == "equal" else submissions / "graded"
    before = snapshot(tmp_path)
    result = run(command(submissions, out))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "inside" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(tmp_path) == before


@contextlib.contextmanager
def read_only(folder: Path):
    """`folder` bind-mounted read-only over itself (root only)."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("a read-only bind mount needs root")
    mounted = subprocess.run(["mount", "--bind", str(folder), str(folder)])
    if mounted.returncode != 0:
        pytest.skip("mount --bind does not work here")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.parametrize("what", ["out", "parent"])
def test_a_read_only_out_gives_a_message(tmp_path, what):
    """An empty read-only OUT, or a new OUT in a read-only folder: exit 2 with a
    message naming OUT, no traceback."""
    submissions = a_class(tmp_path / "class")
    folder = tmp_path / "ro"
    folder.mkdir()
    out = folder if what == "out" else folder / "out"
    with read_only(folder):
        result = run(command(submissions, out))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "cannot write to --out" in result.stderr
    assert str(out) in result.stderr
    assert "Read-only file system" in result.stderr
    assert "Traceback" not in result.stderr


# --- kill -9 --------------------------------------------------------------------------


@pytest.mark.skipif(sandbox_problem() is not None, reason="needs the sandbox")
def test_kill_9_of_the_command_leaves_nothing_running(tmp_path):
    """kill -9 of the command while a kernel runs: within seconds, none of the
    processes it started (workers, sandboxes, kernels) runs any more."""
    submissions, out = a_class(tmp_path / "class", sleep=True), tmp_path / "out"
    process = started(command(submissions, out), start_new_session=True)

    def kernel_runs() -> bool:
        assert process.poll() is None, process.communicate()
        worker = grading_worker(process.pid)
        return worker is not None and "bwrap" in map(comm, descendants(worker))

    try:
        wait_for(kernel_runs)
        time.sleep(1.0)  # the kernel and its fork server are up
        before = {pid: start_time(pid) for pid in descendants(process.pid)}
        assert len(before) >= 3
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            left = [pid for pid, when in before.items() if alive(pid, when)]
            if not left:
                break
            time.sleep(0.2)
        assert left == [], [(pid, cmdline(pid)) for pid in left]
    finally:
        for pid in descendants(process.pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)


# --- grader_error, then re-runs -------------------------------------------------------


@pytest.mark.skipif(sandbox_problem() is not None, reason="needs the sandbox")
def test_a_rerun_retries_grader_error_and_keeps_the_cause_in_the_log(tmp_path):
    """The worker grading alice is killed: grader_error (exit 0, the cause in
    detail); the next run grades her again (4/4 ok) and her log keeps the cause."""
    submissions, out = a_class(tmp_path / "class"), tmp_path / "out"
    first, kills = graded_with_killed_worker(submissions, out)
    assert kills == 1
    assert first.returncode == 0, first.stdout + first.stderr
    row = alice_row(out)
    assert row["status"] == "grader_error"
    assert "worker process grading this student died" in row["detail"]

    second = run(command(submissions, out))
    assert second.returncode == 0, second.stdout + second.stderr
    row = alice_row(out)
    assert (row["status"], float(row["score"])) == ("ok", 4.0)
    log = (out / ".grader" / "logs" / "alice.log").read_text()
    assert "earlier attempts failed" in log
    assert "worker process grading this student died" in log


@pytest.mark.skipif(sandbox_problem() is not None, reason="needs the sandbox")
def test_the_same_failure_twice_stays_grader_error_with_its_cause(tmp_path):
    """Killed the same way on two runs: grader_error with the cause and a note in
    detail; a third run does not grade her again."""
    submissions, out = a_class(tmp_path / "class"), tmp_path / "out"
    for _ in range(2):
        result, kills = graded_with_killed_worker(submissions, out)
        assert (result.returncode, kills) == (0, 1), result.stdout + result.stderr
    row = alice_row(out)
    assert row["status"] == "grader_error"
    assert "worker process grading this student died" in row["detail"]
    assert "the same failure as on the previous run" in row["detail"]
    state = out / ".grader" / "state" / "alice.json"
    before = state.stat().st_mtime_ns
    third = run(command(submissions, out))
    assert third.returncode == 0, third.stdout + third.stderr
    assert state.stat().st_mtime_ns == before
    assert alice_row(out)["status"] == "grader_error"


# --- a venv reached through a link ----------------------------------------------------

UID_PROBE = "import os\nprint('kernel uid', os.getuid())"


@pytest.mark.skipif(sandbox_problem() is not None, reason="needs the sandbox")
def test_a_linked_venv_grades_in_the_sandbox(tmp_path):
    """The grader run by a link to its venv (`.venv -> /shared/venv`: shared venvs,
    uv, CI caches) grades in the sandbox on the default `--sandbox auto`, without a
    warning: the kernel is started by the path the sandbox mounts (before: setpriv
    found no such file, and every student was graded unsandboxed)."""
    link = tmp_path / "venv-link"
    link.symlink_to(Path(sys.prefix).resolve(), target_is_directory=True)
    submissions, out = tmp_path / "class", tmp_path / "out"
    notebook = solved(SIG)
    notebook.cells.append(nbformat.v4.new_code_cell(UID_PROBE))
    write_notebook(submissions / "alice" / f"{SIG}.ipynb", notebook)
    args = command(submissions, out)
    args[0] = str(link / "bin" / Path(sys.executable).name)
    result = run(args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WITHOUT a sandbox" not in result.stderr
    row = alice_row(out)
    assert (row["status"], float(row["score"])) == ("ok", 4.0), row
    autograded = out / "autograded" / "alice" / ASSIGNMENT / f"{SIG}.ipynb"
    graded = nbformat.read(autograded, as_version=4)
    printed = "".join(o.get("text", "") for o in graded.cells[-1].outputs)
    uid = int(printed.split("kernel uid", 1)[1])
    if os.getuid() == 0:  # as root, each student's kernels get a uid of their own
        assert UID_BASE <= uid < UID_BASE + UID_SLOTS, uid


# --- a re-run that keeps a grade the files no longer earn -----------------------------


def test_a_rerun_never_keeps_grades_that_files_joined_into_one_no_longer_earn(tmp_path):
    """alice's 01 and 02 are graded; she then hands in one 01 whose bytes are her
    old 01, the name of 02 and a NUL, and her old 02 (one file standing for two in
    a key that hashed name, NUL and content for each file): the re-run grades her
    again, 01 unreadable and 02 missing (before: both full grades were kept)."""
    submissions, out = tmp_path / "class", tmp_path / "out"
    folder = submissions / "alice"
    for stem in NOTEBOOKS[:2]:
        write_notebook(folder / f"{stem}.ipynb", solved(stem))
    first = run(command(submissions, out))
    assert first.returncode == 0, first.stdout + first.stderr
    _, rows = read_csv(out / "grades.csv")
    assert [(r["status"], r["score"]) for r in rows[:2]] == [("ok", "4"), ("ok", "5")]
    joined = (
        (folder / f"{SIG}.ipynb").read_bytes()
        + f"{NOTEBOOKS[1]}\0".encode()
        + (folder / f"{NOTEBOOKS[1]}.ipynb").read_bytes()
    )
    (folder / f"{NOTEBOOKS[1]}.ipynb").unlink()
    (folder / f"{SIG}.ipynb").write_bytes(joined)
    second = run(command(submissions, out))
    assert second.returncode == 0, second.stdout + second.stderr
    _, rows = read_csv(out / "grades.csv")
    found = {r["notebook"]: (r["status"], r["score"]) for r in rows}
    assert found[SIG] == ("unreadable", "0")
    assert found[NOTEBOOKS[1]] == ("missing", "0")


def test_an_error_naming_a_students_file_prints_its_escapes_visibly(tmp_path):
    """A class whose only file cannot be matched: exit 2, and the message that
    lists the file's name shows its terminal escapes as visible text (a name that
    clears the screen must not clear it)."""
    submissions = tmp_path / "class"
    submissions.mkdir()
    (submissions / "\x1b[2J\x1b[Hall 29 of 29.ipynb").write_text("{}")
    result = run(command(submissions, tmp_path / "out"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "could be matched" in result.stderr
    assert "\x1b" not in result.stderr + result.stdout
    assert "all 29 of 29" in result.stderr
