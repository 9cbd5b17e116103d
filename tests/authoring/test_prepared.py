"""grader.authoring.prepared: a course is prepared by nbgrader once, then taken from
a cache that nobody else can write, rebuilt whenever an entry is not beyond doubt."""

from __future__ import annotations

import io
import multiprocessing
import os
import shutil
import stat
import time
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from grader.authoring import prepared
from grader.authoring.prepared import (
    PreparedCache,
    cache_folder,
    entry_name,
    make_course,
    prepared_key,
)
from grader.course import CONFIG_NAME, COURSE, NOTEBOOKS, Course
from grader.files import tree_files

SIG = NOTEBOOKS[0]
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """An empty cache of this test's own ($XDG_CACHE_HOME in tmp_path)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return cache_folder()


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    """The course as nbgrader prepares it, without a cache."""
    return make_course(tmp_path_factory.mktemp("fresh"), COURSE, cached=False)


@pytest.fixture
def runs(monkeypatch) -> list[str]:
    """nbgrader stood in for (the real one: the first test and the fixture
    `fresh`): each command it is asked to run; generate_assignment copies the
    source as the release and writes a gradebook file."""
    ran: list[str] = []

    def generate(root: Path, command: str, assignment: str, *args, **kwargs):
        ran.append(command)
        time.sleep(0.2)  # long enough for two runs at once to overlap
        shutil.copytree(root / "source" / assignment, root / "release" / assignment)
        (root / prepared.GRADEBOOK).write_bytes(b"a gradebook")
        return ""

    monkeypatch.setattr(prepared, "run_nbgrader", generate)
    return ran


@pytest.fixture
def real_runs(monkeypatch) -> list[str]:
    """The nbgrader commands run from now on (each run for real)."""
    ran: list[str] = []
    real = prepared.run_nbgrader

    def counted(root, *args, **kwargs):
        ran.append(args[0])
        return real(root, *args, **kwargs)

    monkeypatch.setattr(prepared, "run_nbgrader", counted)
    return ran


def contents(root: Path) -> dict[str, bytes]:
    """The files of a prepared course but its gradebook (a database file)."""
    return {
        name: path.read_bytes()
        for name, path in tree_files(root)
        if name != prepared.GRADEBOOK
    }


def gradebook_notebooks(root: Path) -> list[str]:
    with Gradebook(f"sqlite:///{root / prepared.GRADEBOOK}") as gradebook:
        found = gradebook.find_assignment(COURSE.assignment).notebooks
        return sorted(notebook.name for notebook in found)


def course_copy(folder: Path, edit: str = "") -> Course:
    """A copy of the course (config and source); `edit` appended to 01's first
    markdown cell."""
    folder.mkdir(parents=True)
    shutil.copy2(COURSE.config_file, folder / CONFIG_NAME)
    shutil.copytree(COURSE.source_dir, folder / "source" / COURSE.assignment)
    if edit:
        path = folder / "source" / COURSE.assignment / f"{SIG}.ipynb"
        notebook = nbformat.read(path, as_version=4)
        cell = next(c for c in notebook.cells if c.cell_type == "markdown")
        cell.source += edit
        nbformat.write(notebook, path)
    return Course(folder)


def entry(cache: Path, course: Course = COURSE) -> Path:
    return cache / entry_name(prepared_key(course))


def test_the_second_preparation_comes_from_the_cache_and_equals_nbgraders(
    cache, fresh, real_runs, tmp_path
):
    """The first run prepares with nbgrader and keeps it; the second runs nothing
    and lays out the same files, its gradebook holding the assignment."""
    first = make_course(tmp_path / "first", COURSE)
    assert real_runs == ["generate_assignment"]
    second = make_course(tmp_path / "second", COURSE)
    assert real_runs == ["generate_assignment"]
    assert contents(second) == contents(first) == contents(fresh)
    assert gradebook_notebooks(second) == sorted(NOTEBOOKS)


def test_the_cache_is_the_users_alone(cache, runs, tmp_path):
    make_course(tmp_path / "course", COURSE)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert [p.name for p in cache.iterdir()] == [entry(cache).name]
    assert stat.S_IMODE(entry(cache).stat().st_mode) == 0o600


def test_a_changed_course_is_prepared_again(cache, runs, tmp_path):
    """Another source has another key: nbgrader runs, and each course keeps its
    own entry."""
    make_course(tmp_path / "one", COURSE)
    edited = course_copy(tmp_path / "edited", "\n\nOne more sentence.")
    assert prepared_key(edited) != prepared_key(COURSE)
    made = make_course(tmp_path / "two", edited)
    assert runs == ["generate_assignment"] * 2
    released = (made / "release" / COURSE.assignment / f"{SIG}.ipynb").read_text()
    assert "One more sentence." in released
    assert entry(cache, edited).is_file() and entry(cache).is_file()


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(flip_a_byte, id="a-byte-changed"),
        pytest.param(lambda p: p.write_bytes(p.read_bytes()[:1000]), id="cut-short"),
        pytest.param(lambda p: p.write_bytes(b""), id="empty"),
        pytest.param(lambda p: p.chmod(0o644), id="readable-by-others"),
        pytest.param(
            lambda p: os.chown(p, 12345, 12345), id="another-owner", marks=needs_root
        ),
    ],
)
def test_a_corrupt_or_foreign_entry_is_prepared_again(cache, runs, tmp_path, spoil):
    """Never taken as it is: nbgrader prepares the course again, the entry is
    replaced by a good one, and the next run takes that."""
    make_course(tmp_path / "one", COURSE)
    spoil(entry(cache))
    made = make_course(tmp_path / "two", COURSE)
    assert runs == ["generate_assignment"] * 2
    assert contents(made) == contents(tmp_path / "one")
    assert stat.S_IMODE(entry(cache).stat().st_mode) == 0o600
    make_course(tmp_path / "three", COURSE)
    assert runs == ["generate_assignment"] * 2


def test_an_entry_of_another_course_under_this_ones_name_is_not_used(
    cache, runs, tmp_path
):
    """A whole, well-formed entry whose header names another key (copied, or
    planted, under this course's name): prepared again."""
    edited = course_copy(tmp_path / "edited", "\n\nAnother course.")
    make_course(tmp_path / "other", edited)
    shutil.copy2(entry(cache, edited), entry(cache))
    made = make_course(tmp_path / "this", COURSE)
    assert runs == ["generate_assignment"] * 2
    released = (made / "release" / COURSE.assignment / f"{SIG}.ipynb").read_text()
    assert "Another course." not in released


def test_an_entry_holding_a_path_outside_the_course_is_not_used(cache, runs, tmp_path):
    """A consistent entry (its header names its key and its archive's hash) whose
    archive holds a name outside a prepared course's parts is prepared again, and
    nothing is written outside the course."""
    archive = prepared.pack(make_course(tmp_path / "one", COURSE), COURSE.assignment)
    buffer = io.BytesIO(archive)
    with zipfile.ZipFile(buffer, "a") as opened:
        opened.writestr("../escaped.txt", "outside")
    opened_cache = PreparedCache.open()
    assert opened_cache is not None
    opened_cache.store(prepared_key(COURSE), buffer.getvalue())
    opened_cache.close()
    make_course(tmp_path / "two" / "course", COURSE)
    assert runs == ["generate_assignment"] * 2
    assert not (tmp_path / "two" / "escaped.txt").exists()


@pytest.mark.parametrize(
    "unsafe",
    [
        pytest.param(lambda folder: folder.chmod(0o755), id="readable-by-others"),
        pytest.param(lambda folder: folder.chmod(0o777), id="writable-by-others"),
        pytest.param(
            lambda folder: os.chown(folder, 12345, 12345),
            id="not-mine",
            marks=needs_root,
        ),
        pytest.param("link", id="a-link"),
    ],
)
def test_a_cache_folder_that_is_not_the_users_alone_is_not_used(
    cache, runs, tmp_path, unsafe
):
    """The course is prepared by nbgrader each time, and nothing is read from or
    written into such a folder."""
    if unsafe == "link":
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir(mode=0o700)
        cache.parent.mkdir(parents=True)
        cache.symlink_to(elsewhere)
        watched = elsewhere
    else:
        cache.mkdir(parents=True, mode=0o700)
        unsafe(cache)
        watched = cache
    for name in ("one", "two"):
        made = make_course(tmp_path / name, COURSE)
        assert (made / prepared.GRADEBOOK).is_file()
    assert runs == ["generate_assignment"] * 2
    assert list(watched.iterdir()) == []


def prepare_in(folder: str) -> list[str]:
    """In another process: prepare the course; its files' names."""
    return sorted(name for name, _ in tree_files(make_course(Path(folder), COURSE)))


def test_two_runs_at_once_each_get_a_whole_course(cache, runs, tmp_path):
    """Two processes prepare the course at the same time into an empty cache:
    both get every file, and the entry left is whole and used."""
    context = multiprocessing.get_context("fork")  # with the stand-in nbgrader
    with context.Pool(2) as pool:
        made = pool.map(prepare_in, [str(tmp_path / "a"), str(tmp_path / "b")])
    assert made[0] == made[1]
    assert any(name.startswith("release/") for name in made[0])
    opened = PreparedCache.open()
    assert opened is not None
    try:
        assert opened.load(prepared_key(COURSE), COURSE.assignment) is not None
    finally:
        opened.close()
    assert [p.name for p in cache.iterdir()] == [entry(cache).name]


def test_the_cache_keeps_the_most_recently_used_entries(cache, monkeypatch):
    """Beyond KEEP entries, the least recently used are removed."""
    monkeypatch.setattr(prepared, "KEEP", 2)
    opened = PreparedCache.open()
    assert opened is not None
    try:
        for number in range(4):
            key = f"{number:064x}"
            opened.store(key, b"an archive")
            os.utime(cache / entry_name(key), (number, number))
        opened.store("f" * 64, b"an archive")
    finally:
        opened.close()
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        entry_name(key) for key in (f"{3:064x}", "f" * 64)
    )
