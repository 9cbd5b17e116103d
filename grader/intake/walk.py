"""Every file in a SUBMISSIONS folder, zip archives opened where they are, with limits.

Nothing is extracted, written, moved or modified. Folders and files are opened
read-only, relative to their folder's descriptor, without following symbolic links
(O_NOFOLLOW) and without waiting for a writer (O_NONBLOCK), and checked to be what
they were listed as; what is neither a folder nor a regular file (a symbolic link, a
FIFO, a device, a socket) is listed, never opened. Only SUBMISSIONS itself may be a
link: the instructor names it.

Zips are opened where they lie (grader.intake.zips) within the same ReadLimits
(grader.intake.reading). Whatever exceeds a limit is listed with the reason.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from functools import partial

from ..model import Unmapped
from .reading import (
    CHUNK,
    DEFAULT_LIMITS,
    LINK,
    SKIPPED_FOLDERS,
    ZIP_SUFFIX,
    Found,
    ReadLimits,
    Refused,
    WalkState,
    not_regular,
    too_large,
)
from .zips import zip_entries

__all__ = ["DEFAULT_LIMITS", "Found", "ReadLimits", "Refused", "walk"]

OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
OPEN_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _never(name: str) -> bool:
    return False


def walk(
    root: os.PathLike | str,
    limits: ReadLimits = DEFAULT_LIMITS,
    zip_is_folder: Callable[[str], bool | str] = _never,
) -> Iterator[Found | Unmapped]:
    """Every file under root, zips opened; hidden folders reported, not entered.

    zip_is_folder(name) says how a zip's entries are placed: False (the default),
    as if they lay where the zip lies (a bulk download); True, inside a folder named
    as the zip (a student's own zip, named by an LMS); a str, not at all: the zip
    is listed with that reason.
    """
    context = WalkState(limits, zip_is_folder)
    folder = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield from _folder(folder, (), context)
    finally:
        os.close(folder)


def _folder(
    folder: int, here: tuple[str, ...], context: WalkState
) -> Iterator[Found | Unmapped]:
    """The entries of an open folder, by name; folders in it walked in turn."""
    with os.scandir(folder) as listing:
        names = sorted(entry.name for entry in listing)
    for name in names:
        parts = (*here, name)
        source = "/".join(parts)
        try:
            info = os.stat(name, dir_fd=folder, follow_symlinks=False)
        except OSError as error:
            yield Unmapped(source, f"cannot be read: {error.strerror or error}")
            continue
        if stat.S_ISLNK(info.st_mode):
            yield Unmapped(source, LINK)
        elif stat.S_ISDIR(info.st_mode):
            yield from _subfolder(folder, parts, context)
        elif not stat.S_ISREG(info.st_mode):
            yield Unmapped(source, not_regular(info.st_mode))
        elif name.lower().endswith(ZIP_SUFFIX):
            yield from _disk_zip(folder, parts, context)
        else:
            reader = partial(_read_file, folder, name, context.limits.file_bytes)
            yield Found(parts, source, info.st_mtime, info.st_size, reader)


def _subfolder(
    folder: int, parts: tuple[str, ...], context: WalkState
) -> Iterator[Found | Unmapped]:
    """A folder inside `folder`, walked unless skipped, hidden or too deep."""
    name, source = parts[-1], "/".join(parts) + "/"
    if name in SKIPPED_FOLDERS:
        return
    if name.startswith("."):
        yield Unmapped(source, "hidden folder, not searched")
        return
    if len(parts) > context.limits.folder_depth:
        yield Unmapped(source, "folders nested too deep: not searched")
        return
    try:
        inner = os.open(name, OPEN_FOLDER, dir_fd=folder)
    except OSError as error:  # ELOOP: replaced by a link since it was listed
        yield Unmapped(source, f"cannot be read: {error.strerror or error}")
        return
    try:
        yield from _folder(inner, parts, context)
    finally:
        os.close(inner)


def _open_regular(folder: int, name: str) -> int:
    """A descriptor of the regular file `name` in `folder`, never a link or FIFO."""
    try:
        descriptor = os.open(name, OPEN_FILE, dir_fd=folder)
    except OSError as error:
        raise Refused(f"cannot be read: {error.strerror or error}") from error
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        raise Refused(not_regular(mode))
    return descriptor


def _read_file(folder: int, name: str, limit: int) -> bytes:
    """A regular file's bytes, at most `limit` of them (Refused past it)."""
    descriptor = _open_regular(folder, name)
    try:
        if os.fstat(descriptor).st_size > limit:
            raise Refused(too_large(limit))
        chunks, total = [], 0
        while chunk := os.read(descriptor, CHUNK):
            total += len(chunk)
            if total > limit:
                raise Refused(too_large(limit))
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def _disk_zip(
    folder: int, parts: tuple[str, ...], context: WalkState
) -> Iterator[Found | Unmapped]:
    """The entries of a zip on disk (a folder level of its own if it is a
    student's)."""
    source = "/".join(parts)
    placing = context.zip_is_folder(parts[-1])
    if isinstance(placing, str):
        yield Unmapped(source, placing)
        return
    try:
        handle = os.fdopen(_open_regular(folder, parts[-1]), "rb")
    except Refused as refused:
        yield Unmapped(source, str(refused))
        return
    with handle:
        yield from zip_entries(
            handle, parts if placing else parts[:-1], source, 1, context
        )
