"""Load the course data set from the .npy file shipped beside this module."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

DATA_PATH = Path(__file__).with_name("data.npy")
DATA_SHA256 = "b4a95f894d8bd8ce658f110a30353513430451dbe6737ec9537fd86335acb8d3"


class DataError(RuntimeError):
    """The data file is missing or is not the one the course ships."""


def load_data(path: str | Path = DATA_PATH) -> tuple[np.ndarray, np.ndarray]:
    """Return (X, y): X is (506, 5) float64 features f1..f5, y is (506,) targets.

    The file is checked against its SHA-256 and loaded without unpickling.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"the data file {path} is missing. It ships inside the backprop_helper "
            "folder: download the course folder again, keeping backprop_helper/ "
            "next to the notebooks."
        )
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != DATA_SHA256:
        raise DataError(
            f"the data file {path} is not the course's (SHA-256 {digest[:12]}…, "
            f"expected {DATA_SHA256[:12]}…). It was changed or damaged: restore "
            "backprop_helper/data.npy from the course folder."
        )
    data = np.load(path, allow_pickle=False)
    return data[:, :5], data[:, -1]
