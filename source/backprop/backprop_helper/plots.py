"""Plots of training curves."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib import ticker
from matplotlib.figure import Figure


def plot_losses(
    histories: Mapping[str, Sequence[float]], title: str = "Mean loss per epoch"
) -> Figure:
    """Plot each optimizer's mean loss per epoch on one log-scale axis; return it."""
    figure, ax = plt.subplots(figsize=(7, 4.2))
    for name, losses in histories.items():
        epochs = range(1, len(losses) + 1)
        ax.plot(epochs, losses, marker="o", markersize=3, label=name)
    _style(ax, title)
    figure.tight_layout()
    return figure


def _style(ax, title: str) -> None:
    """Log-scale loss axis with labels, grid, legend and title."""
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean loss over the epoch")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()


class LossCurves:
    """One loss figure, redrawn with new curves: for sliders, where speed matters.

    It is a matplotlib Figure outside pyplot, so redraws never pile up figures, and
    it keeps its axes between redraws instead of building new ones.
    """

    def __init__(self, names: Sequence[str], epochs: int):
        """Empty curves for each optimizer name over `epochs` epochs."""
        self.figure = Figure(figsize=(7, 4.2), dpi=90)
        self.ax = self.figure.subplots()
        x = range(1, epochs + 1)
        self.lines = {
            name: self.ax.plot(x, [1.0] * epochs, marker="o", markersize=3, label=name)[
                0
            ]
            for name in names
        }
        _style(self.ax, "")
        # Plain tick labels ("0.001"): typesetting powers of ten is slow.
        self.ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        self.ax.yaxis.set_minor_formatter(ticker.NullFormatter())
        self.figure.subplots_adjust(left=0.12, right=0.97, top=0.9, bottom=0.13)

    def png(self, histories: Mapping[str, Sequence[float]], title: str) -> bytes:
        """The figure with these curves and title, as PNG bytes."""
        for name, losses in histories.items():
            self.lines[name].set_ydata(losses)
        self.ax.relim()
        self.ax.autoscale_view()
        self.ax.set_title(title)
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png")
        return buffer.getvalue()
