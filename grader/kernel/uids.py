"""Unprivileged uids for students' kernels, one per student being graded."""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import IO

from .procfs import kill_uid

# As root, each student being graded gets a uid of its own (a lock file each, so
# parallel workers and parallel runs never share one).
UID_BASE = 61000
UID_SLOTS = 64
# One folder for every run on the machine, whatever its TMPDIR: a run with another
# TMPDIR (as the sandbox's socket-path error advises) leased uids already in use and
# SIGKILLed other runs' kernels (kill_uid) when it took or released them.
LOCK_DIR = Path("/tmp/grader-sandbox")


class UidLease:
    """An unprivileged uid that no other running sandbox uses (an flock per uid)."""

    def __init__(self, uid: int, handle: IO[str]) -> None:
        self.uid = uid
        self._handle: IO[str] | None = handle

    @classmethod
    def take(cls) -> UidLease:
        """The first free uid; whatever a crashed run left running as it is killed."""
        LOCK_DIR.mkdir(mode=0o700, exist_ok=True)
        for uid in range(UID_BASE, UID_BASE + UID_SLOTS):
            handle = open(LOCK_DIR / f"uid-{uid}.lock", "w")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            kill_uid(uid)
            return cls(uid, handle)
        raise RuntimeError(f"all {UID_SLOTS} sandbox uids are in use")

    def release(self) -> None:
        """Kill whatever still runs as this uid, then free it."""
        if self._handle is None:
            return
        kill_uid(self.uid)
        self._handle.close()
        self._handle = None
