"""grader.nbx.config: the executor is configured by its own traits only."""

from __future__ import annotations

import pytest

from grader.course import REPO
from grader.model import MB, Limits
from grader.nbx.config import grading_config
from grader.nbx.execute import ResilientExecute


@pytest.mark.parametrize("cell_timeout", [None, 5])
def test_every_executor_setting_is_one_of_its_traits(tmp_path, cell_timeout):
    """traitlets only warns about a setting no trait has: it would be lost."""
    config = grading_config(tmp_path, REPO, Limits(cell_timeout=cell_timeout))
    settings = config.ResilientExecute
    assert set(settings) <= set(ResilientExecute.class_trait_names(config=True))
    executor = ResilientExecute(config=config)
    assert executor.course_cell_limits is (cell_timeout is None)
    assert executor.timeout == (cell_timeout or 10)
    assert executor.notebook_timeout == Limits.notebook_timeout
    assert executor.output_limit == Limits.output_mb * MB
