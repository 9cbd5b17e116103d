"""The training loop of the optimizer notebook: per-sample updates, epoch losses."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from tqdm.auto import tqdm

OPTIMIZERS = ("vanilla", "momentum", "adam")
GRADIENT_KEYS = tuple(f"dw{i}" for i in range(1, 10))
# A run projected to take longer than this (from its first epoch) shows a progress bar.
PROGRESS_AFTER_SECONDS = 1.0


def initial_weights(seed: int = 42) -> np.ndarray:
    """The course's starting weights: 9 draws from N(0, 0.01²) with a fixed seed."""
    return np.random.default_rng(seed).normal(0.0, 0.01, size=9)


def gradient_array(gradients: dict) -> np.ndarray:
    """dw1..dw9 from backward_propagation's dict as one (9,) array, in order."""
    missing = [key for key in GRADIENT_KEYS if key not in gradients]
    if missing:
        raise KeyError(f"backward_propagation returned no {', '.join(missing)}")
    return np.array([gradients[key] for key in GRADIENT_KEYS], dtype=float)


def _unpack(result: object, count: int, name: str) -> tuple:
    """The update's result as a tuple of `count` arrays, or a clear error."""
    if count == 1:
        parts = (result,)
    elif isinstance(result, (tuple, list)):
        parts = tuple(result)
    else:
        parts = ()
    shapes_ok = all(np.shape(part) == (9,) for part in parts)
    if len(parts) != count or not shapes_ok:
        what = (
            "new weights of shape (9,)"
            if count == 1
            else f"{count} arrays of shape (9,)"
        )
        raise TypeError(f"{name} should return {what}, got {str(result)[:80]}")
    return tuple(np.asarray(part, dtype=float) for part in parts)


def train(
    optimizer: str,
    update: Callable,
    forward: Callable,
    backward: Callable,
    X: np.ndarray,
    y: np.ndarray,
    w_init: np.ndarray,
    *,
    learning_rate: float,
    epochs: int = 20,
    gamma: float = 0.9,
    beta1: float = 0.9,
    beta2: float = 0.999,
    progress: bool = False,
) -> np.ndarray:
    """Train with one update after every data point; return the mean loss per epoch.

    optimizer: "vanilla", "momentum" or "adam", saying how `update` is called:
      vanilla_update(w, grads, learning_rate) -> w
      momentum_update(w, grads, velocity, learning_rate, gamma) -> (w, velocity)
      adam_update(w, grads, m, v, t, learning_rate, beta1, beta2) -> (w, m, v)
    forward(x, y, w) -> dict with "loss"; backward(x, y, w, forward_dict) -> dw1..dw9.
    progress: show a tqdm.auto bar when the run is projected (from its first epoch)
      to take longer than PROGRESS_AFTER_SECONDS.
    Returns an (epochs,) array: the mean of the losses seen during each epoch.
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    name = getattr(update, "__name__", optimizer)
    w = np.array(w_init, dtype=float)
    velocity, m, v, t = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w), 0
    epoch_losses = np.empty(epochs)
    bar = None
    started = time.perf_counter()
    for epoch in range(epochs):
        losses = np.empty(len(X))
        for index, (x_row, y_row) in enumerate(zip(X, y)):
            forward_dict = forward(x_row, y_row, w)
            losses[index] = forward_dict["loss"]
            grads = gradient_array(backward(x_row, y_row, w, forward_dict))
            if optimizer == "vanilla":
                (w,) = _unpack(update(w, grads, learning_rate), 1, name)
            elif optimizer == "momentum":
                result = update(w, grads, velocity, learning_rate, gamma)
                w, velocity = _unpack(result, 2, name)
            else:
                t += 1
                result = update(w, grads, m, v, t, learning_rate, beta1, beta2)
                w, m, v = _unpack(result, 3, name)
        epoch_losses[epoch] = losses.mean()
        if bar is not None:
            bar.update(1)
        elif progress and epoch == 0 and epochs > 1:
            projected = (time.perf_counter() - started) * epochs
            if projected > PROGRESS_AFTER_SECONDS:
                bar = tqdm(total=epochs, initial=1, desc=optimizer, unit="epoch",
                           leave=False)  # fmt: skip
    if bar is not None:
        bar.close()
    return epoch_losses
