"""Make a handed-in notebook gradeable before nbgrader sees it.

Students hand in notebooks saved by Colab, old Jupyter versions or editors that bend
the format. `normalize` parses the raw bytes, converts nbformat 3, upgrades nbformat
4.0-4.4 to the current minor (cell ids), removes Colab's metadata (which records the
student's name, photo and Drive file ids), drops widget state that breaks nbconvert's
HTML export, sets the standard Python 3 kernel, and returns a notebook that passes
`nbformat.validate`, with a short sentence for the feedback about each change.
"""

from __future__ import annotations

import copy
import json
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import nbformat
from nbformat.validator import ValidationError

STANDARD_KERNELSPEC = {
    "display_name": "Python 3 (ipykernel)",
    "language": "python",
    "name": "python3",
}
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# Notebook metadata only Colab writes: "colab" holds provenance (Drive file ids) and
# authorship tags; "accelerator" and "gpuClass" the runtime it ran on.
COLAB_NOTEBOOK_KEYS = ("colab", "accelerator", "gpuClass")
# Cell metadata only Colab writes: "executionInfo" names the student (displayName,
# photoUrl, userId); "id" is Colab's cell id (nbformat 4.5 keeps ids on the cell).
COLAB_CELL_KEYS = ("colab", "colab_type", "cellView", "executionInfo", "id", "outputId")
CELL_TYPES = ("code", "markdown", "raw")
CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
ZIP_MAGIC = b"PK\x03\x04"
OUTPUTS_REMOVED = "outputs removed: they did not follow the notebook format"
LONGEST_DETAIL = 200  # characters of a validation message quoted to the student


class UnreadableNotebook(Exception):
    """The file cannot be graded; the message says why, in words for the student."""

    def __init__(self, message: str, source: str = "") -> None:
        super().__init__(message)
        self.source = source  # the file, as found in SUBMISSIONS


@dataclass
class Normalized:
    """A gradeable notebook and what was changed to make it so."""

    notebook: nbformat.NotebookNode
    changes: list[str] = field(default_factory=list)  # one short sentence per change


def normalize(content: bytes, source: str) -> Normalized:
    """Parse a handed-in notebook's bytes into a valid, current nbformat 4 notebook.

    source: where the file came from (kept on UnreadableNotebook for the caller).
    Raises UnreadableNotebook when the bytes are not a notebook that can be repaired.
    """
    changes: list[str] = []
    try:
        notebook = _read_v4(_parse_json(content), changes)
        _remove_colab_metadata(notebook, changes)
        _drop_broken_widget_state(notebook, changes)
        _set_standard_kernel(notebook, changes)
        _upgrade_minor(notebook, changes)
        notebook = _repair_cell_ids(notebook, changes)
        _validate(notebook, changes)
    except UnreadableNotebook as error:
        error.source = source
        raise
    return Normalized(notebook, changes)


def _parse_json(content: bytes) -> dict[str, Any]:
    """The file's JSON object, or UnreadableNotebook saying why there is none."""
    if not content.strip():
        raise UnreadableNotebook("the file is empty")
    if content.startswith(ZIP_MAGIC):
        raise UnreadableNotebook(
            "a zip archive, not a notebook: hand in the .ipynb file"
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableNotebook(
            f"not a text file (byte {content[error.start]:#04x} at position "
            f"{error.start} is not UTF-8): a notebook is JSON text"
        ) from error
    if text.lstrip().startswith("<"):
        raise UnreadableNotebook(
            "a web page, not a notebook: download the notebook itself "
            "(in Colab: File > Download > Download .ipynb)"
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise UnreadableNotebook(
            f"not valid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from error
    except RecursionError as error:
        raise UnreadableNotebook(
            "not a Jupyter notebook (JSON nested too deeply)"
        ) from error
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise UnreadableNotebook(f"not a Jupyter notebook (the JSON is a {kind})")
    return data


def _read_v4(data: dict[str, Any], changes: list[str]) -> nbformat.NotebookNode:
    """The JSON as an nbformat 4 notebook (any minor), converting nbformat 3."""
    major = data.get("nbformat")
    if major is None:
        missing = "'nbformat' version" if "cells" in data else "'cells'"
        raise UnreadableNotebook(f"not a Jupyter notebook (no {missing})")
    if not isinstance(major, int) or isinstance(major, bool):
        raise UnreadableNotebook(f"not a Jupyter notebook (nbformat is {major!r})")
    if major > 4:
        raise UnreadableNotebook(
            f"nbformat {major} is newer than this grader reads (4)"
        )
    if major < 3:
        raise UnreadableNotebook(
            f"nbformat {major} notebooks are not supported: open and save the file "
            "in a current Jupyter to convert it"
        )
    if major == 3:
        return _converted_from_v3(data, changes)
    _check_cells(data, changes)
    try:
        return _v4_notebook(data)
    except UnreadableNotebook:
        if not _clear_outputs(data["cells"]):
            raise
    changes.append(OUTPUTS_REMOVED)
    return _v4_notebook(data)


def _v4_notebook(data: dict[str, Any]) -> nbformat.NotebookNode:
    """nbformat's in-memory notebook for v4 JSON (multi-line strings joined)."""
    try:
        return nbformat.v4.to_notebook_json(copy.deepcopy(data))
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise UnreadableNotebook(
            f"not a valid Jupyter notebook: it could not be read ({_short(error)})"
        ) from error


def _converted_from_v3(
    data: dict[str, Any], changes: list[str]
) -> nbformat.NotebookNode:
    """An nbformat 3 notebook converted to nbformat 4 by nbformat itself."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            notebook = nbformat.convert(nbformat.v3.to_notebook_json(data), 4)
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise UnreadableNotebook(
            "nbformat 3 notebooks are not supported: this one could not be converted "
            f"({_short(error)}); open and save it in a current Jupyter"
        ) from error
    notebook.metadata.pop("orig_nbformat", None)
    notebook.metadata.pop("orig_nbformat_minor", None)
    changes.append("converted from nbformat 3")
    return notebook


def _check_cells(data: dict[str, Any], changes: list[str]) -> None:
    """Refuse a v4 JSON without a list of cells; fill in keys a cell must have."""
    cells = data.get("cells")
    if not isinstance(cells, list):
        raise UnreadableNotebook("not a Jupyter notebook (no 'cells')")
    if not isinstance(data.get("metadata"), dict):
        data["metadata"] = {}
    repaired = 0
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") not in CELL_TYPES:
            raise UnreadableNotebook(f"cell {number} is not a notebook cell")
        repaired += _complete_cell(cell)
    if repaired:
        changes.append(f"{_cells(repaired)} with missing or malformed parts repaired")


def _complete_cell(cell: dict[str, Any]) -> bool:
    """Give a raw cell the keys its type requires; True if anything changed."""
    before = json.dumps(cell, sort_keys=True, default=str)
    if not isinstance(cell.get("metadata"), dict):
        cell["metadata"] = {}
    if not isinstance(cell.get("source"), str | list):
        cell["source"] = ""
    if cell["cell_type"] == "code":
        outputs = cell.get("outputs")
        if not isinstance(outputs, list) or not all(
            isinstance(o, dict) for o in outputs
        ):
            cell["outputs"] = []
        cell.setdefault("execution_count", None)
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    return json.dumps(cell, sort_keys=True, default=str) != before


def _remove_colab_metadata(notebook: nbformat.NotebookNode, changes: list[str]) -> None:
    """Remove the metadata Colab adds to the notebook and to each cell."""
    removed = [notebook.metadata.pop(key, None) for key in COLAB_NOTEBOOK_KEYS]
    for cell in notebook.cells:
        removed += [cell.metadata.pop(key, None) for key in COLAB_CELL_KEYS]
    if any(value is not None for value in removed):
        changes.append("Colab metadata removed (it records your name and Drive files)")


def _drop_broken_widget_state(
    notebook: nbformat.NotebookNode, changes: list[str]
) -> None:
    """Drop widget state without a "state" key (Colab's), which breaks HTML export."""
    widgets = notebook.metadata.get("widgets")
    if widgets is None:
        return
    block = widgets.get(WIDGET_STATE) if isinstance(widgets, dict) else None
    if isinstance(block, dict) and "state" in block:
        return
    del notebook.metadata["widgets"]
    changes.append("widget state removed (Colab's format breaks the HTML feedback)")


def _set_standard_kernel(notebook: nbformat.NotebookNode, changes: list[str]) -> None:
    """Use the standard python3 kernelspec instead of a missing, Colab's or other."""
    kernelspec = notebook.metadata.get("kernelspec")
    if not isinstance(kernelspec, dict) or not kernelspec.get("name"):
        was = "missing"
    elif kernelspec["name"] != STANDARD_KERNELSPEC["name"]:
        was = f"'{kernelspec['name']}'"
    elif "language" not in kernelspec:
        was = "Colab's"
    else:
        return
    notebook.metadata["kernelspec"] = nbformat.from_dict(dict(STANDARD_KERNELSPEC))
    changes.append(f"kernel set to the standard Python 3 kernel (it was {was})")


def _upgrade_minor(notebook: nbformat.NotebookNode, changes: list[str]) -> None:
    """Upgrade nbformat 4.0-4.4 to the current minor, which gives every cell an id."""
    minor = notebook.setdefault("nbformat_minor", 0)
    if not isinstance(minor, int) or minor >= nbformat.v4.nbformat_minor:
        return
    nbformat.v4.upgrade(notebook, from_version=4, from_minor=minor)
    notebook.metadata.pop("orig_nbformat_minor", None)
    changes.append(f"upgraded from nbformat 4.{minor}: cell ids added")


def _repair_cell_ids(
    notebook: nbformat.NotebookNode, changes: list[str]
) -> nbformat.NotebookNode:
    """Replace missing, malformed or repeated cell ids (nbformat's own repair)."""
    ids = [cell.get("id") for cell in notebook.cells]
    malformed = [i for i in ids if not isinstance(i, str) or not CELL_ID.match(i)]
    if not malformed and len(set(ids)) == len(ids):
        return notebook
    for cell in notebook.cells:
        if cell.get("id") in malformed:
            cell.pop("id", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, repaired = nbformat.validator.normalize(notebook)
    changes.append("cell ids repaired (some were missing, malformed or repeated)")
    return nbformat.from_dict(repaired)


def _validate(notebook: nbformat.NotebookNode, changes: list[str]) -> None:
    """Validate; if only outputs are invalid, clear them (nbgrader reruns anyway)."""
    error = _validation_error(notebook)
    if error is None:
        return
    if _clear_outputs(notebook.cells):
        error = _validation_error(notebook)
        if error is None:
            changes.append(OUTPUTS_REMOVED)
            return
    raise UnreadableNotebook(f"not a valid Jupyter notebook: {_short(error)}")


def _clear_outputs(cells: list[dict[str, Any]]) -> bool:
    """Clear the code cells' outputs and counts; True if there were any outputs."""
    code_cells = [cell for cell in cells if cell.get("cell_type") == "code"]
    had_outputs = any(cell.get("outputs") for cell in code_cells)
    for cell in code_cells:
        cell["outputs"] = []
        cell["execution_count"] = None
    return had_outputs


def _validation_error(notebook: nbformat.NotebookNode) -> ValidationError | None:
    """nbformat's validation error for the notebook, or None if it is valid."""
    try:
        nbformat.validate(notebook)
    except ValidationError as error:
        return error
    return None


def _short(error: Exception) -> str:
    """The first line of an error's message, cut to a readable length."""
    text = str(getattr(error, "message", "") or error).strip()
    line = text.splitlines()[0] if text else type(error).__name__
    if len(line) > LONGEST_DETAIL:
        line = line[: LONGEST_DETAIL - 1] + "…"
    return line


def _cells(count: int) -> str:
    """'1 cell' or 'N cells'."""
    return f"{count} cell" if count == 1 else f"{count} cells"
