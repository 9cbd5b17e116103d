"""Whether the sandbox works on this machine, and what --sandbox makes of that."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

from .command import is_root, sandbox_command, write_etc
from .uids import UidLease, UnsafeLockFolder

MODES = ("auto", "required", "off")


class SandboxUnavailable(RuntimeError):
    """`--sandbox required`, but the sandbox does not work on this machine."""


class SandboxBroken(SandboxUnavailable):
    """The machine sandboxes, but the grader's own Python does not run in the
    sandbox (a path of ours): never a reason to grade without it, even on auto."""


def sandbox_problem() -> str | None:
    """Why this machine cannot sandbox, or None when a sandboxed Python runs.

    Raises SandboxBroken when a system program runs in the sandbox but the grader's
    Python does not (that is the grader's fault, not the machine's), or when the
    folder of uid leases is unsafe (grader.kernel.uids)."""
    try:
        problem, broken = _probe()
    except UnsafeLockFolder as error:  # never a reason to grade without the sandbox
        raise SandboxBroken(str(error)) from None
    if broken:
        raise SandboxBroken(broken)
    return problem


@cache
def _probe() -> tuple[str | None, str | None]:
    """(why the machine cannot sandbox, why the grader's Python does not run in a
    sandbox that works); None, None when it runs."""
    if not sys.platform.startswith("linux"):
        return f"the sandbox needs Linux (this is {sys.platform})", None
    missing = [
        tool
        for tool in ("bwrap", "prlimit") + (("setpriv",) if is_root() else ())
        if shutil.which(tool) is None
    ]
    if missing:
        return (
            f"{', '.join(missing)} not found (install the Debian packages "
            "bubblewrap and util-linux: `make setup` does)"
        ), None
    python = _sandboxed([sys.executable, "-c", "print(open('probe.txt').read())"])
    if python is None:
        return None, None
    system = _sandboxed(["cat", "probe.txt"])
    if system is not None:  # the machine cannot sandbox
        return f"bwrap is installed but a sandboxed program did not run: {system}", None
    return None, (
        f"the sandbox works on this machine, but the grader's Python "
        f"({sys.executable}) did not run in it: {python}. This is a fault of the "
        "grader's installation, not a reason to grade without the sandbox: "
        "report it, or pass --sandbox off to grade without it on purpose."
    )


def _sandboxed(command: list[str]) -> str | None:
    """Run `command` in a sandbox whose working copy holds probe.txt; None when it
    printed the file, else what went wrong."""
    with tempfile.TemporaryDirectory(prefix="grader-sandbox-check-") as scratch:
        root = Path(scratch)
        cwd, ipc = root / "cwd", root / "ipc"
        cwd.mkdir()
        ipc.mkdir()
        (cwd / "probe.txt").write_text("probe")
        lease = UidLease.take() if is_root() else None
        uid = lease.uid if lease else None
        try:
            chain = sandbox_command(
                command, cwd=cwd, ipc=ipc, etc=write_etc(root / "etc", uid), uid=uid,
                cpu_seconds=10, memory_mb=0, processes=0, file_mb=8,
            )  # fmt: skip
            root.chmod(0o755)
            result = subprocess.run(
                chain, capture_output=True, text=True, timeout=60, cwd=root
            )
        except (OSError, subprocess.SubprocessError) as error:
            return f"running bwrap failed: {error}"
        finally:
            if lease:
                lease.release()
    if result.returncode != 0 or result.stdout.strip() != "probe":
        return (result.stderr.strip() or f"exit code {result.returncode}")[-300:]
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
