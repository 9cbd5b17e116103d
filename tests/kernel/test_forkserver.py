"""Kernels forked from a warm server per student (grader/inside/forkserver.py,
grader.kernel.forkclient, grader.kernel.sandbox).

A forked kernel must be indistinguishable from a fresh one for what a notebook can
observe and for every grade: the same view of its sandbox, nothing left over from
the student's previous notebook (processes, scratch files), and the same statuses
and points when a first notebook is hostile and the later ones are right.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from grader.course import COURSE, NOTEBOOKS, RELEASE_DIR
from grader.demo.submissions import answer_cells, solved
from grader.grading.grade import grade_class
from grader.kernel.forkclient import ForkServer, ForkServerError
from grader.kernel.manager import GraderKernelManager
from grader.kernel.probe import sandbox_problem
from grader.kernel.sandbox import KernelDidNotStart, StudentSandbox
from grader.kernel.uids import UID_BASE
from grader.model import Limits, Status
from tests.support import SAMPLE_LIMITS, write_notebook

HAS_SANDBOX = sandbox_problem() is None
MODES = [
    pytest.param(True, marks=pytest.mark.skipif(not HAS_SANDBOX, reason="no bwrap")),
    False,
]

PROBE = """
import json, os, sys
import matplotlib.pyplot as plt
plt.plot([1, 2, 3])
names = sorted(os.listdir("."))
others = []
for pid in os.listdir("/proc"):
    try:
        others.append(open(f"/proc/{pid}/cmdline", "rb").read().split(b"\\0")[0])
    except OSError:
        pass
seen = {
    "uid": os.getuid(), "cwd": names, "path": sys.path, "argv0": sys.argv[0],
    "env": sorted(os.environ), "tmp": sorted(os.listdir("/tmp")),
    "sleepers": sum(1 for name in others if name.endswith(b"sleep")),
    "backend": __import__("matplotlib").get_backend(),
    "modules": "grader" in sys.modules,
}
print(json.dumps(seen))
# In the sandbox, left behind for the next notebook: a file, a file in /tmp, a
# detached process. (Outside it, those are the grader's own /tmp and processes.)
if SANDBOXED:
    open("left.txt", "w").write("x")
    open("/tmp/left.txt", "w").write("x")
    import subprocess
    subprocess.Popen(["sleep", "1000"], start_new_session=True)
"""


def run_notebooks(
    folder: Path, sandboxed: bool, count: int, fork: bool
) -> list[tuple[dict, list]]:
    """Run PROBE `count` times in a row in one student's sandbox, as the grader
    would; what each kernel saw and the output types of its cell (a figure must be
    displayed)."""
    cwd = folder / "work"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(RELEASE_DIR / "backprop_helper", cwd / "backprop_helper")
    limits = Limits(cpu_seconds=60, memory_mb=2048, processes=64)
    seen = []
    with StudentSandbox(limits, sandbox=sandboxed, fork=fork) as box:
        for _ in range(count):
            code = PROBE.replace("SANDBOXED", str(sandboxed))
            notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
            notebook.metadata.kernelspec = {"name": "python3", "display_name": "P3"}
            client = NotebookClient(
                notebook, kernel_manager_class=GraderKernelManager, timeout=60,
                resources={"metadata": {"path": str(cwd)}},
            )  # fmt: skip
            client.execute()
            outputs = notebook.cells[0].outputs
            probe = json.loads(outputs[0].text)
            # The sandbox's own folder (its connection files) has a random name.
            probe["tmp"] = [
                re.sub(r"^grader-kernels-\w+$", "grader-kernels-*", name)
                for name in probe["tmp"]
            ]
            if not sandboxed:  # the host's /tmp and processes, as others left them
                del probe["tmp"], probe["sleepers"]
            elif probe["uid"] >= UID_BASE:  # whichever uid was free
                probe["uid"] = "a sandbox uid"
            seen.append((probe, [output.output_type for output in outputs]))
        servers = box.servers_started
    return seen, servers


@pytest.mark.parametrize("sandboxed", MODES, ids=["sandbox", "no-sandbox"])
def test_a_forked_kernel_sees_what_a_fresh_one_sees(tmp_path, sandboxed):
    """Same uid, files, sys.path, argv, environment, matplotlib backend and figure
    display; in the sandbox, nothing from the previous notebook survives."""
    fresh, fresh_servers = run_notebooks(tmp_path / "fresh", sandboxed, 2, fork=False)
    forked, forked_servers = run_notebooks(tmp_path / "forked", sandboxed, 2, fork=True)
    assert (fresh_servers, forked_servers) == (0, 1), "forked from one server"
    for (seen_fresh, types_fresh), (seen_forked, types_forked) in zip(fresh, forked):
        assert types_forked == types_fresh
        assert "display_data" in types_forked
        assert seen_forked == seen_fresh
    if sandboxed:
        first, second = forked[0][0], forked[1][0]
        assert second == first  # no left.txt, no /tmp/left.txt, no sleeper
        assert second["sleepers"] == 0


# --- graded through grade_class -------------------------------------------------

SIG, FWD = NOTEBOOKS[0], NOTEBOOKS[1]
LIMITS = Limits(
    cell_timeout=10, notebook_timeout=60, cpu_seconds=5, memory_mb=1024,
    processes=48, output_mb=1, file_mb=16,
)  # fmt: skip


def first_hostile(code: str) -> nbformat.NotebookNode:
    """01_sigmoid solved, with `code` at the top of the sigmoid_derivative cell."""
    answer = answer_cells(SIG)["sigmoid_derivative"]
    return solved(SIG, {"sigmoid_derivative": f"{code}\n\n{answer}"})


# Students whose 01 is hostile and whose 02 is right: 02 keeps its full credit.
FIRST_HOSTILE = {
    "bomber": (
        "import os\nwhile True:\n    os.fork()",
        Status.PROCESS_LIMIT,
        "started more than 48 processes or threads (the limit)",
    ),
    "escaper": (  # detached processes that would outlive a process-group kill
        "import subprocess\nfor _ in range(5):\n"
        "    subprocess.Popen(['sleep', '1000'], start_new_session=True)\n"
        "import os\nos._exit(3)",
        Status.KERNEL_DIED,
        "the kernel died",
    ),
    "segfault": (
        "import ctypes\nctypes.string_at(0)",
        Status.KERNEL_DIED,
        "the kernel died (a crash: SIGSEGV) in cell sigmoid_derivative",
    ),
}


@pytest.mark.slow
@pytest.mark.skipif(not HAS_SANDBOX, reason="no bwrap")
def test_a_hostile_first_notebook_costs_nothing_in_the_next(tmp_path):
    for student, (code, _, _) in FIRST_HOSTILE.items():
        write_notebook(
            tmp_path / "class" / student / f"{SIG}.ipynb", first_hostile(code)
        )
        write_notebook(tmp_path / "class" / student / f"{FWD}.ipynb", solved(FWD))
    results = grade_class(
        tmp_path / "class", tmp_path / "out", limits=LIMITS, sandbox="required",
        workers=2, course=COURSE, progress=False,
    ).results  # fmt: skip
    rows = {(row.student, row.notebook): row for row in results.grades}
    for student, (_, status, words) in FIRST_HOSTILE.items():
        first, second = rows[(student, SIG)], rows[(student, FWD)]
        assert first.status == status, first.detail
        assert words in first.detail
        assert second.status == Status.OK, second.detail
        assert second.score == second.max_score, second.tests


# The sample class's students whose notebooks take every path a kernel can:
# mistakes (grace), a cut-off notebook and a kernel that kills itself (alan), a
# loop stopped by the cell limit (barbara); the others' notebooks all end as
# grace's right ones do.
EVERY_KERNEL_PATH = ("alan", "barbara", "grace")


def rows_of(csv_bytes: bytes, students) -> list[list[str]]:
    """The header and the rows of these students, from a grades or tests CSV."""
    header, *rows = csv.reader(io.StringIO(csv_bytes.decode()))
    return [header, *(row for row in rows if row[0] in students)]


@pytest.mark.slow
def test_forking_changes_no_grade(sample_class, tmp_path):
    """Students of the sample class graded without forked kernels: the same rows
    as with them (the session's sample class, graded by the command, which
    forks)."""
    submissions = tmp_path / "class"
    for student in EVERY_KERNEL_PATH:
        shutil.copytree(sample_class.submissions / student, submissions / student)
    grade_class(
        submissions, tmp_path / "out", limits=SAMPLE_LIMITS, workers=2,
        fork_kernels=False, course=COURSE, progress=False,
    )  # fmt: skip
    forked = {
        "grades.csv": sample_class.grades_csv,
        "tests.csv": sample_class.tests_csv,
    }
    for name, content in forked.items():
        fresh = rows_of((tmp_path / "out" / name).read_bytes(), EVERY_KERNEL_PATH)
        assert fresh == rows_of(content, EVERY_KERNEL_PATH), name
        assert len(fresh) > len(EVERY_KERNEL_PATH), name


def test_a_server_that_does_not_start_is_an_error_not_a_hang(tmp_path):
    """What it printed stays in its log; the sandbox reports the kernel as never
    started, with the last line it printed."""
    with (tmp_path / "server.log").open("w+b") as log:
        with pytest.raises(ForkServerError):
            command = ["sh", "-c", "echo cannot start >&2; exit 1", "--"]
            ForkServer(command, isolate=False, log=log)
        log.seek(0)
        assert b"cannot start" in log.read()


def test_a_kernel_whose_server_does_not_start_says_why(tmp_path):
    """KernelDidNotStart, with the last line the server printed (here: the shell
    that was given instead of Python)."""
    with StudentSandbox(Limits(), sandbox=False) as box:
        paths = box.kernel_paths()
        paths.connection_file.write_text("{}")
        with pytest.raises(KernelDidNotStart, match=r"the kernel did not start: \S"):
            box.start(
                ["sh", "-m", "ipykernel_launcher", "-f", str(paths.connection_file)],
                paths, cwd=tmp_path, env=dict(os.environ),
            )  # fmt: skip
