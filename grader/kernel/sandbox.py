"""One student's sandbox: where that student's kernels run, one after another.

A StudentSandbox holds what a student's kernels share: an unprivileged uid (as
root), a memory cgroup (where the machine has one), the folder with the kernels'
connection files and sockets, one log, and (when kernels are forked) one warm fork
server with its process watch. Open one per student with `with StudentSandbox(...)`;
the kernel provisioner (grader.kernel.provisioner) starts each kernel in the one
that is open.

What the grader touches, and what the student's code can write (README, "Threat
model"): the run folder (`grader-kernels-*`, root's, 0700) holds the sandbox's
/etc files and `ipc/`, the only folder bound into the sandbox read-write; `ipc/` is
root's and not writable by the student. Each kernel gets `ipc/<key>.json` (its
connection file, written by the grader) and `ipc/<key>/` for its sockets, which is
the student's only while the kernel binds them: before any of the student's code
runs, the grader makes it root's again (`seal`). The log is a file with no name,
held open by the grader and written by the sandbox through its descriptor. So the
grader never opens, reads or changes a path the student's code can write.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
import tempfile
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

from ..model import Limits
from .cgroup import MemoryCgroup
from .command import (
    MB,
    THREAD_ENV,
    is_root,
    rlimit_command,
    sandbox_command,
    write_etc,
)
from .forkclient import ForkServer, ForkServerError
from .procfs import kill_group, kill_uid
from .uids import UidLease
from .watch import KernelStats, ProcessWatch

MAX_SOCKET_PATH = 107  # bytes in a Unix socket address, without the closing NUL
SOCKETS = 5  # shell, iopub, stdin, control, heartbeat
SEAL_TIMEOUT = 120.0  # seconds a kernel may take to bind its sockets
LOG_TAIL = 4000  # bytes of a kernel's log kept for its status

_current: ContextVar[StudentSandbox | None] = ContextVar(
    "student_sandbox", default=None
)


class KernelDidNotStart(RuntimeError):
    """The kernel (or its fork server) exited before it could run anything."""


class RunningProcess(Protocol):
    """A started kernel, however it was started."""

    pid: int

    def poll(self) -> int | None: ...

    def signal(self, signum: int) -> None: ...

    def kill(self) -> None: ...


class SpawnedKernel:
    """A kernel started as a new process (in a session of its own)."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.pid = process.pid

    def poll(self) -> int | None:
        """The exit code (a negative signal number when a signal ended it), or None."""
        return self.process.poll()

    def signal(self, signum: int) -> None:
        """Signal the kernel's process group, else the kernel."""
        try:
            os.killpg(self.pid, signum)
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(OSError):
                self.process.send_signal(signum)

    def kill(self) -> None:
        """SIGKILL the kernel and everything it started."""
        kill_group(self.process)


@dataclass
class KernelPaths:
    """Where one kernel's connection file and sockets go."""

    connection_file: Path  # in ipc/, written by the grader
    sockets: Path  # ipc/<key>/, the student's until sealed
    socket_prefix: Path  # KernelManager.ip for the ipc transport


@dataclass
class Kernel:
    """One kernel started in the sandbox, and what is known of it."""

    process: RunningProcess
    paths: KernelPaths
    forked: bool
    log_start: int  # where its part of the sandbox's log starts
    stats: KernelStats = field(default_factory=KernelStats)
    oom_kills_before: int = 0
    sealed: bool = False


class StudentSandbox:
    """The sandbox (or, with sandbox=False, just the limits) of one student's kernels.

    limits: the kernel limits (cpu_seconds, memory_mb, processes, file_mb).
    sandbox: run kernels under bubblewrap as an unprivileged uid; False runs them
        as the grader's user with the rlimits only (--sandbox off).
    fork: fork each kernel from one warm server (grader/inside/forkserver.py)
        instead of starting a new Python for each.
    """

    def __init__(self, limits: Limits, *, sandbox: bool, fork: bool = True) -> None:
        self.limits = limits
        self.sandboxed = sandbox
        self.fork = fork
        self.run_dir: Path | None = None
        self.ipc: Path | None = None
        self.log: IO[bytes] | None = None
        self.lease: UidLease | None = None
        self.cgroup: MemoryCgroup | None = None
        self._etc: Path | None = None
        self._server: ForkServer | None = None
        self._server_cwd: Path | None = None
        self._server_watch: ProcessWatch | None = None
        self._kernel_watch: ProcessWatch | None = None
        self._token = None
        self.servers_started = 0  # fork servers started so far

    # --- the sandbox's life ------------------------------------------------------

    @staticmethod
    def current() -> StudentSandbox | None:
        """The sandbox open in this context (grading opens one per student)."""
        return _current.get()

    def __enter__(self) -> StudentSandbox:
        self.open()
        self._token = _current.set(self)
        return self

    def __exit__(self, *exc) -> None:
        if self._token is not None:
            _current.reset(self._token)
            self._token = None
        self.close()

    def open(self) -> None:
        """Make the run folder, take a uid, make the memory cgroup."""
        # Unix socket paths must stay short: the temp dir, not OUT, holds them.
        self.run_dir = Path(tempfile.mkdtemp(prefix="grader-kernels-"))
        self.ipc = self.run_dir / "ipc"
        self.ipc.mkdir(mode=0o711)
        self.ipc.chmod(0o711)
        self.log = tempfile.TemporaryFile(dir=self.run_dir)
        if self.sandboxed and is_root():
            self.lease = UidLease.take()
        if self.sandboxed:
            self.cgroup = MemoryCgroup.create()
            uid = self.lease.uid if self.lease else None
            self._etc = write_etc(self.run_dir / "etc", uid)

    def close(self) -> None:
        """Stop the server and every kernel, free the uid, remove what was made."""
        if self._server is not None:
            self._stop_server()
        for watch in (self._kernel_watch,):
            if watch is not None:
                watch.stop()
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None
        if self.lease is not None:
            self.lease.release()
            self.lease = None
        if self.log is not None:
            self.log.close()
            self.log = None
        if self.run_dir is not None:
            shutil.rmtree(self.run_dir, ignore_errors=True)
            self.run_dir = None

    @property
    def uid(self) -> int | None:
        """The uid kernels run as (None: the grader's own)."""
        return self.lease.uid if self.lease else None

    # --- one kernel --------------------------------------------------------------

    def kernel_paths(self) -> KernelPaths:
        """Fresh paths for one kernel's connection file and sockets."""
        if self.ipc is None:
            raise RuntimeError("the student's sandbox is not open")
        key = uuid.uuid4().hex[:8]
        sockets = self.ipc / key
        prefix = sockets / "k"
        if len(os.fsencode(f"{prefix}-99")) > MAX_SOCKET_PATH:
            raise RuntimeError(
                f"the kernel's socket paths ({prefix}-N) are longer than the "
                f"{MAX_SOCKET_PATH} bytes Unix allows: set TMPDIR to a shorter folder"
            )
        return KernelPaths(self.ipc / f"{key}.json", sockets, prefix)

    def start(
        self, cmd: list[str], paths: KernelPaths, *, cwd: Path, env: dict[str, str]
    ) -> Kernel:
        """Start a kernel (ipykernel's command line) in this sandbox."""
        paths.connection_file.chmod(0o644)  # the kernel reads it; only it sees ipc/
        paths.sockets.mkdir(mode=0o700)
        if self.uid is not None:
            os.chown(paths.sockets, self.uid, self.uid)
        env = {**env, **THREAD_ENV}
        if not self.sandboxed:  # as jupyter_client's launch_kernel sets it
            env["JPY_PARENT_PID"] = str(os.getpid())
        before = self.cgroup.oom_kills() if self.cgroup else 0
        if self.fork and "ipykernel_launcher" in cmd:
            kernel = self._fork(cmd, paths, cwd, env)
        else:
            kernel = self._spawn(cmd, paths, cwd, env)
        kernel.oom_kills_before = before
        return kernel

    def seal(self, kernel: Kernel) -> None:
        """Once the kernel has bound its sockets, make their folder root's: the
        student's code, which runs only after this, cannot add, swap or remove a
        file in it. Returns early if the kernel dies first."""
        deadline = time.monotonic() + SEAL_TIMEOUT
        folder = kernel.paths.sockets
        while time.monotonic() < deadline and kernel.process.poll() is None:
            with contextlib.suppress(OSError):
                found = [os.lstat(folder / name) for name in os.listdir(folder)]
                if sum(stat.S_ISSOCK(entry.st_mode) for entry in found) >= SOCKETS:
                    break
            time.sleep(0.005)
        if self.uid is None:
            return
        handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            os.fchown(handle, 0, 0)
            os.fchmod(handle, 0o755)
        finally:
            os.close(handle)
        kernel.sealed = True

    def log_tail(self, kernel: Kernel, limit: int = LOG_TAIL) -> str:
        """The end of what this kernel (and, forked, its server) wrote."""
        if self.log is None:
            return ""
        handle = self.log.fileno()
        size = os.fstat(handle).st_size
        start = max(kernel.log_start, size - limit)
        return os.pread(handle, max(0, size - start), start).decode("utf-8", "replace")

    def finish(self, kernel: Kernel) -> None:
        """After the kernel ended: stop watching it, remove its files."""
        if self._kernel_watch is not None and not kernel.forked:
            self._kernel_watch.stop()
            self._kernel_watch = None
        self.forget(kernel.paths)

    @staticmethod
    def forget(paths: KernelPaths) -> None:
        """Remove a kernel's connection file and socket folder."""
        paths.connection_file.unlink(missing_ok=True)
        shutil.rmtree(paths.sockets, ignore_errors=True)

    def oom_killed(self, kernel: Kernel) -> bool:
        """Whether the memory cgroup killed a process while this kernel ran."""
        return bool(self.cgroup and self.cgroup.oom_kills() > kernel.oom_kills_before)

    # --- how kernels start ------------------------------------------------------

    def _chain(self, inner: list[str], cwd: Path, cpu_seconds: int) -> list[str]:
        """The command line around `inner`: cgroup, limits, sandbox, uid."""
        limits = self.limits
        if self.sandboxed:
            chain = sandbox_command(
                inner, cwd=cwd, ipc=self.ipc, etc=self._etc, uid=self.uid,
                cpu_seconds=cpu_seconds, memory_mb=limits.memory_mb,
                processes=limits.processes, file_mb=limits.file_mb,
            )  # fmt: skip
        elif shutil.which("prlimit"):
            rlimits = rlimit_command(cpu_seconds, limits.memory_mb, 0, limits.file_mb)
            chain = [*rlimits, *inner]
        else:
            chain = inner
        if self.cgroup is not None:
            chain = [*self.cgroup.join_command(), *chain]
        return chain

    def _spawn(
        self, cmd: list[str], paths: KernelPaths, cwd: Path, env: dict[str, str]
    ) -> Kernel:
        """A kernel as a new process in the chain."""
        if self.cgroup is not None:
            self._limit_memory(0)
            self.cgroup.reset_peak()
        log_start = self.log.seek(0, os.SEEK_END)
        process = subprocess.Popen(
            self._chain(cmd, cwd, self.limits.cpu_seconds),
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            cwd=cwd, env=env, start_new_session=True,
        )  # fmt: skip
        kernel = Kernel(SpawnedKernel(process), paths, False, log_start)
        if self.sandboxed:
            self._kernel_watch = ProcessWatch(process.pid, self.limits.processes)
            self._kernel_watch.start()
            kernel.stats = self._kernel_watch.stats
        return kernel

    def _fork(
        self, cmd: list[str], paths: KernelPaths, cwd: Path, env: dict[str, str]
    ) -> Kernel:
        """A kernel forked by this student's server (started, or restarted, here)."""
        server = self._server_for(cmd[0], cwd, env)
        if self.cgroup is not None:
            self.cgroup.reset_peak()
        log_start = self.log.seek(0, os.SEEK_END)
        cpu = self.limits.cpu_seconds
        argv = cmd[cmd.index("ipykernel_launcher") + 1 :]
        # Sandboxed, the kernel keeps the server's environment (bwrap's --setenv).
        kernel_env = None if self.sandboxed else env
        try:
            process = server.start(
                argv, cwd=str(cwd), env=kernel_env, cpu=(cpu, cpu + 1) if cpu else None
            )
        except ForkServerError as error:
            raise KernelDidNotStart(self._start_failure(log_start)) from error
        kernel = Kernel(process, paths, True, log_start)
        if self._server_watch is not None:
            kernel.stats = self._server_watch.follow(process.pid)
        return kernel

    def _server_for(self, python: str, cwd: Path, env: dict[str, str]) -> ForkServer:
        """The running server for this working copy, started when there is none."""
        server = self._server
        if server is not None and (self._server_cwd != cwd or not server.alive()):
            self._stop_server()
        if self._server is not None:
            return self._server
        log_start = self.log.seek(0, os.SEEK_END)
        if self.cgroup is not None:
            self._limit_memory(0)
        try:
            self._server = ForkServer(
                self._chain([python], cwd, 0), isolate=self.sandboxed, log=self.log,
                env=env, cwd=str(cwd),
            )  # fmt: skip
        except ForkServerError as error:
            raise KernelDidNotStart(self._start_failure(log_start)) from error
        self._server_cwd = cwd
        self.servers_started += 1
        if self.cgroup is not None:
            self._limit_memory(self.cgroup.usage())
        if self.sandboxed:
            self._server_watch = ProcessWatch(
                self._server.process.pid, self.limits.processes,
                spare=str(self._server.inner_pid),
            )  # fmt: skip
            self._server_watch.start()
        return self._server

    def _limit_memory(self, shared: int) -> None:
        """Each kernel may hold memory_mb of its own, beyond the `shared` bytes
        that the warm server holds (0: no server); no limit for memory_mb 0."""
        if self.limits.memory_mb:
            self.cgroup.set_limit(shared + self.limits.memory_mb * MB)

    def _stop_server(self) -> None:
        """Stop the fork server (its kernels die with it) and its watch."""
        server, self._server, self._server_cwd = self._server, None, None
        try:
            server.close()
        finally:
            if self._server_watch is not None:
                self._server_watch.stop()
                self._server_watch = None
            if self.lease is not None:
                kill_uid(self.lease.uid)

    def _start_failure(self, log_start: int) -> str:
        """Why a start failed, from the last line of what was logged since."""
        handle = self.log.fileno()
        size = os.fstat(handle).st_size
        text = os.pread(
            handle, min(LOG_TAIL, size - log_start), max(log_start, size - LOG_TAIL)
        )
        lines = text.decode("utf-8", "replace").strip().splitlines()
        return "the kernel did not start" + (f": {lines[-1][:200]}" if lines else "")
