"""Tests for backprop_helper.training: initial weights and the training loop."""

from __future__ import annotations

import re

import numpy as np
import pytest
from backprop_helper.training import gradient_array, initial_weights, train

# A stand-in problem: each weight slot has its own quadratic (w_i - TARGET_i)^2.
TARGET = np.linspace(-0.5, 0.5, 9)
X = np.arange(15.0).reshape(3, 5)
Y = np.array([1.0, 2.0, 3.0])


def forward(x, y, w):
    """loss = sum_i (w_i - TARGET_i)^2 (x and y are not used)."""
    return {"loss": float(np.sum((w - TARGET) ** 2))}


def backward(x, y, w, forward_dict):
    """The exact gradient of forward's loss, as dw1..dw9."""
    return {f"dw{i + 1}": 2.0 * (w[i] - TARGET[i]) for i in range(9)}


def vanilla_update(w, grads, learning_rate):
    return w - learning_rate * grads


def momentum_update(w, grads, velocity, learning_rate, gamma):
    velocity = gamma * velocity + learning_rate * grads
    return w - velocity, velocity


def adam_update(w, grads, m, v, t, learning_rate, beta1, beta2):
    m = beta1 * m + (1 - beta1) * grads
    v = beta2 * v + (1 - beta2) * grads**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return w - learning_rate * m_hat / (np.sqrt(v_hat) + 1e-8), m, v


UPDATES = {
    "vanilla": (vanilla_update, 0.1),
    "momentum": (momentum_update, 0.03),
    "adam": (adam_update, 0.02),
}


class Spy:
    """Wraps a function; records copies of the arguments and results of each call."""

    def __init__(self, function):
        self.function = function
        self.__name__ = function.__name__
        self.calls: list[tuple] = []
        self.results: list = []

    def __call__(self, *args):
        self.calls.append(
            tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
        )
        result = self.function(*args)
        self.results.append(result)
        return result


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


# --- train ----------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", list(UPDATES))
def test_train_returns_decreasing_mean_losses(optimizer):
    """train returns one mean loss per epoch, and they fall on a convex problem."""
    update, learning_rate = UPDATES[optimizer]
    # A damped momentum (gamma 0.5) so that the loss falls without oscillating.
    damping = {"gamma": 0.5} if optimizer == "momentum" else {}
    losses = train(
        optimizer, update, forward, backward, X, Y, np.zeros(9),
        learning_rate=learning_rate, epochs=6, **damping,
    )  # fmt: skip
    assert losses.shape == (6,)
    assert np.all(np.diff(losses) < 0), losses
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize("optimizer", list(UPDATES))
def test_train_losses_are_epoch_means_of_forward_losses(optimizer):
    """Each returned value is the mean of the losses forward gave in that epoch."""
    update, learning_rate = UPDATES[optimizer]
    spy_forward = Spy(forward)
    losses = train(
        optimizer, update, spy_forward, backward, X, Y, np.zeros(9),
        learning_rate=learning_rate, epochs=4,
    )  # fmt: skip
    seen = np.array([r["loss"] for r in spy_forward.results]).reshape(4, len(X))
    np.testing.assert_array_equal(losses, seen.mean(axis=1))


@pytest.mark.parametrize("optimizer", list(UPDATES))
def test_train_feeds_each_data_point_in_order(optimizer):
    """forward and backward see every (x, y) in order, once per epoch."""
    update, learning_rate = UPDATES[optimizer]
    spy_forward, spy_backward = Spy(forward), Spy(backward)
    train(
        optimizer, update, spy_forward, spy_backward, X, Y, np.zeros(9),
        learning_rate=learning_rate, epochs=2,
    )  # fmt: skip
    for spy in (spy_forward, spy_backward):
        assert len(spy.calls) == 2 * len(X)
        for index, call in enumerate(spy.calls):
            np.testing.assert_array_equal(call[0], X[index % len(X)])
            assert call[1] == Y[index % len(X)]
    for f_call, f_result, b_call in zip(
        spy_forward.calls, spy_forward.results, spy_backward.calls
    ):
        np.testing.assert_array_equal(b_call[2], f_call[2])
        assert b_call[3] == f_result


@pytest.mark.parametrize("optimizer", list(UPDATES))
def test_train_does_not_mutate_w_init(optimizer):
    """The caller's starting weights are left as they were."""
    update, learning_rate = UPDATES[optimizer]
    w_init = np.zeros(9)
    train(
        optimizer, update, forward, backward, X, Y, w_init,
        learning_rate=learning_rate, epochs=2,
    )  # fmt: skip
    np.testing.assert_array_equal(w_init, np.zeros(9))


def run_with_spy(optimizer, epochs=3, **kwargs):
    """Train with a spy around the optimizer's update; return spies for update, fwd."""
    update, learning_rate = UPDATES[optimizer]
    spy, spy_forward = Spy(update), Spy(forward)
    w_init = np.full(9, 0.3)
    train(
        optimizer, spy, spy_forward, backward, X, Y, w_init,
        learning_rate=learning_rate, epochs=epochs, **kwargs,
    )  # fmt: skip
    assert len(spy.calls) == epochs * len(X), "one update per data point"
    return spy, spy_forward, w_init, learning_rate


@pytest.mark.parametrize("optimizer", list(UPDATES))
def test_update_gets_current_weights_and_ordered_gradients(optimizer):
    """update(w, grads, ...) gets the current w and dw1..dw9 in order as an array."""
    spy, spy_forward, w_init, _ = run_with_spy(optimizer)
    np.testing.assert_array_equal(spy.calls[0][0], w_init)
    for index, call in enumerate(spy.calls):
        w, grads = call[0], call[1]
        np.testing.assert_array_equal(w, spy_forward.calls[index][2])
        expected = backward(None, None, w, None)
        np.testing.assert_array_equal(grads, [expected[f"dw{i}"] for i in range(1, 10)])
        if index:
            previous = spy.results[index - 1]
            new_w = previous if optimizer == "vanilla" else previous[0]
            np.testing.assert_array_equal(w, new_w)


def test_vanilla_update_arguments():
    """vanilla: update(w, grads, learning_rate)."""
    spy, _, _, learning_rate = run_with_spy("vanilla")
    for call in spy.calls:
        assert len(call) == 3
        assert call[2] == learning_rate


def test_momentum_update_arguments_thread_velocity():
    """momentum: update(w, grads, velocity, learning_rate, gamma); velocity threads."""
    spy, _, _, learning_rate = run_with_spy("momentum", gamma=0.8)
    for index, call in enumerate(spy.calls):
        assert len(call) == 5
        _, _, velocity, lr, gamma = call
        assert (lr, gamma) == (learning_rate, 0.8)
        if index == 0:
            np.testing.assert_array_equal(velocity, np.zeros(9))
        else:
            np.testing.assert_array_equal(velocity, spy.results[index - 1][1])


def test_momentum_default_gamma():
    """momentum's gamma defaults to 0.9."""
    spy, *_ = run_with_spy("momentum", epochs=1)
    assert all(call[4] == 0.9 for call in spy.calls)


def test_adam_update_arguments_thread_moments_and_count_steps():
    """adam: update(w, grads, m, v, t, lr, beta1, beta2); t = 1, 2, ...; m, v thread."""
    epochs = 3
    spy, _, _, learning_rate = run_with_spy(
        "adam", epochs=epochs, beta1=0.85, beta2=0.99
    )
    ts = [call[4] for call in spy.calls]
    assert ts == list(range(1, epochs * len(X) + 1))
    for index, call in enumerate(spy.calls):
        assert len(call) == 8
        _, _, m, v, _, lr, beta1, beta2 = call
        assert (lr, beta1, beta2) == (learning_rate, 0.85, 0.99)
        if index == 0:
            np.testing.assert_array_equal(m, np.zeros(9))
            np.testing.assert_array_equal(v, np.zeros(9))
        else:
            _, previous_m, previous_v = spy.results[index - 1]
            np.testing.assert_array_equal(m, previous_m)
            np.testing.assert_array_equal(v, previous_v)


def test_adam_default_betas():
    """adam's beta1 and beta2 default to 0.9 and 0.999."""
    spy, *_ = run_with_spy("adam", epochs=1)
    assert all((call[6], call[7]) == (0.9, 0.999) for call in spy.calls)


@pytest.mark.parametrize("optimizer", ["sgd", "Adam", "", "rmsprop"])
def test_unknown_optimizer_raises_value_error(optimizer):
    """An unknown optimizer name raises ValueError naming it and the valid ones."""
    with pytest.raises(ValueError) as excinfo:
        train(
            optimizer, vanilla_update, forward, backward, X, Y, np.zeros(9),
            learning_rate=0.1,
        )  # fmt: skip
    message = str(excinfo.value)
    assert repr(optimizer) in message
    for name in UPDATES:
        assert name in message


def momentum_returns_w_only(w, grads, velocity, learning_rate, gamma):
    return w - learning_rate * grads


def momentum_returns_three(w, grads, velocity, learning_rate, gamma):
    return w, velocity, velocity


def momentum_returns_list(w, grads, velocity, learning_rate, gamma):
    velocity = gamma * velocity + grads
    return [w - learning_rate * velocity, velocity]


def adam_returns_two(w, grads, m, v, t, learning_rate, beta1, beta2):
    return w, m


def adam_returns_none(w, grads, m, v, t, learning_rate, beta1, beta2):
    return None


@pytest.mark.parametrize(
    ("optimizer", "update", "count"),
    [
        ("momentum", momentum_returns_w_only, 2),
        ("momentum", momentum_returns_three, 2),
        ("adam", adam_returns_two, 3),
        ("adam", adam_returns_none, 3),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_wrong_number_of_returned_values_is_a_type_error(optimizer, update, count):
    """An update returning the wrong number of values raises a clear TypeError."""
    with pytest.raises(TypeError) as excinfo:
        train(
            optimizer, update, forward, backward, X, Y, np.zeros(9),
            learning_rate=0.1, epochs=1,
        )  # fmt: skip
    message = str(excinfo.value)
    assert update.__name__ in message
    assert f"should return {count} arrays of shape (9,)" in message


def test_update_may_return_a_list_of_arrays():
    """A momentum update returning [w, velocity] (a list) trains like a tuple."""
    as_list = train(
        "momentum", momentum_returns_list, forward, backward, X, Y, np.zeros(9),
        learning_rate=0.1, epochs=2,
    )  # fmt: skip
    as_tuple = train(
        "momentum", momentum_update, forward, backward, X, Y, np.zeros(9),
        learning_rate=0.1, epochs=2,
    )  # fmt: skip
    np.testing.assert_array_equal(as_list, as_tuple)


def vanilla_returns_two(w, grads, learning_rate):
    return w - learning_rate * grads, grads


def test_vanilla_returning_two_values_is_a_type_error():
    """A vanilla update that returns (w, extra) raises TypeError, not a 2-D w."""
    with pytest.raises(TypeError, match=r"should return new weights of shape \(9,\)"):
        train(
            "vanilla", vanilla_returns_two, forward, backward, X, Y, np.zeros(9),
            learning_rate=0.1, epochs=1,
        )  # fmt: skip


# --- gradient_array -------------------------------------------------------------


@pytest.mark.parametrize(
    "order", [range(1, 10), range(9, 0, -1), [5, 2, 9, 1, 7, 3, 8, 4, 6]],
    ids=["ordered", "reversed", "shuffled"],
)  # fmt: skip
def test_gradient_array_orders_dw1_to_dw9(order):
    """The array holds dw1..dw9 in that order, whatever the dict's order."""
    gradients = {f"dw{i}": float(i) * 10 for i in order}
    result = gradient_array(gradients)
    assert result.dtype == np.float64
    np.testing.assert_array_equal(result, [10.0 * i for i in range(1, 10)])


def test_gradient_array_ignores_extra_keys():
    """Other entries of backward's dict (e.g. intermediate gradients) are ignored."""
    gradients = {f"dw{i}": float(i) for i in range(1, 10)}
    gradients.update(dy_pred=-1.0, dw10=99.0)
    np.testing.assert_array_equal(gradient_array(gradients), np.arange(1.0, 10.0))


@pytest.mark.parametrize(
    "missing",
    [("dw1",), ("dw9",), ("dw3", "dw7"), tuple(f"dw{i}" for i in range(1, 10))],
)
def test_gradient_array_names_missing_keys(missing):
    """A missing dw key raises KeyError naming each missing key and no other."""
    gradients = {f"dw{i}": 1.0 for i in range(1, 10) if f"dw{i}" not in missing}
    with pytest.raises(KeyError) as excinfo:
        gradient_array(gradients)
    assert set(re.findall(r"dw\d+", str(excinfo.value))) == set(missing)
