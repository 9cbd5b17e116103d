"""Helpers the test packages share: running the command, reading its files."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import html
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass, fields
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from sqlalchemy.exc import SAWarning

from grader.course import ASSIGNMENT, CONFIG_NAME, COURSE, REPO, SOURCE_DIR, Course
from grader.demo.sample_class import notebook_bytes
from grader.kernel.procfs import pids
from grader.model import Limits

SAMPLE_LIMITS = Limits(cell_timeout=10, notebook_timeout=30)


@dataclass(frozen=True)
class GradedSample:
    """The sample class graded by the command line (tests/conftest.py's
    sample_class), and what it was before."""

    submissions: Path
    out: Path
    temp: Path  # the run's TMPDIR: its scratch folders, nobody else's
    about: dict[str, str]
    inputs_before: dict[str, tuple[str, int]]
    result: subprocess.CompletedProcess
    states: dict[str, int]
    stamp: str
    grades_csv: bytes
    tests_csv: bytes


def short_temp_folder() -> Path:
    """A new folder in the system's temp folder, to be a run's TMPDIR (short: the
    kernels' socket paths live there; the sandbox uids are leased machine-wide
    whatever TMPDIR is, grader.kernel.uids)."""
    return Path(tempfile.mkdtemp(prefix="grader-test-"))


def run_cli(
    *args: object, timeout: float = 600, **kwargs
) -> subprocess.CompletedProcess:
    """`python -m grader ARGS` from the repository."""
    return subprocess.run(
        [sys.executable, "-m", "grader", *map(str, args)],
        cwd=REPO, capture_output=True, text=True, timeout=timeout, **kwargs,
    )  # fmt: skip


def nbgrader_export(out: Path) -> list[dict[str, str]]:
    """`nbgrader export` run in OUT (its nbgrader_config.py names the gradebook),
    which must succeed: the rows of the nbgrader_export.csv it writes."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]])
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "export"],
        cwd=out, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return read_csv(out / "nbgrader_export.csv")[1]


def course_copy(root: Path, settings: str) -> Course:
    """A copy of the repository's course (its config and source) in the new folder
    `root`, with `settings` as its course.toml."""
    root.mkdir(parents=True)
    shutil.copy2(COURSE.config_file, root / CONFIG_NAME)
    shutil.copytree(COURSE.source_dir, root / "source" / ASSIGNMENT)
    (root / "course.toml").write_text(settings)
    return Course(root)


def state_mtimes(out: Path) -> dict[str, int]:
    """student -> mtime_ns of their state file in OUT."""
    return {
        path.stem: path.stat().st_mtime_ns
        for path in (out / ".grader" / "state").glob("*.json")
    }


def course_stamp(out: Path) -> str:
    """The fingerprint of the course OUT was graded with."""
    return (out / ".grader" / "course.sha256").read_text()


def grade_with_cli(submissions: Path, out: Path, workers: int = 2) -> Path:
    """`python -m grader grade SUBMISSIONS --out OUT --jobs N --quiet`, which must
    succeed; OUT."""
    result = run_cli(
        "grade", submissions, "--out", out, "--jobs", workers, "--quiet", timeout=900
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def limit_flags(limits: Limits) -> list[str]:
    """The grade command's flags that set `limits` (a None field: left at its
    default)."""
    flags = []
    for setting in fields(limits):
        value = getattr(limits, setting.name)
        if value is not None:
            flags += [Limits.flag(setting.name), str(value)]
    return flags


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """(header, rows) of a CSV file."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def html_text(page: str) -> str:
    """The text of an HTML page: tags (syntax highlighting) removed, unescaped."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def write_notebook(path: Path, notebook: nbformat.NotebookNode) -> None:
    """Write a notebook file, making its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(notebook_bytes(notebook))


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """relative path -> (sha256, mtime_ns) of every file under folder."""
    return {
        str(path.relative_to(folder)): (
            hashlib.sha256(path.read_bytes()).hexdigest(),
            path.stat().st_mtime_ns,
        )
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def gradebook_submissions(out: Path) -> list[str]:
    """student id of every submission of the assignment in OUT's gradebook."""
    with (
        warnings.catch_warnings(),
        Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gradebook,
    ):
        warnings.simplefilter("ignore", SAWarning)
        assignment = gradebook.find_assignment(ASSIGNMENT)
        return sorted(submission.student_id for submission in assignment.submissions)


def _split_hidden(source: str) -> tuple[list[str], list[str]]:
    """(lines inside ### BEGIN/END HIDDEN TESTS, lines outside), stripped."""
    hidden, visible, inside = [], [], False
    for line in source.splitlines():
        if "### BEGIN HIDDEN TESTS" in line:
            inside = True
        elif "### END HIDDEN TESTS" in line:
            inside = False
        else:
            (hidden if inside else visible).append(line.strip())
    return hidden, visible


def _computes(line: str) -> bool:
    """A line of Python that computes something: no HTML boilerplate looks like it."""
    return len(line) >= 12 and (
        " = " in line
        or " * " in line
        or ("(" in line and ("_ref" in line or "np." in line))
    )


def hidden_test_lines() -> set[str]:
    """Computing lines of the hidden tests that students never see anywhere else.

    Lines that also occur (even inside a longer line) outside the hidden regions, in
    the instructor's answers or the visible checks, are left out: a student's own
    answer may contain them.
    """
    hidden, visible = set(), []
    for path in sorted(SOURCE_DIR.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            inside, outside = _split_hidden(cell.source)
            hidden.update(inside)
            visible.extend(outside)
    seen = "\n".join(visible)
    return {line for line in hidden if _computes(line) and line not in seen}


def lines_found(text: str, lines: set[str]) -> list[str]:
    """The lines that occur in text as whole lines (indentation aside), sorted.

    Whole lines, not substrings: a short hidden line such as `upper = lower` is also
    part of matplotlib's `lower, upper = lower`, which a spy reading the kernel's
    memory finds without any hidden test leaking. Escaped newlines (a source held
    in a repr) end lines too.
    """
    present = {line.strip() for line in re.split(r"\n|\\n", text)}
    return sorted(line for line in lines if line.strip() in present)


# --- installs -------------------------------------------------------------------------


def pins(path: Path) -> dict[str, str]:
    """{normalized distribution name: version} of a requirements file's name==version
    lines (comments, blank lines and -r includes are skipped)."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name, separator, version = line.partition("==")
        assert separator and version, f"{path.name}: {line!r} is not pinned exactly"
        found[normalized(name)] = version
    return found


def normalized(name: str) -> str:
    """A distribution's name as pip compares it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_closure(names) -> set[str]:
    """The distributions these need, following the installed packages' metadata."""
    from importlib import metadata

    from packaging.requirements import Requirement

    seen, todo = set(), [normalized(name) for name in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for text in metadata.distribution(name).requires or []:
            requirement = Requirement(text)
            if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
                continue
            todo.append(normalized(requirement.name))
    return seen


# --- processes ------------------------------------------------------------------------


def descendants(root: int) -> list[int]:
    """Every process below `root`."""
    children: dict[int, list[int]] = {}
    for pid in pids():
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = Path(f"/proc/{pid}/stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(pid))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def kill_tree(pid: int) -> None:
    """SIGKILL a process and everything it started."""
    for victim in [pid, *descendants(pid)]:
        with contextlib.suppress(OSError):
            os.kill(victim, signal.SIGKILL)


def comm(pid: int) -> str:
    """A process's command name ("" when it is gone)."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def cmdline(pid: int) -> str:
    """A process's command line, arguments joined by spaces ("" when it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
