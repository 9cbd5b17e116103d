"""The course's catalogue of known mistakes (and its functions' contracts), as the
grader reads them.

The catalogue lives with the course, in the helper students receive
(source/backprop/backprop_helper/mistakes.py): the notebooks' checks and the hidden
tests name mistakes from it, and its recognise() reads the names back from a failing
test's message. The grader loads that one file by its path, once per course folder
(`source_dir`, the source folder of the course being graded: OUT's copy, or a
worker's): it imports only the standard library, so none of the helper's plots or
widgets come with it.

The class report, misconceptions.csv and the feedback pages all name a mistake by
the label the catalogue gives it (its label()), so one mistake has one name
everywhere. They count what the grader's own run of the tests found, as data
(named_found); recognise() reads a failing test's message back only for stock
nbgrader, which runs the tests in the student's kernel.

The contracts of the functions students write (backprop_helper/contracts.py, also
the standard library and numpy only) are read the same way: the grader checks the
arguments of a call into a reference against them (grader.nbx.references).
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

from .course import HELPER_PACKAGE

MISTAKES_FILE = "mistakes.py"
CONTRACTS_FILE = "contracts.py"


@dataclass(frozen=True)
class Named:
    """A known mistake that a failing test's message names."""

    label: str  # what a class counts: "1 − tanh instead of 1 − tanh²", "dw3: …"
    mistake_id: str  # the catalogue's id, e.g. "tanh-not-squared"
    notebook: str  # the notebook that teaches it; "" for one of any notebook
    meaning: str  # one sentence on what it means
    taught: str  # where the notebook teaches it


@cache
def mistakes_module(source_dir: Path) -> ModuleType:
    """The course's backprop_helper/mistakes.py under `source_dir`, loaded by path.

    Raises FileNotFoundError when the course has no catalogue.
    """
    return _helper_module(Path(source_dir), MISTAKES_FILE, "mistake catalogue")


@cache
def contracts_module(source_dir: Path) -> ModuleType:
    """The course's backprop_helper/contracts.py under `source_dir`, loaded by path.

    Raises FileNotFoundError when the course states no contracts.
    """
    return _helper_module(Path(source_dir), CONTRACTS_FILE, "contracts")


def _helper_module(source_dir: Path, file: str, what: str) -> ModuleType:
    """One module of the course's helper package, loaded by its path alone."""
    path = source_dir / HELPER_PACKAGE / file
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    name = f"_grader_{Path(file).stem}_{digest}"  # one module per course folder
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None or not path.is_file():
        raise FileNotFoundError(f"the course's {what} is missing: {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while defined
    spec.loader.exec_module(module)
    return module


def recognised(message: str, source_dir: Path) -> list:
    """recognise(message) of the course's catalogue: its Recognised findings."""
    return mistakes_module(source_dir).recognise(message)


def base_key(key: str, source_dir: Path) -> str:
    """A finding's key without element indices, as the catalogue reads it."""
    return mistakes_module(source_dir).base_key(key)


def named_mistakes(message: str, source_dir: Path) -> list[Named]:
    """The known mistakes a message names, each label once, in order."""
    return named_in(recognised(message, source_dir))


def named_found(found: list, source_dir: Path) -> list[Named]:
    """The known mistakes among a test's findings held as data (grader.nbx.findings:
    [key, mistake id or "", reason] each), each label once, in order: the ids the
    grader's own checks found, never text read back."""
    module = mistakes_module(source_dir)
    named: dict[str, Named] = {}
    for key, mistake_id, reason in found:
        mistake = module.CATALOGUE.get(mistake_id)
        if mistake is None:
            continue
        label = module.label(mistake, key, reason)
        named.setdefault(
            label,
            Named(label, mistake.id, mistake.notebook, mistake.meaning, mistake.taught),
        )
    return list(named.values())


def named_in(findings: list) -> list[Named]:
    """The known mistakes among recognise()'s findings, each label once, in order."""
    named: dict[str, Named] = {}
    for found in findings:
        mistake = found.mistake
        if mistake is not None and found.label not in named:
            named[found.label] = Named(
                found.label, mistake.id, mistake.notebook, mistake.meaning,
                mistake.taught,
            )  # fmt: skip
    return list(named.values())
