"""The instructor's command line: `python -m grader COMMAND`."""

from __future__ import annotations

import argparse
import sys

from .nbgrader_run import NbgraderError
from .release import stale_release_files, write_release


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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; errors become a message and exit code 2, not a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except NbgraderError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
