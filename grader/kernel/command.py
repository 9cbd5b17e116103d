"""The command line that starts a kernel (or its fork server) contained and limited.

    [join the memory cgroup] (as root, where the machine has one: grader.kernel.cgroup)
    -> prlimit (CPU, address space, processes, file size, no core files)
    -> bwrap (new mount, pid, network, ipc, uts and cgroup namespaces; an empty root
       with read-only /usr, the Python installation and the venv; an in-memory /tmp
       and HOME; the working copy read-only under an in-memory scratch layer; the
       folder with the kernels' connection files and sockets)
    -> setpriv (as root: a dedicated unprivileged uid, no groups, no capabilities)
    -> the command (python -m ipykernel_launcher -f ..., or the fork server)

Only argv builders live here: nothing is started.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..model import MB

HOME = "/tmp/home"  # the kernel's HOME, inside its in-memory /tmp

# Thread pools of numerical libraries: one thread each (2 workers on 2 cores would
# only contend), set for every kernel, sandboxed or not.
THREAD_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MALLOC_ARENA_MAX": "2",
}


def is_root() -> bool:
    """Whether the grader runs as root (then kernels get their own uid)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def rlimit_command(
    cpu_seconds: int, memory_mb: int, processes: int, file_mb: int
) -> list[str]:
    """`prlimit ... --`: the kernel's resource limits (0 leaves one unlimited).

    CPU: SIGXCPU at the limit (the soft limit), SIGKILL a second later (the hard
    limit), so a kernel that ignores SIGXCPU still stops. Memory is the address space
    (RLIMIT_AS): an allocation past it fails (MemoryError) instead of the machine
    swapping. Processes counts threads too, per uid (root ignores it).
    """
    args = ["prlimit", "--core=0"]
    if cpu_seconds:
        args.append(f"--cpu={cpu_seconds}:{cpu_seconds + 1}")
    if memory_mb:
        args.append(f"--as={memory_mb * MB}")
    if processes:
        args.append(f"--nproc={processes}")
    if file_mb:
        args.append(f"--fsize={file_mb * MB}")
    return [*args, "--"]


def python_roots() -> list[Path]:
    """Folders the kernel's Python needs (the installation and the venv), resolved
    (the sandbox mounts each at its real path), outermost first, without the ones
    /usr already holds."""
    found: list[Path] = []
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}:
        path = Path(prefix).resolve()
        if path.is_relative_to("/usr"):
            continue
        found.append(path)
    found.sort(key=lambda p: (len(p.parts), str(p)))
    roots: list[Path] = []
    for path in found:
        if not any(path.is_relative_to(root) for root in roots):
            roots.append(path)
    return roots


def mounted_path(path: str | Path) -> str:
    """`path` by the folders the sandbox mounts: its folder resolved, its name kept.

    A venv reached through a link (`.venv -> /shared/venv`: shared venvs, uv, CI
    caches) is mounted at its real path (python_roots), where the link's path does
    not exist; the interpreter keeps its own name, since a venv's `bin/python` is
    itself a link that Python must be started by to find its venv."""
    path = Path(path)
    return str(path.parent.resolve() / path.name)


def _system_binds() -> list[str]:
    """/usr read-only, merged-/usr symlinks (or binds), a few harmless /etc files."""
    args = ["--ro-bind", "/usr", "/usr", "--perms", "0755", "--dir", "/etc"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for name in ("ld.so.cache", "localtime", "alternatives", "fonts"):
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return args


def bwrap_command(
    *,
    cwd: Path,
    ipc: Path,
    env: dict[str, str],
    file_mb: int,
    as_root: bool,
    etc: Path | None = None,
) -> list[str]:
    """`bwrap ... --`: the sandbox around the kernel.

    cwd: the kernel's working copy; its files (except notebooks, which may hold
        hidden tests) are visible read-only under a writable in-memory layer.
    ipc: the folder with the kernels' connection files and socket folders; the
        sandbox can write only where the grader lets it (grader.kernel.sandbox).
    env: the kernel's whole environment.
    file_mb: size of each in-memory file system (/tmp with HOME, the working copy).
    as_root: bwrap runs as root (no user namespace); the kernel command drops to an
        unprivileged uid itself (setpriv). Otherwise bwrap makes a user namespace.
    etc: a folder with passwd and group files for the sandbox's /etc.
    """
    args = ["bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net"]
    args += ["--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox"]
    if not as_root:
        args += ["--unshare-user", "--disable-userns"]
    args += ["--die-with-parent", "--new-session", "--clearenv"]
    for name, value in sorted(env.items()):
        args += ["--setenv", name, value]
    args += _system_binds()
    if etc is not None:
        for name in ("passwd", "group"):
            args += ["--ro-bind", str(etc / name), f"/etc/{name}"]
    args += ["--proc", "/proc", "--dev", "/dev"]
    size = str(file_mb * MB)
    args += ["--perms", "1777", "--size", size, "--tmpfs", "/tmp"]
    args += ["--perms", "0777", "--dir", HOME]
    made = {Path("/"), Path("/tmp"), Path("/usr")}
    bound: list[Path] = []

    def parents(path: Path) -> list[str]:
        """--dir for each missing parent (bwrap would make them 0700)."""
        out = []
        for parent in reversed(path.parents):
            if parent in made or any(parent.is_relative_to(b) for b in bound):
                continue
            made.add(parent)
            out += ["--perms", "0755", "--dir", str(parent)]
        return out

    for root in python_roots():
        args += [*parents(root), "--ro-bind", str(root), str(root)]
        bound.append(root)
    args += [*parents(ipc), "--bind", str(ipc), str(ipc)]
    bound.append(ipc)
    args += [*parents(cwd), "--perms", "0777", "--size", size, "--tmpfs", str(cwd)]
    bound.append(cwd)
    for entry in sorted(cwd.iterdir()) if cwd.is_dir() else []:
        if entry.suffix != ".ipynb":
            args += ["--ro-bind", str(entry), str(entry)]
    return [*args, "--chdir", str(cwd), "--"]


def setpriv_command(uid: int) -> list[str]:
    """`setpriv ... --`: become uid (and gid) with no groups and no capabilities."""
    return [
        "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
        "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--",
    ]  # fmt: skip


def sandbox_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The kernel's whole environment inside the sandbox."""
    venv_bin = str(Path(mounted_path(sys.executable)).parent)
    return {
        "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
        "HOME": HOME,
        "USER": "student",
        "LOGNAME": "student",
        "LANG": "C.UTF-8",
        "TMPDIR": "/tmp",
        "MPLCONFIGDIR": f"{HOME}/.config/matplotlib",
        "PYTHONDONTWRITEBYTECODE": "1",
        **THREAD_ENV,
        **(extra or {}),
    }


def write_etc(folder: Path, uid: int | None) -> Path:
    """passwd and group files that name only root and the kernel's user."""
    folder.mkdir(parents=True, exist_ok=True)
    uid = os.getuid() if uid is None else uid
    gid = uid if is_root() else os.getgid()
    (folder / "passwd").write_text(
        "root:x:0:0:root:/root:/usr/sbin/nologin\n"
        f"student:x:{uid}:{gid}:student:{HOME}:/bin/sh\n"
    )
    (folder / "group").write_text(f"root:x:0:\nstudent:x:{gid}:\n")
    for name in ("passwd", "group"):
        (folder / name).chmod(0o644)
    return folder


def sandbox_command(
    cmd: list[str],
    *,
    cwd: Path,
    ipc: Path,
    etc: Path,
    uid: int | None,
    cpu_seconds: int,
    memory_mb: int,
    processes: int,
    file_mb: int,
    env: dict[str, str] | None = None,
) -> list[str]:
    """The whole chain: prlimit, bwrap, setpriv (as root), then cmd (its program
    started by the path the sandbox mounts)."""
    as_root = uid is not None
    cmd = [mounted_path(cmd[0]) if os.sep in cmd[0] else cmd[0], *cmd[1:]]
    return [
        *rlimit_command(cpu_seconds, memory_mb, processes if as_root else 0, file_mb),
        *bwrap_command(
            cwd=cwd,
            ipc=ipc,
            env=sandbox_env(env),
            file_mb=file_mb,
            as_root=as_root,
            etc=etc,
        ),
        *(setpriv_command(uid) if as_root else []),
        *cmd,
    ]
