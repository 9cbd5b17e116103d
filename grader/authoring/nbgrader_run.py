"""Run nbgrader's command line in a course directory, with a clear error on failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


class NbgraderError(RuntimeError):
    """An nbgrader command failed; the message holds the end of its log."""


def nbgrader_env(importable: Path | None = None) -> dict[str, str]:
    """The environment for nbgrader: this Python's bin first (it calls alembic);
    importable, when given, first on PYTHONPATH."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]])
    if importable is not None:
        paths = [str(importable), *filter(None, [env.get("PYTHONPATH")])]
        env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def run_nbgrader(
    course_root: Path,
    *args: str,
    timeout: float = 1800,
    importable: Path | None = None,
) -> str:
    """Run `nbgrader ARGS` with course_root as the working directory; return its log.

    importable: a folder nbgrader must import from (for classes ARGS name)."""
    command = [sys.executable, "-m", "nbgrader", *args]
    result = subprocess.run(
        command,
        cwd=course_root,
        env=nbgrader_env(importable),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    log = result.stdout + result.stderr
    if result.returncode != 0 or "[ERROR]" in log:
        tail = "\n".join(log.splitlines()[-30:])
        raise NbgraderError(f"nbgrader {' '.join(args)} failed:\n{tail}")
    return log
