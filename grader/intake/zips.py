"""The files in a zip archive, zips inside it opened in turn, read as streams within
the ReadLimits: nothing is extracted or written (a zip inside a zip is spooled, in
memory up to SPOOL_BYTES, then to a temporary file deleted when read).

Each entry's size is checked on what its header declares before anything is
inflated, and again on the bytes it really inflates to (a header can lie): one
file's size, the ratio of inflated to compressed bytes, the entries of one zip, how
deep zips nest, and what all zips together may inflate to.
"""

from __future__ import annotations

import stat
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from functools import partial
from typing import BinaryIO

from ..model import MB, Unmapped
from .reading import (
    CHUNK,
    LINK,
    SKIPPED_FOLDERS,
    ZIP_SUFFIX,
    Found,
    ReadLimits,
    Refused,
    WalkState,
    size_text,
    too_large,
)

SPOOL_BYTES = 32 * MB  # a zip inside a zip is held in memory up to this size
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


def zip_entries(
    handle: BinaryIO,
    folders: tuple[str, ...],
    prefix: str,
    depth: int,
    context: WalkState,
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
    context: WalkState,
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
    context: WalkState,
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
        yield from zip_entries(spool, folders, source, depth, context)


def _read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, context: WalkState
) -> bytes:
    """A zip entry's bytes within the limits (Refused past one)."""
    chunks: list[bytes] = []
    _inflate(archive, info, limit, context, chunks.append)
    return b"".join(chunks)


def _inflate(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    limit: int,
    context: WalkState,
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
        raise Refused(
            _bomb(f"inflates to {size_text(info.file_size)}", compressed, limits)
        )
    if info.file_size > limit:
        raise Refused(too_large(limit, f"declares {size_text(info.file_size)}, "))
    context.inflate(info.file_size, declared=True)
    total = 0
    with archive.open(info) as stream:
        while chunk := stream.read(CHUNK):
            total += len(chunk)
            context.inflate(len(chunk))
            if total > limit:
                raise Refused(too_large(limit))
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


def _bomb(what: str, compressed: int, limits: ReadLimits) -> str:
    return (
        f"{what} from {size_text(compressed)}, more than {limits.ratio}:1 "
        "(a zip bomb?): not read"
    )


def _zip_time(info: zipfile.ZipInfo) -> float:
    """A zip entry's date_time (local time, as zip stores it) as a POSIX timestamp."""
    try:
        return time.mktime((*info.date_time, 0, 0, -1))
    except (OverflowError, ValueError):
        return 0.0
