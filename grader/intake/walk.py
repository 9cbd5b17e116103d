"""Every file in a SUBMISSIONS folder, zip archives opened in memory.

Nothing is extracted, written, moved or modified: files are opened read-only.
"""

from __future__ import annotations

import io
import os
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..model import Unmapped

ZIP_SUFFIX = ".zip"
SKIPPED_FOLDERS = ("__MACOSX", ".ipynb_checkpoints")  # never listed: editor/OS debris
MAX_FOLDER_DEPTH = 2  # STUDENT/NOTEBOOK.ipynb or STUDENT/ASSIGNMENT/NOTEBOOK.ipynb
MAX_NOTEBOOK_BYTES = 100 * 2**20
ZIP_READ_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    RuntimeError,  # encrypted entry
    NotImplementedError,  # unsupported compression
    zlib.error,
    EOFError,
    OSError,
)


@dataclass(frozen=True)
class Found:
    """A file found on disk or in a zip, not yet read (read() works for a zip entry
    only while the walk is at it: the zip is closed when the walk moves on)."""

    parts: tuple[str, ...]  # folders on disk and inside zips, then the file name
    source: str
    modified: float
    size: int
    read: Callable[[], bytes]


def walk(root: Path) -> Iterator[Found | Unmapped]:
    """Every file under root, zips opened; hidden folders reported, not entered."""
    for directory, folders, files in os.walk(root):
        here = Path(directory).relative_to(root).parts
        for name in sorted(folders):
            if name in SKIPPED_FOLDERS:
                folders.remove(name)
            elif name.startswith("."):
                folders.remove(name)
                source = "/".join((*here, name)) + "/"
                yield Unmapped(source, "hidden folder, not searched")
        folders.sort()
        for name in sorted(files):
            yield from _disk_file(Path(directory) / name, (*here, name))


def _disk_file(path: Path, parts: tuple[str, ...]) -> Iterator[Found | Unmapped]:
    """A file on disk as Found, or the entries of the zip it is."""
    source = "/".join(parts)
    try:
        stat = path.stat()
    except OSError as error:
        yield Unmapped(source, f"cannot be read: {error.strerror or error}")
        return
    if not path.name.lower().endswith(ZIP_SUFFIX):
        yield Found(parts, source, stat.st_mtime, stat.st_size, path.read_bytes)
        return
    try:
        with zipfile.ZipFile(path) as archive:
            yield from _zip_entries(archive, parts[:-1], source)
    except ZIP_READ_ERRORS as error:
        yield Unmapped(
            source, f"not a readable zip archive ({error}): download it again"
        )


def _zip_entries(
    archive: zipfile.ZipFile, folders: tuple[str, ...], prefix: str
) -> Iterator[Found | Unmapped]:
    """The files in an open zip (zips inside it opened too), read lazily."""
    hidden_reported: set[str] = set()
    for info in sorted(archive.infolist(), key=lambda info: info.filename):
        inner = [
            p for p in info.filename.replace("\\", "/").split("/") if p not in ("", ".")
        ]
        if info.is_dir() or not inner or any(p in SKIPPED_FOLDERS for p in inner[:-1]):
            continue
        source = f"{prefix}:{'/'.join(inner)}"
        hidden = next((i for i, p in enumerate(inner[:-1]) if p.startswith(".")), None)
        if hidden is not None:
            folder = f"{prefix}:{'/'.join(inner[: hidden + 1])}/"
            if folder not in hidden_reported:
                hidden_reported.add(folder)
                yield Unmapped(folder, "hidden folder, not searched")
            continue
        parts = (*folders, *inner)
        if inner[-1].lower().endswith(ZIP_SUFFIX):
            yield from _nested_zip(archive, info, parts[:-1], source)
            continue
        yield Found(
            parts, source, _zip_time(info), info.file_size, _reader(archive, info)
        )


def _nested_zip(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    folders: tuple[str, ...],
    source: str,
) -> Iterator[Found | Unmapped]:
    """The entries of a zip stored inside another zip, read into memory."""
    try:
        with zipfile.ZipFile(io.BytesIO(archive.read(info))) as inner:
            yield from _zip_entries(inner, folders, source)
    except ZIP_READ_ERRORS as error:
        yield Unmapped(
            source, f"not a readable zip archive ({error}): download it again"
        )


def _reader(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], bytes]:
    """A function that reads one zip entry's bytes."""
    return lambda: archive.read(info)


def _zip_time(info: zipfile.ZipInfo) -> float:
    """A zip entry's date_time (local time, as zip stores it) as a POSIX timestamp."""
    try:
        return time.mktime((*info.date_time, 0, 0, -1))
    except (OverflowError, ValueError):
        return 0.0
