"""Fresh kernels vs kernels forked from a warm server, side by side in one run.

    .venv/bin/python benchmarks/kernel_start.py [--rounds 3]

Each round runs the five solved notebooks one after another the way the grader
starts kernels for one student (one StudentSandbox, default limits, one working
copy), four ways: fresh or forked kernels (grader/inside/forkserver.py, one server for
the five as for one student, its start included), without and with the sandbox.
The order of the four rotates each round. Prints the median wall time and the CPU
time of the kernels (and the fork server: every child process), and the ratios.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sandbox_overhead import run_in_kernel, working_copy

from grader.course import NOTEBOOKS
from grader.demo.submissions import solved
from grader.kernel.probe import sandbox_problem
from grader.kernel.sandbox import StudentSandbox
from grader.model import Limits

CPUACCT = Path("/sys/fs/cgroup/cpuacct")


class KernelCpu:
    """CPU seconds used by this process's descendants (kernels, servers, bwrap).

    With a cgroup v1 cpuacct hierarchy (as root): everything in a cgroup of this
    run minus this process's own time; a kernel killed inside bwrap is never
    waited for, so RUSAGE_CHILDREN would miss it. Otherwise RUSAGE_CHILDREN.
    """

    def __init__(self) -> None:
        self.group = CPUACCT / f"kernel-start-{os.getpid()}"
        try:
            self.group.mkdir()
            (self.group / "cgroup.procs").write_text(str(os.getpid()))
        except OSError:
            self.group = None

    def now(self) -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        if self.group is None:
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            return usage.ru_utime + usage.ru_stime
        total = int((self.group / "cpuacct.usage").read_text()) / 1e9
        return total - own.ru_utime - own.ru_stime

    def close(self) -> None:
        if self.group is not None:
            (CPUACCT / "cgroup.procs").write_text(str(os.getpid()))
            self.group.rmdir()


def run_student(
    sandboxed: bool, forked: bool, scratch: Path, meter: KernelCpu
) -> tuple[float, float]:
    """(wall s, kernels' CPU s) to run the five notebooks as one student's."""
    cwd = working_copy(scratch)
    notebooks = [solved(stem) for stem in NOTEBOOKS]
    cpu, start = meter.now(), time.monotonic()
    with StudentSandbox(Limits(), sandbox=sandboxed, fork=forked):
        for notebook in notebooks:
            run_in_kernel(notebook, cwd)
    wall = time.monotonic() - start
    time.sleep(0.5)  # let the last processes end
    return wall, meter.now() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    modes = [(False, False), (False, True)]
    if sandbox_problem():
        print(f"no sandbox here ({sandbox_problem()}): without it only")
    else:
        modes += [(True, False), (True, True)]
    wall: dict[tuple[bool, bool], list[float]] = {mode: [] for mode in modes}
    cpu: dict[tuple[bool, bool], list[float]] = {mode: [] for mode in modes}
    meter = KernelCpu()
    try:
        with tempfile.TemporaryDirectory() as folder:
            for round_ in range(args.rounds):
                shift = round_ % len(modes)
                for sandboxed, forked in modes[shift:] + modes[:shift]:
                    scratch = Path(folder) / "s"
                    seconds, used = run_student(sandboxed, forked, scratch, meter)
                    wall[(sandboxed, forked)].append(seconds)
                    cpu[(sandboxed, forked)].append(used)
    finally:
        meter.close()
    print(
        f"five solved notebooks as one student's, median of {args.rounds} rounds "
        "(wall s / kernels' CPU s):"
    )
    print(f"{'':<12}{'fresh':>14}{'forked':>14}{'wall ratio':>12}{'CPU ratio':>11}")
    for sandboxed in sorted({s for s, _ in modes}):
        name = "sandbox" if sandboxed else "no sandbox"
        fresh, forked = (sandboxed, False), (sandboxed, True)
        w = {m: statistics.median(wall[m]) for m in (fresh, forked)}
        c = {m: statistics.median(cpu[m]) for m in (fresh, forked)}
        print(
            f"{name:<12}{w[fresh]:>7.2f} /{c[fresh]:>5.2f}{w[forked]:>7.2f} /"
            f"{c[forked]:>5.2f}{w[fresh] / w[forked]:>11.2f}x"
            f"{c[fresh] / c[forked]:>10.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
