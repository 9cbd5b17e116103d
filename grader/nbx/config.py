"""The nbgrader configuration a student's notebooks are graded and given feedback by."""

from __future__ import annotations

from pathlib import Path

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from ..course import CELL_LIMIT_FLOOR, CONFIG_NAME
from ..model import MB, Limits
from .execute import ResilientExecute
from .feedback import configure_feedback
from .mistake_names import configure_mistake_names


def grading_config(root: Path, course_root: Path, limits: Limits) -> Config:
    """The course's nbgrader config, pointed at the private course `root`, with the
    grader's pipeline; `course_root` is the class's course folder (config and
    source)."""
    config = PyFileConfigLoader(CONFIG_NAME, str(course_root)).load_config()
    config.CourseDirectory.root = str(root)
    config.Autograde.autograde_preprocessors = [
        ResilientExecute,
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
    # Deleted cells are restored before nbgrader runs (grader.intake.repair):
    # nbgrader 0.9's add_missing_cells fails after read-only cells and on
    # de-duplicated ones.
    config.OverwriteCells.add_missing_cells = False
    # Each cell's limit comes from the answer key's time for it, unless one is given.
    config.ResilientExecute.course_cell_limits = limits.cell_timeout is None
    config.ResilientExecute.timeout = limits.cell_timeout or int(CELL_LIMIT_FLOOR)
    config.ResilientExecute.notebook_timeout = limits.notebook_timeout
    config.ResilientExecute.output_limit = limits.output_mb * MB
    config.ResilientExecute.reference_memory_mb = limits.memory_mb
    config.ResilientExecute.status_dir = str(root / "status")
    # Graded tests run here, not in the student's kernel (grader/nbx/trusted.py).
    config.ResilientExecute.trusted_source = str(course_root)
    # The notebook has run: stop its kernel at once instead of waiting for it.
    config.ResilientExecute.shutdown_kernel = "immediate"
    # Feedback shows each hidden test's message, not its code, and the student's
    # notebook inert under the grader's verdict (grader/nbx/feedback.py).
    configure_feedback(config)
    # Above each failing test, the mistakes it named, from this
    # course's catalogue (grader/nbx/mistake_names.py).
    configure_mistake_names(config, course_root)
    return config
