"""A released notebook uploaded alone to Colab installs the helper and runs, offline.

Colab is simulated, with no network beyond the loopback interface:

* the helper wheel is built from this repository into a temporary folder and served by
  an HTTP server on 127.0.0.1 that counts requests, under the file name of
  course.toml's `helper_url`; the notebook is pointed at it through the override
  `BACKPROP_HELPER_URL` that the setup cell documents;
* a stand-in `google.colab` package on the kernel's PYTHONPATH makes
  `importlib.util.find_spec("google.colab")` true, as on Colab;
* one solved released notebook is copied into an empty folder (no `backprop_helper/`
  next to it) and run top to bottom by nbclient.

pip runs inside the kernel with `PIP_NO_INDEX=1` (no package index can be reached, so
the install must be `--no-deps` from the URL), an unreachable HTTP(S) proxy for every
host but 127.0.0.1, and `PIP_TARGET` set to a throwaway folder, so the test venv is
never modified.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import nbformat
import pytest
from nbclient import NotebookClient

from grader.authoring.wheel import build_helper_wheel
from grader.course import (
    HELPER_PACKAGE,
    NOTEBOOKS,
    RELEASE_DIR,
    SOURCE_DIR,
    START_HERE,
    course_settings,
)
from grader.demo.submissions import solved, untouched

HELPER_URL = course_settings()["colab"]["helper_url"]
URL_PATH = urlsplit(HELPER_URL).path
WHEEL_NAME = PurePosixPath(URL_PATH).name
HELPER_MODULES = sorted(
    path.name for path in (SOURCE_DIR / HELPER_PACKAGE).glob("*.py")
)
# Python's own variables and pip's settings from the caller are not passed on; the
# proxy variables are replaced by a dead proxy (see kernel_env).
DROPPED_PREFIXES = ("PYTHON", "PIP_", "BACKPROP_")
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


# Run by the venv's Python, isolated (-I: no cwd, no PYTHONPATH, no user site).
VENV_PROBE = """
import importlib.metadata, importlib.util, json
helper = importlib.util.find_spec("backprop_helper")
google = importlib.util.find_spec("google")
try:
    version = importlib.metadata.version("backprop-helper")
except importlib.metadata.PackageNotFoundError:
    version = None
print(json.dumps({
    "module": helper and helper.origin,
    "version": version,
    "google": google and list(google.submodule_search_locations or []),
}))
"""


def _venv_probe() -> dict:
    """What the venv itself provides: backprop_helper's module file and installed
    version, and the folders of a `google` package (each None when absent)."""
    result = subprocess.run(
        [sys.executable, "-I", "-c", VENV_PROBE],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(sys.executable).parent,
    )
    return json.loads(result.stdout)


def _helper_in_venv() -> dict[str, str | None]:
    """backprop_helper's module file and installed version in the venv, or None."""
    found = _venv_probe()
    return {"module": found["module"], "version": found["version"]}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The helper wheel, built as `make wheel` does (python -m grader wheel):
    without build isolation, from the venv's setuptools, so that no index is needed
    (PIP_NO_INDEX=1)."""
    env = _clean_environ() | {"PIP_NO_INDEX": "1", "PIP_NO_CACHE_DIR": "1"}
    return build_helper_wheel(tmp_path_factory.mktemp("wheel"), env=env)


class _CountingHandler(SimpleHTTPRequestHandler):
    """Serves files from the server's folder and records each (method, path)."""

    def parse_request(self) -> bool:
        parsed = super().parse_request()
        if parsed:
            self.server.requests.append((self.command, self.path))
        return parsed

    def log_message(self, format, *args) -> None:
        """Quiet: the requests are checked, not printed."""


class WheelServer:
    """The wheel on http://127.0.0.1:<free port><helper_url's path>, in a thread."""

    def __init__(self, wheel: Path, root: Path):
        served = root / URL_PATH.lstrip("/")
        served.parent.mkdir(parents=True)
        shutil.copy2(wheel, served)
        handler = functools.partial(_CountingHandler, directory=str(root))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.requests = []
        self.url = f"http://127.0.0.1:{self.httpd.server_port}{URL_PATH}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def requests(self) -> list[tuple[str, str]]:
        """(method, path) of every request received so far."""
        return list(self.httpd.requests)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def server(wheel, tmp_path) -> Iterator[WheelServer]:
    """A fresh loopback server for the wheel, with no requests yet."""
    running = WheelServer(wheel, tmp_path / "www")
    try:
        yield running
    finally:
        running.close()


@pytest.fixture
def fake_colab(tmp_path) -> Path:
    """A folder holding a stand-in `google.colab` package (to put on PYTHONPATH)."""
    folder = tmp_path / "fake-colab"
    (folder / "google" / "colab").mkdir(parents=True)
    (folder / "google" / "__init__.py").write_text('"""Stand-in for Colab."""\n')
    (folder / "google" / "colab" / "__init__.py").write_text(
        '"""Stand-in: its presence is how the setup cell recognises Colab."""\n'
    )
    return folder


def _clean_environ() -> dict[str, str]:
    """os.environ without Python's, pip's, the course's and the proxy variables."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(DROPPED_PREFIXES) and key.lower() not in PROXY_VARIABLES
    }


def kernel_env(tmp_path: Path, url: str, pythonpath: list[Path]) -> dict[str, str]:
    """The kernel's environment: the helper URL override, an offline pip, PYTHONPATH.

    On Colab `%pip install` writes into the system site-packages, which is on
    sys.path from the start. Here pip writes into PIP_TARGET instead (so the venv is
    never modified), a folder that the caller puts on PYTHONPATH to play that part.
    """
    dead_proxy = "http://127.0.0.1:9"  # the discard port: nothing listens there
    env = _clean_environ() | {
        "BACKPROP_HELPER_URL": url,
        "PYTHONPATH": os.pathsep.join(str(path) for path in pythonpath),
        "PYTHONNOUSERSITE": "1",
        "PIP_TARGET": str(tmp_path / "site"),
        "PIP_NO_INDEX": "1",
        "PIP_CACHE_DIR": str(tmp_path / "pip-cache"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        env[name] = env[name.upper()] = dead_proxy
    env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1"
    return env


def execute(
    notebook: nbformat.NotebookNode, cwd: Path, env: dict[str, str]
) -> nbformat.NotebookNode:
    """Run the notebook in a python3 kernel started in `cwd` with `env`."""
    client = NotebookClient(
        notebook,
        timeout=180,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute(env=env)
    return notebook


def errors(notebook: nbformat.NotebookNode) -> list[tuple[int, str, str]]:
    """(cell index, error name, message) of every error output."""
    return [
        (index, output.ename, output.evalue)
        for index, cell in enumerate(notebook.cells)
        for output in cell.get("outputs", [])
        if output.output_type == "error"
    ]


def printed(cell: nbformat.NotebookNode) -> str:
    """What one cell printed."""
    return "".join(
        output.get("text", "")
        for output in cell.get("outputs", [])
        if output.output_type == "stream"
    )


def uploaded(stem: str) -> nbformat.NotebookNode:
    """What a student uploads: a notebook solved, or the (ungraded) tour."""
    if stem == START_HERE.stem:
        return nbformat.read(START_HERE, as_version=4)
    return solved(stem)


WHERE_FROM = nbformat.v4.new_code_cell(
    "import backprop_helper, google.colab\nprint(backprop_helper.__file__)"
)
WHERE_FROM_LOCAL = nbformat.v4.new_code_cell(
    "import importlib.util\n"
    "print(bool(importlib.util.find_spec('google')"
    " and importlib.util.find_spec('google.colab')))\n"
    "import backprop_helper\n"
    "print(backprop_helper.__file__)"
)


def test_wheel_is_named_as_helper_url_and_holds_every_module_and_the_data(wheel):
    """`pip wheel` gives the file course.toml's helper_url names, with every helper
    module and data.npy (byte for byte the repository's)."""
    assert wheel.name == WHEEL_NAME
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        data = archive.read(f"{HELPER_PACKAGE}/data.npy")
    modules = {
        PurePosixPath(name).name
        for name in names
        if name.startswith(f"{HELPER_PACKAGE}/") and name.endswith(".py")
    }
    assert modules == set(HELPER_MODULES)
    assert data == (SOURCE_DIR / HELPER_PACKAGE / "data.npy").read_bytes()


def test_test_venv_has_no_installed_helper():
    """The venv itself has no backprop_helper, so a run can only find the one the
    setup cell installs (checked again after the Colab runs, below)."""
    assert _helper_in_venv() == {"module": None, "version": None}


@pytest.mark.slow
@pytest.mark.parametrize("stem", [START_HERE.stem, *NOTEBOOKS])
def test_solved_notebook_uploaded_alone_to_colab_installs_helper_and_runs(
    stem, tmp_path, server, fake_colab
):
    """On (stand-in) Colab, a solved notebook (or the tour) alone in a folder runs
    top to bottom: the setup cell fetches the wheel once from BACKPROP_HELPER_URL,
    offline and --no-deps, and backprop_helper is then imported from where pip put
    it."""
    folder = tmp_path / "content"  # Colab's working folder: only the notebook
    folder.mkdir()
    site = tmp_path / "site"
    site.mkdir()  # as site-packages exists on Colab before the install
    notebook = uploaded(stem)
    nbformat.write(notebook, folder / f"{stem}.ipynb")
    notebook.cells.append(WHERE_FROM)
    env = kernel_env(tmp_path, server.url, [fake_colab, site])

    execute(notebook, folder, env)

    assert errors(notebook) == []
    assert server.requests == [("GET", URL_PATH)]
    location = Path(printed(notebook.cells[-1]).strip())
    assert location == site / HELPER_PACKAGE / "__init__.py"
    assert (site / HELPER_PACKAGE / "data.npy").is_file()
    assert sorted(os.listdir(folder)) == [f"{stem}.ipynb"]
    assert _helper_in_venv() == {"module": None, "version": None}


@pytest.mark.slow
@pytest.mark.parametrize(
    "failure, pip_says",
    [("missing-wheel", "404"), ("no-server", "Connection refused")],
)
def test_a_failed_install_stops_at_the_setup_cell_saying_what_failed_and_what_to_do(
    failure, pip_says, tmp_path, server, fake_colab
):
    """On (stand-in) Colab, when pip cannot install the helper (the address gives
    404, or nothing answers there), the setup cell itself fails, before any cell
    imports backprop_helper: its message names the address, carries pip's own words
    and exit code, and says what to do. Nothing is installed."""
    folder = tmp_path / "content"
    folder.mkdir()
    if failure == "missing-wheel":
        url = server.url.replace(WHEEL_NAME, "backprop_helper-0.0.0-py3-none-any.whl")
    else:
        url = f"http://127.0.0.1:9{URL_PATH}"  # the discard port: nothing listens
    notebook = untouched(NOTEBOOKS[0])
    imports = next(
        cell
        for cell in notebook.cells
        if cell.cell_type == "code"
        and "import" in cell.source
        and "backprop_helper" in cell.source
    )
    notebook.cells = [
        notebook.cells[0],
        imports,
    ]  # the setup cell, the course's imports
    env = kernel_env(tmp_path, url, [fake_colab, tmp_path / "site"])
    env["PIP_RETRIES"] = "0"  # the refused connection fails at once

    execute(notebook, folder, env)

    first_index, ename, message = errors(notebook)[0]
    assert (first_index, ename) == (0, "RuntimeError")
    assert "could not be installed" in message
    assert f"Tried: pip install --quiet --no-color --no-deps {url}\n" in message
    assert "\x1b[" not in message  # pip's words without terminal colours
    assert "pip's exit code: 1; pip said:" in message
    assert pip_says in message
    assert "What to do:" in message
    if failure == "missing-wheel":
        assert set(server.requests) == {("GET", urlsplit(url).path)}
    assert not (tmp_path / "site" / HELPER_PACKAGE).exists()


@pytest.mark.slow
def test_setup_cell_outside_colab_makes_no_request(tmp_path, server):
    """Without google.colab (a local Jupyter), the first cell installs nothing and
    touches no network, even when BACKPROP_HELPER_URL is set and the helper is
    missing."""
    folder = tmp_path / "content"
    folder.mkdir()
    notebook = untouched(NOTEBOOKS[0])
    notebook.cells = [notebook.cells[0]]
    env = kernel_env(tmp_path, server.url, [tmp_path / "site"])

    execute(notebook, folder, env)

    assert server.requests == []
    assert not (tmp_path / "site").exists()


@pytest.fixture
def google_without_colab(tmp_path) -> Path:
    """A folder with a `google` namespace package but no `google.colab`, as
    protobuf or google-auth install it."""
    folder = tmp_path / "google-namespace"
    (folder / "google" / "protobuf").mkdir(parents=True)
    (folder / "google" / "protobuf" / "__init__.py").write_text("")
    return folder


@pytest.mark.slow
@pytest.mark.parametrize(
    "google_installed",
    [False, True],
    ids=["no-google-package", "google-namespace-without-colab"],
)
def test_setup_cell_outside_colab_raises_no_error(
    google_installed, tmp_path, google_without_colab
):
    """Outside Colab the first cell runs without error, whether or not some other
    `google.*` package is installed."""
    if not google_installed and _venv_probe()["google"] is not None:
        pytest.skip("the venv has a `google` package: cannot test without one")
    notebook = untouched(NOTEBOOKS[0])
    notebook.cells = [notebook.cells[0]]
    pythonpath = [google_without_colab] if google_installed else []
    env = kernel_env(tmp_path, "http://127.0.0.1:9/unused.whl", pythonpath)

    execute(notebook, tmp_path, env)

    assert errors(notebook) == []


@pytest.mark.slow
@pytest.mark.parametrize("on_colab", [False, True], ids=["local", "colab"])
def test_release_folder_run_uses_its_own_helper_and_makes_no_request(
    on_colab, tmp_path, server, fake_colab
):
    """With backprop_helper/ next to the notebook (the release folder, locally or
    cloned on Colab), the setup cell installs nothing and the folder's helper is
    imported."""
    folder = tmp_path / "release"
    shutil.copytree(
        RELEASE_DIR,
        folder,
        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"),
    )
    notebook = untouched(NOTEBOOKS[1])
    notebook.cells = [notebook.cells[0], WHERE_FROM_LOCAL]
    env = kernel_env(tmp_path, server.url, [fake_colab] if on_colab else [])

    execute(notebook, folder, env)

    assert server.requests == []
    assert errors(notebook) == []
    colab_found, location = printed(notebook.cells[-1]).strip().splitlines()
    assert colab_found == str(on_colab)
    assert Path(location) == folder / HELPER_PACKAGE / "__init__.py"
    assert not (tmp_path / "site").exists()
