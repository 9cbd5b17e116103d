"""Whether the sandbox works on this machine, and what --sandbox makes of that."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

from .command import is_root, sandbox_command, write_etc
from .uids import UidLease

MODES = ("auto", "required", "off")


class SandboxUnavailable(RuntimeError):
    """`--sandbox required`, but the sandbox does not work on this machine."""


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
        uid = lease.uid if lease else None
        try:
            command = sandbox_command(
                [sys.executable, "-c", "print(open('probe.txt').read())"],
                cwd=cwd, ipc=ipc, etc=write_etc(root / "etc", uid), uid=uid,
                cpu_seconds=10, memory_mb=0, processes=0, file_mb=8,
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


def use_sandbox(mode: str) -> bool:
    """Resolve --sandbox: True to sandbox kernels, False not to.

    required: SandboxUnavailable when it does not work; auto: False when it does not
    (sandbox_problem() says why: the caller warns); off: False. Prints nothing.
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
    return False
