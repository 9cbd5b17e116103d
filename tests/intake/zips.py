"""Zip archives built byte by byte: bombs, lying headers, links, deep nesting.

zipfile writes honest archives only; these helpers write the local headers, the
central directory and the end record themselves, so a test can declare sizes that
are not the real ones, store a symbolic link, or inflate gigabytes from a few
megabytes without ever holding them.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

MIB = 2**20
DOS_TIME, DOS_DATE = 0, (44 << 9) | (5 << 5) | 17  # 2024-05-17 00:00
REGULAR = 0o100644 << 16
SYMLINK = 0o120777 << 16


@dataclass(frozen=True)
class Entry:
    """One member: its stored bytes and what the headers declare about it."""

    name: str
    data: bytes  # as stored (deflated when method is ZIP_DEFLATED)
    crc: int
    size: int  # the inflated size the headers declare
    method: int = zipfile.ZIP_DEFLATED
    attributes: int = REGULAR


def deflated(content: bytes, name: str, *, declared: int | None = None) -> Entry:
    """`content` deflated; `declared` overrides the inflated size in the headers."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = compressor.compress(content) + compressor.flush()
    size = len(content) if declared is None else declared
    return Entry(name, data, zlib.crc32(content), size)


def zeros(size: int, name: str, *, declared: int | None = None) -> Entry:
    """`size` zero bytes deflated (size a multiple of 1 MiB), in O(size / 1 MiB) steps:
    after a full flush the compressor's output for the same MiB repeats, so a 3 GiB
    member costs three megabytes and one pass of CRC-32, never 3 GiB of memory."""
    chunks, rest = divmod(size, MIB)
    assert rest == 0 and chunks > 0
    block = bytes(MIB)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert first == again
    data = first * chunks + compressor.flush()
    crc = 0
    for _ in range(chunks):
        crc = zlib.crc32(block, crc)
    return Entry(name, data, crc, size if declared is None else declared)


def stored_link(name: str, target: str) -> Entry:
    """A symbolic link as Info-ZIP stores it: the target as the member's bytes."""
    data = target.encode()
    return Entry(name, data, zlib.crc32(data), len(data), zipfile.ZIP_STORED, SYMLINK)


def archive(*entries: Entry) -> bytes:
    """A zip archive of the entries, headers as the entries declare them."""
    out, central = io.BytesIO(), io.BytesIO()
    for entry in entries:
        name = entry.name.encode()
        offset = out.tell()
        sizes = (entry.crc, len(entry.data), entry.size)
        when = (DOS_TIME, DOS_DATE)
        local = struct.pack(
            "<4s5H3L2H", b"PK\x03\x04", 20, 0, entry.method, *when, *sizes,
            len(name), 0,
        )  # fmt: skip
        out.write(local + name + entry.data)
        record = struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", (3 << 8) | 20, 20, 0, entry.method, *when,
            *sizes, len(name), 0, 0, 0, 0, entry.attributes, offset,
        )  # fmt: skip
        central.write(record + name)
    directory = central.getvalue()
    start = out.tell()
    out.write(directory)
    count = len(entries)
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(directory), start, 0
    )
    out.write(end)
    return out.getvalue()


def honest(entries: dict[str, bytes]) -> bytes:
    """A zip written by zipfile itself (deflated), for ordinary members."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as written:
        for name, content in entries.items():
            written.writestr(zipfile.ZipInfo(name, (2024, 5, 17, 0, 0, 0)), content)
    return buffer.getvalue()
