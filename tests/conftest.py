"""Shared test setup: a headless matplotlib, the helper package on sys.path, the
classes graded once per session, and the grouping of tests for pytest-xdist."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parent.parent
HELPER_PARENT = REPO / "source" / "backprop"

if str(HELPER_PARENT) not in sys.path:
    sys.path.insert(0, str(HELPER_PARENT))

from grader.demo.sample_class import build_sample_class  # noqa: E402
from tests.support import (  # noqa: E402
    SAMPLE_LIMITS,
    GradedSample,
    course_stamp,
    run_cli,
    short_temp_folder,
    snapshot,
    state_mtimes,
)

# --- a temp folder of the test's own --------------------------------------------------


@pytest.fixture
def own_temp(monkeypatch) -> Iterator[Path]:
    """TMPDIR (and tempfile's folder) of this test's own: what a run leaves in the
    temp folder is this test's to count, not another run's on the machine."""
    folder = short_temp_folder()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


# --- classes graded once per session --------------------------------------------------


@pytest.fixture(scope="session")
def sample_class(tmp_path_factory) -> Iterator[GradedSample]:
    """The sample class (grader.demo.sample_class) graded once per session through
    `python -m grader grade --jobs 2` with SAMPLE_LIMITS. Tests read it: a test that
    changes something works on a copy."""
    root = tmp_path_factory.mktemp("sample")
    submissions, out = root / "class", root / "out"
    about = build_sample_class(submissions)
    before = snapshot(submissions)
    temp = short_temp_folder()
    try:
        result = run_cli(
            "grade", submissions, "--out", out, "--jobs", "2", "--quiet",
            "--cell-timeout", SAMPLE_LIMITS.cell_timeout,
            "--notebook-timeout", SAMPLE_LIMITS.notebook_timeout,
            env={**os.environ, "TMPDIR": str(temp)},
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        yield GradedSample(
            submissions, out, temp, about, before, result, state_mtimes(out),
            course_stamp(out), (out / "grades.csv").read_bytes(),
            (out / "tests.csv").read_bytes(),
        )  # fmt: skip
    finally:
        shutil.rmtree(temp, ignore_errors=True)


# --- pytest-xdist: tests that share a graded class run on one worker ------------------

SHARED_SCOPES = ("module", "package", "session")


def shared_fixtures(item: pytest.Item) -> list[str]:
    """One key per instance of a module- or session-scoped fixture of this suite that
    `item` uses (a module fixture is made once per module, a parametrized one once
    per parameter), and the item's own xdist_group marks."""
    keys = [f"group {mark.args[0]}" for mark in item.iter_markers("xdist_group")]
    info = getattr(item, "_fixtureinfo", None)
    callspec = getattr(item, "callspec", None)
    for name in info.names_closure if info else ():
        definitions = info.name2fixturedefs.get(name)
        if not definitions or not definitions[-1].baseid:  # pytest's or a plugin's
            continue
        fixture = definitions[-1]
        if fixture.scope not in SHARED_SCOPES:
            continue
        key = f"{fixture.baseid}::{name}"
        if fixture.scope == "module":
            key = f"{item.module.__name__}::{name}"
        if callspec is not None and name in callspec.params:
            value = callspec.params[name]
            plain = isinstance(value, str | int | float | bool)
            key += f"={value if plain else callspec.indices[name]}"
        keys.append(key)
    return keys


def group_name(key: str) -> str:
    """A fixture's key as an xdist group name (xdist cuts a node id at '@' and ']')."""
    return key.removeprefix("group ").translate(str.maketrans("[]@/", "()_."))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items) -> None:
    """Under `--dist loadgroup`, every test that uses a graded class (a module- or
    session-scoped fixture of this suite), or an xdist_group mark, joins one group
    with every other test that uses it, so that the class is graded once, on one
    worker. Tests that share nothing are spread one by one. The slow groups come
    first, the largest first, then the slow tests alone, then the fast ones: the
    workers take them in this order (--no-loadscope-reorder), so that no long
    class is left to start when the other worker has nothing more to do. Without
    xdist (one process), nothing changes."""
    if not hasattr(config, "workerinput"):  # not an xdist worker
        return
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    uses = {item.nodeid: shared_fixtures(item) for item in items}
    for keys in uses.values():
        for key in keys:
            parent[root(key)] = root(keys[0])
    members: dict[str, list[str]] = {}
    for key in parent:
        members.setdefault(root(key), []).append(key)
    names = {top: group_name(min(keys)) for top, keys in members.items()}
    unit = {}  # test -> the group it runs in (itself when it shares nothing)
    for item in items:
        if not uses[item.nodeid]:
            unit[item.nodeid] = item.nodeid
            continue
        for node in item.listchain():  # one group per test: its set's
            node.own_markers = [m for m in node.own_markers if m.name != "xdist_group"]
        unit[item.nodeid] = names[root(uses[item.nodeid][0])]
        item.add_marker(pytest.mark.xdist_group(unit[item.nodeid]))
    size = Counter(unit.values())
    slow = {unit[item.nodeid] for item in items if item.get_closest_marker("slow")}
    first = {}
    for index, item in enumerate(items):
        first.setdefault(unit[item.nodeid], index)

    def order(item: pytest.Item) -> tuple:
        name = unit[item.nodeid]
        return name not in slow, size[name] == 1, -size[name], first[name]

    items.sort(key=order)
