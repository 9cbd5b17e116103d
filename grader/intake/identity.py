"""Who each student is in the LMS their files came from, for the grade export.

collect keeps on each Submission the LMS that named it, the id that LMS wrote
(Moodle's participant id, Canvas's user id or anonymous id, Blackboard's user
name: what the LMS's grade import matches on), the name it wrote (Moodle's full
name, Canvas's sortable name in lower case, a Blackboard receipt's full name;
Canvas's anonymous downloads write none) and when the LMS recorded the file as
handed in. The name is for people to read; it is never a key.
"""

from __future__ import annotations

from datetime import datetime

from ..model import Identity
from .collect import Collection


def lms_identities(collection: Collection) -> dict[str, Identity]:
    """student -> their Identity, for each student whose files an LMS named.

    The LMS and id are the first submission's (in notebook order; collect keeps a
    student's files to one LMS id); the name the first one the LMS wrote; the time
    the latest of their notebooks'; late when the LMS marked any of them late.
    """
    identities: dict[str, Identity] = {}
    for submission in collection.submissions:
        if not submission.lms:
            continue
        known = identities.get(submission.student)
        if known is None:
            identities[submission.student] = Identity(
                submission.lms, submission.lms_id, submission.name,
                submission.submitted_at, submission.late,
            )  # fmt: skip
            continue
        identities[submission.student] = Identity(
            known.lms,
            known.lms_id,
            known.name or submission.name,
            _latest(known.submitted_at, submission.submitted_at),
            known.late or submission.late,
        )
    return identities


def submission_times(collection: Collection) -> dict[tuple[str, str], datetime]:
    """(student, notebook) -> when the LMS recorded it as handed in, where it did."""
    return {
        (item.student, item.notebook): item.submitted_at
        for item in collection.submissions
        if item.submitted_at is not None
    }


def _latest(one: datetime | None, other: datetime | None) -> datetime | None:
    if one is None or other is None:
        return one or other
    return max(one, other)
