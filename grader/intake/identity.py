"""Who each student is in the LMS their files came from, for the grade export.

collect keeps on each Submission the LMS that named it and the id that LMS wrote
(Moodle's participant id, Canvas's user id, Blackboard's user name): what the LMS's
grade import matches on. Its grade files also show a name: Moodle writes the full
name before the id, Canvas the sortable name in lower case; Blackboard writes the
assignment's name there, not the student's, so its students have none. The name is
read back from the submission's source, for people to read; it is never a key.
"""

from __future__ import annotations

import re
import unicodedata

from ..model import Identity
from .collect import Collection, Submission
from .names import DEFAULT_PATTERN, PROBE, compiled_pattern

NAMED_BY = ("moodle", "canvas")  # the LMSs that write the student's name
CANVAS_LATE = "LATE_"
ZIP_SEPARATOR = re.compile(r"(?<=\.zip):", re.IGNORECASE)  # walk's "a.zip:inside"


def lms_identities(
    collection: Collection, pattern: str | re.Pattern[str] = DEFAULT_PATTERN
) -> dict[str, Identity]:
    """student -> their Identity, for each student whose files an LMS named.

    A student's first submission (in notebook order) with an LMS says which; a
    name is read from the first part of its source (a file, a folder or a zip)
    whose LMS prefix holds that id.
    """
    identities: dict[str, Identity] = {}
    for submission in collection.submissions:
        if submission.lms and submission.student not in identities:
            identities[submission.student] = Identity(
                submission.lms, submission.lms_id, lms_name(submission, pattern)
            )
    return identities


def lms_name(
    submission: Submission, pattern: str | re.Pattern[str] = DEFAULT_PATTERN
) -> str:
    """The student's name as the LMS wrote it before their id, or ""."""
    if submission.lms not in NAMED_BY:
        return ""
    regexp = compiled_pattern(pattern)
    if submission.lms not in regexp.groupindex:
        return ""
    for part in _name_parts(submission.source):
        for candidate in (part, part.rstrip("_") + "_" + PROBE):
            match = regexp.match(candidate)
            if (
                match
                and match.group(submission.lms) is not None
                and match.group("student_id") == submission.lms_id
            ):
                name = match.group(submission.lms).removesuffix(CANVAS_LATE)
                return unicodedata.normalize("NFC", name.removesuffix("_")).strip()
    return ""


def _name_parts(source: str) -> list[str]:
    """The names a source is made of, the file's first, then its folders and zips
    ("a.zip:b/c.ipynb": c.ipynb, b, a.zip). A ":" separates a zip from what is in
    it only right after ".zip"; a name may hold one of its own."""
    parts = []
    for piece in reversed(ZIP_SEPARATOR.split(source)):
        parts.extend(reversed(piece.split("/")))
    return [part for part in parts if part]
