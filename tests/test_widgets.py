"""Unit tests for backprop_helper.widgets (no browser, matplotlib Agg): the eps slider
and the optimizer sliders, which retrain with the student's own train.

Moving a slider is simulated by setting its `value`: ipywidgets then calls the
observers that `interactive_output` registered, as a frontend's change would.
"""

from __future__ import annotations

import ast
import functools
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
import tqdm.auto
from backprop_helper import load_data, training, widgets
from backprop_helper.widgets import (
    EPSILON_GRID,
    EpsilonExplorer,
    OptimizerExplorer,
    epsilon_slider,
    optimizer_sliders,
)

from grader.course import HELPER_PACKAGE, RELEASE_DIR, SOURCE_DIR
from tests.notebook_code import solution_functions

WIDGET_MODULES = [
    pytest.param(folder / HELPER_PACKAGE / "widgets.py", id=folder.parent.name)
    for folder in (SOURCE_DIR, RELEASE_DIR)
]
# What ipywidgets 7.7 (Colab) and 8 both provide, as used by the helper.
SHARED_API = {
    "FloatLogSlider", "FloatSlider", "VBox", "HBox", "Layout", "interactive_output",
    "Output",
}  # fmt: skip
# Keyword arguments of the sliders and boxes that both 7.7 and 8 accept (8's
# `tooltip`, for one, is `description_tooltip` in 7.7).
SHARED_KEYWORDS = {
    "value", "base", "min", "max", "step", "description", "continuous_update",
    "readout", "readout_format", "orientation", "disabled", "style", "layout",
    "children", "box_style",
}  # fmt: skip
OPTIMIZERS = ("vanilla", "momentum", "adam")
DEFAULTS = {"learning_rate": 1e-3, "gamma": 0.9, "beta1": 0.9, "beta2": 0.999}
ROWS, EPOCHS = 3, 2  # a tiny training run: 3 data points, 2 epochs


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    """Each test starts and ends with no open matplotlib figure."""
    plt.close("all")
    yield
    plt.close("all")


def _ipywidgets_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """(ipywidgets attributes used, keyword arguments of those calls) in a module."""
    aliases, used, keywords = set(), set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "ipywidgets":
                    assert alias.name == "ipywidgets", "no ipywidgets submodules"
                    aliases.add(alias.asname or alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] == "ipywidgets":
                assert node.module == "ipywidgets", "no ipywidgets submodules"
                used.update(alias.name for alias in node.names)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id in aliases:
                used.add(node.attr)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = node.func
            if isinstance(target.value, ast.Name) and target.value.id in aliases:
                if target.attr != "Layout":  # CSS properties, the same in both
                    keywords.update(kw.arg for kw in node.keywords if kw.arg)
    return used, keywords


@pytest.mark.parametrize("path", WIDGET_MODULES)
def test_widgets_use_only_what_ipywidgets_7_7_and_8_share(path):
    """widgets.py (source and release) uses only FloatLogSlider, FloatSlider, VBox,
    HBox, Layout, interactive_output and Output, with keywords both versions know."""
    used, keywords = _ipywidgets_names(ast.parse(path.read_text()))
    assert used, "widgets.py is expected to build ipywidgets"
    assert used <= SHARED_API, sorted(used - SHARED_API)
    assert keywords <= SHARED_KEYWORDS, sorted(keywords - SHARED_KEYWORDS)


def _sliders(widget: ipywidgets.Widget) -> list[ipywidgets.Widget]:
    """Every widget with a `continuous_update` setting, walking boxes' children."""
    found = [widget] if hasattr(widget, "continuous_update") else []
    for child in getattr(widget, "children", ()):
        found.extend(_sliders(child))
    return found


def _stand_in_gradient_checking(x, y, w, eps) -> float:
    """A V curve over eps with its minimum at 1e-7, like the real one."""
    return 1e-9 * (10 ** abs(np.log10(eps) + 7))


def _stand_in_train(X, y, w, optimizer, learning_rate, epochs=20, **hyperparameters):
    """train's contract with made-up losses: (w_final, one loss per epoch)."""
    scale = {"vanilla": 1.0, "momentum": 0.5, "adam": 0.25}[optimizer]
    losses = scale * learning_rate * np.geomspace(1.0, 0.1, epochs)
    return np.asarray(w, dtype=float), losses


def _tiny_data() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_data()
    return X[:ROWS], y[:ROWS]


def _all_sliders() -> dict[str, list[ipywidgets.Widget]]:
    """The sliders of both public widgets, built from stand-ins."""
    X, y = _tiny_data()
    return {
        "epsilon_slider": _sliders(
            epsilon_slider(_stand_in_gradient_checking, X[0], y[0], np.full(9, 0.1))
        ),
        "optimizer_sliders": _sliders(
            optimizer_sliders(_stand_in_train, X, y, np.zeros(9), epochs=EPOCHS)
        ),
    }  # fmt: skip


@pytest.mark.parametrize("builder", ["epsilon_slider", "optimizer_sliders"])
def test_every_slider_fires_only_on_release(builder):
    """Each slider has continuous_update=False: dragging does not rerun the
    student's code at every pixel, only the released value does."""
    sliders = _all_sliders()[builder]
    assert len(sliders) == {"epsilon_slider": 1, "optimizer_sliders": 4}[builder]
    assert [slider.continuous_update for slider in sliders] == [False] * len(sliders)


def test_eps_slider_spans_1e_12_to_1e_1_on_a_log_scale():
    """The eps slider is base-10 logarithmic from 1e-12 to 1e-1, starting at 1e-6,
    the eps notebook 04 recommends (the bottom of the V)."""
    explorer = EpsilonExplorer(_stand_in_gradient_checking, 0, 0, np.zeros(9))
    slider = explorer.slider
    assert isinstance(slider, ipywidgets.FloatLogSlider)
    assert (slider.base, slider.min, slider.max) == (10, -12, -1)
    assert slider.value == pytest.approx(1e-6)
    assert EPSILON_GRID[0] == pytest.approx(1e-12)
    assert EPSILON_GRID[-1] == pytest.approx(1e-1)


def test_learning_rate_slider_is_logarithmic():
    """The learning rate slider is base-10 logarithmic and starts at the rate given;
    gamma, beta1 and beta2 are linear sliders inside their valid ranges."""
    X, y = _tiny_data()
    explorer = OptimizerExplorer(
        _stand_in_train, X, y, np.zeros(9), learning_rate=1e-2, epochs=EPOCHS
    )
    rate = explorer.learning_rate
    assert isinstance(rate, ipywidgets.FloatLogSlider)
    assert rate.base == 10
    assert rate.value == pytest.approx(1e-2)
    assert 10.0**rate.min <= 1e-3 < 1e-1 <= 10.0**rate.max
    for slider in (explorer.gamma, explorer.beta1, explorer.beta2):
        assert isinstance(slider, ipywidgets.FloatSlider)
        assert 0 <= slider.min < slider.value < slider.max < 1


class Spy:
    """Wraps a function and records the arguments of every call."""

    def __init__(self, function: Callable):
        self.function = function
        self.calls: list[tuple] = []
        functools.update_wrapper(self, function)

    def __call__(self, *args):
        self.calls.append(tuple(np.array(arg, copy=True) for arg in args))
        return self.function(*args)


def _gradient_checking_spy() -> tuple[Spy, tuple]:
    """A spy around the instructor's gradient_checking, and its (x, y, w)."""
    X, y = _tiny_data()
    spy = Spy(solution_functions("04_gradient_checking")["gradient_checking"])
    return spy, (X[0], y[0], np.full(9, 0.1))


@pytest.mark.parametrize("moves", [[10**-6.5], [1e-3, 10**-9.25], [1e-12, 1e-1]])
def test_eps_slider_runs_gradient_checking_once_per_new_value(moves):
    """Moving the eps slider calls gradient_checking once for a value never seen
    and not at all for one seen before (the grid, or an earlier position)."""
    spy, point = _gradient_checking_spy()
    explorer = EpsilonExplorer(spy, *point)
    seen = [float(call[3]) for call in spy.calls]
    assert sorted(set(seen)) == sorted(seen), "each eps is computed only once"
    assert set(EPSILON_GRID.tolist()) | {1e-6} == set(seen)

    for value in [*moves, 1e-6, *moves]:
        before = len(spy.calls)
        explorer.slider.value = value
        new = [float(call[3]) for call in spy.calls[before:]]
        assert new == ([] if value in seen else [value])
        seen.extend(new)


def test_eps_slider_passes_the_original_weights_every_time():
    """gradient_checking gets (x, y, w, eps) with the original w each time, even
    when the student's function changes the w it was given."""
    received = []

    def mutating_gradient_checking(x, y, w, eps):
        received.append(np.array(w, copy=True))
        w += 1.0
        return 1e-8

    explorer = EpsilonExplorer(mutating_gradient_checking, 0, 0, np.full(9, 0.1))
    explorer.slider.value = 10**-5.5
    assert len(received) == len(EPSILON_GRID) + 1
    for w in received:
        np.testing.assert_array_equal(w, np.full(9, 0.1))


class TrainSpy:
    """The instructor's train (notebook 05's solution), recording each call as
    (optimizer, learning rate, hyperparameters)."""

    def __init__(self):
        self.train = solution_functions("05_optimizers")["train"]
        self.calls: list[tuple[str, float, dict]] = []

    def __call__(self, X, y, w, optimizer, learning_rate, epochs=20, **hyperparameters):
        self.calls.append((optimizer, learning_rate, dict(hyperparameters)))
        return self.train(X, y, w, optimizer, learning_rate, epochs, **hyperparameters)


def _optimizer_explorer() -> tuple[OptimizerExplorer, TrainSpy]:
    """An explorer over the instructor's train on a tiny data set, spied on."""
    spy = TrainSpy()
    X, y = _tiny_data()
    explorer = OptimizerExplorer(
        spy,
        X,
        y,
        training.initial_weights(),
        learning_rate=DEFAULTS["learning_rate"],
        epochs=EPOCHS,
    )
    return explorer, spy


def _trainings(spy: TrainSpy) -> Counter:
    """How many training runs each optimizer has been through."""
    return Counter(optimizer for optimizer, _, _ in spy.calls)


@pytest.mark.parametrize(
    ("setting", "value", "retrained"),
    [
        ("gamma", 0.5, {"momentum"}),
        ("beta1", 0.8, {"adam"}),
        ("beta2", 0.99, {"adam"}),
        ("learning_rate", 1e-2, set(OPTIMIZERS)),
    ],
)
def test_optimizer_sliders_retrain_only_what_the_setting_changes(
    setting, value, retrained
):
    """Each optimizer is trained once at the start; moving a slider retrains only
    the optimizers whose curve depends on it (gamma: momentum; beta1, beta2: Adam;
    the learning rate: all three), and moving it back trains nothing."""
    explorer, spy = _optimizer_explorer()
    assert _trainings(spy) == Counter(dict.fromkeys(OPTIMIZERS, 1))
    slider = getattr(explorer, setting)
    assert slider.value == pytest.approx(DEFAULTS[setting])

    slider.value = value
    expected = Counter({name: 1 + (name in retrained) for name in OPTIMIZERS})
    assert _trainings(spy) == expected

    slider.value = DEFAULTS[setting]
    slider.value = value
    assert _trainings(spy) == expected


def test_optimizer_sliders_train_with_the_slider_settings():
    """train gets the sliders' values: the learning rate for all three, gamma for
    momentum, beta1 and beta2 for Adam, passed on as hyperparameters; the caller's
    w_init is never changed."""
    explorer, spy = _optimizer_explorer()
    w_init = explorer.data[2].copy()
    explorer.learning_rate.value = 10**-2.5
    explorer.gamma.value = 0.42
    explorer.beta1.value = 0.77
    explorer.beta2.value = 0.95
    last = {optimizer: (rate, hyper) for optimizer, rate, hyper in spy.calls}
    assert last["vanilla"] == (pytest.approx(10**-2.5), {})
    assert last["momentum"] == (pytest.approx(10**-2.5), {"gamma": 0.42})
    assert last["adam"][1] == {
        "beta1": pytest.approx(0.77),
        "beta2": pytest.approx(0.95),
    }
    np.testing.assert_array_equal(explorer.data[2], w_init)


def test_a_train_that_returns_something_else_is_a_clear_error():
    """train must return (w_final, epoch_losses) with one loss per epoch."""
    X, y = _tiny_data()

    def losses_only(X, y, w, optimizer, learning_rate, epochs=20, **hyperparameters):
        return np.ones(epochs)

    with pytest.raises(
        TypeError, match=r"train should return \(w_final, epoch_losses\)"
    ):
        OptimizerExplorer(losses_only, X, y, np.zeros(9), epochs=EPOCHS)


@pytest.mark.parametrize("slow", [True, False], ids=["slow", "quick"])
def test_while_retraining_the_old_plot_stays_faded(monkeypatch, slow):
    """Moving a slider to a new value keeps the last plot in place until the new
    one is drawn; a retrain projected to take noticeably long shows it faded (same
    size, so the cell does not jump) meanwhile. Going back shows the kept picture at
    once, with nothing faded and nothing trained."""
    monkeypatch.setattr(widgets, "FADE_AFTER_SECONDS", 0.0 if slow else 1e9)
    explorer, spy = _optimizer_explorer()
    events = []
    show = explorer._display

    def record(output, content):
        kind = "text" if isinstance(content, str) else "image"
        where = "plot" if output is explorer.plot else "status"
        events.append((where, kind, getattr(content, "data", content)))
        show(output, content)

    monkeypatch.setattr(explorer, "_display", record)
    old = explorer.pictures[explorer.settings()]
    explorer.learning_rate.value = 1e-2
    plot_images = [data for where, kind, data in events if where == "plot"]
    new = explorer.pictures[explorer.settings()]
    if slow:
        faded, shown = plot_images
        assert faded not in (old, new)
    else:
        (shown,) = plot_images
    assert shown == new
    assert events[-1][0] == "status" and "Mean loss in epoch" in events[-1][2]

    events.clear()
    trained = len(spy.calls)
    explorer.learning_rate.value = DEFAULTS["learning_rate"]
    assert [data for where, _, data in events if where == "plot"] == [old]
    assert len(spy.calls) == trained


def test_the_plot_and_status_keep_their_place():
    """The widget is the sliders, then a status line of fixed minimum height, then
    the plot: a progress bar or a message never pushes the plot around."""
    explorer, _ = _optimizer_explorer()
    children = explorer.widget.children
    assert children[-2] is explorer.status and children[-1] is explorer.plot
    assert explorer.status.layout.min_height


def _moves(explorer) -> list[tuple[ipywidgets.Widget, float]]:
    """Several slider moves, some to new values and some back to old ones."""
    if isinstance(explorer, EpsilonExplorer):
        slider = explorer.slider
        return [(slider, v) for v in (1e-3, 10**-9.5, 1e-6, 1e-3, 1e-11)]
    return [
        (explorer.learning_rate, 1e-2), (explorer.gamma, 0.5),
        (explorer.beta1, 0.8), (explorer.beta2, 0.99), (explorer.gamma, 0.9),
        (explorer.learning_rate, 1e-3),
    ]  # fmt: skip


@pytest.mark.parametrize("kind", ["epsilon", "optimizers"])
def test_redraws_leave_no_matplotlib_figure_open(kind):
    """Under a non-inline backend (Agg), building the widget and moving its sliders
    several times leaves no figure open: the helper closes what it draws instead of
    relying on the inline backend's plt.show() to do it."""
    if kind == "epsilon":
        spy, point = _gradient_checking_spy()
        explorer = EpsilonExplorer(spy, *point)
    else:
        explorer, _ = _optimizer_explorer()
    assert plt.get_fignums() == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "More than 20 figures have been opened"
        for slider, value in _moves(explorer):
            slider.value = value
            assert plt.get_fignums() == []


def test_progress_bar_is_tqdm_auto():
    """The progress bar is tqdm.auto's: a widget bar in notebooks, text elsewhere."""
    assert widgets.tqdm is tqdm.auto.tqdm


def _slow_train(seconds_per_run: float) -> Callable:
    """The stand-in train, taking `seconds_per_run` each call."""

    def train(X, y, w, optimizer, learning_rate, epochs=20, **hyperparameters):
        time.sleep(seconds_per_run)
        return _stand_in_train(X, y, w, optimizer, learning_rate, epochs)

    return train


@pytest.mark.parametrize(
    ("seconds_per_run", "setting", "value", "shows_bar"),
    [
        (0.0, "learning_rate", 1e-2, False),
        (0.04, "learning_rate", 1e-2, True),
        (0.04, "gamma", 0.5, False),
    ],
    ids=["quick", "slow-three-runs", "slow-one-run"],
)
def test_progress_bar_only_for_several_runs_projected_to_take_long(
    seconds_per_run, setting, value, shows_bar, monkeypatch, capsys
):
    """Retraining several optimizers whose last runs took longer, together, than
    PROGRESS_AFTER_SECONDS shows a bar (one step per optimizer); quick retrains and
    a single one show a line of text instead."""
    monkeypatch.setattr(widgets, "PROGRESS_AFTER_SECONDS", 0.1)
    X, y = _tiny_data()
    explorer = OptimizerExplorer(
        _slow_train(seconds_per_run), X, y, np.zeros(9), epochs=EPOCHS
    )
    capsys.readouterr()
    getattr(explorer, setting).value = value
    captured = capsys.readouterr()
    assert ("training" in captured.err) == shows_bar, captured.err
    if not shows_bar:
        assert "Training " in captured.out
