"""Tests for backprop_helper.plots: the training-curve plot."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from backprop_helper.plots import plot_losses
from matplotlib.figure import Figure

HISTORIES = {
    "vanilla": [1.0, 0.5, 0.25, 0.125],
    "momentum": np.array([0.9, 0.3, 0.1, 0.03]),
    "adam": (0.8, 0.2),
}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_plot_losses_draws_one_labelled_curve_per_optimizer():
    """Each history is one line, labelled with its name, at epochs 1..n."""
    figure = plot_losses(HISTORIES)
    assert isinstance(figure, Figure)
    (ax,) = figure.axes
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == set(HISTORIES)
    for name, losses in HISTORIES.items():
        np.testing.assert_array_equal(
            lines[name].get_xdata(), range(1, len(losses) + 1)
        )
        np.testing.assert_array_equal(lines[name].get_ydata(), losses)
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == list(HISTORIES)


def test_plot_losses_uses_a_log_scale():
    """The loss axis is logarithmic."""
    assert plot_losses(HISTORIES).axes[0].get_yscale() == "log"


@pytest.mark.parametrize("title", [None, "Learning rate 0.01"])
def test_plot_losses_title(title):
    """The title argument is shown; without it a default title is shown."""
    kwargs = {} if title is None else {"title": title}
    shown = plot_losses(HISTORIES, **kwargs).axes[0].get_title()
    assert shown == (title or "Mean loss per epoch")
