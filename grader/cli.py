"""The instructor's command line: `python -m grader COMMAND`.

Each command is one call into the package and some printing. Exit codes: 0 done (a
grading run that completed, even with broken submissions); 1 a check found a problem
(`release --check`: the release is stale; `selfcheck`: a score is wrong); 2 unusable
input or a failing nbgrader command, with a message (for `grade`: SUBMISSIONS
without a student's notebook, an OUT that is not the grader's, inside SUBMISSIONS or
not writable, or a --db that is not the grader's); 3 `--sandbox required` where the
sandbox does not work (here, or on a cluster's worker); 4 another grading run holds
OUT (the message names it); 5 the Dask cluster (--scheduler) cannot grade: its
scheduler is unreachable or was lost, or no usable worker joined (a re-run grades
what is missing). `cluster-keys KEYS` writes the keys of a TLS cluster (exit 2 when
KEYS already holds some).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from .authoring.nbgrader_run import NbgraderError
from .authoring.release import stale_release_files, write_release
from .authoring.selfcheck import run_selfcheck
from .authoring.wheel import build_helper_wheel
from .course import COURSE
from .demo.sample_class import build_sample_class
from .grading.cluster import ClusterError
from .grading.grade import grade_class
from .grading.gradebook import hide_password
from .grading.keys import make_cluster_keys, tls_commands
from .grading.lock import OutInUse
from .intake.names import DEFAULT_PATTERN
from .kernel.probe import MODES, SandboxUnavailable
from .model import InputError, Limits, RunWarning
from .output.mistake_entry import mistake_entry
from .output.terminal import run_summary, warning_text
from .output.unnamed import GROUPS_FILE, read_groups
from .student_text import TERMINAL, safe_text

ERROR_LINES = 60  # an error message longer than this is cut


def release_command(args: argparse.Namespace) -> int:
    """Regenerate the release, or with --check report whether it is stale."""
    if args.check:
        stale = stale_release_files(COURSE)
        for line in stale:
            print(f"release/backprop is stale: {line}")
        if stale:
            print("Regenerate it with: python -m grader release")
            return 1
        print("release/backprop is what generate_assignment produces now.")
        return 0
    print(f"wrote {write_release(COURSE, measure=args.measure)}")
    return 0


def selfcheck_command(args: argparse.Namespace) -> int:
    """Autograde the answers and the untouched release with stock nbgrader."""
    print(f"Grading the instructor's answers and the untouched release in {args.out} …")
    check = run_selfcheck(COURSE, args.out)
    print(check.table())
    if check.ok:
        print("OK: the answers earn every point, the untouched release earns none.")
        print(f"nbgrader's course folder (gradebook.db, autograded/): {args.out}")
        return 0
    print("PROBLEM: see the table; run the notebooks in source/ to find out why.")
    return 1


def wheel_command(args: argparse.Namespace) -> int:
    """Build the helper's wheel (publish it at course.toml's helper_url)."""
    print(f"wrote {build_helper_wheel(COURSE, args.out)}")
    return 0


def grade_command(args: argparse.Namespace) -> int:
    """Grade a folder of submissions into OUT; print a summary and where things are."""
    limits = Limits(**{name: getattr(args, name) for name, _, _ in Limits.settings()})
    report = grade_class(
        args.submissions, args.out, course=COURSE, workers=args.workers,
        pattern=args.pattern, limits=limits, sandbox=args.sandbox,
        progress=not args.quiet, on_warning=print_warning,
        scheduler=args.scheduler, cluster_keys=args.cluster_keys, db=args.db,
        outputs_only=args.outputs_only,
    )  # fmt: skip
    print(run_summary(report, args.out, args.db and hide_password(args.db)))
    return 0


def cluster_keys_command(args: argparse.Namespace) -> int:
    """Write a certificate authority and a key for each member of a cluster."""
    written = make_cluster_keys(args.keys)
    print(f"wrote {', '.join(path.name for path in written)} in {args.keys} "
          "(readable by its owner only). Copy ca.pem and each member's own PEM to "
          "its machine only; then:")  # fmt: skip
    print(tls_commands(str(args.keys)).split("\n", 1)[1])  # all but cluster-keys
    return 0


def print_warning(warning: RunWarning) -> None:
    """A warning on stderr, at once."""
    print(warning_text(warning), file=sys.stderr, flush=True)


def sample_class_command(args: argparse.Namespace) -> int:
    """Write the demo class of submissions into a new folder."""
    folder = args.folder
    if folder.exists() and any(folder.iterdir()):
        if not args.replace:
            raise InputError(
                f"{folder} is not empty; choose a new folder or pass --replace"
            )
        shutil.rmtree(folder)
    about = build_sample_class(folder)
    print(f"wrote a sample class of {len(about)} students to {folder}:")
    for student, what in about.items():
        print(f"  {student:<10} {what}")
    return 0


def mistake_entry_command(args: argparse.Namespace) -> int:
    """Print the catalogue entry that names an unnamed group of OUT's report."""
    try:
        groups = {group.group_id: group for group in read_groups(args.out)}
    except FileNotFoundError:
        raise InputError(
            f"{args.out} has no {GROUPS_FILE}: grade the class into it first "
            f"(python -m grader grade SUBMISSIONS --out {args.out})"
        ) from None
    except ValueError as error:
        raise InputError(str(error)) from None
    group = groups.get(args.group)
    if group is None:
        known = ", ".join(list(groups)[:20]) or "none: no unnamed wrong answers"
        raise InputError(f"{args.out} has no group {args.group!r}; it has: {known}")
    try:
        print(mistake_entry(
            group, COURSE, mistake_id=args.id, name=args.name,
            meaning=args.meaning, taught=args.taught,
        ))  # fmt: skip
    except ValueError as error:
        raise InputError(str(error)) from None
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per verb."""
    parser = argparse.ArgumentParser(
        prog="python -m grader",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verbs = parser.add_subparsers(dest="command", required=True)

    release = verbs.add_parser(
        "release", help="regenerate release/backprop with nbgrader generate_assignment"
    )
    release.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 if the release is stale",
    )
    release.add_argument(
        "--measure",
        action="store_true",
        help="time every notebook's answer key again, cell by cell (done anyway "
        "for the notebooks whose code changed since they were timed)",
    )
    release.set_defaults(handler=release_command)

    selfcheck = verbs.add_parser(
        "selfcheck",
        help="autograde the answers (full marks) and the untouched release (zero)",
    )
    selfcheck.add_argument(
        "--out", type=Path, default=Path("demo-output/selfcheck"),
        help="scratch course folder to create (replaced if it exists)",
    )  # fmt: skip
    selfcheck.set_defaults(handler=selfcheck_command)

    wheel = verbs.add_parser("wheel", help="build the helper package's wheel")
    wheel.add_argument(
        "--out", type=Path, default=Path("dist"), help="folder for the wheel (dist)"
    )
    wheel.set_defaults(handler=wheel_command)

    grade = verbs.add_parser(
        "grade",
        help="grade a folder of submitted notebooks (folders, Colab, LMS, zips)",
    )
    grade.add_argument("submissions", type=Path, help="folder of submissions")
    grade.add_argument("--out", type=Path, required=True, help="output folder")
    grade.add_argument(
        "--jobs", dest="workers", metavar="JOBS", type=_positive, default=None,
        help="students graded at once (default: the number of CPU cores)",
    )  # fmt: skip
    grade.add_argument(
        "--pattern", default=DEFAULT_PATTERN,
        help="regular expression with named groups student_id and file_id that maps "
        "a flat file name to a student and notebook (nbgrader's ZipCollect convention)",
    )  # fmt: skip
    grade.add_argument(
        "--sandbox", choices=MODES, default="auto",
        help="run students' code in bubblewrap: auto (when it works, else a loud "
        "warning), required (refuse to grade without it), off (default: auto)",
    )  # fmt: skip
    for name, default, what in Limits.settings():
        grade.add_argument(
            Limits.flag(name),
            type=_positive,
            default=default,
            help=what if default is None else f"{what} ({default})",
        )
    grade.add_argument(
        "--scheduler", metavar="tls://HOST:PORT", default=None,
        help="grade on the workers of this running Dask scheduler (`dask worker "
        "tls://HOST:PORT` with the workers' key, in a checkout of this project; "
        "tcp:// on loopback only); default: on this machine",
    )  # fmt: skip
    grade.add_argument(
        "--cluster-keys", metavar="KEYS", type=Path, default=None,
        help="the folder `python -m grader cluster-keys KEYS` wrote (ca.pem and "
        "coordinator.pem are used), for a tls:// scheduler",
    )  # fmt: skip
    grade.add_argument(
        "--db", metavar="URL", default=None,
        help="the class gradebook's database (nbgrader's db_url, e.g. "
        "postgresql://user@host/dbname); default: OUT/gradebook.db",
    )  # fmt: skip
    grade.add_argument(
        "--outputs-only", action="store_true",
        help="grade nobody: rewrite grades.csv, tests.csv, report.html, the "
        "students' pages and OUT/lms/ from the gradebook (scores changed in "
        "formgrader) and course.toml's [lms] and [late]",
    )  # fmt: skip
    grade.add_argument("--quiet", action="store_true", help="no progress bar")
    grade.set_defaults(handler=grade_command)

    keys = verbs.add_parser(
        "cluster-keys",
        help="write a TLS certificate authority and the keys of a Dask cluster's "
        "scheduler, workers and grading command (KEYS/ca.pem, scheduler.pem, "
        "worker.pem, coordinator.pem)",
    )
    keys.add_argument("keys", type=Path, help="a new folder (made 0700)")
    keys.set_defaults(handler=cluster_keys_command)

    entry = verbs.add_parser(
        "mistake-entry",
        help="print the catalogue entry (for backprop_helper/mistakes.py) that "
        "names a group of the report's wrong answers no catalogue names",
    )
    entry.add_argument("out", type=Path, help="a graded output folder")
    entry.add_argument("group", help="the group's id, e.g. unnamed-test_adam-1")
    for option, what in (
        ("--id", "the mistake's id, a slug (default: from the test)"),
        ("--name", "the short phrase checks show students (default: from the test)"),
        ("--meaning", "one sentence on what it means (default: where it was found)"),
        ("--taught", "where the notebook teaches it (default: the test)"),
    ):
        entry.add_argument(option, default="", help=what)
    entry.set_defaults(handler=mistake_entry_command)

    sample = verbs.add_parser(
        "sample-class", help="write a demo class of submissions (for trying `grade`)"
    )
    sample.add_argument("folder", type=Path, help="a new or empty folder")
    sample.add_argument(
        "--replace", action="store_true", help="replace the folder if it has files"
    )
    sample.set_defaults(handler=sample_class_command)
    return parser


def _positive(text: str) -> int:
    """An argparse type: a whole number above zero."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def error_text(error: Exception) -> str:
    """An error as printed: its lines made safe for the terminal (a message can
    hold a file name a student chose)."""
    lines = str(error).splitlines()[:ERROR_LINES] or [""]
    return "\n".join(
        ("error: " if number == 0 else "") + safe_text(line, TERMINAL)
        for number, line in enumerate(lines)
    )


def main(argv: list[str] | None = None) -> int:
    """Run one command; errors become a message and an exit code, not a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (NbgraderError, InputError) as error:
        print(error_text(error), file=sys.stderr)
        return 2
    except SandboxUnavailable as error:
        print(error_text(error), file=sys.stderr)
        return 3
    except OutInUse as error:
        print(error_text(error), file=sys.stderr)
        return 4
    except ClusterError as error:
        print(error_text(error), file=sys.stderr)
        return 5
