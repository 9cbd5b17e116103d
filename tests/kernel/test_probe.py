"""grader.kernel.probe: whether the sandbox works here; what --sandbox makes of it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.course import NOTEBOOKS, REPO
from grader.demo.sample_class import notebook_bytes
from grader.demo.submissions import solved
from grader.kernel import probe
from grader.kernel.probe import SandboxUnavailable, sandbox_problem, use_sandbox


def test_sandbox_off_never_probes(monkeypatch):
    monkeypatch.setattr(probe, "sandbox_problem", lambda: pytest.fail("probed"))
    assert use_sandbox("off") is False


def test_sandbox_required_refuses_without_it(monkeypatch):
    monkeypatch.setattr(probe, "sandbox_problem", lambda: "bwrap not found")
    with pytest.raises(SandboxUnavailable, match="bwrap not found"):
        use_sandbox("required")


def test_sandbox_auto_goes_without_it_and_prints_nothing(monkeypatch, capsys):
    """auto without a sandbox: False, and nothing printed (the caller warns: the
    grading run reports NoSandbox, the CLI prints it)."""
    monkeypatch.setattr(probe, "sandbox_problem", lambda: "bwrap not found")
    assert use_sandbox("auto") is False
    assert capsys.readouterr() == ("", "")


def test_sandbox_auto_uses_it_when_it_works(monkeypatch):
    monkeypatch.setattr(probe, "sandbox_problem", lambda: None)
    assert use_sandbox("auto") is True
    assert use_sandbox("required") is True


def test_unknown_mode_is_an_error():
    with pytest.raises(ValueError, match="auto, required, off"):
        use_sandbox("maybe")


@pytest.mark.skipif(sys.platform != "linux", reason="Linux only")
def test_sandbox_works_on_this_machine():
    """make setup installs bubblewrap; here it must work (CI runs as root)."""
    assert sandbox_problem() is None


@pytest.mark.slow
def test_cli_without_bwrap_refuses_required_and_warns_on_auto(tmp_path):
    """No bwrap on PATH: --sandbox required exits 3 with a clear message and
    writes nothing; auto grades with a loud warning."""
    folder = tmp_path / "class" / "alice"
    folder.mkdir(parents=True)
    (folder / f"{NOTEBOOKS[0]}.ipynb").write_bytes(notebook_bytes(solved(NOTEBOOKS[0])))

    def grade(*flags: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "grader", "grade", str(tmp_path / "class"),
             "--out", str(tmp_path / "out"), "--quiet", *flags],
            capture_output=True, text=True, timeout=300, cwd=REPO,
            env={**os.environ, "PATH": str(Path(sys.executable).parent)},
        )  # fmt: skip

    result = grade("--sandbox", "required")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "--sandbox required" in result.stderr
    assert "bwrap" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
    auto = grade("--cell-timeout", "30")
    assert auto.returncode == 0, auto.stdout + auto.stderr
    assert "WARNING: grading WITHOUT a sandbox" in auto.stderr
    grades = (tmp_path / "out" / "grades.csv").read_text()
    assert f"alice,{NOTEBOOKS[0]},4,4,ok" in grades


@pytest.mark.skipif(sys.platform != "linux", reason="Linux only")
def test_a_linked_venv_runs_in_the_sandbox(tmp_path):
    """Python started by a link to its venv: the sandbox mounts the venv at its
    real path and starts Python by that path, so the probe finds it works."""
    if sandbox_problem() is not None:
        pytest.skip(f"no sandbox: {sandbox_problem()}")
    link = tmp_path / "venv-link"
    link.symlink_to(Path(sys.prefix).resolve(), target_is_directory=True)
    code = "from grader.kernel.probe import sandbox_problem; print(sandbox_problem())"
    result = subprocess.run(
        [str(link / "bin" / Path(sys.executable).name), "-c", code],
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "None"


@pytest.mark.skipif(sys.platform != "linux", reason="Linux only")
def test_auto_never_falls_back_because_of_a_path_of_ours(tmp_path, monkeypatch):
    """The machine sandboxes but the grader's Python cannot be found in the
    sandbox (as a linked venv was, before): SandboxBroken, on auto too, with what
    to do; no silent grading without the sandbox."""
    if sandbox_problem() is not None:
        pytest.skip(f"no sandbox: {sandbox_problem()}")
    missing = tmp_path / "elsewhere" / "bin" / "python"
    monkeypatch.setattr(probe.sys, "executable", str(missing))
    probe._probe.cache_clear()
    try:
        with pytest.raises(probe.SandboxBroken, match="not a reason to grade"):
            use_sandbox("auto")
        with pytest.raises(SandboxUnavailable, match=str(missing)):
            sandbox_problem()
    finally:
        monkeypatch.undo()
        probe._probe.cache_clear()
