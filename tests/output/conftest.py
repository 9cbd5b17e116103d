"""Fixtures of the output tests: the hand-built class and its report."""

from __future__ import annotations

import pytest

from grader.model import ClassResults

from .page import Page, parse
from .sample import class_results, report


@pytest.fixture(scope="module")
def results() -> ClassResults:
    """The hand-built class (tests must not change it)."""
    return class_results()


@pytest.fixture(scope="module")
def html_report(results) -> str:
    """The class report of the hand-built class, as text."""
    return report(results)


@pytest.fixture(scope="module")
def page(html_report) -> Page:
    """The class report of the hand-built class, parsed."""
    return parse(html_report)
