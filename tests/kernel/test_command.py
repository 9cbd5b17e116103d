"""grader.kernel.command: the chain's command lines, and what they show the kernel.

Unit tests of argv only; tests/kernel/test_provisioner.py starts real kernels.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.course import REPO
from grader.kernel.command import (
    HOME,
    MB,
    bwrap_command,
    python_roots,
    rlimit_command,
    sandbox_command,
    sandbox_env,
    write_etc,
)


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


def test_rlimit_command_sets_each_limit_and_no_core_files():
    assert rlimit_command(5, 1024, 48, 16) == [
        "prlimit", "--core=0", "--cpu=5:6", f"--as={1024 * MB}", "--nproc=48",
        f"--fsize={16 * MB}", "--",
    ]  # fmt: skip
    assert rlimit_command(0, 0, 0, 0) == ["prlimit", "--core=0", "--"]


def test_bwrap_isolates_network_processes_and_the_session(course):
    cwd, ipc = course
    args = bwrap_command(cwd=cwd, ipc=ipc, env={}, file_mb=8, as_root=True)
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
    args = bwrap_command(cwd=cwd, ipc=ipc, env={}, file_mb=8, as_root=True)
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
    args = bwrap_command(cwd=cwd, ipc=ipc, env={}, file_mb=8, as_root=True)
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
    args = bwrap_command(cwd=cwd, ipc=ipc, env={}, file_mb=8, as_root=True)
    made = {args[i + 1] for i, arg in enumerate(args) if arg == "--dir"}
    for parent in cwd.parents:
        if parent not in (Path("/"), Path("/tmp")):
            assert str(parent) in made
            index = args.index(str(parent))
            assert args[index - 3 : index - 1] == ["--perms", "0755"]


def test_kernel_environment_is_set_and_limits_threads(course):
    cwd, ipc = course
    env = sandbox_env()
    args = bwrap_command(cwd=cwd, ipc=ipc, env=env, file_mb=8, as_root=True)
    settings = dict(pairs(args, "--setenv"))
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        assert settings[name] == "1"
    assert settings["MPLCONFIGDIR"].startswith(HOME)
    assert settings["HOME"] == HOME


def test_as_root_the_kernel_drops_to_its_own_uid(course):
    cwd, ipc = course
    command = sandbox_command(
        ["python", "-m", "ipykernel_launcher"], cwd=cwd, ipc=ipc, uid=61005,
        etc=write_etc(ipc.parent / "etc", 61005),
        cpu_seconds=5, memory_mb=512, processes=32, file_mb=8,
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
        ["python"], cwd=cwd, ipc=ipc, uid=None, etc=write_etc(ipc.parent / "etc", None),
        cpu_seconds=5, memory_mb=512, processes=32, file_mb=8,
    )  # fmt: skip
    assert "--unshare-user" in command
    assert "--disable-userns" in command
    assert "setpriv" not in command
    assert not any(arg.startswith("--nproc") for arg in command)
