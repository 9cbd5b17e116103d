"""One grading run per OUT at a time: an flock on OUT/.grader/lock.

The lock is the kernel's (flock), so it dies with the process that holds it: a run
that is killed (even with kill -9) leaves no stale lock. The holder writes who it
is into the file (pid, host, since when, its command line, with the password of a
--db URL shown as ***), and a second run that finds the lock taken says so and
stops before it reads or writes anything in OUT.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path

from .gradebook import hide_password


class OutInUse(RuntimeError):
    """Another grading run holds OUT (the message says which one)."""


class OutLock:
    """An exclusive lock on one OUT folder, held until release() (or process exit)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: int | None = None

    def acquire(self, command: list[str] | None = None) -> None:
        """Take the lock or raise OutInUse naming its holder.

        OSError (a read-only or missing folder) is the caller's to report.
        """
        handle = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(handle)
            os.close(handle)
            raise OutInUse(_in_use_message(self.path.parent.parent, holder)) from None
        except BaseException:
            os.close(handle)
            raise
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": time.strftime("%Y-%m-%d %H:%M:%S %z"),
            "command": hide_password(" ".join(command or _command_line())),
            "cwd": os.getcwd(),
        }
        os.ftruncate(handle, 0)
        os.pwrite(handle, json.dumps(holder).encode(), 0)
        self._handle = handle

    def release(self) -> None:
        """Give the lock up (closing the file releases the flock)."""
        if self._handle is not None:
            os.close(self._handle)
            self._handle = None

    def __enter__(self) -> OutLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _command_line() -> list[str]:
    """This process's command as typed: `python -m grader ...` for the package."""
    argv = list(sys.argv)
    if argv and argv[0].endswith(("grader/__main__.py", "grader")):
        return [sys.executable, "-m", "grader", *argv[1:]]
    return [sys.executable, *argv]


def _read(handle: int) -> dict:
    """What the holder wrote about itself ({} when it has not yet)."""
    try:
        found = json.loads(os.pread(handle, 4096, 0) or b"{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _in_use_message(out: Path, holder: dict) -> str:
    """The sentence a second run prints."""
    if not holder:
        who = "another grading run (it has only just started)"
    else:
        who = (
            f"another grading run: pid {holder.get('pid')} on "
            f"{holder.get('host')}, since {holder.get('since')}, "
            f"command: {holder.get('command')} (in {holder.get('cwd')})"
        )
    return (
        f"{out} is being graded by {who}. One run writes an OUT folder at a time: "
        "wait for it to finish (a re-run then grades only what is new), or stop it."
    )
