"""Load the functions of the nbgrader source notebooks, for tests.

The source notebooks ``source/backprop/<stem>.ipynb`` hold two kinds of reference
code:

* solution cells (code cells whose ``metadata.nbgrader.solution`` is true): the
  instructor's solution between ``### BEGIN SOLUTION`` / ``### END SOLUTION``. The
  markers are plain comments, so a solution cell's whole source is valid Python and
  is executed as it is, in notebook order, into one namespace. Functions that call
  each other through globals (``gradient_checking`` calls ``forward_propagation``
  and ``backward_propagation``) therefore resolve them in that namespace.
* hidden tests (code cells whose ``metadata.nbgrader.grade`` is true), between
  ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``: they define reference
  functions (``_ref_forward``, ``_ref_backward``, ...) and then run checks against
  the notebook's globals (``X``, ``y``, the student's functions). Running a whole
  test cell is therefore impossible outside the notebook, and not wanted.
  Instead each grade cell is parsed with :mod:`ast` and only these top-level
  statements that lie entirely inside a hidden region are executed:

  - ``def`` (and ``async def``) statements, decorators included;
  - assignments to plain names of a literal value (anything
    :func:`ast.literal_eval` accepts: numbers, strings, tuples, lists, dicts,
    sets, ``None``, ...), e.g. ``_KEYS = ("exp", ...)``.

  Everything else (imports, loops, calls, assignments of computed values,
  ``try`` blocks, statements nested in other statements) is skipped. A function
  body is only compiled, not run, so what it refers to is looked up when it is
  called: in the namespace, which is pre-seeded with ``np`` (numpy).

Every namespace is a fresh ``dict`` pre-seeded with ``np``; the code is compiled
with a file name ``<stem:grade_id>`` whose lines are registered in :mod:`linecache`,
so tracebacks and :func:`inspect.getsource` show the notebook code.

The cached functions return the same dict on every call: do not change it, or
change it only for the duration of one test (``monkeypatch.setitem``).
"""

from __future__ import annotations

import ast
import contextlib
import functools
import io
import json
import linecache
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "source" / "backprop"

BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"


def notebook_path(stem: str) -> Path:
    """The source notebook ``source/backprop/<stem>.ipynb``; it must exist."""
    path = NOTEBOOK_DIR / f"{stem}.ipynb"
    if not path.is_file():
        raise FileNotFoundError(f"no source notebook {path}")
    return path


def code_cells(stem: str) -> list[tuple[str, dict[str, Any], str]]:
    """(grade_id, nbgrader metadata, source) of every code cell, in notebook order.

    A cell without nbgrader metadata gets the id ``cell<index>`` and ``{}``.
    """
    notebook = json.loads(notebook_path(stem).read_text(encoding="utf-8"))
    cells = []
    for index, cell in enumerate(notebook["cells"]):
        if cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        cells.append((meta.get("grade_id", f"cell{index}"), meta, source))
    return cells


def _fresh_namespace() -> dict[str, Any]:
    return {
        "__name__": "notebook_code_namespace",
        "__builtins__": __builtins__,
        "np": np,
    }


def _compile(source: str | ast.Module, filename: str, lines: str):
    """Compile with ``filename`` and register ``lines`` for tracebacks/inspect."""
    linecache.cache[filename] = (
        len(lines),
        None,
        lines.splitlines(keepends=True),
        filename,
    )
    return compile(source, filename, "exec")


def _hidden_spans(source: str, where: str) -> list[tuple[int, int]]:
    """1-based (first, last) line numbers strictly between the hidden markers."""
    spans, start = [], None
    for number, line in enumerate(source.splitlines(), start=1):
        text = line.strip()
        if text == BEGIN_HIDDEN:
            if start is not None:
                raise ValueError(f"{where}: nested {BEGIN_HIDDEN!r} at line {number}")
            start = number
        elif text == END_HIDDEN:
            if start is None:
                raise ValueError(
                    f"{where}: {END_HIDDEN!r} without BEGIN, line {number}"
                )
            spans.append((start + 1, number - 1))
            start = None
    if start is not None:
        raise ValueError(f"{where}: {BEGIN_HIDDEN!r} at line {start} is never closed")
    return spans


def _is_literal_assignment(node: ast.stmt) -> bool:
    """``name = <literal>`` (or annotated), every target a plain name."""
    if isinstance(node, ast.Assign):
        targets, value = node.targets, node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        targets, value = [node.target], node.value
    else:
        return False
    if not all(isinstance(target, ast.Name) for target in targets):
        return False
    try:
        ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def hidden_definitions(source: str, where: str = "<cell>") -> ast.Module:
    """The definitions of a grade cell's hidden regions, as a module to exec.

    Keeps the top-level ``def``/``async def`` statements and literal assignments
    (see the module docstring) that lie wholly inside a hidden region, in source
    order. A cell without hidden regions gives an empty module. Raises
    ``SyntaxError`` if the cell is not valid Python (e.g. an IPython magic).
    """
    spans = _hidden_spans(source, where)
    tree = ast.parse(source, filename=where)
    decorated = (ast.FunctionDef, ast.AsyncFunctionDef)
    kept = []
    for node in tree.body:
        first = min(
            [node.lineno]
            + [d.lineno for d in getattr(node, "decorator_list", []) or []]
        )
        last = node.end_lineno or node.lineno
        if not any(lo <= first and last <= hi for lo, hi in spans):
            continue
        if isinstance(node, decorated) or _is_literal_assignment(node):
            kept.append(node)
    return ast.Module(body=kept, type_ignores=[])


def load_solution_namespace(stem: str) -> dict[str, Any]:
    """A fresh namespace with every solution cell of ``stem`` executed in order."""
    namespace = _fresh_namespace()
    found = False
    for grade_id, meta, source in code_cells(stem):
        if not meta.get("solution"):
            continue
        found = True
        filename = f"<{stem}:{grade_id}>"
        exec(_compile(source, filename, source), namespace)
    if not found:
        raise LookupError(f"{stem} has no solution cells")
    return namespace


def load_hidden_namespaces(stem: str) -> dict[str, dict[str, Any]]:
    """grade_id -> a fresh namespace with that grade cell's hidden definitions.

    Only grade cells with at least one kept definition are listed, in notebook
    order. One namespace per cell, so that a function calling a helper (e.g.
    ``_ref_gradient_check`` calling ``_ref_forward``) uses its own cell's helper.
    """
    namespaces = {}
    for grade_id, meta, source in code_cells(stem):
        if not meta.get("grade"):
            continue
        filename = f"<{stem}:{grade_id}>"
        module = hidden_definitions(source, filename)
        if not module.body:
            continue
        namespace = _fresh_namespace()
        exec(_compile(module, filename, source), namespace)
        namespaces[grade_id] = namespace
    return namespaces


@functools.cache
def solution_functions(stem: str) -> dict[str, Any]:
    """Cached :func:`load_solution_namespace` (stem like "02_forward_propagation")."""
    return load_solution_namespace(stem)


@functools.cache
def hidden_reference_cells(stem: str) -> dict[str, dict[str, Any]]:
    """Cached :func:`load_hidden_namespaces`: grade_id -> that cell's namespace."""
    return load_hidden_namespaces(stem)


@functools.cache
def hidden_reference_functions(stem: str) -> dict[str, Any]:
    """The hidden definitions of all grade cells of ``stem`` in one namespace.

    The cells are executed in notebook order into one fresh namespace, so a name
    defined in several cells is the last cell's definition. To check every
    definition, use :func:`hidden_reference_cells`.
    """
    namespace = _fresh_namespace()
    for grade_id, meta, source in code_cells(stem):
        if not meta.get("grade"):
            continue
        filename = f"<{stem}:{grade_id}>"
        module = hidden_definitions(source, filename)
        exec(_compile(module, filename, source), namespace)
    return namespace


# --- running a notebook's cells in this process -----------------------------------

# Cells that only draw (the graph, plots, the race, sliders): run_cells skips them.
DISPLAY_CELLS = frozenset(
    {
        "graph",
        "plot_sigmoid",
        "plot_forward",
        "plot_gradients",
        "epsilon_slider",
        "race",
        "optimizer_sliders",
    }
)


@dataclass
class CellRun:
    """What one code cell printed, and what it raised (None when it ran through)."""

    grade_id: str
    printed: str
    error: BaseException | None

    @property
    def message(self) -> str:
        """The cell's output as a grader records it: printed text, then the error."""
        if self.error is None:
            return self.printed.strip()
        return f"{self.printed}{type(self.error).__name__}: {self.error}".strip()


def run_cells(
    stem: str, answers: dict[str, str] | None = None, *, hidden: bool
) -> dict[str, CellRun]:
    """Run a source notebook's code cells in order in one fresh namespace, here.

    answers: grade_id -> code replacing that answer cell (default: the solution).
    hidden: also run the graded test cells (as stock nbgrader does in the kernel);
    without it they are skipped, as in a student's copy, where they are empty.
    The Colab setup cell and DISPLAY_CELLS are skipped, IPython magics dropped; a
    cell that raises is recorded and the next one runs (like nbgrader's autograde).
    """
    answers = dict(answers or {})
    namespace = _fresh_namespace() | {"__name__": "__main__"}
    runs = {}
    for grade_id, meta, source in code_cells(stem):
        if grade_id == "colab_setup" or grade_id in DISPLAY_CELLS:
            continue
        if meta.get("grade") and not hidden:
            continue
        if meta.get("solution"):
            source = answers.pop(grade_id, source)
        code = "\n".join(
            line for line in source.splitlines() if not line.lstrip().startswith("%")
        )
        printed, error = io.StringIO(), None
        filename = f"<{stem}:{grade_id}>"
        try:
            with contextlib.redirect_stdout(printed):
                exec(_compile(code, filename, code), namespace)
        except Exception as raised:  # the cell failed: record it, go on
            error = raised
        runs[grade_id] = CellRun(grade_id, printed.getvalue(), error)
    if answers:
        raise KeyError(f"{stem} has no answer cell {sorted(answers)}")
    return runs
