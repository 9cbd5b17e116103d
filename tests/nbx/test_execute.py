"""grader.nbx.execute: a notebook's run survives what its kernel does."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from grader.course import REPO
from grader.kernel.probe import sandbox_problem
from grader.model import MB

needs_sandbox = pytest.mark.skipif(
    sandbox_problem() is not None, reason=f"no sandbox: {sandbox_problem()}"
)

FLOOD = """
import re, sys, time
from pathlib import Path
import nbformat
from traitlets.config import Config
from grader.nbx.execute import ResilientExecute

cwd, status, sandboxed = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "on"
code = (
    "import signal, sys\\n"
    "signal.signal(signal.SIGINT, signal.SIG_IGN)\\n"
    "for _ in range(1000):\\n"
    "    sys.stdout.write('x' * 10**6)\\n"
    "    sys.stdout.flush()\\n"
)
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code),
                                     nbformat.v4.new_code_cell("print('after')")])
nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3"}
config = Config()
config.SandboxProvisioner.sandbox = sandboxed
config.ResilientExecute.output_limit = 2 * 1024 * 1024
config.ResilientExecute.status_dir = str(status)
config.ResilientExecute.timeout = 60
start = time.monotonic()
ResilientExecute(config=config).preprocess(
    nb, {"metadata": {"path": str(cwd)}, "unique_key": "flood"}
)
kept = sum(len(str(o)) for cell in nb.cells for o in cell.outputs)
print((status / "flood.status.json").read_text())
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent
peak = re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text())
print(int(peak.group(1)) // 1024, kept, round(time.monotonic() - start, 1))
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    "sandboxed", [pytest.param(True, marks=needs_sandbox), False], ids=["on", "off"]
)
def test_printing_a_gigabyte_never_reaches_the_grader(tmp_path, sandboxed):
    """A kernel that ignores the stop and prints 1 GB: the grader keeps at most the
    limit, stays small, kills the kernel at twice the limit and says why."""
    cwd, status = tmp_path / "work", tmp_path / "status"
    cwd.mkdir()
    mode = "on" if sandboxed else "off"
    result = subprocess.run(
        [sys.executable, "-c", FLOOD, str(cwd), str(status), mode],
        capture_output=True, text=True, timeout=300, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    status_line, numbers = result.stdout.strip().splitlines()[-2:]
    megabytes, kept, seconds = numbers.split()
    assert '"status": "output_limit"' in status_line
    assert "printed more than 2 MB of output (the limit)" in status_line
    assert int(megabytes) < 400, f"the grader grew to {megabytes} MB"
    assert int(kept) < 3 * MB
    assert float(seconds) < 60
