"""Every file in a SUBMISSIONS folder, zip archives opened where they are, with limits.

Nothing is extracted, written, moved or modified. Folders and files are opened
read-only, relative to their folder's descriptor, without following symbolic links
(O_NOFOLLOW) and without waiting for a writer (O_NONBLOCK), and checked to be what
they were listed as; what is neither a folder nor a regular file (a symbolic link, a
FIFO, a device, a socket) is listed, never opened. Only SUBMISSIONS itself may be a
link: the instructor names it.

Zips are read as streams within ReadLimits, checked on the sizes their headers
declare before anything is inflated and again on the bytes actually inflated (a
header can lie): one file's size, a ratio of inflated to compressed bytes, the
entries of one zip, how deep zips nest, and what all zips together may inflate to.
A zip inside a zip is spooled (in memory up to SPOOL_BYTES, then to a temporary
file, deleted when read). Whatever exceeds a limit is listed with the reason.
"""

from __future__ import annotations

import os
import stat
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import BinaryIO

from ..model import Unmapped

MIB = 2**20
ZIP_SUFFIX = ".zip"
SKIPPED_FOLDERS = ("__MACOSX", ".ipynb_checkpoints")  # never listed: editor/OS debris
CHUNK = 256 * 1024  # bytes inflated or read at a time
SPOOL_BYTES = 32 * MIB  # a zip inside a zip is held in memory up to this size
DIRECTORY_BYTES_PER_ENTRY = 256  # a zip's central directory may declare this much
ZIP_READ_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    RuntimeError,  # encrypted entry
    NotImplementedError,  # unsupported compression
    zlib.error,
    EOFError,
    OSError,
)
OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
OPEN_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
LINK = "a symbolic link, not followed: copy the file itself there"
KINDS = {
    stat.S_IFIFO: "FIFO",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFSOCK: "socket",
}


@dataclass(frozen=True)
class ReadLimits:
    """How much SUBMISSIONS may make the grader read (README: "Grading a class")."""

    file_bytes: int = 100 * MIB  # one file read (a notebook)
    archive_bytes: int = 1024 * MIB  # a zip inside a zip
    ratio: int = 200  # inflated : compressed, for members inflating past ratio_floor
    ratio_floor: int = MIB
    entries: int = 20_000  # in one zip
    zip_depth: int = 3  # zips inside zips (bulk.zip > student.zip > work.zip)
    folder_depth: int = 16  # folders below SUBMISSIONS on disk
    total_entries: int = 200_000  # in all zips together
    total_bytes: int = 8 * 1024 * MIB  # inflated from all zips together


DEFAULT_LIMITS = ReadLimits()


class Refused(Exception):
    """A file not read, and why (the message is the reason listed)."""


@dataclass(frozen=True)
class Found:
    """A file found on disk or in a zip, not yet read (read() works only while the
    walk is at it: the folder or zip is closed when the walk moves on). read()
    raises Refused when the file is over a limit or not what it was listed as."""

    parts: tuple[str, ...]  # folders on disk and inside zips, then the file name
    source: str
    modified: float
    size: int  # as listed: the folder's or the zip header's word for it
    read: Callable[[], bytes]


@dataclass
class _Walk:
    """One walk's limits, what its zips have used so far, and how zips are placed."""

    limits: ReadLimits
    zip_is_folder: Callable[[str], bool | str]
    entries: int = 0
    inflated: int = 0

    def count_entries(self, entries: int) -> None:
        self.entries += entries
        if self.entries > self.limits.total_entries:
            raise Refused(
                f"not opened: the zips in SUBMISSIONS hold more than "
                f"{self.limits.total_entries} entries in all (the limit)"
            )

    def inflate(self, size: int, *, declared: bool = False) -> None:
        """Count `size` bytes inflated (or only check there is room for the size a
        header declares)."""
        if self.inflated + size > self.limits.total_bytes:
            raise Refused(
                f"not read: the zips in SUBMISSIONS inflate to more than "
                f"{_size(self.limits.total_bytes)} in all (the limit)"
            )
        if not declared:
            self.inflated += size


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
    context = _Walk(limits, zip_is_folder)
    folder = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield from _folder(folder, (), context)
    finally:
        os.close(folder)


def _folder(
    folder: int, here: tuple[str, ...], context: _Walk
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
            yield Unmapped(source, _not_regular(info.st_mode))
        elif name.lower().endswith(ZIP_SUFFIX):
            yield from _disk_zip(folder, parts, context)
        else:
            reader = partial(_read_file, folder, name, context.limits.file_bytes)
            yield Found(parts, source, info.st_mtime, info.st_size, reader)


def _subfolder(
    folder: int, parts: tuple[str, ...], context: _Walk
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
        raise Refused(_not_regular(mode))
    return descriptor


def _read_file(folder: int, name: str, limit: int) -> bytes:
    """A regular file's bytes, at most `limit` of them (Refused past it)."""
    descriptor = _open_regular(folder, name)
    try:
        if os.fstat(descriptor).st_size > limit:
            raise Refused(_too_large(limit))
        chunks, total = [], 0
        while chunk := os.read(descriptor, CHUNK):
            total += len(chunk)
            if total > limit:
                raise Refused(_too_large(limit))
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def _disk_zip(
    folder: int, parts: tuple[str, ...], context: _Walk
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
        yield from _archive(
            handle, parts if placing else parts[:-1], source, 1, context
        )


def _archive(
    handle: BinaryIO,
    folders: tuple[str, ...],
    prefix: str,
    depth: int,
    context: _Walk,
) -> Iterator[Found | Unmapped]:
    """The files in a zip (zips inside it opened too), read lazily; `depth` is how
    many zips this one lies in, itself included."""
    try:
        _check_directory(handle, context.limits.entries)
        archive = zipfile.ZipFile(handle)
    except Refused as refused:
        yield Unmapped(prefix, str(refused))
        return
    except ZIP_READ_ERRORS as error:
        yield Unmapped(
            prefix, f"not a readable zip archive ({error}): download it again"
        )
        return
    with archive:
        infos = sorted(archive.infolist(), key=lambda info: info.filename)
        try:
            if len(infos) > context.limits.entries:
                raise Refused(_too_many(context.limits.entries))
            context.count_entries(len(infos))
        except Refused as refused:
            yield Unmapped(prefix, str(refused))
            return
        hidden_reported: set[str] = set()
        for info in infos:
            yield from _member(
                archive, info, folders, prefix, depth, context, hidden_reported
            )


def _member(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    folders: tuple[str, ...],
    prefix: str,
    depth: int,
    context: _Walk,
    hidden_reported: set[str],
) -> Iterator[Found | Unmapped]:
    """One zip entry: a Found, the entries of a zip inside, or why neither."""
    inner = [
        p for p in info.filename.replace("\\", "/").split("/") if p not in ("", ".")
    ]
    if info.is_dir() or not inner or any(p in SKIPPED_FOLDERS for p in inner[:-1]):
        return
    source = f"{prefix}:{'/'.join(inner)}"
    hidden = next((i for i, p in enumerate(inner[:-1]) if p.startswith(".")), None)
    if hidden is not None:
        folder = f"{prefix}:{'/'.join(inner[: hidden + 1])}/"
        if folder not in hidden_reported:
            hidden_reported.add(folder)
            yield Unmapped(folder, "hidden folder, not searched")
        return
    if info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16):
        yield Unmapped(source, LINK)
        return
    parts = (*folders, *inner)
    if not inner[-1].lower().endswith(ZIP_SUFFIX):
        reader = partial(
            _read_member, archive, info, context.limits.file_bytes, context
        )
        yield Found(parts, source, _zip_time(info), info.file_size, reader)
        return
    most = context.limits.zip_depth
    if depth >= most:
        yield Unmapped(
            source, f"a zip inside {depth} zips: not opened (at most {most})"
        )
        return
    placing = context.zip_is_folder(inner[-1])
    if isinstance(placing, str):
        yield Unmapped(source, placing)
        return
    yield from _nested_zip(
        archive, info, parts if placing else parts[:-1], source, depth + 1, context
    )


def _nested_zip(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    folders: tuple[str, ...],
    source: str,
    depth: int,
    context: _Walk,
) -> Iterator[Found | Unmapped]:
    """The entries of a zip stored inside another zip, spooled within the limits."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        try:
            _inflate(archive, info, context.limits.archive_bytes, context, spool.write)
        except Refused as refused:
            yield Unmapped(source, str(refused))
            return
        except ZIP_READ_ERRORS as error:
            yield Unmapped(source, f"cannot be read ({error})")
            return
        spool.seek(0)
        yield from _archive(spool, folders, source, depth, context)


def _read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, context: _Walk
) -> bytes:
    """A zip entry's bytes within the limits (Refused past one)."""
    chunks: list[bytes] = []
    _inflate(archive, info, limit, context, chunks.append)
    return b"".join(chunks)


def _inflate(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    limit: int,
    context: _Walk,
    write: Callable[[bytes], object],
) -> None:
    """Stream one entry into `write`, checking the sizes its header declares first,
    then the bytes it really inflates to: the size limit, the ratio, the total."""
    limits = context.limits
    compressed = max(info.compress_size, 1)
    if (
        info.file_size > limits.ratio_floor
        and info.file_size > limits.ratio * compressed
    ):
        raise Refused(_bomb(f"inflates to {_size(info.file_size)}", compressed, limits))
    if info.file_size > limit:
        raise Refused(_too_large(limit, f"declares {_size(info.file_size)}, "))
    context.inflate(info.file_size, declared=True)
    total = 0
    with archive.open(info) as stream:
        while chunk := stream.read(CHUNK):
            total += len(chunk)
            context.inflate(len(chunk))
            if total > limit:
                raise Refused(_too_large(limit))
            if total > limits.ratio_floor and total > limits.ratio * compressed:
                raise Refused(_bomb("inflates to more", compressed, limits))
            write(chunk)


def _check_directory(handle: BinaryIO, entries: int) -> None:
    """Refuse a zip whose central directory declares too many entries or bytes,
    before zipfile reads it (it keeps one ZipInfo, ~500 bytes, per entry)."""
    record = zipfile._EndRecData(handle)  # the stdlib's own reader, zip64 included
    if record is None:
        return  # zipfile says why it is no zip
    declared = record[zipfile._ECD_ENTRIES_TOTAL]
    size = record[zipfile._ECD_SIZE]
    if declared > entries or size > entries * DIRECTORY_BYTES_PER_ENTRY:
        raise Refused(_too_many(entries))


def _too_many(entries: int) -> str:
    return f"holds more than {entries} entries: not opened (a zip bomb?)"


def _too_large(limit: int, declared: str = "") -> str:
    return f"{declared}larger than {_size(limit)} (the limit): not read"


def _bomb(what: str, compressed: int, limits: ReadLimits) -> str:
    return (
        f"{what} from {_size(compressed)}, more than {limits.ratio}:1 "
        "(a zip bomb?): not read"
    )


def _size(size: int) -> str:
    """A size as people read it: "3072 MB", "1.5 MB", "600 KB", "12 bytes"."""
    if size >= MIB:
        return f"{size / MIB:.{0 if size % MIB == 0 or size >= 10 * MIB else 1}f} MB"
    return f"{size // 1024} KB" if size >= 1024 else f"{size} bytes"


def _not_regular(mode: int) -> str:
    kind = KINDS.get(stat.S_IFMT(mode), "special file")
    return f"a {kind}, not a regular file: not read"


def _zip_time(info: zipfile.ZipInfo) -> float:
    """A zip entry's date_time (local time, as zip stores it) as a POSIX timestamp."""
    try:
        return time.mktime((*info.date_time, 0, 0, -1))
    except (OverflowError, ValueError):
        return 0.0
