"""The report's figures: bins centred on scores, inline PNG, no pyplot state."""

from __future__ import annotations

import base64

import matplotlib.pyplot as plt
import numpy as np
import pytest

from grader.model import ClassResults
from grader.output import plots
from grader.output.stats import failure_counts

from .sample import SIGMOID, failed, graded


@pytest.mark.parametrize(
    ("scores", "max_score"),
    [([0, 1, 3, 3], 3), ([0, 1.5, 3], 3), ([0.25, 2, 1.75], 2), ([0, 20, 40], 40)],
)
def test_histogram_bars_are_centred_on_the_scores(scores, max_score):
    """Whole, half and quarter points each sit in the middle of their own bar."""
    edges = plots.score_bins(scores, max_score)
    for score in scores:
        index = np.searchsorted(edges, score, side="right") - 1
        assert (edges[index] + edges[index + 1]) / 2 == pytest.approx(score)


def test_histogram_of_arbitrary_scores_has_20_bins_covering_them():
    """Scores off any small grid get 20 equal bins from 0 to the max."""
    edges = plots.score_bins([0.1234, 2.71828, 9.999], 10)
    assert len(edges) == 21
    assert (edges[0], edges[-1]) == (0, 10)


def figures(results: ClassResults):
    """Every figure the report draws for `results`."""
    return [
        plots.distribution_figure(results),
        plots.failures_figure(failure_counts(results)),
        plots.totals_figure(results),
    ]


def test_figures_are_inline_png_without_a_url_in_their_metadata(results):
    """Each figure is a data: URI of a PNG; matplotlib's Software tag (a URL) is
    left out, so the report holds no address at all."""
    for figure in figures(results):
        uri = plots.png_data_uri(figure)
        assert uri.startswith("data:image/png;base64,")
        png = base64.b64decode(uri.removeprefix("data:image/png;base64,"))
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert b"http" not in png


def test_drawing_the_figures_creates_no_pyplot_figures(results):
    """Drawing leaves pyplot's list of open figures as it was."""
    figure = plt.figure()
    before = plt.get_fignums()
    try:
        for drawn in figures(results):
            plots.png_data_uri(drawn)
        assert plt.get_fignums() == before
    finally:
        plt.close(figure)


@pytest.mark.parametrize("name", ["test_$cost", "$$", "a$b$c"])
def test_dollar_signs_in_names_are_drawn_literally(name):
    """A "$" in a test or notebook name is not parsed as (broken) mathtext."""
    grade = graded("s", f"{name}_nb", failed(name, 1, "m"))
    results = ClassResults([grade])
    for figure in figures(results):
        plots.png_data_uri(figure)  # mathtext would raise on "$$" or an odd "$"


def test_a_notebook_nobody_handed_in_gets_an_empty_panel():
    """A course notebook without graded rows is drawn as "none graded"."""
    results = ClassResults([graded("s", SIGMOID, failed("t", 1, "m"))])
    figure = plots.distribution_figure(results)
    texts = [text.get_text() for ax in figure.axes for text in ax.texts]
    assert texts.count("none graded") == 4


def test_plot_labels_are_literal_and_cut_to_a_readable_length():
    """ "$" is escaped for mathtext; a long name ends in "…" at LABEL_CHARS."""
    assert plots.plot_label("a$b") == r"a\$b"
    label = plots.plot_label("t" * 200)
    assert len(label) == plots.LABEL_CHARS
    assert label.endswith("…")


@pytest.mark.filterwarnings("error")
def test_long_names_still_leave_room_for_the_axes():
    """A 200-character test and notebook name draws without a layout warning."""
    grade = graded("s", "9" * 200, failed("t" * 200, 1, "m"))
    for figure in figures(ClassResults([grade])):
        plots.png_data_uri(figure)
