"""A thread that watches one sandbox's processes: how many, and the kernel's use."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from dataclasses import dataclass
from pathlib import Path

from .procfs import cpu_seconds, pids, status_fields


@dataclass
class KernelStats:
    """What the process watch saw of one kernel."""

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

    def follow(self, inner_pid: int) -> KernelStats:
        """Watch the kernel with this pid inside the sandbox from now on."""
        self.stats = KernelStats()
        self.kernel = str(inner_pid)
        return self.stats

    def stop(self) -> None:
        """Stop sampling and wait (briefly) for the thread to end."""
        self._stop_event.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout=2)

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            try:
                if not self.sample():
                    return
            except OSError:
                continue

    def _find_namespace(self) -> str | None:
        """The pid namespace of bwrap's child (the sandbox's init)."""
        for pid in pids():
            if status_fields(pid).get("PPid") == str(self.outer_pid):
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
        for pid in pids():
            try:
                if os.readlink(f"/proc/{pid}/ns/pid") != self._namespace:
                    continue
            except OSError:
                continue
            fields = status_fields(pid)
            inner = fields.get("NSpid", "").split("\t")[-1]
            if inner and inner != "1":
                members.append((pid, inner, int(fields.get("Threads", "1"))))
            if inner == kernel:
                peak = int(fields.get("VmPeak", "0 kB").split()[0]) // 1024
                stats.kernel_peak_mb = max(stats.kernel_peak_mb, peak)
                stats.kernel_cpu = max(stats.kernel_cpu, cpu_seconds(pid))
        if self.processes and sum(threads for *_, threads in members) >= self.processes:
            stats.breached = True
            for pid, inner, _ in members:
                if inner not in (kernel, self.spare):
                    with contextlib.suppress(OSError):
                        os.kill(int(pid), signal.SIGKILL)
        return True
