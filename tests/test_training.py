"""Tests for backprop_helper.training: the course's starting weights.

The training loop is the students' (train in notebook 05): its reference is checked
against torch.optim in test_reference_oracle.py, its check and graded tests in
test_notebooks.py and test_autograde.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from backprop_helper import training
from backprop_helper.training import OPTIMIZERS, initial_weights

# --- initial_weights ------------------------------------------------------------


def test_initial_weights_shape_and_dtype():
    """Nine float64 weights."""
    w = initial_weights()
    assert w.shape == (9,)
    assert w.dtype == np.float64


@pytest.mark.parametrize("seed", [None, 0, 42, 2024])
def test_initial_weights_are_deterministic(seed):
    """The same seed (or the default) gives the same weights every call."""
    args = () if seed is None else (seed,)
    np.testing.assert_array_equal(initial_weights(*args), initial_weights(*args))


def test_initial_weights_default_seed_is_42():
    """The default is the documented seed 42."""
    np.testing.assert_array_equal(initial_weights(), initial_weights(42))


@pytest.mark.parametrize(("seed_a", "seed_b"), [(0, 1), (42, 43), (1, 2024)])
def test_initial_weights_differ_between_seeds(seed_a, seed_b):
    """Different seeds give different weights."""
    assert not np.array_equal(initial_weights(seed_a), initial_weights(seed_b))


@pytest.mark.parametrize("seed", [0, 42, 2024])
def test_initial_weights_are_small_and_distinct(seed):
    """Weights are small (|w| < 0.05), not all zero and not all equal."""
    w = initial_weights(seed)
    assert np.all(np.abs(w) < 0.05)
    assert len(set(w.tolist())) == 9


def test_initial_weights_do_not_touch_the_global_random_state():
    """Drawing the course weights leaves np.random's global state alone."""
    state = np.random.get_state()
    initial_weights()
    after = np.random.get_state()
    assert state[0] == after[0]
    np.testing.assert_array_equal(state[1], after[1])
    assert state[2:] == after[2:]


def test_the_helper_holds_no_training_loop():
    """train and the gradient vector are the students' to write: the helper offers
    neither (the release's leak test checks its lines too)."""
    assert not hasattr(training, "train")
    assert not hasattr(training, "gradient_array")
    assert OPTIMIZERS == ("vanilla", "momentum", "adam")
