"""Tests for backprop_helper.data: loading the shipped data set safely."""

from __future__ import annotations

import hashlib
import shutil

import numpy as np
import pytest
from backprop_helper import data as helper_data
from backprop_helper.data import DataError, load_data

# Filled when a crafted pickle is unpickled: the side effect we must never see.
UNPICKLED: list[str] = []


def _mark_unpickled() -> str:
    UNPICKLED.append("unpickled")
    return "payload"


class Sentinel:
    """An object whose unpickling calls _mark_unpickled."""

    def __reduce__(self):
        return (_mark_unpickled, ())


@pytest.fixture(autouse=True)
def _reset_sentinel():
    UNPICKLED.clear()
    yield
    UNPICKLED.clear()


@pytest.fixture
def data_copy(tmp_path):
    """A byte-for-byte copy of the shipped data.npy in tmp_path."""
    copy = tmp_path / "data.npy"
    shutil.copyfile(helper_data.DATA_PATH, copy)
    return copy


@pytest.fixture
def pickle_npy(tmp_path):
    """An object-array .npy whose loading with pickles would run _mark_unpickled."""
    path = tmp_path / "data.npy"
    np.save(path, np.array([Sentinel()], dtype=object), allow_pickle=True)
    assert not UNPICKLED, "saving must not trigger the sentinel"
    return path


def test_load_data_shapes_and_dtypes():
    """load_data() gives X (506, 5) and y (506,), both float64."""
    X, y = load_data()
    assert X.shape == (506, 5)
    assert y.shape == (506,)
    assert X.dtype == np.float64
    assert y.dtype == np.float64


def test_load_data_from_a_faithful_copy(data_copy):
    """A path argument is honoured: an unaltered copy loads to the same arrays."""
    X, y = load_data(data_copy)
    X_default, y_default = load_data()
    np.testing.assert_array_equal(X, X_default)
    np.testing.assert_array_equal(y, y_default)


def test_load_data_splits_features_and_target():
    """X is the first five columns of the file and y its last column."""
    raw = np.load(helper_data.DATA_PATH, allow_pickle=False)
    X, y = load_data()
    np.testing.assert_array_equal(X, raw[:, :5])
    np.testing.assert_array_equal(y, raw[:, -1])


def test_missing_file_raises_data_error(tmp_path):
    """A missing file raises DataError naming the path and what to download."""
    missing = tmp_path / "data.npy"
    with pytest.raises(DataError) as excinfo:
        load_data(missing)
    message = str(excinfo.value)
    assert str(missing) in message
    assert "missing" in message
    assert "backprop_helper" in message
    assert "download" in message


def test_directory_instead_of_file_raises_data_error(tmp_path):
    """A directory at the data path is reported like a missing file."""
    with pytest.raises(DataError, match="missing"):
        load_data(tmp_path)


@pytest.mark.parametrize("where", ["first", "header", "middle", "last"])
def test_altered_file_raises_data_error(data_copy, where):
    """A single flipped byte anywhere raises DataError saying to restore the file."""
    raw = bytearray(data_copy.read_bytes())
    index = {"first": 0, "header": 20, "middle": len(raw) // 2, "last": -1}[where]
    raw[index] ^= 0x01
    data_copy.write_bytes(bytes(raw))
    with pytest.raises(DataError) as excinfo:
        load_data(data_copy)
    message = str(excinfo.value)
    assert str(data_copy) in message
    assert "changed or damaged" in message
    assert "restore" in message
    assert "backprop_helper/data.npy" in message


def test_pickle_bearing_npy_is_rejected_before_unpickling(pickle_npy):
    """An object-array .npy fails the checksum; its pickle is never run."""
    with pytest.raises(DataError, match="changed or damaged"):
        load_data(pickle_npy)
    assert UNPICKLED == []


def test_pickle_bearing_npy_is_not_unpickled_even_with_matching_checksum(
    pickle_npy, monkeypatch
):
    """Even if the checksum matched, the file is loaded with allow_pickle=False."""
    digest = hashlib.sha256(pickle_npy.read_bytes()).hexdigest()
    monkeypatch.setattr(helper_data, "DATA_SHA256", digest)
    with pytest.raises(ValueError):
        load_data(pickle_npy)
    assert UNPICKLED == []


def test_sentinel_fires_when_unpickled(pickle_npy):
    """Control: the crafted file does run the sentinel when loaded with pickles."""
    np.load(pickle_npy, allow_pickle=True)
    assert UNPICKLED == ["unpickled"]
