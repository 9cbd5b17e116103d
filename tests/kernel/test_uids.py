"""grader.kernel.uids: every student being graded runs as a uid of their own."""

from __future__ import annotations

import subprocess
import sys

import pytest

from grader.kernel.command import is_root
from grader.kernel.uids import UID_BASE, UID_SLOTS, UidLease

pytestmark = pytest.mark.skipif(not is_root(), reason="needs root")


def test_running_sandboxes_never_share_a_uid_and_a_freed_one_is_reused():
    first, second = UidLease.take(), UidLease.take()
    try:
        assert first.uid != second.uid
        assert UID_BASE <= first.uid < UID_BASE + UID_SLOTS
    finally:
        first.release()
        second.release()
    again = UidLease.take()
    again.release()
    assert again.uid == first.uid


TAKE_IN_ANOTHER_RUN = """
from grader.kernel.uids import LOCK_DIR, UidLease
lease = UidLease.take()
print(LOCK_DIR, lease.uid)
lease.release()
"""


def test_a_run_with_another_tmpdir_never_takes_a_uid_in_use(tmp_path):
    """A grading run started with another TMPDIR (its own temp folder) leases from
    the same locks: it never takes, nor kills the kernels of, a uid in use here."""
    held = UidLease.take()
    try:
        result = subprocess.run(
            [sys.executable, "-c", TAKE_IN_ANOTHER_RUN],
            env={"TMPDIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=True,
        )
        lock_dir, uid = result.stdout.split()
        assert lock_dir == "/tmp/grader-sandbox"
        assert int(uid) != held.uid
    finally:
        held.release()
