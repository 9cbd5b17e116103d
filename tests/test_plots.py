"""Tests for backprop_helper.plots: the training-curve plots of the race and the
sliders, which must look the same."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from backprop_helper.plots import (
    COLOURS,
    LossCurves,
    faded,
    loss_title,
    plot_losses,
    power_of_ten_label,
)
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


def test_plot_losses_title_with_the_learning_rate():
    """learning_rate= puts the rate in the title, as the sliders' plot does."""
    shown = plot_losses(HISTORIES, learning_rate=1e-3).axes[0].get_title()
    assert shown == "Mean loss per epoch, learning rate 10⁻³" == loss_title(1e-3)


@pytest.mark.parametrize(
    ("value", "label"),
    [(1e-3, "10⁻³"), (1e-5, "10⁻⁵"), (1.0, "1"), (10.0, "10¹"), (2e-4, "2×10⁻⁴"),
     (5.0, "5"), (10**-2.25, "5.6×10⁻³"), (0.0, "")],
)  # fmt: skip
def test_power_of_ten_labels(value, label):
    """Tick labels all in one form: no mix of 0.0001 and 1e-05."""
    assert power_of_ten_label(value) == label


def _rendered(figure: Figure):
    """The figure's axes, laid out as drawn (ticks, labels, legend placed)."""
    figure.draw_without_rendering()
    return figure.axes[0]


def _both(histories):
    """The race's figure and the sliders' figure for the same curves."""
    race = plot_losses(histories, learning_rate=1e-2)
    curves = LossCurves(list(histories), len(next(iter(histories.values()))))
    curves.png(histories, loss_title(1e-2))
    return race, curves.figure


FULL = {
    "vanilla": np.geomspace(0.7, 0.03, 20),
    "momentum": np.geomspace(0.15, 1e-3, 20),
    "adam": np.geomspace(0.5, 2e-5, 20),
}


@pytest.mark.parametrize("which", ["race", "sliders"])
def test_epoch_ticks_are_whole_numbers(which):
    """No tick at epoch 2.5 or 7.5."""
    figure = dict(zip(("race", "sliders"), _both(FULL)))[which]
    ax = _rendered(figure)
    low, high = ax.get_xlim()
    ticks = [tick for tick in ax.get_xticks() if low <= tick <= high]
    assert ticks and all(float(tick).is_integer() for tick in ticks)


@pytest.mark.parametrize(
    "histories",
    [FULL, {name: np.linspace(0.031, 0.029, 20) for name in FULL}],
    ids=["five-decades", "a-narrow-range"],
)
def test_loss_labels_are_powers_of_ten_and_never_empty(histories):
    """Every visible loss label is written in powers of ten, and a view spanning
    less than a decade still gets some."""
    for figure in _both(histories):
        ax = _rendered(figure)
        low, high = ax.get_ylim()
        labels = [
            label.get_text()
            for label, tick in zip(ax.get_yticklabels(), ax.get_yticks())
            if low <= tick <= high
        ]
        assert [text for text in labels if text], labels
        assert all("e-" not in text and "0.0" not in text for text in labels), labels


def test_the_legend_sits_outside_the_axes():
    """The legend cannot cover a curve: it lies right of the plotting area."""
    for figure in _both(FULL):
        ax = _rendered(figure)
        legend = ax.get_legend().get_window_extent()
        assert legend.x0 > ax.get_window_extent().x1
        assert legend.x1 <= figure.bbox.x1


def test_race_and_sliders_look_the_same():
    """Same size, colours per optimizer, scales, labels and title format."""
    race, sliders = _both(FULL)
    assert tuple(race.get_size_inches()) == tuple(sliders.get_size_inches())
    race_ax, slider_ax = _rendered(race), _rendered(sliders)
    for ax in (race_ax, slider_ax):
        colours = {line.get_label(): line.get_color() for line in ax.get_lines()}
        assert colours == {name: COLOURS[name] for name in FULL}
        assert ax.get_yscale() == "log"
        assert ax.get_ylabel() == "mean loss over the epoch"
    assert race_ax.get_title() == slider_ax.get_title()
    assert race_ax.get_position().bounds == pytest.approx(
        slider_ax.get_position().bounds
    )


def test_faded_picture_is_the_same_size_and_lighter():
    """faded() keeps the picture's size (the cell does not jump) and lightens it."""
    import io

    from PIL import Image

    plain = LossCurves(list(FULL), 20).png(FULL, loss_title(1e-3))
    light = faded(plain)
    before, after = (Image.open(io.BytesIO(png)).convert("L") for png in (plain, light))
    assert after.size == before.size
    assert np.asarray(after).min() > np.asarray(before).min()
    assert np.asarray(after).mean() > np.asarray(before).mean()
