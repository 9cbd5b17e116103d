"""Plots of training curves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib import ticker
from matplotlib.figure import Figure


def plot_losses(
    histories: Mapping[str, Sequence[float]],
    title: str = "Mean loss per epoch",
    *,
    fast: bool = False,
) -> Figure:
    """Plot each optimizer's mean loss per epoch on one log-scale axis; return it.

    fast: for redraws behind a slider: fixed margins instead of tight_layout, and
      plain tick labels ("0.001") instead of typeset powers of ten.
    """
    figure, ax = plt.subplots(figsize=(7, 4.2))
    for name, losses in histories.items():
        epochs = range(1, len(losses) + 1)
        ax.plot(epochs, losses, marker="o", markersize=3, label=name)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean loss over the epoch")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    if fast:
        ax.yaxis.set_major_formatter(
            ticker.FuncFormatter(lambda value, _: f"{value:g}")
        )
        ax.yaxis.set_minor_formatter(ticker.NullFormatter())
        figure.subplots_adjust(left=0.12, right=0.97, top=0.9, bottom=0.13)
    else:
        figure.tight_layout()
    return figure
