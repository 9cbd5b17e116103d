"""A sample class of submissions, as instructors receive them, built from the answers.

Used by `make demo` and the grading benchmark. Every student is made from the released
notebooks with the instructor's answers filled in, then changed the way real
submissions differ: typical mistakes, a Colab download, an LMS zip, a broken file, a
kernel that dies, a cell that never ends.
"""

from __future__ import annotations

import io
import json
import random
import zipfile
from pathlib import Path

import nbformat

from ..course import NOTEBOOKS
from .submissions import solved, with_edits

SIG, FWD, BWD, GC, OPT = NOTEBOOKS

# Typical mistakes: (notebook, answer cell, old text, new text).
MISTAKES = {
    "sigmoid-sign": (SIG, "sigmoid", "np.exp(-np.asarray", "np.exp(np.asarray"),
    "loss-no-square": (FWD, "forward_propagation", "(y - y_pred) ** 2", "(y - y_pred)"),
    "dw3-sign": (BWD, "backward_propagation", '"dw3": dz', '"dw3": -dz'),
    "dw7-tanh": (
        BWD, "backward_propagation", 'forward_dict["tanh"] ** 2', 'forward_dict["tanh"]'
    ),
    "one-sided": (
        GC, "gradient_checking", "w_minus[i] -= eps", "w_minus[i] -= 0.0"
    ),
    "adam-no-t": (OPT, "updates", "beta1**t", "beta1"),
    "momentum-forgets": (
        OPT, "updates", "gamma * np.asarray(velocity", "0 * np.asarray(velocity"
    ),
}  # fmt: skip


def notebook_bytes(notebook: nbformat.NotebookNode) -> bytes:
    """A notebook as the bytes of an .ipynb file."""
    return nbformat.writes(notebook).encode("utf-8")


def with_mistake(name: str) -> tuple[str, nbformat.NotebookNode]:
    """(notebook stem, the solved notebook with one named mistake)."""
    stem, grade_id, old, new = MISTAKES[name]
    return stem, with_edits(stem, grade_id, (old, new))


def colab_download(
    notebook: nbformat.NotebookNode, owner: str = "Ada Student"
) -> bytes:
    """The notebook as Colab saves it: nbformat 4.0, no cell ids, Colab metadata."""
    data = json.loads(nbformat.writes(notebook))
    data["nbformat_minor"] = 0
    data["metadata"] = {
        "colab": {"provenance": [], "name": "notebook.ipynb", "toc_visible": True},
        "kernelspec": {"name": "python3", "display_name": "Python 3"},
        "language_info": {"name": "python"},
        "widgets": {
            "application/vnd.jupyter.widget-state+json": {
                "3f1c2b7e9a8d4c6b": {
                    "model_module": "@jupyter-widgets/controls",
                    "model_name": "FloatLogSliderModel",
                    "model_module_version": "1.5.0",
                    "state": {"value": 0.001},
                }
            }
        },
    }
    rng = random.Random(owner)
    for cell in data["cells"]:
        cell.pop("id", None)
        cell["metadata"]["id"] = "".join(rng.choices("abcdefghijkl0123456789", k=12))
        if cell["cell_type"] == "code":
            cell["metadata"]["colab"] = {"base_uri": "https://localhost:8080/"}
            cell["metadata"]["executionInfo"] = {
                "status": "ok",
                "timestamp": 1700000000000,
                "user_tz": -60,
                "elapsed": 12,
                "user": {
                    "displayName": owner,
                    "photoUrl": "https://example.invalid/photo.jpg",
                    "userId": "01234567890123456789",
                },
            }
            cell["metadata"]["outputId"] = "5d0c9e1a-0000-4000-8000-000000000000"
    return json.dumps(data, indent=2).encode("utf-8")


def _write(path: Path, content: bytes) -> None:
    """Write a file, making its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def _student_folder(folder: Path, student: str, notebooks: dict) -> None:
    """One folder per student, files named as released."""
    for stem, notebook in notebooks.items():
        _write(folder / student / f"{stem}.ipynb", notebook_bytes(notebook))


def build_sample_class(folder: Path) -> dict[str, str]:
    """Write the demo class into `folder`; return student -> what is special."""
    answers = {stem: solved(stem) for stem in NOTEBOOKS}
    about = {}

    _student_folder(folder, "ada", answers)
    about["ada"] = "every answer right (folder per student)"

    grace = dict(answers)
    for mistake in ("sigmoid-sign", "dw3-sign", "adam-no-t"):
        stem, notebook = with_mistake(mistake)
        grace[stem] = notebook
    _student_folder(folder, "grace", grace)
    about["grace"] = "typical mistakes: sigmoid sign, dw3 sign, Adam without t"

    linus = {stem: answers[stem] for stem in (SIG, FWD, BWD)}
    linus[BWD] = with_mistake("dw7-tanh")[1]
    _student_folder(folder, "linus", linus)
    about["linus"] = "1 - tanh in dw7; never handed in 04 and 05"

    margaret = folder / "margaret"
    _write(margaret / f"Copy of {SIG}.ipynb", colab_download(answers[SIG]))
    _write(margaret / f"{FWD} (1).ipynb", colab_download(answers[FWD]))
    _write(margaret / f"{BWD}.ipynb", colab_download(answers[BWD]))
    about["margaret"] = "Colab downloads: renamed, nbformat 4.0, Colab metadata"

    alan = {stem: answers[stem] for stem in (SIG, FWD)}
    alan[GC] = with_edits(
        GC,
        "gradient_checking",
        ("w = np.array(w, dtype=float)", "import os\n    os._exit(1)"),
    )
    _student_folder(folder, "alan", alan)
    broken = notebook_bytes(answers[BWD])
    _write(folder / "alan" / f"{BWD}.ipynb", broken[: len(broken) // 2])
    about["alan"] = "03 is cut off (broken JSON); 04 kills its kernel"

    barbara = dict(answers)
    header = "def vanilla_update(w, grads, learning_rate):"
    endless = f"while True:\n    pass\n\n\n{header}"
    barbara[OPT] = with_edits(OPT, "updates", (header, endless))
    _student_folder(folder, "barbara", barbara)
    about["barbara"] = "05 has a loop that never ends"

    bulk = io.BytesIO()
    with zipfile.ZipFile(bulk, "w") as archive:
        katherine = dict(answers)
        katherine[FWD] = with_mistake("loss-no-square")[1]
        for stem, notebook in katherine.items():
            archive.writestr(f"katherine_{stem}.ipynb", notebook_bytes(notebook))
        archive.writestr("readme.txt", b"Exported from the LMS.")
    _write(folder / "lms_download.zip", bulk.getvalue())
    about["katherine"] = "LMS zip download; the square missing from the loss"
    return about


def build_benchmark_class(folder: Path, size: int = 20, seed: int = 0) -> None:
    """`size` students, each handing in all five notebooks, about half with mistakes."""
    rng = random.Random(seed)
    answers = {stem: solved(stem) for stem in NOTEBOOKS}
    names = sorted(MISTAKES)
    for index in range(size):
        notebooks = dict(answers)
        for mistake in rng.sample(names, k=rng.choice([0, 0, 1, 2])):
            stem, notebook = with_mistake(mistake)
            notebooks[stem] = notebook
        _student_folder(folder, f"student{index:03d}", notebooks)
