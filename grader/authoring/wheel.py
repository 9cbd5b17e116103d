"""The helper package as the wheel that Colab and students install.

Built in a scratch folder (setuptools writes build/ and *.egg-info into the project
it builds) from helper_pyproject.toml and a copy of the helper package, without build
isolation, so that no package index is needed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from ..course import HELPER_PACKAGE, Course

PROJECT_FILE = Path(__file__).with_name("helper_pyproject.toml")


def wheel_name() -> str:
    """The file name the wheel gets (what course.toml's helper_url must end in)."""
    project = tomllib.loads(PROJECT_FILE.read_text())["project"]
    name = project["name"].replace("-", "_")
    return f"{name}-{project['version']}-py3-none-any.whl"


def build_helper_wheel(
    course: Course, out: Path, env: dict[str, str] | None = None
) -> Path:
    """Build the course's helper's wheel into `out`; return its path."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="helper-wheel-") as scratch:
        project = Path(scratch)
        shutil.copy2(PROJECT_FILE, project / "pyproject.toml")
        shutil.copytree(
            course.source_dir / HELPER_PACKAGE,
            project / HELPER_PACKAGE,
            ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"),
        )
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", str(project), "--no-deps",
             "--no-build-isolation", "--quiet", "-w", str(out)],
            check=True, env=env, cwd=project,
        )  # fmt: skip
    return out / wheel_name()
