"""Scaffolding for the backprop notebooks: data, checks, the graph, plots, sliders.

It holds no graded answer: every function students write is theirs alone. The
catalogue of known mistakes that the checks and the graded tests name is in
backprop_helper.mistakes.
"""

from .checks import (
    CheckFailed,
    an_array,
    check_below,
    check_repeatable,
    check_returns,
    check_unchanged,
    check_uses_arguments,
    check_values,
    checked_call,
    fail,
    gradient_check_by_weight,
    repeated,
)
from .data import DataError, load_data
from .graph import draw_graph
from .mistakes import CATALOGUE, Mistake, Recognised, recognise
from .plots import plot_losses
from .training import initial_weights
from .widgets import epsilon_slider, optimizer_sliders

__all__ = [
    "CATALOGUE",
    "CheckFailed",
    "DataError",
    "Mistake",
    "Recognised",
    "an_array",
    "check_below",
    "check_repeatable",
    "check_returns",
    "check_unchanged",
    "check_uses_arguments",
    "check_values",
    "checked_call",
    "draw_graph",
    "epsilon_slider",
    "fail",
    "gradient_check_by_weight",
    "initial_weights",
    "load_data",
    "optimizer_sliders",
    "plot_losses",
    "recognise",
    "repeated",
]
