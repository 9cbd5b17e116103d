"""Start notebook kernels by forking one warm process instead of a new Python each time.

Starting a kernel costs more CPU than most notebook cells here: a new interpreter
imports ipykernel, IPython, zmq, numpy and matplotlib every time. The grader starts
one fork server per student, inside that student's sandbox and limits (the same
prlimit -> bwrap -> setpriv chain a kernel gets, grader.sandbox); it imports those
modules once, then forks one fresh kernel process per notebook. Each kernel is a
separate process started from the same clean imports, so notebooks cannot see each
other's variables; before each new kernel the server kills everything the previous
ones left running and, in the sandbox, deletes the files they wrote.

The server talks to the grader over its stdin and stdout only (one JSON object per
line each way), never a socket a kernel could reach: a forked kernel's stdio is
/dev/null and its log file, and it keeps no other descriptor of the server.

  {"op": "start", "argv": [...], "cwd": "...", "env": {...} | null, "log": "...",
   "cpu": [soft, hard] | null}                    -> {"pid": N}
  {"op": "poll", "pid": N}                        -> {"returncode": int | null}
  {"op": "signal", "pid": N, "signum": S}         -> {}  (the kernel's process group)

The server part (down to `serve`) imports only the standard library before the
warm-up imports; it runs as `python -c SOURCE ISOLATE` (ISOLATE "1" in a sandbox: kill
every other process the server may signal before a kernel starts, and reset the
scratch files). The client part (ForkServer, ForkedKernel, KernelSession) runs in
the grader.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

WARM_MODULES = (
    "numpy",
    "IPython.core.interactiveshell",
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "matplotlib.pyplot",
    "matplotlib_inline.backend_inline",
)
# Imported again in each kernel: importing it inside a kernel turns on IPython's
# figure display (its import-time _enable_matplotlib_integration).
REIMPORTED = ("matplotlib_inline.backend_inline",)
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
# Scratch a sandboxed server resets between kernels (its working copy and /tmp).
SCRATCH = ("/tmp",)
LEFTOVER_WAIT = 5.0  # seconds to wait for killed leftovers to be gone


# --- the server (runs in the sandbox) ---------------------------------------------


def warm_up() -> None:
    """Import what every kernel needs, the way a kernel's own start would."""
    import importlib

    os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)
    for name in WARM_MODULES:
        importlib.import_module(name)


def serve(isolate: bool) -> None:
    """Answer requests on stdin/stdout until stdin closes, then kill the kernels."""
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]  # never import from the student's working copy
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything the imports print goes to the log, not the protocol
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warm_up()
    import threading

    if threading.active_count() != 1:  # a fork copies only the calling thread
        raise RuntimeError("a warm-up import started a thread")
    snapshot = _scratch_paths() if isolate else set()
    kernels: dict[int, int | None] = {}  # pid -> exit code (None: running)
    answers.write(json.dumps({"ready": os.getpid()}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        op = request.get("op")
        if op == "start":
            _clear_leftovers(kernels, isolate, snapshot)
            pid = os.fork()
            if pid == 0:
                answers.close()
                _become_kernel(request)
            kernels[pid] = None
            answer = {"pid": pid}
        elif op == "poll":
            answer = {"returncode": _returncode(request["pid"], kernels)}
        elif op == "signal":
            _signal(request["pid"], request["signum"], kernels)
            answer = {}
        else:
            answer = {"error": f"unknown op {op!r}"}
        answers.write(json.dumps(answer) + "\n")
    for pid in kernels:
        _signal(pid, signal.SIGKILL, kernels)


def _returncode(pid: int, kernels: dict[int, int | None]) -> int | None:
    """A kernel's exit code (a negative signal number, like Popen), or None."""
    if pid not in kernels:
        return -signal.SIGKILL
    if kernels[pid] is None:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # collected elsewhere without its code
            kernels[pid] = -signal.SIGKILL
            return kernels[pid]
        if done:
            kernels[pid] = os.waitstatus_to_exitcode(status)
    return kernels[pid]


def _signal(pid: int, signum: int, kernels: dict[int, int | None]) -> None:
    """Signal a kernel's process group (what it started too, even after the kernel
    itself ended, as jupyter_client does), else the kernel."""
    if pid not in kernels:
        return
    for send in (os.killpg, os.kill):
        try:
            send(pid, signum)
            return
        except (ProcessLookupError, PermissionError):
            continue


def _others() -> list[int]:
    """Processes in this pid namespace other than its init and this server."""
    me = os.getpid()
    return [
        int(name)
        for name in os.listdir("/proc")
        if name.isdigit() and int(name) not in (1, me)
    ]


def _clear_leftovers(
    kernels: dict[int, int | None], isolate: bool, snapshot: set[str]
) -> None:
    """Before a new kernel: kill the previous kernels and all they started."""
    for pid in list(kernels):
        _signal(pid, signal.SIGKILL, kernels)
    if not isolate:  # outside a sandbox only the kernels' own groups are ours
        for pid in list(kernels):
            _reap(pid, kernels)
        return
    deadline = time.monotonic() + LEFTOVER_WAIT
    while True:
        try:
            os.kill(-1, signal.SIGKILL)  # all we may signal, except init and us
        except ProcessLookupError:
            pass
        _reap_all(kernels)
        if not _others() or time.monotonic() > deadline:
            break
        time.sleep(0.005)
    _reset_scratch(snapshot)


def _reap_all(kernels: dict[int, int | None]) -> None:
    """Collect every finished child, keeping the kernels' exit codes."""
    try:
        while True:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if not pid:
                return
            if kernels.get(pid, 0) is None:
                kernels[pid] = os.waitstatus_to_exitcode(status)
    except ChildProcessError:
        return


def _reap(pid: int, kernels: dict[int, int | None]) -> None:
    """Wait (briefly) for a killed kernel to be gone."""
    deadline = time.monotonic() + LEFTOVER_WAIT
    while _returncode(pid, kernels) is None and time.monotonic() < deadline:
        time.sleep(0.005)


def _scratch_paths() -> set[str]:
    """Every path in the sandbox's own writable file systems: the working copy and
    /tmp, without what is bound into them (the ipc folder, the read-only files)."""
    found = set()
    for top in (os.getcwd(), *SCRATCH):
        device = os.lstat(top).st_dev
        for folder, dirs, files in os.walk(top):
            for name in files:
                found.add(os.path.join(folder, name))
            for name in list(dirs):
                path = os.path.join(folder, name)
                try:
                    mine = os.lstat(path).st_dev == device
                except OSError:
                    mine = False
                if mine:
                    found.add(path)
                else:
                    dirs.remove(name)  # a mount: not the scratch layer's
    return found


def _reset_scratch(snapshot: set[str]) -> None:
    """Delete what kernels added to the working copy and /tmp since the start."""
    import shutil

    for path in sorted(_scratch_paths() - snapshot, key=len):
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                for folder, _, _ in os.walk(path):
                    os.chmod(folder, 0o700)
                shutil.rmtree(path, ignore_errors=True)
            elif os.path.lexists(path):
                os.unlink(path)
        except OSError:
            pass


def _become_kernel(request: dict) -> None:
    """In the forked child: become an ipykernel with the requested arguments."""
    try:
        os.setsid()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for signum in (signal.SIGTERM, signal.SIGCHLD, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        if request.get("cwd"):
            os.chdir(request["cwd"])
        if request.get("env") is not None:
            os.environ.clear()
            os.environ.update(request["env"])
        null = os.open(os.devnull, os.O_RDWR)
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.closerange(3, 65536)
        if request.get("cpu"):
            import resource

            resource.setrlimit(resource.RLIMIT_CPU, tuple(request["cpu"]))
        for name in REIMPORTED:
            sys.modules.pop(name, None)
        if "numpy.random" in sys.modules:
            sys.modules["numpy.random"].seed()  # not the server's state
        import importlib.util

        launcher = importlib.util.find_spec("ipykernel_launcher")
        sys.argv = [launcher.origin if launcher else "", *request["argv"]]
        from ipykernel.kernelapp import IPKernelApp

        IPKernelApp.launch_instance(argv=request["argv"])
    except SystemExit as done:
        os._exit(done.code if isinstance(done.code, int) else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
    os._exit(0)


if __name__ == "__main__":
    serve(sys.argv[1:2] == ["1"])


# --- the client (runs in the grader) ----------------------------------------------


class ForkServerError(RuntimeError):
    """The fork server did not start or stopped answering."""


class ForkServer:
    """The grader's handle on one running fork server.

    command_prefix: what runs the server's Python (the sandbox chain and the
    interpreter); the server's source follows as `-c SOURCE`.
    """

    start_timeout = 120.0  # the warm-up imports, on a busy machine
    answer_timeout = 60.0

    def __init__(
        self,
        command_prefix: list[str],
        *,
        isolate: bool,
        log,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
    ) -> None:
        import subprocess
        import threading
        from pathlib import Path

        source = Path(__file__).read_text(encoding="utf-8")
        self._lock = threading.Lock()
        self.dead = False
        self.process = subprocess.Popen(
            [*command_prefix, "-c", source, "1" if isolate else "0"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        ready = self._answer(self.start_timeout)
        if not ready or "ready" not in ready:
            self.close()
            raise ForkServerError("the kernel fork server did not start")
        self.inner_pid = int(ready["ready"])  # its pid in its own pid namespace

    def _answer(self, timeout: float) -> dict | None:
        """One answer line, or None (and the server is dead) past the timeout."""
        import select

        stdout = self.process.stdout
        ready, _, _ = select.select([stdout], [], [], timeout)
        line = stdout.readline() if ready else b""
        if not line:
            self.dead = True
            return None
        return json.loads(line)

    def request(self, message: dict, timeout: float | None = None) -> dict | None:
        """Send one request; its answer, or None when the server is gone."""
        with self._lock:
            if self.dead:
                return None
            try:
                self.process.stdin.write(json.dumps(message).encode() + b"\n")
                self.process.stdin.flush()
            except (BrokenPipeError, OSError):
                self.dead = True
                return None
            answer = self._answer(timeout or self.answer_timeout)
            if answer is None:
                self._kill()
            return answer

    def start(
        self, argv: list[str], *, cwd: str | None, env: dict | None, log: str,
        cpu: tuple[int, int] | None,
    ) -> ForkedKernel:  # fmt: skip
        answer = self.request(
            {"op": "start", "argv": argv, "cwd": cwd, "env": env, "log": log,
             "cpu": list(cpu) if cpu else None},
        )  # fmt: skip
        if not answer or "pid" not in answer:
            raise ForkServerError(f"the fork server could not start a kernel: {answer}")
        return ForkedKernel(self, answer["pid"])

    def alive(self) -> bool:
        return not self.dead and self.process.poll() is None

    def _kill(self) -> None:
        self.dead = True
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.process.kill()

    def close(self) -> None:
        """Stop the server; its kernels go with it (stdin closed, or killed)."""
        import subprocess

        with self._lock:
            if self.process.stdin and not self.process.stdin.closed:
                try:
                    self.process.stdin.close()  # the server kills its kernels
                except OSError:
                    pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._kill()
            self.process.wait()
        self.dead = True
        if self.process.stdout:
            self.process.stdout.close()


class ForkedKernel:
    """A kernel forked by the server, with the Popen methods jupyter_client uses.

    pid is the kernel's pid as the server sees it (inside the sandbox's pid
    namespace): signal it only through send_signal, never os.kill.
    """

    def __init__(self, server: ForkServer, pid: int):
        self.server = server
        self.pid = pid
        self.returncode: int | None = None
        self.stdin = self.stdout = self.stderr = None  # read by jupyter_client

    def poll(self) -> int | None:
        if self.returncode is None:
            answer = self.server.request({"op": "poll", "pid": self.pid})
            if answer is None:  # the server is gone, and its kernels with it
                self.returncode = -signal.SIGKILL
            else:
                self.returncode = answer.get("returncode")
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        import subprocess

        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(["kernel"], timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        """Signal the kernel's process group (what it started too)."""
        self.server.request({"op": "signal", "pid": self.pid, "signum": signum})

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class NeverStarted:
    """Stands in for a kernel whose fork server did not start (it exited)."""

    stdin = stdout = stderr = None
    pid = 0

    def __init__(self, returncode: int):
        self.returncode = returncode

    def poll(self) -> int:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        return self.returncode

    def send_signal(self, signum: int) -> None:
        pass

    kill = terminate = lambda self: None


class KernelSession:
    """One student's fork server (and what goes with it), reused for each notebook.

    The kernel manager asks `server(key, make)` for a server; a different key (other
    working copy, other limits) or a dead server is stopped and a new one made.
    Cleanups registered with `on_close` run (newest first) when the server they
    belong to stops, or only at the session's end (`for_server=False`: the uid).
    """

    def __init__(self) -> None:
        self.key = None
        self.current: ForkServer | None = None
        self.extras: dict = {}  # what the kernel manager keeps with the session
        self._cleanups: list[tuple[bool, object]] = []

    def server(self, key, make) -> ForkServer:
        if self.current is not None and (key != self.key or not self.current.alive()):
            self._stop_server()
        if self.current is None:
            self.key = key
            self.current = make()
        return self.current

    def on_close(self, cleanup, for_server: bool = True) -> None:
        self._cleanups.append((for_server, cleanup))

    def _stop_server(self, everything: bool = False) -> None:
        server, self.current, self.key = self.current, None, None
        ending = [c for c in self._cleanups if everything or c[0]]
        self._cleanups = [c for c in self._cleanups if c not in ending]
        try:
            if server is not None:
                server.close()
        finally:
            for _, cleanup in reversed(ending):
                cleanup()

    def close(self) -> None:
        """Stop the server and run every cleanup (the end of the student)."""
        self._stop_server(everything=True)
        self.extras = {}


_session: KernelSession | None = None


def current_session() -> KernelSession | None:
    """The session kernels are forked in now (None: start each kernel afresh)."""
    return _session


class session:
    """`with session():` forks this thread's kernels from one server, stopped at the
    end (even on errors). Grading opens one per student (grader.student)."""

    def __enter__(self) -> KernelSession:
        global _session
        self._previous, _session = _session, KernelSession()
        return _session

    def __exit__(self, *exc) -> None:
        global _session
        current, _session = _session, self._previous
        current.close()
