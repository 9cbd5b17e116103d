"""Run a student's kernel in a sandbox, with limits on what it may use.

On Linux the kernel runs under bubblewrap (Debian's `bubblewrap` package):

    prlimit (CPU, memory, processes, file size, no core files)
    -> bwrap (new mount, pid, network, ipc, uts and cgroup namespaces; an empty root
       with read-only /usr, the Python installation and the venv; an in-memory /tmp
       and HOME; the working copy read-only under an in-memory scratch layer; the
       folder with the kernel's connection file and sockets)
    -> setpriv (when the grader runs as root: a dedicated unprivileged uid, so the
       process limit counts only this kernel's processes; no capabilities)
    -> python -m ipykernel_launcher -f CONNECTION_FILE

The kernel reaches its client only through the Unix sockets in that folder
(jupyter_client's "ipc" transport); it has no network at all, not even the host's
loopback. Everything the kernel or its children do dies with it (a pid namespace).

Without bwrap (or with `--sandbox off`), the kernel runs as the grader's user with the
CPU, memory and file size limits only.

While grading, a student's kernels are forked from one warm server that runs in this
same chain in place of the kernel (grader.forkserver): one sandbox, uid and process
watch per student, and each kernel still limited as above.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import zmq
import zmq.asyncio
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, DottedObjectName, Integer, Type, default

from . import forkserver
from .channels import SlicedPollClient

MODES = ("auto", "required", "off")

# Unprivileged uids the kernels run as when the grader is root, one per running
# kernel (a lock file each, so parallel workers and parallel runs never share one).
UID_BASE = 61000
UID_SLOTS = 64
LOCK_DIR = Path(tempfile.gettempdir()) / "grader-sandbox"

# Inside the sandbox.
HOME = "/tmp/home"
MB = 1024 * 1024
MAX_SOCKET_PATH = 107  # bytes in a Unix socket address, without the closing NUL

# Thread pools of numerical libraries: one thread each (2 workers on 2 cores would
# only contend), set for every kernel, sandboxed or not.
THREAD_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MALLOC_ARENA_MAX": "2",
}


class SandboxUnavailable(RuntimeError):
    """`--sandbox required`, but the sandbox does not work on this machine."""


def is_root() -> bool:
    """Whether the grader runs as root (then kernels get their own uid)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


# --- the command line -------------------------------------------------------------


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
    """Folders the kernel's Python needs (the installation and the venv), outermost
    first, without the ones /usr already holds."""
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
    disk_mb: int,
    as_root: bool,
    etc: Path | None = None,
) -> list[str]:
    """`bwrap ... --`: the sandbox around the kernel.

    cwd: the kernel's working copy; its files (except notebooks, which may hold
        hidden tests) are visible read-only under a writable in-memory layer.
    ipc: the folder with the connection file and the kernel's sockets (read-write).
    env: the kernel's whole environment.
    disk_mb: size of each in-memory file system (/tmp with HOME, the working copy).
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
    size = str(disk_mb * MB)
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
    venv_bin = str(Path(sys.executable).parent)
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


# --- is it there? -----------------------------------------------------------------


@cache
def sandbox_problem() -> str | None:
    """Why the sandbox cannot run here, or None when a sandboxed Python runs."""
    if not sys.platform.startswith("linux"):
        return f"the sandbox needs Linux (this is {sys.platform})"
    missing = [
        tool
        for tool in ("bwrap", "prlimit") + (("setpriv",) if is_root() else ())
        if shutil.which(tool) is None
    ]
    if missing:
        return (
            f"{', '.join(missing)} not found (install the Debian packages "
            "bubblewrap and util-linux: `make setup` does)"
        )
    with tempfile.TemporaryDirectory(prefix="grader-sandbox-check-") as scratch:
        root = Path(scratch)
        cwd, ipc = root / "cwd", root / "ipc"
        cwd.mkdir()
        ipc.mkdir()
        (cwd / "probe.txt").write_text("probe")
        lease = UidLease.take() if is_root() else None
        try:
            command = sandbox_command(
                [sys.executable, "-c", "print(open('probe.txt').read())"],
                cwd=cwd, ipc=ipc, uid=lease.uid if lease else None,
                cpu_seconds=10, memory_mb=0, processes=0, disk_mb=8,
            )  # fmt: skip
            root.chmod(0o755)
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=60, cwd=root
            )
        except (OSError, subprocess.SubprocessError) as error:
            return f"running bwrap failed: {error}"
        finally:
            if lease:
                lease.release()
    if result.returncode != 0 or result.stdout.strip() != "probe":
        reason = (result.stderr.strip() or f"exit code {result.returncode}")[-300:]
        return f"bwrap is installed but a sandboxed Python did not run: {reason}"
    return None


def use_sandbox(mode: str, warn=None) -> bool:
    """Resolve --sandbox: True to sandbox kernels, False not to.

    required: SandboxUnavailable when it does not work; auto: a loud warning (to
    `warn`, default stderr) and False; off: False.
    """
    if mode not in MODES:
        raise ValueError(f"sandbox mode must be one of {', '.join(MODES)}")
    if mode == "off":
        return False
    problem = sandbox_problem()
    if problem is None:
        return True
    if mode == "required":
        raise SandboxUnavailable(
            f"--sandbox required, but the sandbox does not work here: {problem}"
        )
    message = (
        "\n" + "!" * 78 + "\n"
        f"WARNING: grading WITHOUT a sandbox: {problem}.\n"
        "Students' code runs as you, with your files and network. Install "
        "bubblewrap (`make setup`),\nor pass --sandbox off to accept this, or "
        "--sandbox required to refuse.\n" + "!" * 78
    )
    (warn or (lambda text: print(text, file=sys.stderr, flush=True)))(message)
    return False


# --- one kernel's uid -------------------------------------------------------------


class UidLease:
    """An unprivileged uid that no other running kernel uses (an flock per uid)."""

    def __init__(self, uid: int, handle) -> None:
        self.uid = uid
        self._handle = handle

    @classmethod
    def take(cls) -> UidLease:
        LOCK_DIR.mkdir(mode=0o700, exist_ok=True)
        for uid in range(UID_BASE, UID_BASE + UID_SLOTS):
            handle = open(LOCK_DIR / f"uid-{uid}.lock", "w")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            kill_uid(uid)  # anything a crashed run left behind
            return cls(uid, handle)
        raise RuntimeError(f"all {UID_SLOTS} sandbox uids are in use")

    def release(self) -> None:
        """Kill whatever still runs as this uid, then free it."""
        if self._handle is None:
            return
        kill_uid(self.uid)
        self._handle.close()
        self._handle = None


def _status_fields(pid: str) -> dict[str, str]:
    """/proc/PID/status as a dict ({} when the process is gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def kill_uid(uid: int) -> None:
    """SIGKILL every process whose real uid is uid."""
    for pid in _pids():
        fields = _status_fields(pid)
        if fields.get("Uid", "").split("\t")[:1] == [str(uid)]:
            with contextlib.suppress(OSError):
                os.kill(int(pid), signal.SIGKILL)


def _pids() -> list[str]:
    return [name for name in os.listdir("/proc") if name.isdigit()]


def sandbox_command(
    cmd: list[str],
    *,
    cwd: Path,
    ipc: Path,
    uid: int | None,
    cpu_seconds: int,
    memory_mb: int,
    processes: int,
    disk_mb: int,
    etc: Path | None = None,
    env: dict[str, str] | None = None,
) -> list[str]:
    """The whole chain: prlimit, bwrap, setpriv (as root), then cmd."""
    as_root = uid is not None
    if etc is None:
        etc = write_etc(ipc.parent / f"etc-{uid or os.getuid()}", uid)
    return [
        *rlimit_command(cpu_seconds, memory_mb, processes if as_root else 0, disk_mb),
        *bwrap_command(
            cwd=cwd,
            ipc=ipc,
            env=sandbox_env(env),
            disk_mb=disk_mb,
            as_root=as_root,
            etc=etc,
        ),
        *(setpriv_command(uid) if as_root else []),
        *cmd,
    ]


# --- watching the kernel's processes ----------------------------------------------


@dataclass
class KernelStats:
    """What the process watch saw of one kernel."""

    most_tasks: int = 0  # processes and threads in the sandbox, at most
    kernel_cpu: float = 0.0  # the kernel's CPU seconds, the most seen
    kernel_peak_mb: int = 0  # the kernel's largest address space seen (VmPeak)
    breached: bool = False  # the process limit was reached


class ProcessWatch(threading.Thread):
    """Samples a sandbox's processes: how many, and the kernel's CPU time.

    At `processes` tasks (processes and threads, what RLIMIT_NPROC counts) it records
    a breach and kills every process in the sandbox except the kernel (and the fork
    server, when kernels are forked), so a fork bomb costs its cell, not the machine
    or the rest of the notebook. The kernel is the sandbox's pid 2 unless `follow`
    names another (a forked kernel); its numbers go to `stats`, fresh per kernel.
    """

    interval = 0.25

    def __init__(self, outer_pid: int, processes: int, spare: str = "") -> None:
        super().__init__(daemon=True, name="sandbox-watch")
        self.outer_pid = outer_pid
        self.processes = processes
        self.kernel = "2"  # the kernel's pid inside the sandbox
        self.spare = spare  # a pid inside the sandbox never killed (the fork server)
        self.stats = KernelStats()
        self._stop_event = threading.Event()
        self._namespace: str | None = None
        self._tick = os.sysconf("SC_CLK_TCK")

    def follow(self, inner_pid: int) -> KernelStats:
        """Watch the kernel with this pid inside the sandbox from now on."""
        self.stats = KernelStats()
        self.kernel = str(inner_pid)
        return self.stats

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            try:
                if not self.sample():
                    return
            except OSError:
                continue

    def _find_namespace(self) -> str | None:
        """The pid namespace of bwrap's child (the sandbox's init)."""
        for pid in _pids():
            fields = _status_fields(pid)
            if fields.get("PPid") == str(self.outer_pid):
                with contextlib.suppress(OSError):
                    return os.readlink(f"/proc/{pid}/ns/pid")
        return None

    def sample(self) -> bool:
        """One look; False once the sandbox is gone."""
        if not Path(f"/proc/{self.outer_pid}").exists():
            return False
        if self._namespace is None:
            self._namespace = self._find_namespace()
            if self._namespace is None:
                return True
        stats, kernel = self.stats, self.kernel
        members = []
        for pid in _pids():
            try:
                if os.readlink(f"/proc/{pid}/ns/pid") != self._namespace:
                    continue
            except OSError:
                continue
            fields = _status_fields(pid)
            inner = fields.get("NSpid", "").split("\t")[-1]
            if inner and inner != "1":
                members.append((pid, inner, int(fields.get("Threads", "1"))))
            if inner == kernel:
                peak = int(fields.get("VmPeak", "0 kB").split()[0]) // 1024
                stats.kernel_peak_mb = max(stats.kernel_peak_mb, peak)
        tasks = sum(threads for _, _, threads in members)
        stats.most_tasks = max(stats.most_tasks, tasks)
        for pid, inner, _ in members:
            if inner == kernel:
                stats.kernel_cpu = max(stats.kernel_cpu, self._cpu_seconds(pid))
        if self.processes and tasks >= self.processes:
            stats.breached = True
            for pid, inner, _ in members:
                if inner not in (kernel, self.spare):
                    with contextlib.suppress(OSError):
                        os.kill(int(pid), signal.SIGKILL)
        return True

    def _cpu_seconds(self, pid: str) -> float:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return 0.0
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self._tick


# --- the kernel manager -----------------------------------------------------------


class LimitedKernelClient(SlicedPollClient):
    """A client that notices when its iopub connection is cut, and never sleeps
    through a reply (grader.channels).

    zmq drops the connection of a peer that sends a message larger than the
    socket's MAXMSGSIZE (set by LimitedKernelManager from the output limit), so a
    kernel printing a gigabyte at once never makes the grader hold it.
    """

    _monitor = None

    def connect_iopub(self, identity=None):
        socket = super().connect_iopub(identity)
        address = f"inproc://iopub-monitor-{id(socket)}"
        socket.monitor(address, zmq.EVENT_DISCONNECTED)
        self._monitor = self.context.socket(zmq.PAIR)
        self._monitor.connect(address)
        return socket

    def iopub_disconnected(self) -> bool:
        """Whether the iopub connection was dropped (so far)."""
        monitor = self._monitor
        return bool(
            monitor is not None
            and not monitor.closed
            and monitor.getsockopt(zmq.EVENTS) & zmq.POLLIN
        )

    def stop_channels(self) -> None:
        if self._monitor is not None:
            self._monitor.close(linger=0)
        super().stop_channels()


class LimitedKernelManager(AsyncKernelManager):
    """An AsyncKernelManager whose kernel runs sandboxed (when `sandbox`) and limited.

    The connection file is written next to the kernel's ipc sockets (KernelManager.ip
    with the "ipc" transport), the only folder the sandbox shares with the grader.
    Interrupts go as messages (a signal to bwrap would kill the sandbox).
    """

    sandbox = Bool(False, help="Run the kernel in bubblewrap.").tag(config=True)
    cpu_seconds = Integer(0, help="CPU seconds for the kernel (0: none).").tag(
        config=True
    )
    memory_mb = Integer(0, help="Address space in MB (0: none).").tag(config=True)
    processes = Integer(0, help="Processes and threads in the sandbox (0: none).").tag(
        config=True
    )
    disk_mb = Integer(
        64, help="MB of each in-memory file system; largest file the kernel writes."
    ).tag(config=True)
    fork_kernels = Bool(
        True,
        help="Fork the kernel from the current grader.forkserver session's warm "
        "server (one per student, same sandbox and limits), when one is open.",
    ).tag(config=True)

    @default("context")
    def _shared_context(self) -> zmq.asyncio.Context:
        """The process's one zmq context, never destroyed (so never garbage-collected).

        With a context per kernel manager, garbage collection could finalize a
        context before its sockets, and Context.term() then waits forever for those
        sockets (seen: both workers stuck in term() inside a gradebook query). With
        one shared context, each socket is closed on its own, without lingering.
        """
        context = zmq.asyncio.Context.instance()
        context.setsockopt(zmq.LINGER, 0)
        return context

    _lease: UidLease | None = None
    _process: subprocess.Popen | None = None
    _watch: ProcessWatch | None = None  # this kernel's own (not forked)
    _stats: KernelStats | None = None
    _fork = None  # (session, server command, kernel command, cwd) when forked
    _log = None
    _client: LimitedKernelClient | None = None
    _iopub_cut = False
    # Largest message the grader accepts from the kernel (0: any); set per notebook.
    max_message = 0

    client_class = DottedObjectName("grader.sandbox.LimitedKernelClient").tag(
        config=True
    )
    client_factory = Type(LimitedKernelClient, klass=AsyncKernelClient).tag(config=True)

    def client(self, **kwargs):
        """A client whose sockets refuse messages over max_message bytes."""
        client = super().client(**kwargs)
        if self.max_message:
            client.context.setsockopt(zmq.MAXMSGSIZE, self.max_message)
            client.context.setsockopt(zmq.RCVHWM, 64)
        if isinstance(client, LimitedKernelClient):
            self._client = client
        return client

    async def _async_shutdown_kernel(self, now: bool = False, restart: bool = False):
        # A cut iopub connection while the kernel still runs: an oversized message
        # (when the kernel died, its connection went with it).
        alive = self._process is not None and self._process.poll() is None
        if alive and self._client is not None and self._client.iopub_disconnected():
            self._iopub_cut = True
        await super()._async_shutdown_kernel(now=now, restart=restart)

    # AsyncKernelManager binds these names to KernelManager's functions directly.
    shutdown_kernel = _async_shutdown_kernel

    def kill_now(self) -> None:
        """SIGKILL the kernel (the sandbox and all in it) from any thread."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        if not isinstance(process, subprocess.Popen):
            process.kill()  # forked: its process group, through the server
            return
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            process.kill()

    def _forking(self) -> forkserver.KernelSession | None:
        """The session to fork this kernel in, or None to start it afresh."""
        if not self.fork_kernels:
            return None
        return forkserver.current_session()

    async def _async_pre_start_kernel(self, **kw):
        if self.transport == "ipc":
            ipc = Path(self.ip).parent
            ipc.mkdir(parents=True, exist_ok=True)
            key = uuid.uuid4().hex[:8]
            self.connection_file = str(ipc / f"kernel-{key}.json")
            # Socket paths of this kernel alone: a previous kernel that closes its
            # sockets late (zmq then unlinks its ipc files) must not unlink ours.
            self.ip = str(ipc / f"k{key}")
            if len(os.fsencode(f"{self.ip}-99")) > MAX_SOCKET_PATH:
                raise RuntimeError(
                    f"the kernel's socket paths ({self.ip}-N) are longer than the "
                    f"{MAX_SOCKET_PATH} bytes Unix allows: give KernelManager.ip a "
                    "shorter folder"
                )
        elif self.sandbox:
            raise RuntimeError("the sandbox needs KernelManager.transport = 'ipc'")
        env = dict(kw.pop("env", None) or os.environ)
        env.update(THREAD_ENV)
        session = self._forking()
        if session is not None and "ipykernel_launcher" not in self.kernel_spec.argv:
            session = None  # only ipykernels are forked
        if self.sandbox:
            self.kernel_spec.interrupt_mode = "message"
            if session is None:
                self._lease = UidLease.take() if is_root() else None
            elif is_root() and "lease" not in session.extras:
                lease = session.extras["lease"] = UidLease.take()
                session.on_close(lease.release, for_server=False)
        cmd, kw = await super()._async_pre_start_kernel(env=env, **kw)
        cwd = Path(kw.get("cwd") or os.getcwd()).resolve()
        log = Path(self.connection_file).with_suffix(".log")
        self._log = open(log, "wb")
        # Forked, the chain runs the fork server (its Python is appended when it
        # starts) and the kernel's CPU limit is set in each forked kernel.
        inner = [] if session else cmd
        cpu_seconds = 0 if session else self.cpu_seconds
        if self.sandbox:
            ipc = Path(self.connection_file).parent.resolve()
            lease = self._lease or (session.extras.get("lease") if session else None)
            uid = lease.uid if lease else None
            if uid is not None:
                for path in (ipc, self.connection_file, log):
                    os.chown(path, uid, uid)
            chain = sandbox_command(
                inner, cwd=cwd, ipc=ipc, uid=uid, cpu_seconds=cpu_seconds,
                memory_mb=self.memory_mb, processes=self.processes,
                disk_mb=self.disk_mb,
            )  # fmt: skip
        elif shutil.which("prlimit"):
            limits = rlimit_command(cpu_seconds, self.memory_mb, 0, self.disk_mb)
            chain = [*limits, *inner]
        else:
            chain = inner
        if session is not None:
            self._fork = (session, chain, cmd, cwd)
            return cmd, kw
        self._fork = None
        kw["stdout"] = kw["stderr"] = self._log
        return chain, kw

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        if self._fork is None:
            await super()._async_launch_kernel(kernel_cmd, **kw)
            self._process = self.provisioner.process
            if self.sandbox:
                self._watch = ProcessWatch(self._process.pid, self.processes)
                self._watch.start()
                self._stats = self._watch.stats
            return
        session, prefix, cmd, cwd = self._fork
        argv = cmd[cmd.index("ipykernel_launcher") + 1 :]
        cpu = (self.cpu_seconds, self.cpu_seconds + 1) if self.cpu_seconds else None
        env = None  # sandboxed: the server's (bwrap's --setenv)
        if not self.sandbox:  # as jupyter_client's launch_kernel sets it
            env = {**kw.get("env", os.environ), "JPY_PARENT_PID": str(os.getpid())}
        try:
            server = session.server(
                self._fork_key(prefix, cwd), lambda: self._start_server(
                    session, [*prefix, cmd[0]], cwd, kw.get("env")
                ),
            )  # fmt: skip
            process = server.start(
                argv, cwd=str(cwd), env=env, log=self._log.name, cpu=cpu
            )
        except forkserver.ForkServerError:
            process = forkserver.NeverStarted(1)
        provisioner = self.provisioner
        provisioner.process = process
        provisioner.pid = process.pid
        provisioner.pgid = None  # signals go through the server (send_signal)
        self._process = process
        watch = session.extras.get("watch")
        if watch is not None and isinstance(process, forkserver.ForkedKernel):
            self._stats = watch.follow(process.pid)
        self._reconcile_connection_info(provisioner.connection_info)

    def _fork_key(self, prefix: list[str], cwd: Path) -> tuple:
        """What a fork server is made for: reuse it only for the same."""
        limits = (self.cpu_seconds, self.memory_mb, self.processes, self.disk_mb)
        return (self.sandbox, str(cwd), str(Path(self.connection_file).parent), limits)

    def _start_server(
        self, session: forkserver.KernelSession, command: list[str], cwd: Path, env
    ) -> forkserver.ForkServer:
        """A fork server for this student (sandboxed as a kernel would be)."""
        log_path = Path(self.connection_file).with_name("forkserver.log")
        with open(log_path, "ab") as log:
            try:
                server = forkserver.ForkServer(
                    command, isolate=self.sandbox, log=log, env=env, cwd=str(cwd)
                )
            except forkserver.ForkServerError:
                # What bwrap or Python said goes where the kernel's log would be.
                self._log.write(log_path.read_bytes()[-4000:])
                self._log.flush()
                raise
        if self.sandbox:
            watch = ProcessWatch(
                server.process.pid, self.processes, spare=str(server.inner_pid)
            )
            watch.start()
            session.extras["watch"] = watch

            def stop_watch() -> None:
                watch.stop()
                watch.join(timeout=2)
                if session.extras.get("watch") is watch:
                    del session.extras["watch"]

            session.on_close(stop_watch)
        return server

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        try:
            await super()._async_cleanup_resources(restart=restart)
        finally:
            self._finish()

    cleanup_resources = _async_cleanup_resources

    def _finish(self) -> None:
        """Stop watching, free the uid (killing leftovers), close the log."""
        if self._watch is not None:
            self._watch.stop()
            self._watch.join(timeout=2)
        if self._lease is not None:
            self._lease.release()
            self._lease = None
        if self._log is not None:
            self._log.close()
            self._log = None

    # What happened, for the grader (also after cleanup).

    def exit_signal(self) -> int | None:
        """The signal that ended the kernel, if one did."""
        if self._process is None:
            return None
        code = self._process.poll()
        if code is None:
            return None
        if code < 0:
            return -code
        forked = isinstance(self._process, forkserver.ForkedKernel)
        if self.sandbox and not forked and code > 128:
            return code - 128  # bwrap exits 128 + the child's signal
        return None

    def kernel_peak_mb(self) -> int:
        """The kernel's largest address space seen, in MB (sandboxed only)."""
        return self._stats.kernel_peak_mb if self._stats else 0

    def kernel_cpu_seconds(self) -> float:
        """The most CPU time the kernel was seen to have used (sandboxed only)."""
        return self._stats.kernel_cpu if self._stats else 0.0

    def iopub_broken(self) -> bool:
        """Whether the kernel sent a message over max_message (its output was cut)."""
        return self._iopub_cut

    def process_limit_hit(self) -> bool:
        return bool(self._stats and self._stats.breached)

    def kernel_log(self, limit: int = 4000) -> str:
        """The end of what the kernel wrote to its stdout and stderr."""
        path = Path(self.connection_file).with_suffix(".log")
        try:
            with path.open("rb") as handle:
                handle.seek(max(0, path.stat().st_size - limit))
                return handle.read().decode("utf-8", "replace")
        except OSError:
            return ""
