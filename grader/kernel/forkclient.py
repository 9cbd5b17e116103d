"""The grader's handle on one student's fork server (grader/inside/forkserver.py)."""

from __future__ import annotations

import contextlib
import json
import select
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import IO

from .. import inside
from .procfs import kill_group

SERVER_SOURCE = Path(inside.__file__).with_name("forkserver.py")


class ForkServerError(RuntimeError):
    """The fork server did not start or stopped answering."""


class ForkServer:
    """One running fork server, spoken to over its stdin and stdout.

    command_prefix: what runs the server's Python (the sandbox chain and the
    interpreter); the server's source follows as `-c SOURCE`. log: where the server
    and its kernels write their stdout and stderr (a file the grader holds open).
    """

    start_timeout = 120.0  # the warm-up imports, on a busy machine
    answer_timeout = 60.0

    def __init__(
        self,
        command_prefix: list[str],
        *,
        isolate: bool,
        log: IO[bytes],
        env: dict[str, str] | None = None,
        cwd: str | None = None,
    ) -> None:
        source = SERVER_SOURCE.read_text(encoding="utf-8")
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
        stdout = self.process.stdout
        ready, _, _ = select.select([stdout], [], [], timeout)
        line = stdout.readline() if ready else b""
        if not line:
            self.dead = True
            return None
        try:
            answer = json.loads(line)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            self.dead = True
            return None
        return answer

    def request(self, message: dict, timeout: float | None = None) -> dict | None:
        """Send one request; its answer, or None when the server is gone."""
        with self._lock:
            if self.dead:
                return None
            try:
                self.process.stdin.write(json.dumps(message).encode() + b"\n")
                self.process.stdin.flush()
            except OSError:
                self.dead = True
                return None
            answer = self._answer(timeout or self.answer_timeout)
            if answer is None:
                kill_group(self.process)
            return answer

    def start(
        self, argv: list[str], *, cwd: str | None, env: dict | None,
        cpu: tuple[int, int] | None,
    ) -> ForkedKernel:  # fmt: skip
        """Fork a kernel with these arguments (ipykernel's, after the launcher)."""
        answer = self.request(
            {"op": "start", "argv": argv, "cwd": cwd, "env": env,
             "cpu": list(cpu) if cpu else None},
        )  # fmt: skip
        if not answer or type(answer.get("pid")) is not int:
            raise ForkServerError(f"the fork server could not start a kernel: {answer}")
        return ForkedKernel(self, answer["pid"])

    def alive(self) -> bool:
        """Whether the server still runs and answers."""
        return not self.dead and self.process.poll() is None

    def close(self) -> None:
        """Stop the server; its kernels go with it (stdin closed, or killed)."""
        with self._lock, contextlib.suppress(OSError):
            if self.process.stdin and not self.process.stdin.closed:
                self.process.stdin.close()  # the server kills its kernels
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            kill_group(self.process)
            self.process.wait()
        self.dead = True
        if self.process.stdout:
            self.process.stdout.close()


class ForkedKernel:
    """A kernel the server forked: its pid is the server's to signal (it is a pid
    inside the sandbox's pid namespace), so every signal goes through the server."""

    def __init__(self, server: ForkServer, pid: int) -> None:
        self.server = server
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """The exit code (a negative signal number when a signal ended it), or None."""
        if self.returncode is None:
            answer = self.server.request({"op": "poll", "pid": self.pid})
            if answer is None:  # the server is gone, and its kernels with it
                self.returncode = -signal.SIGKILL
            else:
                code = answer.get("returncode")
                self.returncode = code if type(code) is int else None
        return self.returncode

    def wait(self, timeout: float) -> int | None:
        """The exit code once the kernel has ended, or None after `timeout` s."""
        deadline = time.monotonic() + timeout
        while self.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.returncode

    def signal(self, signum: int) -> None:
        """Signal the kernel's process group (what it started too)."""
        self.server.request({"op": "signal", "pid": self.pid, "signum": signum})

    def kill(self) -> None:
        """SIGKILL the kernel and everything it started."""
        self.signal(signal.SIGKILL)
