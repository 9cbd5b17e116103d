"""grader.kernel.uids: every student being graded runs as a uid of their own."""

from __future__ import annotations

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
