"""The sandbox around students' kernels (grader.sandbox) and the limits (grader.limits).

Unit tests of the command line, the detection and the mapping from what happened
to a status, then a few real kernels (sandboxed and not) that look at what they can
see. tests/test_hostile.py grades hostile students through the real command.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from nbclient import NotebookClient
from traitlets.config import Config

from grader import sandbox
from grader.course import NOTEBOOKS, REPO
from grader.execute import ResilientExecute
from grader.limits import content_size, memory_error_cell, process_error_cell
from grader.results import CPU_LIMIT, MEMORY_LIMIT, OUTPUT_LIMIT, PROCESS_LIMIT
from grader.sample_class import notebook_bytes
from grader.sandbox import (
    MB,
    LimitedKernelManager,
    SandboxUnavailable,
    UidLease,
    bwrap_command,
    python_roots,
    rlimit_command,
    sandbox_command,
    sandbox_problem,
    use_sandbox,
)
from grader.submissions import solved

HAS_SANDBOX = sandbox_problem() is None
needs_sandbox = pytest.mark.skipif(
    not HAS_SANDBOX, reason=f"no sandbox: {sandbox_problem()}"
)
needs_root = pytest.mark.skipif(not sandbox.is_root(), reason="needs root")


def pairs(args: list[str], option: str) -> list[tuple[str, str]]:
    """(SRC, DEST) of every `option SRC DEST` in a bwrap command line."""
    return [(args[i + 1], args[i + 2]) for i, arg in enumerate(args) if arg == option]


@pytest.fixture
def course(tmp_path) -> tuple[Path, Path]:
    """A working copy (helper package, a notebook, a data file) and an ipc folder."""
    cwd = tmp_path / "autograded" / "alice" / "backprop"
    (cwd / "backprop_helper").mkdir(parents=True)
    (cwd / "01_sigmoid.ipynb").write_text("{}")
    (cwd / "data.txt").write_text("1 2 3")
    ipc = tmp_path / "ipc"
    ipc.mkdir()
    return cwd, ipc


# --- the command line -------------------------------------------------------------


def test_rlimit_command_sets_each_limit_and_no_core_files():
    assert rlimit_command(5, 1024, 48, 16) == [
        "prlimit", "--core=0", "--cpu=5:6", f"--as={1024 * MB}", "--nproc=48",
        f"--fsize={16 * MB}", "--",
    ]  # fmt: skip
    assert rlimit_command(0, 0, 0, 0) == ["prlimit", "--core=0", "--"]


def test_bwrap_isolates_network_processes_and_the_session(course):
    cwd, ipc = course
    args = bwrap_command(cwd=cwd, ipc=ipc, env={}, disk_mb=8, as_root=True)
    for option in ("--unshare-net", "--unshare-pid", "--unshare-ipc"):
        assert option in args
    for option in ("--die-with-parent", "--new-session", "--clearenv"):
        assert option in args
    assert "--share-net" not in args
    assert args[-3:] == ["--chdir", str(cwd), "--"]


def test_bwrap_shows_only_what_python_and_the_kernel_need(course):
    """Read-only: /usr, Python, the venv, the working copy's files except notebooks;
    read-write: the ipc folder only. Never the repository, source/ or a home."""
    cwd, ipc = course
    args = bwrap_command(cwd=cwd, ipc=ipc, env={}, disk_mb=8, as_root=True)
    read_only = dict(pairs(args, "--ro-bind"))
    assert pairs(args, "--bind") == [(str(ipc), str(ipc))]
    assert read_only["/usr"] == "/usr"
    for root in python_roots():
        assert read_only[str(root)] == str(root)
    assert str(cwd / "backprop_helper") in read_only
    assert str(cwd / "data.txt") in read_only
    assert str(cwd / "01_sigmoid.ipynb") not in read_only
    sources = set(read_only) | {src for src, _ in pairs(args, "--ro-bind-try")}
    for hidden in (REPO, REPO / "source", Path("/root"), Path("/home"), Path("/")):
        assert str(hidden) not in sources
    assert not any(Path(src).is_relative_to(REPO / "source") for src in sources), (
        "source/ (hidden tests) must not be visible"
    )


def test_bwrap_makes_writable_space_in_memory_with_a_size(course):
    """/tmp and the working copy are size-limited tmpfs, /tmp before anything in it."""
    cwd, ipc = course
    args = bwrap_command(cwd=cwd, ipc=ipc, env={}, disk_mb=8, as_root=True)
    tmpfs = [i for i, arg in enumerate(args) if arg == "--tmpfs"]
    assert [args[i + 1] for i in tmpfs] == ["/tmp", str(cwd)]
    for i in tmpfs:
        assert args[i - 2 : i] == ["--size", str(8 * MB)]
    first_tmp_use = min(
        i for i, arg in enumerate(args) if arg.startswith("/tmp/") and i > 0
    )
    assert tmpfs[0] < first_tmp_use or not str(cwd).startswith("/tmp")


def test_parent_folders_are_traversable(course):
    """bwrap makes missing parents 0700; each is made 0755 first."""
    cwd, ipc = course
    args = bwrap_command(cwd=cwd, ipc=ipc, env={}, disk_mb=8, as_root=True)
    made = {args[i + 1] for i, arg in enumerate(args) if arg == "--dir"}
    for parent in cwd.parents:
        if parent not in (Path("/"), Path("/tmp")):
            assert str(parent) in made
            index = args.index(str(parent))
            assert args[index - 3 : index - 1] == ["--perms", "0755"]


def test_kernel_environment_is_set_and_limits_threads(course):
    cwd, ipc = course
    env = sandbox.sandbox_env()
    args = bwrap_command(cwd=cwd, ipc=ipc, env=env, disk_mb=8, as_root=True)
    settings = dict(pairs(args, "--setenv"))
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        assert settings[name] == "1"
    assert settings["MPLCONFIGDIR"].startswith(sandbox.HOME)
    assert settings["HOME"] == sandbox.HOME


def test_as_root_the_kernel_drops_to_its_own_uid(course):
    cwd, ipc = course
    command = sandbox_command(
        ["python", "-m", "ipykernel_launcher"], cwd=cwd, ipc=ipc, uid=61005,
        cpu_seconds=5, memory_mb=512, processes=32, disk_mb=8,
    )  # fmt: skip
    assert command[0] == "prlimit"
    assert "--nproc=32" in command
    bwrap = command.index("bwrap")
    setpriv = command.index("setpriv")
    assert bwrap < setpriv < command.index("ipykernel_launcher")
    assert "--reuid=61005" in command
    assert "--bounding-set=-all" in command
    assert "--unshare-user" not in command
    passwd = dict((dest, src) for src, dest in pairs(command, "--ro-bind"))
    assert "student:x:61005:61005" in Path(passwd["/etc/passwd"]).read_text()


def test_without_root_bwrap_makes_a_user_namespace_and_no_process_limit(course):
    """Weaker: RLIMIT_NPROC would count all of the user's processes, so it is not
    set; the process watch still kills a sandbox over its limit."""
    cwd, ipc = course
    command = sandbox_command(
        ["python"], cwd=cwd, ipc=ipc, uid=None,
        cpu_seconds=5, memory_mb=512, processes=32, disk_mb=8,
    )  # fmt: skip
    assert "--unshare-user" in command
    assert "--disable-userns" in command
    assert "setpriv" not in command
    assert not any(arg.startswith("--nproc") for arg in command)


# --- is it there? -----------------------------------------------------------------


def test_sandbox_off_never_probes(monkeypatch):
    monkeypatch.setattr(sandbox, "sandbox_problem", lambda: pytest.fail("probed"))
    assert use_sandbox("off") is False


def test_sandbox_required_refuses_without_it(monkeypatch):
    monkeypatch.setattr(sandbox, "sandbox_problem", lambda: "bwrap not found")
    with pytest.raises(SandboxUnavailable, match="bwrap not found"):
        use_sandbox("required")


def test_sandbox_auto_warns_loudly_without_it(monkeypatch):
    monkeypatch.setattr(sandbox, "sandbox_problem", lambda: "bwrap not found")
    said = []
    assert use_sandbox("auto", warn=said.append) is False
    assert "WARNING: grading WITHOUT a sandbox: bwrap not found" in said[0]


def test_sandbox_auto_uses_it_when_it_works(monkeypatch):
    monkeypatch.setattr(sandbox, "sandbox_problem", lambda: None)
    assert use_sandbox("auto", warn=pytest.fail) is True
    assert use_sandbox("required") is True


def test_unknown_mode_is_an_error():
    with pytest.raises(ValueError, match="auto, required, off"):
        use_sandbox("maybe")


@pytest.mark.skipif(sys.platform != "linux", reason="Linux only")
def test_sandbox_works_on_this_machine():
    """make setup installs bubblewrap; here it must work (CI runs as root)."""
    assert sandbox_problem() is None


@needs_root
def test_running_kernels_never_share_a_uid():
    first, second = UidLease.take(), UidLease.take()
    try:
        assert first.uid != second.uid
        assert sandbox.UID_BASE <= first.uid < sandbox.UID_BASE + sandbox.UID_SLOTS
    finally:
        first.release()
        second.release()
    again = UidLease.take()
    again.release()
    assert again.uid == first.uid


# --- what happened -> status ------------------------------------------------------


def error(ename: str, evalue: str = "") -> nbformat.NotebookNode:
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[])


def notebook_with(*outputs) -> nbformat.NotebookNode:
    cells = [nbformat.v4.new_code_cell("pass"), nbformat.v4.new_code_cell("x")]
    cells[1].outputs = list(outputs)
    return nbformat.v4.new_notebook(cells=cells)


def test_content_size_counts_every_string():
    assert content_size({"text": "x" * 1000}) == 1004
    assert content_size({"data": {"image/png": "a" * 10}, "n": 3}) == 4 + 9 + 10 + 9


def test_memory_and_process_errors_are_found_by_their_exception():
    assert memory_error_cell(notebook_with(error("MemoryError"))) == 1
    assert memory_error_cell(notebook_with(error("_ArrayMemoryError"))) == 1
    assert memory_error_cell(notebook_with(error("ValueError"))) is None
    fork = error("BlockingIOError", "[Errno 11] Resource temporarily unavailable")
    assert process_error_cell(notebook_with(fork)) == 1
    thread = error("RuntimeError", "can't start new thread")
    assert process_error_cell(notebook_with(thread)) == 1
    assert process_error_cell(notebook_with(error("RuntimeError", "other"))) is None


def fake_kernel(
    signal_=None, cpu=0.0, processes_hit=False, cut=False, log="", peak=0
) -> SimpleNamespace:
    """What LimitChecks asks a LimitedKernelManager after a run."""
    return SimpleNamespace(
        sandbox=True, cpu_seconds=5, memory_mb=512, processes=32,
        exit_signal=lambda: signal_, kernel_cpu_seconds=lambda: cpu,
        process_limit_hit=lambda: processes_hit, iopub_broken=lambda: cut,
        kernel_log=lambda: log, kernel_peak_mb=lambda: peak,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kernel", "outputs", "expected"),
    [
        (fake_kernel(signal.SIGXCPU), (), (CPU_LIMIT, "5 s of CPU time")),
        (fake_kernel(signal.SIGKILL, cpu=5.1), (), (CPU_LIMIT, "5 s of CPU time")),
        (fake_kernel(signal.SIGKILL, cpu=1.0), (), None),
        (fake_kernel(signal.SIGSEGV), (), None),
        (fake_kernel(processes_hit=True), (), (PROCESS_LIMIT, "32 processes")),
        (fake_kernel(cut=True), (), (OUTPUT_LIMIT, "1 MB of output")),
        (fake_kernel(), (error("MemoryError"),), (MEMORY_LIMIT, "512 MB of memory")),
        (fake_kernel(log="MemoryError\n"), (), (MEMORY_LIMIT, "512 MB of memory")),
        (fake_kernel(signal.SIGABRT, peak=500), (), (MEMORY_LIMIT, "512 MB")),
        (fake_kernel(signal.SIGABRT, peak=100), (), None),
        (fake_kernel(), (), None),
    ],
    ids=["sigxcpu", "killed-at-cpu", "killed", "segv", "procs", "cut", "memerr",
         "memlog", "abort-at-memory", "abort", "nothing"],
)  # fmt: skip
def test_fatal_breach_names_the_limit(kernel, outputs, expected):
    run = ResilientExecute(output_limit=MB)
    run._reset_limits()
    run._km = kernel
    breach = run._fatal_breach(notebook_with(*outputs))
    if expected is None:
        assert breach is None
    else:
        assert breach[0] == expected[0]
        assert expected[1] in breach[1]
        assert breach[1].endswith("(the limit)")


def test_a_crash_names_its_signal():
    run = ResilientExecute()
    run._reset_limits()
    run._running_index = 3
    run._km = fake_kernel(signal.SIGSEGV)
    assert run._death_detail() == "the kernel died (a crash: SIGSEGV)"
    run._km = fake_kernel()
    assert "os._exit" in run._death_detail()
    run._running_index = -1
    run._km = fake_kernel(log="banner\nbwrap: Can't mount proc on /newroot/proc\n")
    assert run._death_detail() == (
        "the kernel did not start: bwrap: Can't mount proc on /newroot/proc"
    )


def test_a_survived_breach_becomes_the_status_with_its_cell():
    run = ResilientExecute()
    run._reset_limits()
    run._km = fake_kernel()
    nb = notebook_with(error("MemoryError"))
    status, detail = run._limit_status(nb, "ok", "")
    assert status == MEMORY_LIMIT
    assert detail == "used more than 512 MB of memory (the limit) in cell #2"


# --- real kernels -----------------------------------------------------------------

PROBE = """
import json, os, pathlib
seen = {
    "uid": os.getuid(),
    "cwd": sorted(os.listdir(".")),
    "env": {k: os.environ.get(k) for k in
            ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
             "MPLCONFIGDIR")},
    "root": os.path.exists("/root/.pyenv") and os.listdir("/root"),
    "repo": os.path.exists(REPO_SOURCE),
}
pathlib.Path("scratch.txt").write_text("made in the kernel")
print(json.dumps(seen))
"""


def run_probe(sandboxed: bool, course) -> dict:
    """Run PROBE in a kernel started like the grader starts it; what it saw."""
    import json

    cwd, ipc = course
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                PROBE.replace("REPO_SOURCE", repr(str(REPO / "source")))
            )
        ]
    )
    notebook.metadata.kernelspec = {"name": "python3", "display_name": "Python 3"}
    config = Config()
    config.KernelManager.transport = "ipc"
    config.KernelManager.ip = str(ipc / "kernel")
    config.LimitedKernelManager.sandbox = sandboxed
    NotebookClient(
        notebook, config=config, kernel_manager_class=LimitedKernelManager,
        timeout=60, resources={"metadata": {"path": str(cwd)}},
    ).execute()  # fmt: skip
    return json.loads(notebook.cells[0].outputs[0].text)


@needs_sandbox
def test_sandboxed_kernel_sees_only_its_working_copy(course):
    cwd, _ = course
    seen = run_probe(True, course)
    assert seen["cwd"] == ["backprop_helper", "data.txt"]  # no notebook
    assert seen["repo"] is False
    if sandbox.is_root():
        assert seen["uid"] >= sandbox.UID_BASE
        assert seen["root"] in (False, [".pyenv"])
    assert set(seen["env"].values()) - {"1"} == {sandbox.HOME + "/.config/matplotlib"}
    assert not (cwd / "scratch.txt").exists(), "writes go to the scratch layer"


@pytest.mark.parametrize("sandboxed", [True, False], ids=["on", "off"])
def test_socket_paths_too_long_for_unix_are_a_clear_error(tmp_path, sandboxed):
    """A socket folder whose paths would pass 107 bytes fails before any kernel
    starts, naming the setting to shorten (zmq says only "File name too long")."""
    ipc = tmp_path / ("deep" * 25)
    config = Config()
    config.KernelManager.transport = "ipc"
    config.KernelManager.ip = str(ipc / "kernel")
    config.LimitedKernelManager.sandbox = sandboxed
    manager = LimitedKernelManager(config=config)
    with pytest.raises(RuntimeError, match=r"longer than the 107 bytes.*Manager\.ip"):
        asyncio.run(manager.start_kernel(cwd=str(tmp_path)))
    assert not manager.has_kernel


def test_unsandboxed_kernel_gets_the_thread_settings_too(course):
    cwd, _ = course
    seen = run_probe(False, course)
    assert "01_sigmoid.ipynb" in seen["cwd"]
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        assert seen["env"][name] == "1"
    assert (cwd / "scratch.txt").exists()


FLOOD = """
import re, sys, time
from pathlib import Path
import nbformat
from traitlets.config import Config
from grader.execute import ResilientExecute

cwd, ipc, sandboxed = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "on"
code = (
    "import signal, sys\\n"
    "signal.signal(signal.SIGINT, signal.SIG_IGN)\\n"
    "for _ in range(1000):\\n"
    "    sys.stdout.write('x' * 10**6)\\n"
    "    sys.stdout.flush()\\n"
)
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code),
                                     nbformat.v4.new_code_cell("print('after')")])
nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3"}
config = Config()
config.KernelManager.transport = "ipc"
config.KernelManager.ip = str(ipc / "kernel")
config.LimitedKernelManager.sandbox = sandboxed
config.ResilientExecute.output_limit = 2 * 1024 * 1024
config.ResilientExecute.status_dir = str(ipc)
config.ResilientExecute.timeout = 60
start = time.monotonic()
ResilientExecute(config=config).preprocess(
    nb, {"metadata": {"path": str(cwd)}, "unique_key": "flood"}
)
kept = sum(len(str(o)) for cell in nb.cells for o in cell.outputs)
print((ipc / "flood.status.json").read_text())
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent
peak = re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text())
print(int(peak.group(1)) // 1024, kept, round(time.monotonic() - start, 1))
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    "sandboxed", [pytest.param(True, marks=needs_sandbox), False], ids=["on", "off"]
)
def test_printing_a_gigabyte_never_reaches_the_grader(course, sandboxed):
    """A kernel that ignores the stop and prints 1 GB: the grader keeps at most the
    limit, stays small, kills the kernel at twice the limit and says why."""
    cwd, ipc = course
    result = subprocess.run(
        [sys.executable, "-c", FLOOD, str(cwd), str(ipc), "on" if sandboxed else "off"],
        capture_output=True, text=True, timeout=300, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    status_line, numbers = result.stdout.strip().splitlines()[-2:]
    megabytes, kept, seconds = numbers.split()
    assert '"status": "output_limit"' in status_line
    assert "printed more than 2 MB of output (the limit)" in status_line
    assert int(megabytes) < 400, f"the grader grew to {megabytes} MB"
    assert int(kept) < 3 * MB
    assert float(seconds) < 60


@pytest.mark.slow
def test_cli_without_bwrap_refuses_required_and_warns_on_auto(tmp_path):
    """No bwrap on PATH: --sandbox required exits 3 with a clear message and
    writes nothing; auto grades with a loud warning."""
    folder = tmp_path / "class" / "alice"
    folder.mkdir(parents=True)
    (folder / f"{NOTEBOOKS[0]}.ipynb").write_bytes(notebook_bytes(solved(NOTEBOOKS[0])))

    def grade(*flags: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "grader", "grade", str(tmp_path / "class"),
             "--out", str(tmp_path / "out"), "--quiet", *flags],
            capture_output=True, text=True, timeout=300, cwd=REPO,
            env={**os.environ, "PATH": str(Path(sys.executable).parent)},
        )  # fmt: skip

    result = grade("--sandbox", "required")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "--sandbox required" in result.stderr
    assert "bwrap" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
    auto = grade("--cell-timeout", "30")
    assert auto.returncode == 0, auto.stdout + auto.stderr
    assert "WARNING: grading WITHOUT a sandbox" in auto.stderr
    grades = (tmp_path / "out" / "grades.csv").read_text()
    assert f"alice,{NOTEBOOKS[0]},4,4,ok" in grades
