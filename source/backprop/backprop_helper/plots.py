"""Plots of training curves: one style for the race and for the sliders.

Both draw each optimizer in the same colour, on a log-scale loss axis labelled in
powers of ten (10⁻³, 2×10⁻⁴: plain text, no slow typesetting), with whole-number
epoch ticks and the legend outside the axes, where it cannot cover a curve.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from PIL import Image  # matplotlib's own PNG library

COLOURS = {"vanilla": "#1f77b4", "momentum": "#ff7f0e", "adam": "#2ca02c"}
FIGURE_SIZE = (7.5, 4.2)
# The axes' place in the figure (fractions): room on the right for the legend.
MARGINS = {"left": 0.11, "right": 0.78, "top": 0.9, "bottom": 0.13}
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def power_of_ten_label(value: float, _position: object = None) -> str:
    """A tick label in powers of ten: 10⁻³, 2×10⁻⁴, 1 (for 10⁰)."""
    if value <= 0 or not math.isfinite(value):
        return ""
    exponent = math.floor(math.log10(value) + 1e-9)
    mantissa = value / 10**exponent
    power = "1" if exponent == 0 else "10" + str(exponent).translate(_SUPERSCRIPT)
    if abs(mantissa - round(mantissa)) > 1e-6 * mantissa:
        return f"{mantissa:.2g}×{power}"
    if round(mantissa) == 1:
        return power
    return f"{round(mantissa)}" if exponent == 0 else f"{round(mantissa)}×{power}"


def _colour(name: str, index: int) -> str:
    """The optimizer's colour; other names take matplotlib's colour cycle."""
    return COLOURS.get(name, f"C{index}")


def style(ax: Axes, title: str) -> None:
    """The course's look for a loss plot (see the module docstring)."""
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean loss over the epoch")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)  # minor lines: a third of the drawing
    ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    fit_log_ticks(ax)


def fit_log_ticks(ax: Axes) -> None:
    """Loss ticks for the current view: decades, with 2 and 5 between them when the
    view spans less than two decades, so a short range still gets labels."""
    low, high = ax.get_ylim()
    decades = math.log10(high / low) if low > 0 and high > low else 0.0
    subs = (1.0,) if decades >= 2 else (1.0, 2.0, 5.0) if decades >= 0.6 else None
    if subs is None:
        ax.yaxis.set_major_locator(ticker.LogLocator(base=10, subs="all"))
    else:
        ax.yaxis.set_major_locator(ticker.LogLocator(base=10, subs=subs))
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(power_of_ten_label))
    ax.yaxis.set_minor_formatter(ticker.NullFormatter())


def loss_title(learning_rate: float | None = None) -> str:
    """The plots' title: "Mean loss per epoch, learning rate 10⁻³"."""
    title = "Mean loss per epoch"
    if learning_rate is None:
        return title
    return f"{title}, learning rate {power_of_ten_label(learning_rate)}"


def plot_losses(
    histories: Mapping[str, Sequence[float]],
    title: str | None = None,
    *,
    learning_rate: float | None = None,
) -> Figure:
    """Plot each optimizer's mean loss per epoch on one log-scale axis; return it.

    title: by default "Mean loss per epoch", with the learning rate if given.
    """
    title = loss_title(learning_rate) if title is None else title
    figure, ax = plt.subplots(figsize=FIGURE_SIZE)
    for index, (name, losses) in enumerate(histories.items()):
        epochs = range(1, len(losses) + 1)
        ax.plot(epochs, losses, marker="o", markersize=3, label=name,
                color=_colour(name, index))  # fmt: skip
    style(ax, title)
    figure.subplots_adjust(**MARGINS)
    return figure


class LossCurves:
    """One loss figure, redrawn with new curves: for sliders, where speed matters.

    It is a matplotlib Figure outside pyplot, so redraws never pile up figures, and
    it keeps its axes between redraws instead of building new ones. It looks like
    plot_losses.
    """

    def __init__(self, names: Sequence[str], epochs: int):
        """Empty curves for each optimizer name over `epochs` epochs."""
        self.figure = Figure(figsize=FIGURE_SIZE, dpi=90)
        self.ax = self.figure.subplots()
        x = range(1, epochs + 1)
        self.lines = {}
        for index, name in enumerate(names):
            (self.lines[name],) = self.ax.plot(
                x, [1.0] * epochs, marker="o", markersize=3, label=name,
                color=_colour(name, index),
            )  # fmt: skip
        style(self.ax, "")
        self.figure.subplots_adjust(**MARGINS)

    def png(self, histories: Mapping[str, Sequence[float]], title: str) -> bytes:
        """The figure with these curves and title, as PNG bytes."""
        for name, losses in histories.items():
            self.lines[name].set_ydata(losses)
        self.ax.relim()
        self.ax.autoscale_view()
        fit_log_ticks(self.ax)
        self.ax.set_title(title)
        return self._render()

    def _render(self) -> bytes:
        """The figure as PNG bytes."""
        buffer = io.BytesIO()
        # quick compression: a slider redraw waits for it; the PNG is a bit larger
        self.figure.savefig(buffer, format="png", pil_kwargs={"compress_level": 1})
        return buffer.getvalue()


def faded(png: bytes, strength: float = 0.65) -> bytes:
    """The picture blended towards white, to show while it is being replaced (a
    fraction of the cost of drawing the figure again)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    white = Image.new("RGB", image.size, "white")
    buffer = io.BytesIO()
    Image.blend(image, white, strength).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()
