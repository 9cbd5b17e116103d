"""Plots of training curves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure


def plot_losses(
    histories: Mapping[str, Sequence[float]], title: str = "Mean loss per epoch"
) -> Figure:
    """Plot each optimizer's mean loss per epoch on one log-scale axis; return it."""
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
    figure.tight_layout()
    return figure
