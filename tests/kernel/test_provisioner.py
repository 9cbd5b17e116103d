"""grader.kernel.provisioner: real kernels started through jupyter_client's
provisioner mechanism, in a StudentSandbox or one of their own.

What a kernel can see and write from inside its sandbox; the hostile suite
(tests/grading/test_hostile.py) attacks the same through the real command.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import nbformat
import pytest
from jupyter_client.provisioning import KernelProvisionerFactory
from nbclient import NotebookClient
from traitlets.config import Config

from grader.course import REPO
from grader.kernel.command import HOME, is_root
from grader.kernel.manager import GraderKernelManager
from grader.kernel.probe import sandbox_problem
from grader.kernel.provisioner import ENTRY_POINT, SandboxProvisioner
from grader.kernel.sandbox import StudentSandbox
from grader.kernel.uids import UID_BASE
from grader.model import Limits

needs_sandbox = pytest.mark.skipif(
    sandbox_problem() is not None, reason=f"no sandbox: {sandbox_problem()}"
)
needs_root = pytest.mark.skipif(not is_root(), reason="needs root")


@pytest.fixture
def cwd(tmp_path) -> Path:
    """A working copy: a helper folder, a notebook and a data file."""
    folder = tmp_path / "autograded" / "alice" / "backprop"
    (folder / "backprop_helper").mkdir(parents=True)
    (folder / "01_sigmoid.ipynb").write_text("{}")
    (folder / "data.txt").write_text("1 2 3")
    return folder


def run_cells(cwd: Path, *sources: str, sandboxed: bool) -> list:
    """Run code cells in one kernel started through the grader's kernel manager
    (in the StudentSandbox open now, else one of the provisioner's own); the
    outputs of each cell."""
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in sources]
    )
    notebook.metadata.kernelspec = {"name": "python3", "display_name": "Python 3"}
    config = Config()
    config.SandboxProvisioner.sandbox = sandboxed
    NotebookClient(
        notebook, config=config, kernel_manager_class=GraderKernelManager,
        timeout=60, resources={"metadata": {"path": str(cwd)}}, allow_errors=True,
    ).execute()  # fmt: skip
    return [cell.outputs for cell in notebook.cells]


def printed(outputs) -> str:
    return "".join(o.get("text", "") for o in outputs if o.output_type == "stream")


def test_the_provisioner_is_found_the_way_jupyter_client_finds_provisioners():
    """An entry point of jupyter_client.kernel_provisioners, named by the spec of
    every kernel the grader's kernel manager starts."""
    factory = KernelProvisionerFactory.instance()
    assert ENTRY_POINT in factory.get_provisioner_entries()
    manager = GraderKernelManager()
    assert manager.kernel_spec.metadata["kernel_provisioner"] == {
        "provisioner_name": ENTRY_POINT
    }
    assert factory.is_provisioner_available(manager.kernel_spec)
    loaded = factory.provisioners[ENTRY_POINT].load()
    assert loaded is SandboxProvisioner


PROBE = """
import json, os, pathlib
seen = {
    "uid": os.getuid(),
    "cwd": sorted(os.listdir(".")),
    "env": {k: os.environ.get(k) for k in
            ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
             "MPLCONFIGDIR")},
    "root": os.path.exists("/root/.pyenv") and os.listdir("/root"),
    "repo": os.path.exists(REPO_SOURCE),
}
pathlib.Path("scratch.txt").write_text("made in the kernel")
print(json.dumps(seen))
"""


def probe(cwd: Path, sandboxed: bool) -> dict:
    code = PROBE.replace("REPO_SOURCE", repr(str(REPO / "source")))
    (outputs,) = run_cells(cwd, code, sandboxed=sandboxed)
    return json.loads(printed(outputs))


@needs_sandbox
def test_a_sandboxed_kernel_sees_only_its_working_copy(cwd):
    seen = probe(cwd, sandboxed=True)
    assert seen["cwd"] == ["backprop_helper", "data.txt"]  # no notebook
    assert seen["repo"] is False
    if is_root():
        assert seen["uid"] >= UID_BASE
        assert seen["root"] in (False, [".pyenv"])
    assert set(seen["env"].values()) - {"1"} == {HOME + "/.config/matplotlib"}
    assert not (cwd / "scratch.txt").exists(), "writes go to the scratch layer"


def test_an_unsandboxed_kernel_gets_the_thread_settings_too(cwd):
    seen = probe(cwd, sandboxed=False)
    assert "01_sigmoid.ipynb" in seen["cwd"]
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        assert seen["env"][name] == "1"
    assert (cwd / "scratch.txt").exists()


def test_socket_paths_too_long_for_unix_are_a_clear_error(tmp_path, monkeypatch):
    """Sockets live in a folder under TMPDIR; one whose paths would pass 107 bytes
    fails before any kernel starts, naming what to shorten (zmq says only "File
    name too long")."""
    deep = tmp_path / ("deep" * 25)
    deep.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(deep))
    with (
        StudentSandbox(Limits(), sandbox=False) as box,
        pytest.raises(RuntimeError, match=r"longer than the 107 bytes.*TMPDIR"),
    ):
        box.kernel_paths()


SEALED = """
import json, os
from ipykernel import get_connection_file
connection = get_connection_file()
ipc = os.path.dirname(connection)
sockets = os.path.dirname(json.load(open(connection))["ip"])
attempts = {
    "plant a file in ipc": lambda: open(os.path.join(ipc, "planted"), "w"),
    "list ipc": lambda: os.listdir(ipc),
    "rewrite the connection file": lambda: open(connection, "w"),
    "plant a file among the sockets": lambda: open(
        os.path.join(sockets, "planted"), "w"),
    "remove a socket": lambda: os.unlink(os.path.join(sockets, "k-1")),
}
tried = {}
for name, attempt in attempts.items():
    try:
        attempt()
        tried[name] = "done"
    except OSError as error:
        tried[name] = type(error).__name__
print(json.dumps(tried))
"""


@needs_sandbox
@needs_root
def test_the_kernel_cannot_write_where_the_grader_reads(cwd):
    """The ipc folder and, once the kernel has bound them, its sockets' folder are
    root's: a student's cell can neither add a file there, nor change or swap one."""
    with StudentSandbox(Limits(), sandbox=True):
        (outputs,) = run_cells(cwd, SEALED, sandboxed=True)
    tried = json.loads(printed(outputs))
    assert set(tried.values()) == {"PermissionError"}, tried
