"""Hostile submissions, graded by the real command in one class with a good student.

Each entry of HOSTILE is one student who hands in 01_sigmoid with something hostile
at the top of the `sigmoid_derivative` answer cell (or anywhere else: `build` makes
the whole notebook). The class is graded once per module through
`python -m grader grade` with small limits, and the tests check, for every case: the
run completes; that student's status and the tests that score 0 are the expected
ones, with a stated reason (in grades.csv, tests.csv and the feedback); the other
tests keep their points; the good student's rows are identical to those of a run
without hostile students (the `good_alone` run, once per session, which
test_hostile_inputs compares with too); the gradebook agrees with grades.csv; no
input file changed; nothing is left running.

Adding a case is one entry in HOSTILE: the student id, a function of the Context
that builds the notebook (derivative_first(code), or anything made from
grader.demo.submissions.solved / with_edits), the expected status and the tests that
score 0. The good student hands in every notebook a case uses.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from sqlalchemy.exc import SAWarning

from grader.course import ASSIGNMENT, NOTEBOOKS, REPO
from grader.demo.submissions import answer_cells, solved
from grader.inside import wire
from grader.kernel import cgroup
from grader.kernel.probe import sandbox_problem
from grader.kernel.procfs import pids, status_fields
from grader.kernel.uids import UID_BASE, UID_SLOTS
from grader.model import Limits, Status
from tests.support import html_text, limit_flags, read_csv, run_cli, write_notebook

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        sandbox_problem() is not None, reason=f"no sandbox: {sandbox_problem()}"
    ),
]

SIG = NOTEBOOKS[0]
LIMITS = Limits(
    # 4 times the CPU limit: `loop` must be stopped by the CPU limit, not by the
    # clock, also when it gets a quarter of a core (make test grades two classes at
    # once on two cores, each with two workers)
    cell_timeout=20,
    notebook_timeout=60,
    cpu_seconds=5,
    memory_mb=1024,
    processes=48,
    output_mb=1,
    file_mb=16,
)
GOOD = "good"
DERIVATIVE = frozenset({"test_sigmoid_derivative"})


@dataclass(frozen=True)
class Context:
    """What a hostile notebook may aim at: paths of this run, a listening port."""

    out: Path  # OUT of the graded run (its gradebook, other students' folders)
    submissions: Path
    port: int  # a loopback port the test listens on
    vault: Path  # a root-only folder of the host (0700) holding VICTIM


@dataclass(frozen=True)
class Hostile:
    """One hostile student: their notebook and what grading it must give."""

    name: str  # the student id
    build: Callable[[Context], nbformat.NotebookNode]
    status: str  # the notebook's status in grades.csv
    zeroed: frozenset[str]  # the graded tests that score 0; the rest keep points
    words: tuple[str, ...] = ()  # in the detail (and the feedback, when not ok)
    notebook: str = SIG
    # What the attacked cell's output must show (e.g. the error it raised).
    shows: tuple[str, ...] = field(default=())
    graded: bool = True  # False: the file is refused before grading (no tests run)
    # Notebooks handed in solved besides the attacked one: they keep full marks
    # (what the attack left behind does not reach the student's next kernel).
    also: tuple[str, ...] = ()


def derivative_first(code: str) -> Callable[[Context], nbformat.NotebookNode]:
    """01_sigmoid solved, with `code` (formatted with the Context) at the top of the
    sigmoid_derivative answer cell; the sigmoid tests before it are untouched."""

    def build(context: Context) -> nbformat.NotebookNode:
        attack = code.format(
            out=context.out, submissions=context.submissions, port=context.port,
            repo=REPO, source=REPO / "source" / ASSIGNMENT, vault=context.vault,
        )  # fmt: skip
        answer = answer_cells(SIG)["sigmoid_derivative"]
        return solved(SIG, {"sigmoid_derivative": f"{attack}\n\n{answer}"})

    return build


# Attempts that must all fail; the cell then raises, so the test after it scores 0.
# Had one succeeded, the cell would define the function and its test would pass.
ALL_FAIL = """
import pathlib
results = []
for target in TARGETS:
    try:
        ACTION(pathlib.Path(target))
    except OSError as error:
        results.append(type(error).__name__)
    else:
        results.append("SUCCEEDED")
        print("SUCC" + "EEDED:", target)
if "SUCCEEDED" not in results:
    raise PermissionError("sandbox held: " + ", ".join(results))
"""


def attempts(action: str, *targets: str) -> str:
    listed = "".join(f"    r'{target}',\n" for target in targets)
    return f"ACTION = {action}\nTARGETS = [\n{listed}]\n" + ALL_FAIL


# The kernel's own folders, as the kernel can find them: its connection file's folder
# (ipc/) and its sockets' folder. Before the fix both were the student's to write,
# and the grader, as root, later opened, truncated and chowned files in them.
KERNEL_FOLDERS = """
import json, os
from ipykernel import get_connection_file
CONNECTION = get_connection_file()
IPC = os.path.dirname(CONNECTION)
SOCKETS = os.path.dirname(json.load(open(CONNECTION))["ip"])
"""
VICTIM = "victim.txt"  # in the vault: its bytes and owner must not change
PLANTED = "created-by-student"  # in the vault: must never exist
PLANT = (
    KERNEL_FOLDERS
    + """
results = []
for folder in (IPC, SOCKETS):
    for name in ("forkserver.log", "kernel.log", "k-9", "planted"):
        for plant in (
            lambda path: os.symlink("{vault}/" + PLANTED, path),
            lambda path: os.symlink("{vault}/" + VICTIM, path + ".v"),
            lambda path: os.mkfifo(path + ".fifo"),
            lambda path: open(path + ".big", "wb").write(b"x" * 300 * 2**20),
        ):
            try:
                plant(os.path.join(folder, name))
                results.append("SUCC" + "EEDED: " + name)
            except OSError as error:
                results.append(type(error).__name__)
""".replace("PLANTED", repr(PLANTED)).replace("VICTIM", repr(VICTIM))
)
HELD = """
if any(result.startswith("SUCC") for result in results):
    print(results)
else:
    raise PermissionError("sandbox held: " + ", ".join(sorted(set(results))))
"""
# ptrace(PTRACE_ATTACH) of the fork server, which holds the grader's pipes, and its
# descriptors through /proc.
TRACE = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
server = os.getppid()
results = []
if libc.ptrace(16, server, 0, 0) == 0:
    results.append("SUCC" + "EEDED: ptrace")
else:
    results.append(os.strerror(ctypes.get_errno()))
for name in ("fd/0", "fd/1", "mem"):
    path = f"/proc/{{server}}/" + name
    try:
        open(path, "rb").close()
        results.append("SUCC" + "EEDED: " + path)
    except OSError as error:
        results.append(type(error).__name__)
"""
# Memory the address-space limit does not see: pages of memfds, 15 MB each (under
# the file-size limit), up to three times the memory limit.
MEMFD = """
import os
held = []
for index in range(3 * {memory_mb} // 15):
    fd = os.memfd_create(f"hoard{{index}}")
    for _ in range(15):
        os.write(fd, b"x" * 2**20)
    held.append(fd)
""".replace("{memory_mb}", "MEMORY_MB")

READ = "lambda path: path.read_bytes()"
WRITE = "lambda path: path.write_bytes(b'hacked')"

HOSTILE = [
    Hostile(
        "loop",
        derivative_first("while True:\n    pass"),
        Status.CPU_LIMIT,
        DERIVATIVE,
        (f"used more than {LIMITS.cpu_seconds} s of CPU time (the limit)",),
    ),
    Hostile(
        "sleeper",
        derivative_first("import time\ntime.sleep(10**6)"),
        Status.TIMEOUT,
        DERIVATIVE,
        (f"ran past the {LIMITS.cell_timeout} s cell limit in sigmoid_derivative",),
    ),
    Hostile(
        "exiter",
        derivative_first("import os\nos._exit(3)"),
        Status.KERNEL_DIED,
        DERIVATIVE,
        ("the kernel died", "sigmoid_derivative"),
    ),
    Hostile(
        "segfault",
        derivative_first("import ctypes\nctypes.string_at(0)"),
        Status.KERNEL_DIED,
        DERIVATIVE,
        ("the kernel died (a crash: SIGSEGV) in cell sigmoid_derivative",),
    ),
    Hostile(
        "hog",
        derivative_first("hoard = bytearray(4 * 1024**3)"),
        Status.MEMORY_LIMIT,
        DERIVATIVE,
        (f"used more than {LIMITS.memory_mb} MB of memory (the limit)",),
        shows=("MemoryError",),
    ),
    Hostile(
        "forkbomb",
        derivative_first("import os\nwhile True:\n    os.fork()"),
        Status.PROCESS_LIMIT,
        DERIVATIVE,
        (f"started more than {LIMITS.processes} processes or threads (the limit)",),
    ),
    Hostile(
        "printer",
        derivative_first(
            "import sys\nfor _ in range(1000):\n"
            "    sys.stdout.write('x' * 10**6)\n    sys.stdout.flush()"
        ),
        Status.OUTPUT_LIMIT,
        DERIVATIVE,
        (f"printed more than {LIMITS.output_mb} MB of output (the limit)",),
    ),
    Hostile(
        "shouter",  # one message far over the limit
        derivative_first(
            "import sys\nsys.stdout.write('x' * 10**8)\nsys.stdout.flush()"
        ),
        Status.OUTPUT_LIMIT,
        DERIVATIVE,
        (f"printed more than {LIMITS.output_mb} MB of output (the limit)",),
    ),
    Hostile(
        "flooder",  # the grader's answer type: before, kept past the limit (1.5 GB
        # in all, as the printer's gigabyte: 18 MB could end before the stop came)
        derivative_first(
            "publish = get_ipython().display_pub.publish\n"
            "for number in range(1000):\n"
            f"    publish({{{{{wire.MIME!r}: "
            "{{'id': number, 'value': 'x' * 1_500_000}}}}, metadata={{}})"
        ),
        Status.OUTPUT_LIMIT,
        DERIVATIVE,
        (f"printed more than {LIMITS.output_mb} MB of output (the limit)",),
    ),
    Hostile(
        "asker",
        derivative_first("name = input('Your name? ')"),
        Status.OK,
        DERIVATIVE,
        shows=("StdinNotImplementedError",),
    ),
    Hostile(
        "caller",
        derivative_first(
            "import socket\n"
            "socket.create_connection(('127.0.0.1', {port}), timeout=3).sendall(b'hi')"
        ),
        Status.OK,
        DERIVATIVE,
        shows=("ConnectionRefusedError",),
    ),
    Hostile(
        "reader",
        derivative_first(
            attempts(
                READ,
                "{source}/01_sigmoid.ipynb",
                "{out}/gradebook.db",
                "../../../gradebook.db",
                "../../../source/backprop/01_sigmoid.ipynb",
                "{out}/.grader/course/gradebook.template.db",
                f"{{submissions}}/{GOOD}/{SIG}.ipynb",
                "/root/.bashrc",
            )
        ),
        Status.OK,
        DERIVATIVE,
        shows=("sandbox held",),
    ),
    Hostile(
        "writer",
        derivative_first(
            attempts(
                WRITE,
                "{out}/gradebook.db",
                "../../../gradebook.db",
                "../../../status/01_sigmoid.status.json",
                f"{{out}}/.grader/work/{GOOD}/submitted/{GOOD}/{ASSIGNMENT}/x.ipynb",
                f"{{out}}/autograded/{GOOD}/{ASSIGNMENT}/{SIG}.ipynb",
                f"{{submissions}}/{GOOD}/{SIG}.ipynb",
                "{source}/01_sigmoid.ipynb",
                "backprop_helper/__init__.py",
            )
        ),
        Status.OK,
        DERIVATIVE,
        shows=("sandbox held",),
    ),
]

WRONG_DERIVATIVE = "def sigmoid_derivative(z):\n    return sigmoid(z)\n"
PATCHES = """
import math
import backprop_helper
import backprop_helper.checks

np.isclose = np.allclose = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
math.isclose = lambda *args, **kwargs: True
check_values = backprop_helper.check_values = lambda *args, **kwargs: None
backprop_helper.checks.check_values = check_values
backprop_helper.checks._close = lambda *args, **kwargs: True
"""


def patched(context: Context) -> nbformat.NotebookNode:
    """A wrong derivative next to patched numpy, math and helper checks."""
    return solved(SIG, {"sigmoid_derivative": PATCHES + "\n" + WRONG_DERIVATIVE})


def cells_edited(context: Context) -> nbformat.NotebookNode:
    """A wrong derivative; its test cell emptied, the setup cell rewritten to disarm
    the checks, one test cell deleted and another duplicated."""
    notebook = solved(SIG, {"sigmoid_derivative": WRONG_DERIVATIVE})
    cells, by_id = notebook.cells, {}
    for cell in cells:
        by_id[cell.metadata.get("nbgrader", {}).get("grade_id")] = cell
    by_id["test_sigmoid_derivative"].source = "pass"
    by_id["setup"].source += "\ncheck_values = lambda *args, **kwargs: None"
    cells.remove(by_id["test_sigmoid_values"])
    copy = nbformat.from_dict(dict(by_id["test_sigmoid_arrays"]))
    copy.id = "duplicate-cell"
    cells.insert(cells.index(by_id["test_sigmoid_arrays"]), copy)
    return notebook


BONUS = {
    "grade": True, "grade_id": "my_bonus", "points": 100, "solution": False,
    "locked": False, "schema_version": 3,
}  # fmt: skip


def bonus_cell(context: Context) -> nbformat.NotebookNode:
    """A wrong derivative, and a cell of the student's own that carries nbgrader
    metadata: a graded cell worth 100 points."""
    notebook = solved(SIG, {"sigmoid_derivative": WRONG_DERIVATIVE})
    cell = nbformat.v4.new_code_cell("print('all tests pass')")
    cell.metadata["nbgrader"] = dict(BONUS)
    notebook.cells.append(cell)
    return notebook


def another_notebook(context: Context) -> nbformat.NotebookNode:
    """02_forward_propagation, solved, handed in as 01_sigmoid."""
    return solved(NOTEBOOKS[1])


def foreign_notebook(context: Context) -> nbformat.NotebookNode:
    """A notebook of some other course: no nbgrader cells at all."""
    return nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("print('homework 3')")]
    )


HOSTILE += [
    Hostile(
        "patcher",
        patched,
        Status.OK,
        DERIVATIVE,
        shows=(),
    ),
    Hostile(
        "cell-editor",
        cells_edited,
        Status.OK,
        DERIVATIVE,
        (
            "deleted graded cells were restored: test_sigmoid_values",
            "duplicated cells were de-duplicated: test_sigmoid_arrays",
        ),
    ),
    Hostile(
        "bonus-cell",  # before: nbgrader failed the notebook, a grader_error retried
        bonus_cell,
        Status.OK,
        DERIVATIVE,
        ("nbgrader metadata was removed from 1 cell that is not the course's",),
    ),
    Hostile(
        "garbage",
        lambda context: b'{"cells": [{"cell_type": "code", "source": "import os',
        Status.UNREADABLE,
        DERIVATIVE,
        ("not valid JSON",),
        graded=False,
    ),
    Hostile(
        "empty",
        lambda context: b"",
        Status.UNREADABLE,
        DERIVATIVE,
        ("empty",),
        graded=False,
    ),
    Hostile(
        "planter",  # links, FIFOs, files where the grader reads; then its server dies
        derivative_first(
            PLANT + "import signal\nos.kill(os.getppid(), signal.SIGKILL)\n" + HELD
        ),
        # Without its server the kernel can no longer be stopped: it counts as dead
        # (and is killed with everything of the student's uid).
        Status.KERNEL_DIED,
        DERIVATIVE,
        ("the kernel died", "sigmoid_derivative"),
        also=(NOTEBOOKS[1],),
    ),
    Hostile(
        "daemon",  # a process left behind keeps planting while the next kernel starts
        derivative_first(
            "import os, time\nif os.fork() == 0:\n    os.setsid()\n"
            "    if os.fork() == 0:\n        deadline = time.time() + 60\n"
            "        while time.time() < deadline:\n"
            + "\n".join("            " + line for line in PLANT.splitlines())
            + "\n            time.sleep(0.01)\n    os._exit(0)\n"
            "time.sleep(0.5)\n" + PLANT + HELD
        ),
        Status.OK,
        DERIVATIVE,
        shows=("sandbox held",),
        also=(NOTEBOOKS[1],),
    ),
    Hostile(
        "piper",  # a FIFO for the log the grader reads after the kernel dies
        derivative_first(PLANT + "os._exit(1)"),
        Status.KERNEL_DIED,
        DERIVATIVE,
        ("the kernel died", "sigmoid_derivative"),
        also=(NOTEBOOKS[1],),
    ),
    Hostile(
        "tracer",
        derivative_first(TRACE + HELD),
        Status.OK,
        DERIVATIVE,
        shows=("sandbox held",),
    ),
    Hostile(
        "hoarder",  # memfds: not address space, but memory the kernel holds
        derivative_first(MEMFD.replace("MEMORY_MB", str(LIMITS.memory_mb))),
        *(
            (
                Status.MEMORY_LIMIT,
                DERIVATIVE,
                (f"used more than {LIMITS.memory_mb} MB of memory (the limit)",),
            )
            if cgroup.unavailable_reason() is None
            else (Status.OK, frozenset(), ())  # README: not counted without cgroups
        ),
    ),
    Hostile(
        "stranger",
        another_notebook,
        Status.WRONG_ASSIGNMENT,
        DERIVATIVE,
        ("another notebook?",),
        graded=False,
    ),
    Hostile(
        "foreigner",
        foreign_notebook,
        Status.WRONG_ASSIGNMENT,
        DERIVATIVE,
        ("another notebook?",),
        graded=False,
    ),
]


# --- what crosses back from the kernel (issue 20) ----------------------------------

OPT = NOTEBOOKS[4]
TRAIN_TESTS = frozenset({"test_train", "test_train_adam"})
# An exception whose text spells catalogue labels: never counted as those mistakes.
LABELLER = (
    "def sigmoid_derivative(z):\n"
    "    raise ValueError('exp: the sign is flipped; sigmoid(z): the sign in exp is "
    "flipped (that is σ(−z))')\n"
)
# An exception class named by a megabyte of what a backtracking reader chokes on.
BACKTRACKER = (
    "def sigmoid_derivative(z):\n"
    "    raise type('missing from what ' * 60_000 + 'x returned', (Exception,), {})()\n"
)
# A sigmoid that, the first time a graded test calls it, replaces the grader's
# runtime in the kernel: every later answer is an error carrying terminal escapes
# and a 306 KB message (Python's csv module reads 131,072 characters a field).
ESCAPER = (
    "import json\n\n"
    "def sigmoid(z):\n"
    "    runtime = get_ipython().user_ns.get('__grader__')\n"
    "    if runtime is not None and not hasattr(runtime, 'forged'):\n"
    "        def forged(text):\n"
    "            error = {'ename': '\\x1b[2J\\x1b[H\\x1b[32mAll 29 of 29\\x1b[0m',\n"
    "                     'evalue': '\\x1b[31m' + 'y' * 306_000, 'where': []}\n"
    "            answer = {'id': json.loads(text)['id'], 'error': error}\n"
    "            runtime.shell.display_pub.publish({runtime.wire.MIME: answer}, {})\n"
    "        runtime.request, runtime.forged = forged, True\n"
    "    return 1 / (1 + np.exp(-z))\n"
)
SIGMOID_TESTS = frozenset(
    {"test_sigmoid_values", "test_sigmoid_arrays", "test_sigmoid_derivative"}
)
# A display whose content no reader can read: JSON nested 100,000 deep, signed with
# the kernel's own key (jupyter_client raised inside nbclient's loop: grader_error).
DEEPENER = (
    "session = get_ipython().kernel.session\n"
    "packed = session.pack\n"
    "deep = b'[' * 100_000 + b']' * 100_000\n"
    "session.pack = lambda o: deep if 'data' in o else packed(o)\n"
    "get_ipython().display_pub.publish({{'text/plain': 'x'}}, metadata={{}})\n"
    "session.pack = packed"
)
# train that trains nothing: the loss at w for every epoch, w as it was.
IDLE_TRAIN = """
def train(X, y, w, optimizer, learning_rate, epochs=20, **hyperparameters):
    w = np.array(w, dtype=float)
{overwrite}    losses = [
        forward_propagation(X[i], y[i], w)["loss"] for i in range(len(X))
    ]
    return w, np.full(epochs, np.mean(losses))
"""
# Overwrites the caller's data so that doing nothing is right: x = 0 and y the
# prediction at 0 (the loss is 0, the gradients are 0, w stays).
OVERWRITE = """    at_zero = forward_propagation(np.zeros(5), 0.0, w)
    X[...] = 0.0
    y[...] = at_zero["dy_pred"] / 2
"""
# With the references swapped in (its vanilla_update, redefined after its own test,
# fails), train calls the reference adam_update with t = 10**8 and beta1 = 3:
# 3 ** (10 ** 8) in the grader, before.
STALLER = """
def vanilla_update(w, grads, learning_rate):
    raise NotImplementedError("not done yet")


_correct_train = train


def train(X, y, w, optimizer, learning_rate, epochs=20, **hyperparameters):
    if type(adam_update).__name__ == "Callback":  # the grader's reference
        adam_update(np.zeros(9), np.zeros(9), np.zeros(9), np.zeros(9), 10**8, 0.1,
                    beta1=3)
    return _correct_train(X, y, w, optimizer, learning_rate, epochs,
                          **hyperparameters)
"""


def with_train(code: str) -> Callable[[Context], nbformat.NotebookNode]:
    """05 solved, its train answer cell replaced by (or followed by) `code`."""

    def build(context: Context) -> nbformat.NotebookNode:
        return solved(OPT, {"train": code})

    return build


def derivative_is(code: str) -> Callable[[Context], nbformat.NotebookNode]:
    """01 solved but sigmoid_derivative, which is `code`."""
    return lambda context: solved(SIG, {"sigmoid_derivative": code})


HOSTILE += [
    Hostile("labeller", derivative_is(LABELLER), Status.OK, DERIVATIVE),
    Hostile("deepener", derivative_first(DEEPENER), Status.OK, frozenset()),
    Hostile(  # its own check cell prints the megabyte name: past the output limit
        "backtracker", derivative_is(BACKTRACKER), Status.OUTPUT_LIMIT, DERIVATIVE,
        (f"printed more than {LIMITS.output_mb} MB of output (the limit)",),
    ),
    Hostile(
        "escaper", lambda context: solved(SIG, {"sigmoid": ESCAPER}), Status.OK,
        SIGMOID_TESTS,
    ),
    Hostile(  # the honest twin of the overwriter: the same do-nothing train
        "idler", with_train(IDLE_TRAIN.format(overwrite="")), Status.OK,
        TRAIN_TESTS, notebook=OPT,
    ),
    Hostile(  # before: 10/10, the expected values computed from its overwrite
        "overwriter", with_train(IDLE_TRAIN.format(overwrite=OVERWRITE)), Status.OK,
        TRAIN_TESTS, notebook=OPT,
    ),
    Hostile(  # before: 3 ** (10 ** 8) in the grader's worker, minutes
        "staller",
        with_train(answer_cells(OPT)["train"] + "\n" + STALLER),
        Status.OK,
        frozenset({"test_train"}),  # test_train_adam keeps its own adam_update
        notebook=OPT,
        shows=("adam_update's t must be below 1,000,000",),
    ),
]  # fmt: skip


# --- the runs ---------------------------------------------------------------------


def tree_hash(folder: Path) -> dict[str, str]:
    """relative path -> sha256 of every file under folder."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


class Listener:
    """A TCP listener on the host's loopback that records any connection."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.connections: list[tuple] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, address = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections.append(address)
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.server.close()


def sandbox_processes() -> list[str]:
    """Processes still running as one of the sandbox's uids."""
    uids = {str(uid) for uid in range(UID_BASE, UID_BASE + UID_SLOTS)}
    return [
        pid
        for pid in pids()
        if status_fields(pid).get("Uid", "").split("\t")[0] in uids
    ]


def students_processes(students: set[str]) -> list[str]:
    """Sandbox processes still running for one of `students` (their mounts name the
    student's working copy): what other runs on a shared machine run is not theirs."""
    found = []
    for pid in sandbox_processes():
        try:
            mounts = Path(f"/proc/{pid}/mountinfo").read_text()
        except OSError:
            continue
        if any(f"/autograded/{student}/{ASSIGNMENT}" in mounts for student in students):
            found.append(pid)
    return found


@dataclass
class Run:
    out: Path
    submissions: Path
    grades: dict[tuple[str, str], dict[str, str]]
    tests: dict[tuple[str, str], dict[str, dict[str, str]]]
    stdout: str
    stderr: str


def hostile_args(submissions: Path, out: Path, limits: Limits = LIMITS) -> list[str]:
    """`grade` as the hostile suites run it: two jobs, quiet, the sandbox required,
    their limits."""
    return [
        "grade", str(submissions), "--out", str(out), "--jobs", "2", "--quiet",
        "--sandbox", "required", *limit_flags(limits),
    ]  # fmt: skip


def grade(submissions: Path, out: Path, limits: Limits = LIMITS) -> Run:
    """`python -m grader grade` with the hostile limits, sandbox required."""
    result = run_cli(*hostile_args(submissions, out, limits), timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    _, rows = read_csv(out / "grades.csv")
    _, test_rows = read_csv(out / "tests.csv")
    tests: dict[tuple[str, str], dict[str, dict[str, str]]] = {}
    for row in test_rows:
        tests.setdefault((row["student"], row["notebook"]), {})[row["test"]] = row
    return Run(
        out, submissions, {(r["student"], r["notebook"]): r for r in rows}, tests,
        result.stdout, result.stderr,
    )  # fmt: skip


def write_good(submissions: Path, student: str = GOOD) -> Path:
    """A good student: every notebook a hostile case uses (and 02), solved."""
    for stem in sorted({SIG, NOTEBOOKS[1], *(case.notebook for case in HOSTILE)}):
        write_notebook(submissions / student / f"{stem}.ipynb", solved(stem))
    return submissions


ALONE = "alone"  # the good student's id in the run without hostile students


def as_student(row: dict[str, str], student: str) -> dict[str, str]:
    """A CSV row of the `alone` run as it reads for `student`: the id, and the
    paths that name it."""
    renamed = {
        name: value.replace(f"{ALONE}/", f"{student}/")
        if name in ("source", "feedback")
        else value
        for name, value in row.items()
    }
    return {**renamed, "student": student}


def good_rows(alone: Run, student: str) -> tuple[dict, dict]:
    """The alone run's rows, as they read for `student`: notebook -> its grades.csv
    row, notebook -> {test -> its tests.csv row}."""
    grades = {
        stem: as_student(alone.grades[(ALONE, stem)], student) for stem in NOTEBOOKS
    }
    tests = {
        stem: {test: as_student(row, student) for test, row in found.items()}
        for (_, stem), found in alone.tests.items()
    }
    return grades, tests


@dataclass
class HostileRun:
    run: Run
    inputs_before: dict[str, str]
    inputs_after: dict[str, str]
    course_before: dict[str, str]
    course_after: dict[str, str]
    connections: list[tuple]
    leftovers: list[str]
    vault: Path
    vault_before: dict[str, tuple[bytes, int, int]]


def vault_state(vault: Path) -> dict[str, tuple[bytes, int, int]]:
    """name -> (bytes, owner, mode) of every entry of the vault, links unfollowed."""
    found = {}
    for path in sorted(vault.iterdir()):
        info = path.lstat()
        content = path.read_bytes() if path.is_file() and not path.is_symlink() else b""
        found[path.name] = (content, info.st_uid, info.st_mode)
    return found


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> HostileRun:
    root = tmp_path_factory.mktemp("hostile")
    submissions, out = root / "class", root / "out"
    listener = Listener()
    try:
        vault = root / "vault"
        vault.mkdir(mode=0o700)
        (vault / VICTIM).write_text("the grader's own file")
        vault_before = vault_state(vault)
        context = Context(out, submissions, listener.port, vault)
        write_good(submissions)
        for case in HOSTILE:
            for stem in case.also:
                write_notebook(submissions / case.name / f"{stem}.ipynb", solved(stem))
            path = submissions / case.name / f"{case.notebook}.ipynb"
            content = case.build(context)
            if isinstance(content, bytes):
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
            else:
                write_notebook(path, content)
        inputs_before = tree_hash(submissions)
        course_before = tree_hash(REPO / "source")
        run = grade(submissions, out)
        time.sleep(0.5)  # let a late connection attempt arrive
    finally:
        listener.close()
    leftovers = students_processes({GOOD, *(case.name for case in HOSTILE)})
    return HostileRun(
        run, inputs_before, tree_hash(submissions), course_before,
        tree_hash(REPO / "source"), listener.connections, leftovers, vault,
        vault_before,
    )  # fmt: skip


# --- the checks -------------------------------------------------------------------


def test_run_completes(hostile):
    """Every student has a row for every notebook, and no warning was printed (how
    long a class takes is measured by benchmarks/failure_cost.py)."""
    expected = {
        (s, stem) for s in [GOOD, *(c.name for c in HOSTILE)] for stem in NOTEBOOKS
    }
    assert set(hostile.run.grades) == expected
    assert "WARNING" not in hostile.run.stderr


@pytest.mark.parametrize("case", HOSTILE, ids=[case.name for case in HOSTILE])
def test_hostile_student_is_graded_as_expected(hostile, good_alone, case):
    """The expected status; the zeroed tests score 0 with a reason; the rest keep
    their points; the detail names the limit."""
    row = hostile.run.grades[(case.name, case.notebook)]
    assert row["status"] == case.status, row["detail"]
    for words in case.words:
        assert words in row["detail"]
    if not case.graded:
        assert float(row["score"]) == 0 and (case.name, case.notebook) not in (
            hostile.run.tests
        )
        return
    tests = hostile.run.tests[(case.name, case.notebook)]
    good = good_alone.tests[(ALONE, case.notebook)]
    assert set(tests) == set(good)
    for name, test in tests.items():
        if name in case.zeroed:
            assert float(test["points"]) == 0, name
            assert test["message"].strip(), f"{name} scored 0 without a reason"
        else:
            assert test["points"] == good[name]["points"], name
    expected = sum(
        float(good[name]["points"]) for name in good if name not in case.zeroed
    )
    assert float(row["score"]) == expected


@pytest.mark.parametrize("case", HOSTILE, ids=[case.name for case in HOSTILE])
def test_feedback_states_the_reason(hostile, case):
    """The feedback page exists; when the run was stopped, it says why on top; the
    attacked cell shows what went wrong."""
    row = hostile.run.grades[(case.name, case.notebook)]
    if not case.graded:
        assert not row["feedback"], "a refused file has no feedback"
        return
    assert row["feedback"]
    page = html_text((hostile.run.out / row["feedback"]).read_text())
    if case.status != Status.OK:
        assert "Notes from the grader" in page
        for words in case.words:
            assert words in page
    for words in case.shows:
        assert words in page
    assert "SUCCEEDED:" not in page


def test_good_student_is_unaffected(hostile, good_alone):
    """The good student's rows are what a run without the hostile students gives."""
    grades, tests = good_rows(good_alone, GOOD)
    for stem in NOTEBOOKS:
        assert hostile.run.grades[(GOOD, stem)] == grades[stem]
        assert hostile.run.tests.get((GOOD, stem)) == tests.get(stem)
    assert float(hostile.run.grades[(GOOD, SIG)]["score"]) == 4


def test_no_connection_reached_the_hosts_loopback(hostile):
    assert hostile.connections == []


@pytest.mark.parametrize("case", [c for c in HOSTILE if c.also], ids=lambda c: c.name)
def test_what_an_attack_left_behind_costs_the_next_notebook_nothing(hostile, case):
    """The student's next notebooks, handed in right, keep full marks: a new kernel
    (and, after a killed server, a new server) starts clean."""
    for stem in case.also:
        row = hostile.run.grades[(case.name, stem)]
        assert (row["status"], row["score"]) == ("ok", row["max_score"]), row


def test_nothing_the_grader_touches_as_root_was_redirected(hostile):
    """No link, FIFO or file planted in the kernel's folders made the grader create,
    truncate, write or chown a file of the host (the vault: root's, 0700)."""
    assert vault_state(hostile.vault) == hostile.vault_before


def test_no_input_file_changed(hostile):
    """The submissions and the course source are byte for byte what they were."""
    assert hostile.inputs_after == hostile.inputs_before
    assert hostile.course_after == hostile.course_before


def test_nothing_is_left_running(hostile):
    """No process of a sandbox uid outlives the run (fork bomb children included)."""
    assert hostile.leftovers == []


def test_gradebook_agrees_with_grades_csv(hostile):
    """One submission per student; each graded notebook's score is the CSV's."""
    run = hostile.run
    with (
        warnings.catch_warnings(),
        Gradebook(f"sqlite:///{run.out / 'gradebook.db'}") as gradebook,
    ):
        warnings.simplefilter("ignore", SAWarning)
        assignment = gradebook.find_assignment(ASSIGNMENT)
        students = [submission.student_id for submission in assignment.submissions]
        assert sorted(students) == sorted({student for student, _ in run.grades})
        for (student, stem), row in run.grades.items():
            if not row["feedback"]:
                continue
            notebook = gradebook.find_submission_notebook(stem, ASSIGNMENT, student)
            assert float(notebook.score) == float(row["score"]), (student, stem)


# --- what crosses back from the kernel (issue 20) ----------------------------------


def test_overwriting_the_tests_arrays_earns_what_doing_nothing_earns(hostile):
    """The overwriter's train made doing nothing right on the data it was handed
    (10/10 before): it earns, test by test, what the same train without the
    overwrite earns."""
    points = {
        student: {
            name: row["points"]
            for name, row in hostile.run.tests[(student, OPT)].items()
        }
        for student in ("overwriter", "idler")
    }
    assert points["overwriter"] == points["idler"]
    assert all(float(points["idler"][name]) == 0 for name in TRAIN_TESTS)


def test_a_students_own_text_names_no_misconception(hostile):
    """The labeller's exception spells two labels of the catalogue: the class's
    misconceptions count it under what the grader saw, the function raised."""
    _, rows = read_csv(hostile.run.out / "misconceptions.csv")
    labeller = [row for row in rows if "labeller" in row["student_ids"].split()]
    assert [(row["misconception"], row["mistake_id"]) for row in labeller] == [
        ("sigmoid_derivative raised ValueError", "")
    ]


def test_kernel_text_reaches_no_file_or_terminal_raw_or_unbounded(hostile):
    """Escape sequences the students' kernels sent are visible escapes, never raw,
    in every file the run wrote and on its terminal; their messages are bounded
    (read_csv reads tests.csv at the csv module's default field size: a 306 KB
    message made it unreadable); a megabyte class name is cut where it entered."""
    out = hostile.run.out
    logs = (out / ".grader" / "logs").glob("*.log")
    written = [*out.glob("*.csv"), *out.glob("*.json"), out / "report.html",
               *out.glob("lms/*"), *logs]  # fmt: skip
    for path in written:
        assert not path.is_file() or b"\x1b" not in path.read_bytes(), path
    assert "\x1b" not in hostile.run.stdout + hostile.run.stderr
    tests = hostile.run.tests
    escaper = tests[("escaper", SIG)]["test_sigmoid_derivative"]["message"]
    assert "\\x1b[2J" in escaper and len(escaper) < 5000
    backtracker = tests[("backtracker", SIG)]["test_sigmoid_derivative"]["message"]
    assert "missing from what" in backtracker and len(backtracker) < 1000
