"""Scaffolding for the backprop notebooks: data, checks, the graph, training, plots.

It holds no graded answer: every function students write is theirs alone.
"""

from .checks import CheckFailed, check_below, check_unchanged, check_values
from .data import DataError, load_data
from .graph import draw_graph
from .plots import plot_losses
from .training import initial_weights, train
from .widgets import epsilon_slider, optimizer_sliders

__all__ = [
    "CheckFailed",
    "DataError",
    "check_below",
    "check_unchanged",
    "check_values",
    "draw_graph",
    "epsilon_slider",
    "initial_weights",
    "load_data",
    "optimizer_sliders",
    "plot_losses",
    "train",
]
