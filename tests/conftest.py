"""Shared test setup: a headless matplotlib, the helper package on sys.path, the
classes graded once per session."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parent.parent
HELPER_PARENT = REPO / "source" / "backprop"

if str(HELPER_PARENT) not in sys.path:
    sys.path.insert(0, str(HELPER_PARENT))

from grader.demo.sample_class import build_sample_class  # noqa: E402
from tests.support import (  # noqa: E402
    SAMPLE_LIMITS,
    GradedSample,
    course_stamp,
    run_cli,
    short_temp_folder,
    snapshot,
    state_mtimes,
)

# --- a temp folder of the test's own --------------------------------------------------


@pytest.fixture
def own_temp(monkeypatch) -> Iterator[Path]:
    """TMPDIR (and tempfile's folder) of this test's own: what a run leaves in the
    temp folder is this test's to count, not another run's on the machine."""
    folder = short_temp_folder()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


# --- classes graded once per session --------------------------------------------------


@pytest.fixture(scope="session")
def sample_class(tmp_path_factory) -> Iterator[GradedSample]:
    """The sample class (grader.demo.sample_class) graded once per session through
    `python -m grader grade --jobs 2` with SAMPLE_LIMITS. Tests read it: a test that
    changes something works on a copy."""
    root = tmp_path_factory.mktemp("sample")
    submissions, out = root / "class", root / "out"
    about = build_sample_class(submissions)
    before = snapshot(submissions)
    temp = short_temp_folder()
    try:
        result = run_cli(
            "grade", submissions, "--out", out, "--jobs", "2", "--quiet",
            "--cell-timeout", SAMPLE_LIMITS.cell_timeout,
            "--notebook-timeout", SAMPLE_LIMITS.notebook_timeout,
            env={**os.environ, "TMPDIR": str(temp)},
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        yield GradedSample(
            submissions, out, temp, about, before, result, state_mtimes(out),
            course_stamp(out), (out / "grades.csv").read_bytes(),
            (out / "tests.csv").read_bytes(),
        )  # fmt: skip
    finally:
        shutil.rmtree(temp, ignore_errors=True)
