"""The instructor's command line: `python -m grader COMMAND`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .nbgrader_run import NbgraderError
from .release import stale_release_files, write_release
from .selfcheck import run_selfcheck


def release_command(args: argparse.Namespace) -> int:
    """Regenerate the release, or with --check report whether it is stale."""
    if args.check:
        stale = stale_release_files()
        for line in stale:
            print(f"release/backprop is stale: {line}")
        if stale:
            print("Regenerate it with: python -m grader release")
            return 1
        print("release/backprop is what generate_assignment produces now.")
        return 0
    path = write_release()
    print(f"wrote {path}")
    return 0


def selfcheck_command(args: argparse.Namespace) -> int:
    """Autograde the answers and the untouched release with stock nbgrader."""
    print(f"Grading the instructor's answers and the untouched release in {args.out} …")
    check = run_selfcheck(args.out)
    print(check.table())
    if check.ok:
        print("OK: the answers earn every point, the untouched release earns none.")
        print(f"nbgrader's course folder (gradebook.db, autograded/): {args.out}")
        return 0
    print("PROBLEM: see the table; run the notebooks in source/ to find out why.")
    return 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per verb."""
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__)
    verbs = parser.add_subparsers(dest="command", required=True)
    release = verbs.add_parser(
        "release", help="regenerate release/backprop with nbgrader generate_assignment"
    )
    release.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 if the release is stale",
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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; errors become a message and exit code 2, not a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except NbgraderError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
