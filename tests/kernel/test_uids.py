"""grader.kernel.uids: every student being graded runs as a uid of their own."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from grader.kernel import probe, uids
from grader.kernel.command import is_root
from grader.kernel.uids import UID_BASE, UID_SLOTS, UidLease, UnsafeLockFolder

pytestmark = pytest.mark.skipif(not is_root(), reason="needs root")
UNUSED_BASE = 64900  # a range no other run's kernels use: kill_uid finds nothing


@pytest.fixture
def own_locks(tmp_path, monkeypatch):
    """A lock folder and uid range of this test's own (other runs lease at once)."""
    monkeypatch.setattr(uids, "LOCK_DIR", tmp_path / "locks")
    monkeypatch.setattr(uids, "UID_BASE", UNUSED_BASE)
    return tmp_path / "locks"


def test_running_sandboxes_never_share_a_uid_and_a_freed_one_is_reused(own_locks):
    first, second = UidLease.take(), UidLease.take()
    try:
        assert first.uid != second.uid
        assert UNUSED_BASE <= first.uid < UNUSED_BASE + UID_SLOTS
    finally:
        first.release()
        second.release()
    again = UidLease.take()
    again.release()
    assert again.uid == first.uid
    assert own_locks.stat().st_mode & 0o777 == 0o700


def test_leases_come_from_the_machine_wide_range():
    lease = UidLease.take()
    lease.release()
    assert UID_BASE <= lease.uid < UID_BASE + UID_SLOTS


def planted_link(folder):
    folder.parent.mkdir(exist_ok=True)
    target = folder.parent / "elsewhere"
    target.mkdir(mode=0o700)
    folder.symlink_to(target)


def planted_by_another_user(folder):
    folder.mkdir(mode=0o700)
    os.chown(folder, 65534, 65534)


def planted_writable(folder):
    folder.mkdir()
    folder.chmod(0o777)


def planted_file(folder):
    folder.write_text("not a folder")


@pytest.mark.parametrize(
    "plant", [planted_link, planted_by_another_user, planted_writable, planted_file]
)
def test_a_lock_folder_someone_else_could_have_made_is_refused(own_locks, plant):
    """/tmp is everyone's: a lock folder that is a link, another user's, writable by
    others or a file is refused with what to do (root would otherwise truncate or
    lock files another user chose), and nothing in it is touched."""
    plant(own_locks)
    with pytest.raises(UnsafeLockFolder, match="rm -r"):
        UidLease.take()
    if own_locks.is_dir():
        assert os.listdir(own_locks) == []


def test_an_unsafe_lock_folder_is_never_a_reason_to_grade_unsandboxed(own_locks):
    """The probe says SandboxBroken, which --sandbox auto does not fall back from."""
    planted_writable(own_locks)
    probe._probe.cache_clear()
    try:
        with pytest.raises(probe.SandboxBroken, match="interfere"):
            probe.use_sandbox("auto")
    finally:
        probe._probe.cache_clear()


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
