"""The fork server: one warm process per student that forks each notebook's kernel.

Runs inside the student's sandbox, started by grader.kernel.forkclient as
`python -c SOURCE ISOLATE` (ISOLATE "1" in a sandbox: before each kernel, kill every
other process the server may signal and reset the scratch files). Starting a kernel
costs more CPU than most notebook cells here: a new interpreter imports ipykernel,
IPython, zmq, numpy and matplotlib every time. The server imports them once, then
forks one fresh kernel process per notebook, so notebooks cannot see each other's
variables; before each new kernel it kills everything the previous ones left running
and, in the sandbox, deletes the files they wrote.

It talks to the grader over its stdin and stdout only (one JSON object per line each
way), never a socket a kernel could reach; a forked kernel's stdin is /dev/null, its
stdout and stderr are the server's stderr (a file the grader holds open, with no path
in the sandbox), and it keeps no other descriptor of the server. The server and its
kernels are not dumpable, so nothing the student's code starts can trace them or
open their descriptors through /proc.

  {"op": "start", "argv": [...], "cwd": "...", "env": {...} | null,
   "cpu": [soft, hard] | null}                    -> {"pid": N}
  {"op": "poll", "pid": N}                        -> {"returncode": int | null}
  {"op": "signal", "pid": N, "signum": S}         -> {}  (the kernel's process group)

Shipped into the sandbox as source: imports only the standard library; the kernel's
own modules are loaded by name (WARM_MODULES, KERNEL_APP).
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
KERNEL_APP = ("ipykernel.kernelapp", "IPKernelApp")  # what a forked kernel runs
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
# Scratch a sandboxed server resets between kernels (its working copy and /tmp).
SCRATCH = ("/tmp",)
LEFTOVER_WAIT = 5.0  # seconds to wait for killed leftovers to be gone


def warm_up() -> None:
    """Import what every kernel needs, the way a kernel's own start would."""
    import importlib

    os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)
    for name in WARM_MODULES:
        importlib.import_module(name)


def undumpable() -> None:
    """Make this process (and the kernels it forks) impossible to ptrace or to read
    through /proc for the sandbox's other processes (prctl PR_SET_DUMPABLE 0)."""
    import ctypes

    pr_set_dumpable = 4
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(pr_set_dumpable, 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE, 0) failed")


def serve(isolate: bool) -> None:
    """Answer requests on stdin/stdout until stdin closes, then kill the kernels."""
    undumpable()
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
        os.dup2(null, 0)
        os.dup2(2, 1)  # the server's stderr: the grader's log, open in no folder
        os.closerange(3, 65536)
        if request.get("cpu"):
            import resource

            resource.setrlimit(resource.RLIMIT_CPU, tuple(request["cpu"]))
        for name in REIMPORTED:
            sys.modules.pop(name, None)
        if "numpy.random" in sys.modules:
            sys.modules["numpy.random"].seed()  # not the server's state
        import importlib
        import importlib.util

        launcher = importlib.util.find_spec("ipykernel_launcher")
        sys.argv = [launcher.origin if launcher else "", *request["argv"]]
        module, name = KERNEL_APP
        app = getattr(importlib.import_module(module), name)
        app.launch_instance(argv=request["argv"])
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
