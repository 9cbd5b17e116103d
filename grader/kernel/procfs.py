"""Processes as /proc shows them, and how the grader kills them."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def pids() -> list[str]:
    """Every process id in this pid namespace."""
    return [name for name in os.listdir("/proc") if name.isdigit()]


def status_fields(pid: str) -> dict[str, str]:
    """/proc/PID/status as a dict ({} when the process is gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def cpu_seconds(pid: str) -> float:
    """User and system CPU time a process has used (0 when it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def kill_uid(uid: int) -> None:
    """SIGKILL every process whose real uid is uid."""
    for pid in pids():
        if status_fields(pid).get("Uid", "").split("\t")[:1] == [str(uid)]:
            with contextlib.suppress(OSError):
                os.kill(int(pid), signal.SIGKILL)


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL a process started in a session of its own, and its whole group
    (else the process alone, when the group is gone or not ours)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(OSError):
            process.kill()
