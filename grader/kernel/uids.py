"""Unprivileged uids for students' kernels, one per student being graded."""

from __future__ import annotations

import fcntl
import os
import stat
from pathlib import Path

from .procfs import kill_uid

# As root, each student being graded gets a uid of its own (a lock file each, so
# parallel workers and parallel runs never share one).
UID_BASE = 61000
UID_SLOTS = 64
# One folder for every run on the machine, whatever its TMPDIR: a run with another
# TMPDIR (as the sandbox's socket-path error advises) leased uids already in use and
# SIGKILLed other runs' kernels (kill_uid) when it took or released them.
# /tmp is everyone's: the folder is used only when it is a real folder of ours that
# nobody else can write, and its lock files are opened without following links.
LOCK_DIR = Path("/tmp/grader-sandbox")


class UnsafeLockFolder(RuntimeError):
    """LOCK_DIR is not a folder of this user's that only it can write."""


def open_lock_dir() -> int:
    """LOCK_DIR as a descriptor, made 0700 when missing; UnsafeLockFolder when it
    is a link, not a folder, another user's, or writable by others."""
    try:
        os.mkdir(LOCK_DIR, 0o700)
    except FileExistsError:
        pass
    fix = f"remove it (rm -r {LOCK_DIR}) when no grading runs, and run again"
    try:
        fd = os.open(LOCK_DIR, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as error:
        raise UnsafeLockFolder(
            f"{LOCK_DIR} (where grading runs lease sandbox uids) is a link or not "
            f"a folder ({error.strerror}): another user may have made it to "
            f"interfere with grading; {fix}"
        ) from None
    info = os.fstat(fd)
    if info.st_uid != os.geteuid() or info.st_mode & 0o022:
        os.close(fd)
        raise UnsafeLockFolder(
            f"{LOCK_DIR} (where grading runs lease sandbox uids) belongs to uid "
            f"{info.st_uid} with mode {stat.filemode(info.st_mode)}; it must be this "
            f"user's (uid {os.geteuid()}) and writable by it alone: another user may "
            f"have made it to interfere with grading; {fix}"
        )
    return fd


class UidLease:
    """An unprivileged uid that no other running sandbox uses (an flock per uid)."""

    def __init__(self, uid: int, handle: int) -> None:
        self.uid = uid
        self._handle: int | None = handle

    @classmethod
    def take(cls) -> UidLease:
        """The first free uid; whatever a crashed run left running as it is killed."""
        folder = open_lock_dir()
        try:
            for uid in range(UID_BASE, UID_BASE + UID_SLOTS):
                handle = os.open(
                    f"uid-{uid}.lock",
                    os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                    0o600,
                    dir_fd=folder,
                )
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(handle)
                    continue
                kill_uid(uid)
                return cls(uid, handle)
        finally:
            os.close(folder)
        raise RuntimeError(f"all {UID_SLOTS} sandbox uids are in use")

    def release(self) -> None:
        """Kill whatever still runs as this uid, then free it."""
        if self._handle is None:
            return
        kill_uid(self.uid)
        os.close(self._handle)
        self._handle = None
