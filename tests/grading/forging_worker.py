"""A `dask worker --preload` for the cluster tests: a worker with the cluster's key
that passes the check (an unmodified checkout) and then forges what it sends.

$GRADER_TEST_FORGE names the forgery: each student is graded honestly on this
worker, then the outcome (plain data) is changed before it is sent back, so that
only the forged part is wrong. $GRADER_TEST_MARKER is a file that a pickled
payload would write when unpickled (with the pid that did it)."""

from __future__ import annotations

import os

import grader.grading.cluster as cluster


class Exploit:
    """Unpickling it appends the unpickling process's pid to a file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        pid = "str(__import__('os').getpid()) + ' '"
        code = f"open({self.path!r}, 'a').write({pid})"
        return (eval, (code,))


class ExploitError(Exception):
    """Raised by the task; unpickling it appends the unpickler's pid to a file."""

    def __reduce__(self):
        return Exploit(os.environ["GRADER_TEST_MARKER"]).__reduce__()


def forge(kind: str, data: dict, student: str) -> object:
    """The honest outcome `data`, forged."""
    if kind == "pickle":
        return Exploit(os.environ["GRADER_TEST_MARKER"])
    if kind == "raise":
        raise ExploitError("forged")
    if kind == "escape":
        data["files"]["../escaped-from-out.txt"] = b"forged"
        data["files"][os.environ["GRADER_TEST_MARKER"]] = b"forged"
    elif kind == "other-student":
        other = "bob" if student != "bob" else "alice"
        data["files"][f"feedback/{other}/index.html"] = b"forged"
    elif kind == "other-grades":
        data["student"] = "bob" if student != "bob" else "alice"
    elif kind == "points":
        data["grades"][0]["score"] = data["grades"][0]["max_score"] + 100
    return data


def dask_setup(worker) -> None:
    kind = os.environ["GRADER_TEST_FORGE"]
    honest = cluster.grade_on_worker

    def forging(job, bundle):
        return forge(kind, honest(job, bundle), job.student)

    cluster.grade_on_worker = forging
