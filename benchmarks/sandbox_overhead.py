"""What the sandbox costs, measured side by side in one run.

    .venv/bin/python benchmarks/sandbox_overhead.py [--rounds 3] [--students 6]

1. Per notebook: each solved notebook run in a fresh kernel started the way the
   grader starts it (grader.kernel: the sandbox provisioner, default limits),
   without and with the
   sandbox, alternating which goes first each round; the median wall time of each.
2. A class: `python -m grader grade` on the same synthetic class (every notebook
   solved) with --sandbox off and --sandbox required, alternating, --jobs 2.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.course import NOTEBOOKS, RELEASE_DIR, REPO
from grader.demo.sample_class import notebook_bytes
from grader.demo.submissions import solved
from grader.kernel.manager import GraderKernelManager
from grader.kernel.probe import sandbox_problem
from grader.kernel.sandbox import StudentSandbox
from grader.model import Limits


def working_copy(scratch: Path) -> Path:
    """A fresh working copy holding the helper."""
    cwd = scratch / "work"
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(RELEASE_DIR / "backprop_helper", cwd / "backprop_helper")
    return cwd


def run_in_kernel(notebook, cwd: Path) -> None:
    """Run a notebook in a kernel started the way the grader starts it (in the
    StudentSandbox open now)."""
    NotebookClient(
        notebook, kernel_manager_class=GraderKernelManager, timeout=120,
        resources={"metadata": {"path": str(cwd)}},
    ).execute()  # fmt: skip


def run_notebook(stem: str, sandboxed: bool, scratch: Path) -> float:
    """Seconds to run one solved notebook in a new kernel, start to shutdown."""
    cwd = working_copy(scratch)
    notebook = solved(stem)
    start = time.monotonic()
    with StudentSandbox(Limits(), sandbox=sandboxed, fork=False):
        run_in_kernel(notebook, cwd)
    return time.monotonic() - start


def grade(submissions: Path, out: Path, mode: str) -> float:
    """Seconds for `python -m grader grade` on the class."""
    shutil.rmtree(out, ignore_errors=True)
    start = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "grader", "grade", str(submissions), "--out", str(out),
         "--jobs", "2", "--quiet", "--sandbox", mode],
        check=True, cwd=REPO, capture_output=True,
    )  # fmt: skip
    return time.monotonic() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--students", type=int, default=6)
    args = parser.parse_args()
    if sandbox_problem():
        print(f"no sandbox here: {sandbox_problem()}")
        return 1
    times: dict[tuple[str, bool], list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        for round_ in range(args.rounds):
            order = (False, True) if round_ % 2 == 0 else (True, False)
            for stem in NOTEBOOKS:
                for sandboxed in order:
                    seconds = run_notebook(stem, sandboxed, scratch / "nb")
                    times.setdefault((stem, sandboxed), []).append(seconds)
        print(f"per notebook, median of {args.rounds} (s):")
        print(f"{'notebook':<26}{'off':>8}{'sandbox':>9}{'ratio':>8}")
        total = {False: 0.0, True: 0.0}
        for stem in NOTEBOOKS:
            off = statistics.median(times[(stem, False)])
            on = statistics.median(times[(stem, True)])
            total[False] += off
            total[True] += on
            print(f"{stem:<26}{off:>8.2f}{on:>9.2f}{on / off:>8.2f}")
        ratio = total[True] / total[False]
        print(f"{'all five':<26}{total[False]:>8.2f}{total[True]:>9.2f}{ratio:>8.2f}")

        submissions = scratch / "class"
        for index in range(args.students):
            for stem in NOTEBOOKS:
                path = submissions / f"s{index:02d}" / f"{stem}.ipynb"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(notebook_bytes(solved(stem)))
        runs: dict[str, list[float]] = {"off": [], "required": []}
        for round_ in range(2):
            order = ("off", "required") if round_ == 0 else ("required", "off")
            for mode in order:
                runs[mode].append(grade(submissions, scratch / f"out-{mode}", mode))
        print(f"\n`grader grade --jobs 2`, {args.students} students x 5 notebooks (s):")
        for mode, seconds in runs.items():
            print(f"  --sandbox {mode:<9} " + "  ".join(f"{s:.1f}" for s in seconds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
