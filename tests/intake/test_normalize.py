"""normalize: what Colab and students write becomes a notebook nbgrader can grade."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter

from grader.course import RELEASE_DIR
from grader.intake.normalize import (
    COLAB_CELL_KEYS,
    STANDARD_KERNELSPEC,
    WIDGET_STATE,
    UnreadableNotebook,
    normalize,
)

COLAB_FILE = (
    Path(__file__).parents[1] / "files" / "colab" / "02_forward_propagation_colab.ipynb"
)
RELEASED_FILE = RELEASE_DIR / "02_forward_propagation.ipynb"
CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
# The made-up personal data in the Colab fixture.
PERSONAL = (
    "Ada Student",
    "https://lh3.googleusercontent.com/a/fake-ada-student-photo=s64",
    "01234567890123456789",
    "1AdaStudentFakeDriveFileId0000000",
)


def _colab_json() -> dict:
    """The Colab fixture as parsed JSON (a fresh copy to edit)."""
    return json.loads(COLAB_FILE.read_text(encoding="utf-8"))


def _bytes(data: dict) -> bytes:
    """A JSON notebook as the bytes of a file."""
    return json.dumps(data, indent=1).encode()


def _released_json() -> dict:
    """The released notebook as parsed JSON (nbformat 4.5, standard kernel)."""
    return json.loads(RELEASED_FILE.read_text(encoding="utf-8"))


def _assert_valid_and_current(notebook: nbformat.NotebookNode) -> None:
    """The notebook passes nbformat.validate at the current format with good ids."""
    nbformat.validate(notebook)
    assert (notebook.nbformat, notebook.nbformat_minor) == (
        4,
        nbformat.v4.nbformat_minor,
    )
    ids = [cell.id for cell in notebook.cells]
    assert all(CELL_ID.match(cell_id) for cell_id in ids)
    assert len(set(ids)) == len(ids)


def test_colab_download_becomes_a_valid_current_notebook():
    """Colab's download (nbformat 4.0, no cell ids) passes nbformat.validate as 4.5."""
    raw = _colab_json()
    assert raw["nbformat_minor"] == 0
    assert not any("id" in cell for cell in raw["cells"])
    result = normalize(COLAB_FILE.read_bytes(), "alice/02_forward_propagation.ipynb")
    _assert_valid_and_current(result.notebook)
    assert "upgraded from nbformat 4.0: cell ids added" in result.changes


@pytest.mark.parametrize("minor", [0, 1, 2, 3, 4])
def test_nbformat_4_minors_before_5_are_upgraded_with_unique_ids(minor):
    """Any nbformat 4.0-4.4 file gets the current minor and valid, unique cell ids."""
    raw = _released_json()
    raw["nbformat_minor"] = minor
    for cell in raw["cells"]:
        del cell["id"]
    result = normalize(_bytes(raw), "x.ipynb")
    _assert_valid_and_current(result.notebook)
    assert result.changes == [f"upgraded from nbformat 4.{minor}: cell ids added"]


def test_released_notebook_passes_unchanged_without_notes():
    """A notebook already in shape (the release itself) is returned as it was."""
    result = normalize(RELEASED_FILE.read_bytes(), "alice/02_forward_propagation.ipynb")
    assert result.changes == []
    assert result.notebook == nbformat.read(RELEASED_FILE, as_version=4)


def test_colab_widget_state_breaks_html_export_until_normalized():
    """Widget state without "state" makes HTMLExporter fail; normalize drops it."""
    raw = nbformat.reads(COLAB_FILE.read_text(encoding="utf-8"), as_version=4)
    assert "state" not in raw.metadata.widgets[WIDGET_STATE]
    with pytest.raises(KeyError, match="state"):
        HTMLExporter().from_notebook_node(raw)
    result = normalize(COLAB_FILE.read_bytes(), "x.ipynb")
    assert "widgets" not in result.notebook.metadata
    assert any(note.startswith("widget state removed") for note in result.changes)
    html, _ = HTMLExporter().from_notebook_node(result.notebook)
    assert "forward_propagation" in html


def test_widget_state_in_the_standard_format_is_kept():
    """Widget state with its "state" key is valid and left alone."""
    raw = _released_json()
    widgets = {WIDGET_STATE: {"state": {}, "version_major": 2, "version_minor": 0}}
    raw["metadata"]["widgets"] = widgets
    result = normalize(_bytes(raw), "x.ipynb")
    assert result.notebook.metadata.widgets == widgets
    assert result.changes == []


@pytest.mark.parametrize("personal", PERSONAL)
def test_colab_personal_data_is_removed(personal):
    """The student's name, photo URL, user id and Drive file id are gone."""
    assert personal in COLAB_FILE.read_text(encoding="utf-8")
    result = normalize(COLAB_FILE.read_bytes(), "x.ipynb")
    assert personal not in nbformat.writes(result.notebook)


def test_colab_metadata_is_removed_from_notebook_and_cells():
    """No colab/accelerator notebook keys, no Colab cell keys remain; a note says so."""
    result = normalize(COLAB_FILE.read_bytes(), "x.ipynb")
    assert set(result.notebook.metadata) == {"kernelspec", "language_info"}
    for cell in result.notebook.cells:
        assert not set(COLAB_CELL_KEYS) & set(cell.metadata)
    assert any(note.startswith("Colab metadata removed") for note in result.changes)


def test_what_nbgrader_needs_is_kept():
    """Every cell keeps its type, source and non-Colab metadata (nbgrader, locks)."""
    raw = nbformat.reads(COLAB_FILE.read_text(encoding="utf-8"), as_version=4)
    result = normalize(COLAB_FILE.read_bytes(), "x.ipynb")
    assert len(result.notebook.cells) == len(raw.cells)
    for before, after in zip(raw.cells, result.notebook.cells):
        expected = {
            k: v for k, v in before.metadata.items() if k not in COLAB_CELL_KEYS
        }
        assert (after.cell_type, after.source) == (before.cell_type, before.source)
        assert after.metadata == expected
    graded = [c for c in result.notebook.cells if c.metadata.get("nbgrader")]
    assert len(graded) == len(raw.cells)


def _without_kernelspec(metadata: dict) -> None:
    """Delete the kernelspec."""
    del metadata["kernelspec"]


def _colab_kernelspec(metadata: dict) -> None:
    """Colab's kernelspec: python3 without a language."""
    metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}


def _conda_kernelspec(metadata: dict) -> None:
    """A kernel only the student's machine has."""
    metadata["kernelspec"] = {
        "name": "conda-env-ml-py",
        "display_name": "Python [conda env:ml]",
        "language": "python",
    }


@pytest.mark.parametrize(
    ("edit", "was"),
    [
        (_colab_kernelspec, "Colab's"),
        (_without_kernelspec, "missing"),
        (_conda_kernelspec, "'conda-env-ml-py'"),
    ],
)
def test_kernelspec_becomes_the_standard_python3(edit, was):
    """A missing, Colab's or foreign kernelspec is replaced by the standard python3."""
    raw = _released_json()
    edit(raw["metadata"])
    result = normalize(_bytes(raw), "x.ipynb")
    assert result.notebook.metadata.kernelspec == STANDARD_KERNELSPEC
    assert result.changes == [
        f"kernel set to the standard Python 3 kernel (it was {was})"
    ]


def test_valid_outputs_are_kept():
    """Colab's outputs (stream, figure, error traceback) parse and stay as they were."""
    raw = nbformat.reads(COLAB_FILE.read_text(encoding="utf-8"), as_version=4)
    result = normalize(COLAB_FILE.read_bytes(), "x.ipynb")
    outputs = [cell.get("outputs") for cell in result.notebook.cells]
    assert outputs == [cell.get("outputs") for cell in raw.cells]
    kinds = {output.output_type for cell in outputs if cell for output in cell}
    assert kinds == {"stream", "display_data", "error"}


@pytest.mark.parametrize(
    "outputs",
    [
        [{"output_type": "stream", "text": "no stream name"}],
        [{"output_type": "no_such_output"}],
        [{"output_type": "display_data", "data": "not a mime bundle", "metadata": {}}],
    ],
    ids=["stream-without-name", "unknown-output-type", "data-not-a-dict"],
)
def test_invalid_outputs_are_cleared_not_fatal(outputs):
    """Outputs that break the format are cleared (nbgrader reruns the notebook)."""
    raw = _colab_json()
    code_cell = next(cell for cell in raw["cells"] if cell["cell_type"] == "code")
    code_cell["outputs"] = outputs
    result = normalize(_bytes(raw), "x.ipynb")
    _assert_valid_and_current(result.notebook)
    assert all(not cell.get("outputs") for cell in result.notebook.cells)
    assert "outputs removed: they did not follow the notebook format" in result.changes


@pytest.mark.parametrize(
    "outputs", [None, "not a list", [42]], ids=["null", "string", "not-a-dict"]
)
def test_outputs_that_are_not_a_list_of_outputs_are_repaired(outputs):
    """A code cell whose outputs are not a list of dicts gets an empty list."""
    raw = _released_json()
    code_cell = next(cell for cell in raw["cells"] if cell["cell_type"] == "code")
    code_cell["outputs"] = outputs
    result = normalize(_bytes(raw), "x.ipynb")
    nbformat.validate(result.notebook)
    assert result.changes == ["1 cell with missing or malformed parts repaired"]


def test_cells_missing_required_keys_are_repaired():
    """A markdown cell without metadata, a code cell without outputs: both completed."""
    raw = _released_json()
    markdown = next(cell for cell in raw["cells"] if cell["cell_type"] == "markdown")
    code = next(cell for cell in raw["cells"] if cell["cell_type"] == "code")
    del markdown["metadata"]
    del code["outputs"], code["execution_count"]
    result = normalize(_bytes(raw), "x.ipynb")
    nbformat.validate(result.notebook)
    assert result.changes == ["2 cells with missing or malformed parts repaired"]


@pytest.mark.parametrize(
    "break_ids",
    [
        lambda cells: cells[1].update(id=cells[0]["id"]),
        lambda cells: cells[3].pop("id"),
        lambda cells: cells[2].update(id="not a valid id!"),
    ],
    ids=["repeated", "missing", "malformed"],
)
def test_bad_cell_ids_in_current_format_are_repaired(break_ids):
    """Repeated, missing or malformed ids in a 4.5 file are replaced by valid ones."""
    raw = _released_json()
    break_ids(raw["cells"])
    result = normalize(_bytes(raw), "x.ipynb")
    _assert_valid_and_current(result.notebook)
    assert result.changes == [
        "cell ids repaired (some were missing, malformed or repeated)"
    ]


def test_nbformat_3_is_converted():
    """An nbformat 3 notebook (worksheets) is converted to a valid current v4."""
    v3 = nbformat.v3
    worksheet = v3.new_worksheet(
        cells=[
            v3.new_text_cell("markdown", source="# Forward propagation"),
            v3.new_code_cell(input="def forward_propagation(x, y, w):\n    return {}"),
        ]
    )
    content = v3.writes_json(v3.new_notebook(worksheets=[worksheet])).encode()
    result = normalize(content, "old.ipynb")
    _assert_valid_and_current(result.notebook)
    sources = [cell.source for cell in result.notebook.cells]
    assert sources == ["# Forward propagation", worksheet.cells[1].input]
    assert "converted from nbformat 3" in result.changes


def _json_error_at_line_3() -> bytes:
    """A notebook whose JSON breaks on its third line (a missing comma)."""
    return b'{\n "cells": [],\n "metadata": {} "nbformat": 4\n}'


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b" \n\t\n", "the file is empty"),
        (_json_error_at_line_3(), "not valid JSON at line 3, column 17: Expecting ','"),
        (b'{"cells": [', "not valid JSON at line 1"),
        (b"[1, 2]", "not a Jupyter notebook (the JSON is a list)"),
        (b'{"metadata": {}}', "not a Jupyter notebook (no 'cells')"),
        (
            b'{"nbformat": 4, "nbformat_minor": 5}',
            "not a Jupyter notebook (no 'cells')",
        ),
        (b'{"cells": []}', "not a Jupyter notebook (no 'nbformat' version)"),
        (b'{"nbformat": 4, "nbformat_minor": 5, "cells": [3]}', "cell 1 is not"),
        (
            b'{"nbformat": 2, "worksheets": []}',
            "nbformat 2 notebooks are not supported",
        ),
        (b'{"nbformat": 5, "cells": []}', "nbformat 5 is newer than this grader"),
        (b"<!DOCTYPE html><html>Google Drive</html>", "a web page, not a notebook"),
        (b"PK\x03\x04\x14\x00\x00\x00", "a zip archive, not a notebook"),
        (b'{"cells": "\xff\xfe"}', "not a text file (byte 0xff at position 11"),
    ],
)
def test_unreadable_files_say_what_is_wrong(content, message):
    """Files that are not notebooks raise UnreadableNotebook with a readable reason."""
    with pytest.raises(UnreadableNotebook) as raised:
        normalize(content, "alice/02_forward_propagation.ipynb")
    assert str(raised.value).startswith(message)
    assert raised.value.source == "alice/02_forward_propagation.ipynb"


def test_invalid_notebook_that_cannot_be_repaired_is_unreadable():
    """A notebook still invalid after every repair is reported, not graded."""
    raw = _released_json()
    markdown = next(cell for cell in raw["cells"] if cell["cell_type"] == "markdown")
    markdown["attachments"] = "not a mapping of attachments"
    with pytest.raises(UnreadableNotebook, match=r"^not a valid Jupyter notebook: "):
        normalize(_bytes(raw), "x.ipynb")
