"""Generate the student release with nbgrader; check the committed one is fresh."""

from __future__ import annotations

import filecmp
import shutil
import tempfile
from pathlib import Path

from ..course import COURSE
from .prepared import make_course
from .setup_cell import stale_setup_cells, write_setup_cells
from .timing import stale_times, write_times


def build_release(workdir: Path) -> Path:
    """Run `nbgrader generate_assignment` on a copy of the course; return the release.

    workdir: an empty directory that becomes a throwaway course root (so the real
    course gets no gradebook.db and a failed run leaves the committed release alone).
    The release is made by nbgrader itself, never taken from the cache.
    """
    return make_course(workdir, COURSE, cached=False) / "release" / COURSE.assignment


def tree_differences(expected: Path, actual: Path) -> list[str]:
    """Relative paths that are missing, extra or different in `actual`."""
    differences: list[str] = []

    def walk(comparison: filecmp.dircmp, prefix: str) -> None:
        differences.extend(f"missing: {prefix}{name}" for name in comparison.left_only)
        differences.extend(f"extra: {prefix}{name}" for name in comparison.right_only)
        _, mismatch, errors = filecmp.cmpfiles(
            comparison.left, comparison.right, comparison.common_files, shallow=False
        )
        differences.extend(f"differs: {prefix}{name}" for name in mismatch + errors)
        for name, sub in comparison.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    ignore = ["__pycache__", ".ipynb_checkpoints"]
    walk(filecmp.dircmp(expected, actual, ignore=ignore), "")
    return sorted(differences)


def write_release(measure: bool = False) -> Path:
    """Regenerate release/backprop from source/backprop; return its path.

    First writes the setup cell from course.toml into every source notebook; last,
    measures the answer key's time per cell (grader.authoring.timing) when the
    source changed since it was measured, or when `measure` asks for it.
    """
    write_setup_cells()
    with tempfile.TemporaryDirectory() as tmp:
        built = build_release(Path(tmp))
        if COURSE.release_dir.exists():
            shutil.rmtree(COURSE.release_dir)
        shutil.copytree(built, COURSE.release_dir)
    if measure or stale_times(COURSE):
        write_times(COURSE)
    return COURSE.release_dir


def stale_release_files() -> list[str]:
    """How the committed release differs from a fresh one (empty when fresh)."""
    stale = [f"setup cell differs from course.toml: {n}" for n in stale_setup_cells()]
    stale += stale_times(COURSE)
    if stale:
        return stale
    with tempfile.TemporaryDirectory() as tmp:
        built = build_release(Path(tmp))
        if not COURSE.release_dir.exists():
            return [f"missing: {COURSE.release_dir}"]
        return tree_differences(built, COURSE.release_dir)
