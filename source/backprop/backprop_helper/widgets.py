"""Sliders that rerun the student's own code: gradient-check eps, optimizer settings.

Written for the subset that ipywidgets 7.7 (Colab) and 8 share: `FloatLogSlider`,
`FloatSlider`, `VBox` / `HBox`, `Output`, `interactive_output` and `observe`. Each new
setting is computed and rendered once: the figure is drawn to a PNG in one pass (and
closed, or kept outside pyplot, so figures never pile up), and the PNG is kept, so
moving a slider back to a value already seen shows it at once instead of training or
rendering again.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display
from matplotlib.figure import Figure
from tqdm.auto import tqdm

from .plots import LossCurves, faded, loss_title
from .training import OPTIMIZERS

EPSILON_GRID = np.logspace(-12, -1, 34)
# Retrains projected (from their last runs) to take longer than this fade the old
# plot while they run (a wait one notices), and longer than that show a bar.
FADE_AFTER_SECONDS = 0.5
PROGRESS_AFTER_SECONDS = 1.0
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

    def __init__(self, gradient_checking: Callable, x, y, w, value: float = 1e-6):
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
        ax.set_title(
            "Truncation error grows to the right (∝ eps²), "
            "round-off to the left (∝ 1/eps)",
            fontsize=11,
        )
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="upper center")
        figure.subplots_adjust(left=0.12, right=0.97, top=0.9, bottom=0.13)
        return figure


class OptimizerExplorer:
    """Loss curves of the three optimizers, retrained with the student's train when
    a slider moves.

    Each optimizer's curve depends on the learning rate and on its own settings only
    (momentum on gamma, Adam on beta1 and beta2), so a slider retrains only what it
    changes, and every setting is trained and drawn once. While a retrain runs, the
    last plot stays in place under a status line, so the cell keeps its size; a
    retrain projected (from the last runs) to take over FADE_AFTER_SECONDS fades it,
    one over PROGRESS_AFTER_SECONDS shows a tqdm.auto bar there.
    """

    def __init__(
        self,
        train: Callable,
        X: np.ndarray,
        y: np.ndarray,
        w_init: np.ndarray,
        *,
        learning_rate: float = 1e-3,
        epochs: int = 20,
    ):
        """train(X, y, w, optimizer, learning_rate, epochs, **hyperparameters) ->
        (w_final, epoch_losses): the student's own."""
        self.train = train
        self.data = (X, y, np.array(w_init, dtype=float))
        self.epochs = epochs
        self.histories: dict[tuple, np.ndarray] = {}
        self.seconds: dict[str, float] = {}  # optimizer -> its last run's duration
        self.pictures: dict[tuple, bytes] = {}
        self.shown: bytes | None = None  # the picture on screen
        self.curves = LossCurves(OPTIMIZERS, epochs)
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
        self.status = widgets.Output(layout=widgets.Layout(min_height="2.4em"))
        self.plot = widgets.Output()
        sliders = (self.learning_rate, self.gamma, self.beta1, self.beta2)
        for slider in sliders:
            slider.observe(self._moved, names="value")
        self.widget = widgets.VBox(
            [
                self.learning_rate,
                widgets.HBox([self.gamma, self.beta1, self.beta2]),
                self.status,
                self.plot,
            ]
        )
        self.show(self.settings())

    def settings(self) -> tuple[float, float, float, float]:
        """The sliders' values: (learning rate, gamma, beta1, beta2)."""
        sliders = (self.learning_rate, self.gamma, self.beta1, self.beta2)
        return tuple(float(slider.value) for slider in sliders)

    @staticmethod
    def hyperparameters(name: str, gamma, beta1, beta2) -> dict[str, float]:
        """What train passes on to one optimizer's update function."""
        return {
            "vanilla": {},
            "momentum": {"gamma": float(gamma)},
            "adam": {"beta1": float(beta1), "beta2": float(beta2)},
        }[name]

    @classmethod
    def key(cls, name: str, learning_rate, gamma, beta1, beta2) -> tuple:
        """The settings one optimizer's curve depends on (so others stay cached)."""
        settings = cls.hyperparameters(name, gamma, beta1, beta2).values()
        return (name, float(learning_rate), *settings)

    def history(self, name: str, learning_rate, gamma, beta1, beta2) -> np.ndarray:
        """One optimizer's mean loss per epoch, trained once per setting."""
        key = self.key(name, learning_rate, gamma, beta1, beta2)
        if key not in self.histories:
            X, y, w_init = self.data
            options = self.hyperparameters(name, gamma, beta1, beta2)
            started = time.perf_counter()
            result = self.train(
                X, y, w_init.copy(), name, float(learning_rate), self.epochs, **options
            )
            self.seconds[name] = time.perf_counter() - started
            self.histories[key] = _epoch_losses(result, self.epochs)
        return self.histories[key]

    def untrained(self, settings) -> list[str]:
        """The optimizers whose curve for these settings is not trained yet."""
        return [
            name
            for name in OPTIMIZERS
            if self.key(name, *settings) not in self.histories
        ]

    def _moved(self, change) -> None:
        """A slider was let go: show the curves for the new settings."""
        self.show(self.settings())

    def show(self, settings) -> None:
        """Train what these settings need, draw (once per setting) and show it."""
        key = tuple(float(value) for value in settings)
        if key not in self.pictures:
            runs = self.untrained(settings)
            projected = sum(self.seconds.get(name, 0.0) for name in runs)
            if self.shown is not None and projected > FADE_AFTER_SECONDS:
                self._display(self.plot, Image(data=faded(self.shown), format="png"))
            with self.status:
                self.status.clear_output(wait=True)
                self._train(runs, settings)
            histories = {name: self.history(name, *settings) for name in OPTIMIZERS}
            title = loss_title(key[0])
            self.pictures[key] = self.curves.png(histories, title)
        self.shown = self.pictures[key]
        self._display(self.plot, Image(data=self.shown, format="png"))
        final = {name: self.history(name, *settings)[-1] for name in OPTIMIZERS}
        summary = " · ".join(f"{name} {loss:.3g}" for name, loss in final.items())
        self._display(self.status, f"Mean loss in epoch {self.epochs}: {summary}")

    def _train(self, runs: list[str], settings) -> None:
        """Train the given optimizers, with a progress bar when that takes long."""
        projected = sum(self.seconds.get(name, 0.0) for name in runs)
        bar = None
        if len(runs) > 1 and projected > PROGRESS_AFTER_SECONDS:
            bar = tqdm(total=len(runs), unit="run", leave=False)
        elif runs:
            print(f"Training {', '.join(runs)}…")
        for name in runs:
            if bar is not None:
                bar.set_description(f"training {name}")
            self.history(name, *settings)
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()

    @staticmethod
    def _display(output: widgets.Output, content) -> None:
        """Replace what an Output shows (a string is printed)."""
        with output:
            output.clear_output(wait=True)
            if isinstance(content, str):
                print(content)
            else:
                display(content)


def _epoch_losses(result: object, epochs: int) -> np.ndarray:
    """The epoch_losses of train's (w_final, epoch_losses), or a clear error."""
    parts = result if isinstance(result, (tuple, list)) else ()
    losses = np.asarray(parts[1], dtype=float) if len(parts) == 2 else None
    if losses is None or losses.shape != (epochs,):
        raise TypeError(
            f"train should return (w_final, epoch_losses) with {epochs} epoch losses, "
            f"got {str(result)[:80]}"
        )
    return losses


def epsilon_slider(gradient_checking: Callable, x, y, w) -> widgets.VBox:
    """A slider over eps that reruns gradient_checking and marks it on the V curve."""
    return EpsilonExplorer(gradient_checking, x, y, w).widget


def optimizer_sliders(train: Callable, X, y, w_init, **options) -> widgets.VBox:
    """Sliders for the learning rate, momentum γ and Adam's β1, β2, with the curves
    the student's train draws."""
    return OptimizerExplorer(train, X, y, w_init, **options).widget
