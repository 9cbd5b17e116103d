"""Blackboard's downloads: whose a name is when the user name holds "_", and the
receipt Blackboard writes beside each attempt's files.

Blackboard (Learn Original's Grade Center, Assignment File Download) names each
file `<Assignment>_<user>_attempt_<date>_<file name>` and writes one receipt per
attempt, `<Assignment>_<user>_attempt_<date>.txt`, that begins

    Name: Ada Lovelace (ada_l)
    Assignment: Backprop
    Date Submitted: Tuesday, January 30, 2024 3:00:00 PM EST

User names may hold `_`, `-`, `.` and `@`, so `Backprop_ada_l` is assignment
`Backprop`, user `ada_l`, or assignment `Backprop_ada`, user `l`. Where the user
name begins is read from the attempt's receipt (its user name ends the receipt's
own name), else from the assignment's name (course.toml's [lms] assignment), else
from the only `_` there is; a name that none of them splits is not read at all.
Only the receipt's first line is read, and only its user name and full name are
kept: the rest holds what the student typed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

RECEIPT_NAME = re.compile(
    r"(?P<head>[^/]+?)_attempt_(?P<attempt>\d{4}(?:-\d\d){5})\.txt", re.IGNORECASE
)
ATTEMPT = re.compile(r"_attempt_(\d{4}(?:-\d\d){5})_", re.IGNORECASE)
RECEIPT_BYTES = 256 * 1024  # a receipt is a few hundred bytes; more is not one
FIRST_LINE = 4096  # characters of the receipt's first line read at most
NAME_LINE = re.compile(r"Name: (?P<name>.*) \((?P<user>[^\s()]+)\)")
USER_NAME = re.compile(r"[^\s()/\\]{1,100}")


@dataclass(frozen=True)
class Receipt:
    """What one Blackboard receipt says about whose attempt it is."""

    head: str  # "<Assignment>_<user>", as the receipt's name has it
    attempt: str  # "2024-01-30-15-00-00", the attempt's date in its name
    user: str  # the user name, the key of Blackboard's Grade Center
    name: str  # the student's full name ("" if the receipt gives none)


def receipt_key(file_name: str) -> tuple[str, str] | None:
    """(head, attempt) when the name is a Blackboard receipt's, else None."""
    match = RECEIPT_NAME.fullmatch(file_name)
    return (match["head"], match["attempt"]) if match else None


def read_receipt(file_name: str, content: bytes) -> Receipt | str:
    """The receipt's user and full name, or why it cannot be read as one.

    The user name it gives must end its own file name (`<Assignment>_<user>`):
    Blackboard wrote both."""
    key = receipt_key(file_name)
    if key is None:
        return "not a Blackboard receipt's name"
    if len(content) > RECEIPT_BYTES:
        return "a Blackboard receipt's name, but too large to be one: not read"
    text = content[: FIRST_LINE * 4].decode("utf-8-sig", errors="replace")
    first = text[:FIRST_LINE].split("\n", 1)[0].rstrip("\r")
    match = NAME_LINE.fullmatch(first)
    if not match or not USER_NAME.fullmatch(match["user"]):
        return (
            "a Blackboard receipt's name, but its first line is not "
            '"Name: Full Name (user name)": it says nothing about whose files '
            "these are"
        )
    head, attempt = key
    user = match["user"]
    if not head.endswith("_" + user) or len(head) == len(user) + 1:
        return (
            f"a Blackboard receipt for user {user!r}, but its own name "
            f"({head!r}) does not end in that user name"
        )
    name = unicodedata.normalize("NFC", match["name"]).strip()
    return Receipt(head, attempt, user, name)


def user_name(
    head: str,
    attempt: str,
    receipts: dict[tuple[str, str], Receipt],
    assignments: Iterable[str],
) -> str | None:
    """The user name in `<Assignment>_<user>` (the part of a Blackboard name before
    `_attempt_<date>`), or None when nothing tells where it begins."""
    receipt = receipts.get((head, attempt))
    if receipt is not None:
        return receipt.user
    for assignment in assignments:
        start = _assignment_end(head, assignment)
        if start is not None:
            return head[start:] or None
    if head.count("_") == 1:
        return head.split("_", 1)[1] or None
    return None


def _assignment_end(head: str, assignment: str) -> int | None:
    """Where the user name starts, if `head` begins with the assignment's name and
    "_" (spaces and "_" alike, case aside, as Blackboard may write either)."""
    size = len(assignment)
    if len(head) <= size + 1 or head[size] != "_":
        return None
    if _key(head[:size]) != _key(assignment):
        return None
    return size + 1


def _key(text: str) -> str:
    return text.replace(" ", "_").casefold()


def unresolved(head: str) -> str:
    """Why a Blackboard name whose user name cannot be told is not read."""
    return (
        f"a Blackboard name whose user name cannot be told from {head!r}: the "
        "assignment's name or the user name holds '_'. Put Blackboard's receipts "
        "(the .txt files of the same download) beside it, or set course.toml's "
        "[lms] assignment to the assignment's name as Blackboard shows it"
    )


def attempt_of(file_name: str) -> str:
    """The attempt's date as a Blackboard name writes it ("" if none)."""
    match = ATTEMPT.search(file_name)
    return match.group(1) if match else ""


def attempt_time(attempt: str) -> datetime | None:
    """When the attempt was handed in: Blackboard writes its server's local time,
    read here as the grading machine's local time zone (TZ sets it)."""
    try:
        moment = datetime.strptime(attempt, "%Y-%m-%d-%H-%M-%S")
    except ValueError:
        return None
    return moment.astimezone()
