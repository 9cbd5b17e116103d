"""Sliders that rerun the student's own code: gradient-check eps, optimizer settings.

Written for the subset that ipywidgets 7.7 (Colab) and 8 share: `interactive_output`,
`FloatLogSlider`, `FloatSlider`, `VBox` / `HBox`, drawing into the `Output` that
`interactive_output` manages. Each new setting is computed and rendered once: the
figure is drawn to a PNG in one pass and closed (so figures never pile up), and the
PNG is kept, so moving a slider back to a value already seen shows it at once instead
of training or rendering again.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display
from matplotlib.figure import Figure

from .plots import LossCurves
from .training import train

EPSILON_GRID = np.logspace(-12, -1, 34)
WIDE_LABEL = {"description_width": "initial"}  # show "momentum γ" in full


def _log_slider(
    value: float, low: int, high: int, label: str
) -> widgets.FloatLogSlider:
    """A base-10 log slider from 10**low to 10**high that fires on release."""
    return widgets.FloatLogSlider(
        value=value,
        base=10,
        min=low,
        max=high,
        step=0.25,
        description=label,
        continuous_update=False,
        readout_format=".1e",
        style=WIDE_LABEL,
        layout=widgets.Layout(width="420px"),
    )


def png_of(figure: Figure) -> bytes:
    """The figure as PNG bytes, drawn once; the figure is closed afterwards."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


class EpsilonExplorer:
    """Relative error of gradient_checking against eps, with a slider for eps."""

    def __init__(self, gradient_checking: Callable, x, y, w, value: float = 1e-7):
        """gradient_checking(x, y, w, eps) -> float: the student's own function."""
        self.gradient_checking = gradient_checking
        self.point = (x, y, np.array(w, dtype=float))
        self.errors: dict[float, float] = {}
        self.pictures: dict[float, bytes] = {}
        self.slider = _log_slider(value, -12, -1, "eps")
        self.output = widgets.interactive_output(self.draw, {"eps": self.slider})
        self.widget = widgets.VBox([self.slider, self.output])

    def error(self, eps: float) -> float:
        """The relative error at eps, computed once per value."""
        key = float(eps)
        if key not in self.errors:
            x, y, w = self.point
            self.errors[key] = float(self.gradient_checking(x, y, w.copy(), key))
        return self.errors[key]

    def draw(self, eps: float) -> None:
        """Show the V-shaped curve with eps marked (rendered once per eps)."""
        key = float(eps)
        if key not in self.pictures:
            self.pictures[key] = png_of(self.figure(key))
        display(Image(data=self.pictures[key], format="png"))

    def figure(self, eps: float) -> Figure:
        """The relative error over EPSILON_GRID, the current eps marked."""
        curve = [self.error(value) for value in EPSILON_GRID]
        current = self.error(eps)
        figure, ax = plt.subplots(figsize=(7, 4))
        ax.loglog(EPSILON_GRID, curve, color="#4472c4", marker="o", markersize=3)
        ax.loglog([eps], [current], "o", color="#c00000", markersize=10,
                  label=f"eps = {eps:.1e}: error {current:.1e}")  # fmt: skip
        ax.set_xlabel("eps")
        ax.set_ylabel("relative error")
        ax.set_title("Truncation error falls to the right, round-off rises to the left")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="upper center")
        figure.subplots_adjust(left=0.12, right=0.97, top=0.9, bottom=0.13)
        return figure


class OptimizerExplorer:
    """Loss curves of the three optimizers, retrained when a slider moves."""

    def __init__(
        self,
        updates: Mapping[str, Callable],
        forward: Callable,
        backward: Callable,
        X: np.ndarray,
        y: np.ndarray,
        w_init: np.ndarray,
        *,
        learning_rate: float = 1e-3,
        epochs: int = 20,
    ):
        """updates: the student's {"vanilla": ..., "momentum": ..., "adam": ...}."""
        self.updates = dict(updates)
        self.functions = (forward, backward)
        self.data = (X, y, np.array(w_init, dtype=float))
        self.epochs = epochs
        self.histories: dict[tuple, np.ndarray] = {}
        self.pictures: dict[tuple, bytes] = {}
        self.curves = LossCurves(list(self.updates), epochs)
        self.learning_rate = _log_slider(learning_rate, -4, -1, "learning rate")
        self.gamma = widgets.FloatSlider(
            value=0.9, min=0.0, max=0.99, step=0.01, description="momentum γ",
            continuous_update=False, style=WIDE_LABEL,
        )  # fmt: skip
        self.beta1 = widgets.FloatSlider(
            value=0.9, min=0.5, max=0.99, step=0.01, description="Adam β1",
            continuous_update=False, style=WIDE_LABEL,
        )  # fmt: skip
        self.beta2 = widgets.FloatSlider(
            value=0.999, min=0.9, max=0.9999, step=0.0001, description="Adam β2",
            continuous_update=False, readout_format=".4f", style=WIDE_LABEL,
        )  # fmt: skip
        controls = {
            "learning_rate": self.learning_rate,
            "gamma": self.gamma,
            "beta1": self.beta1,
            "beta2": self.beta2,
        }
        self.output = widgets.interactive_output(self.draw, controls)
        sliders = widgets.VBox(
            [self.learning_rate, widgets.HBox([self.gamma, self.beta1, self.beta2])]
        )
        self.widget = widgets.VBox([sliders, self.output])

    @staticmethod
    def key(name: str, learning_rate, gamma, beta1, beta2) -> tuple:
        """The settings one optimizer's curve depends on (so others stay cached)."""
        settings = {"vanilla": (), "momentum": (gamma,), "adam": (beta1, beta2)}
        return (name, float(learning_rate), *map(float, settings[name]))

    def history(self, name: str, learning_rate, gamma, beta1, beta2) -> np.ndarray:
        """One optimizer's mean loss per epoch, trained once per setting."""
        key = self.key(name, learning_rate, gamma, beta1, beta2)
        if key not in self.histories:
            forward, backward = self.functions
            X, y, w_init = self.data
            self.histories[key] = train(
                name, self.updates[name], forward, backward, X, y, w_init,
                learning_rate=float(learning_rate), epochs=self.epochs,
                gamma=float(gamma), beta1=float(beta1), beta2=float(beta2),
                progress=True,
            )  # fmt: skip
        return self.histories[key]

    def draw(self, learning_rate, gamma, beta1, beta2) -> None:
        """Retrain what changed, redraw the three curves (once per setting), show."""
        settings = (learning_rate, gamma, beta1, beta2)
        key = tuple(float(value) for value in settings)
        if key not in self.pictures:
            histories = {name: self.history(name, *settings) for name in self.updates}
            title = f"Mean loss per epoch (learning rate {float(learning_rate):.1e})"
            self.pictures[key] = self.curves.png(histories, title)
        display(Image(data=self.pictures[key], format="png"))


def epsilon_slider(gradient_checking: Callable, x, y, w) -> widgets.VBox:
    """A slider over eps that reruns gradient_checking and marks it on the V curve."""
    return EpsilonExplorer(gradient_checking, x, y, w).widget


def optimizer_sliders(updates, forward, backward, X, y, w_init, **options):
    """Sliders for the learning rate, momentum γ and Adam's β1, β2, with the curves."""
    return OptimizerExplorer(updates, forward, backward, X, y, w_init, **options).widget
