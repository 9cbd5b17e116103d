"""walk: zips read with limits (size, ratio, entries, depth), links and special files
listed instead of followed or opened."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grader.course import REPO
from grader.intake.collect import collect
from grader.intake.walk import ReadLimits

from .zips import MIB, archive, deflated, honest, stored_link, zeros

SIG = "01_sigmoid"
SOURCE_NOTEBOOK = REPO / "source" / "backprop" / f"{SIG}.ipynb"
SMALL = ReadLimits(file_bytes=MIB, archive_bytes=2 * MIB, ratio_floor=MIB // 4)


def _write(root: Path, relative: str, content: bytes = b"{}") -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def _reasons(result) -> dict[str, str]:
    return {item.source: item.reason for item in result.unmapped}


def _collect_in_child(folder: Path, *, memory_gib: float = 2, timeout: float = 60):
    """collect(folder) in a fresh Python with an address-space limit and a timeout:
    (students, {source: reason}, peak resident memory in MB). A grader that reads a
    bomb whole fails here with MemoryError instead of taking the machine's memory;
    one that opens a FIFO for reading times out instead of hanging the suite."""
    code = textwrap.dedent(
        f"""
        import json, resource, sys
        limit = int({memory_gib} * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        from grader.intake.collect import collect
        result = collect(sys.argv[1])
        status = open("/proc/self/status").read().split("\\n")
        peak = next(line for line in status if line.startswith("VmHWM"))
        print(json.dumps({{
            "students": sorted({{s.student for s in result.submissions}}),
            "unmapped": {{u.source: u.reason for u in result.unmapped}},
            "peak_mb": int(peak.split()[1]) / 1024,
        }}))
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(folder)], cwd=REPO, capture_output=True,
        text=True, timeout=timeout,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    data = json.loads(run.stdout)
    return data["students"], data["unmapped"], data["peak_mb"]


# ---------------------------------------------------------------- zip bombs


def test_the_issues_bomb_is_listed_and_memory_stays_bounded(tmp_path):
    """A 3 MB zip whose entry bomb.zip inflates to 3 GiB (the issue's case: the grader
    went to 6.4 GB): listed as unmapped, the rest collected, memory ~ a plain run."""
    notebook = deflated(b"{}", f"ann/{SIG}.ipynb")
    bomb = archive(zeros(3 * 1024 * MIB, "bomb.zip"), notebook)
    assert len(bomb) < 4 * MIB
    _write(tmp_path, "class.zip", bomb)
    _write(tmp_path, f"bob/{SIG}.ipynb")
    students, unmapped, peak_mb = _collect_in_child(tmp_path)
    assert students == ["ann", "bob"]
    assert unmapped.keys() == {"class.zip:bomb.zip"}
    assert "zip bomb" in unmapped["class.zip:bomb.zip"]
    assert peak_mb < 150, f"collect peaked at {peak_mb:.0f} MB"


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        # honest headers: more than the limit for a zip in a zip
        (zeros(64 * MIB, "inner.zip"), "zip bomb"),
        # declares a small size, inflates to 64 MiB: the stream is cut where the
        # headers said it ends, and its checksum then fails
        (zeros(64 * MIB, "inner.zip", declared=1000), "cannot be read"),
        # declares 3 GiB for a few bytes: refused before reading
        (deflated(b"PK", "inner.zip", declared=3 * 2**30), "inflates to 3072 MB"),
    ],
    ids=["honest", "declares-less", "declares-more"],
)
def test_a_nested_zip_is_read_within_its_limits(tmp_path, entry, words):
    """What exceeds a limit is listed with the reason; the other files are read."""
    notebook = deflated(b"ok", f"ann/{SIG}.ipynb")
    _write(tmp_path, "bulk.zip", archive(entry, notebook))
    result = collect(tmp_path, limits=SMALL)
    assert [s.student for s in result.submissions] == ["ann"]
    reasons = _reasons(result)
    assert list(reasons) == ["bulk.zip:inner.zip"]
    assert words in reasons["bulk.zip:inner.zip"], reasons


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        (zeros(8 * MIB, f"ann/{SIG}.ipynb"), "zip bomb"),
        (deflated(os.urandom(MIB + 1), f"ann/{SIG}.ipynb"), "larger than 1 MB"),
        (zeros(4 * MIB, f"ann/{SIG}.ipynb", declared=100), "cannot be read"),
    ],
    ids=["ratio", "size", "declares-less"],
)
def test_a_notebook_in_a_zip_is_read_within_its_limits(tmp_path, entry, words):
    _write(tmp_path, "bulk.zip", archive(entry))
    result = collect(tmp_path, limits=SMALL)
    assert result.submissions == []
    assert words in _reasons(result)[f"bulk.zip:ann/{SIG}.ipynb"]


def test_zips_nest_at_most_three_deep(tmp_path):
    """bulk.zip > student.zip > work.zip is read; a fourth zip inside is listed."""
    fourth = honest({f"ann/{SIG}.ipynb": b"4"})
    third = honest({"deeper.zip": fourth, f"ann/{SIG}.ipynb": b"3"})
    second = honest({"work.zip": third})
    _write(tmp_path, "bulk.zip", honest({"ann.zip": second}))
    result = collect(tmp_path)
    assert [s.content for s in result.submissions] == [b"3"]
    source = "bulk.zip:ann.zip:work.zip:deeper.zip"
    assert _reasons(result) == {source: "a zip inside 3 zips: not opened (at most 3)"}


def test_a_zip_with_too_many_entries_is_listed_not_opened(tmp_path):
    entries = {f"ann/note{n}.txt": b"" for n in range(11)}
    _write(tmp_path, "bulk.zip", honest(entries))
    _write(tmp_path, f"bob/{SIG}.ipynb")
    result = collect(tmp_path, limits=ReadLimits(entries=10))
    assert [s.student for s in result.submissions] == ["bob"]
    assert _reasons(result) == {
        "bulk.zip": "holds more than 10 entries: not opened (a zip bomb?)"
    }


def test_all_zips_together_are_read_within_a_budget(tmp_path):
    """Many zips each within the limits still stop at the total: the rest listed."""
    for n in range(4):
        _write(tmp_path, f"z{n}.zip", honest({f"s{n}/{SIG}.ipynb": bytes(600_000)}))
    result = collect(tmp_path, limits=ReadLimits(total_bytes=2 * MIB))
    assert [s.student for s in result.submissions] == ["s0", "s1", "s2"]
    assert "more than 2 MB in all" in _reasons(result)[f"z3.zip:s3/{SIG}.ipynb"]


def test_a_link_stored_in_a_zip_is_listed_not_read(tmp_path):
    link = stored_link(f"ann/{SIG}.ipynb", "/etc/passwd")
    _write(tmp_path, "bulk.zip", archive(link))
    result = collect(tmp_path)
    assert result.submissions == []
    assert _reasons(result) == {
        f"bulk.zip:ann/{SIG}.ipynb": "a symbolic link, not followed: copy the file "
        "itself there"
    }


# ---------------------------------------------------------------- links, special files


def test_a_linked_file_is_listed_not_followed(tmp_path):
    """A student folder linking to the source notebook used to be graded 4/4."""
    (tmp_path / "linker").mkdir()
    (tmp_path / "linker" / f"{SIG}.ipynb").symlink_to(SOURCE_NOTEBOOK)
    (tmp_path / "linker" / "work.zip").symlink_to(tmp_path / "elsewhere.zip")
    result = collect(tmp_path)
    assert result.submissions == []
    reason = "a symbolic link, not followed: copy the file itself there"
    assert _reasons(result) == {
        f"linker/{SIG}.ipynb": reason,
        "linker/work.zip": reason,
    }


def test_a_linked_folder_is_listed_not_skipped_silently(tmp_path):
    _write(tmp_path, f"good/{SIG}.ipynb")
    (tmp_path / "copycat").symlink_to(tmp_path / "good")
    result = collect(tmp_path)
    assert [s.student for s in result.submissions] == ["good"]
    assert _reasons(result) == {
        "copycat": "a symbolic link, not followed: copy the file itself there"
    }


def test_a_fifo_is_listed_without_blocking(tmp_path):
    """Opening a FIFO for reading waits for a writer: the old walk hung here."""
    (tmp_path / "piper").mkdir()
    os.mkfifo(tmp_path / "piper" / f"{SIG}.ipynb")
    _write(tmp_path, f"bob/{SIG}.ipynb")
    students, unmapped, _ = _collect_in_child(tmp_path, timeout=20)
    assert students == ["bob"]
    assert unmapped == {f"piper/{SIG}.ipynb": "a FIFO, not a regular file: not read"}


def test_a_socket_is_listed(tmp_path):
    (tmp_path / "sock").mkdir()
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(tmp_path / "sock" / f"{SIG}.ipynb"))
        result = collect(tmp_path)
    finally:
        server.close()
    assert _reasons(result) == {
        f"sock/{SIG}.ipynb": "a socket, not a regular file: not read"
    }


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")
def test_a_device_is_listed_not_opened(tmp_path):
    (tmp_path / "dev").mkdir()
    os.mknod(tmp_path / "dev" / f"{SIG}.ipynb", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    result = collect(tmp_path)
    assert result.submissions == []
    assert _reasons(result) == {
        f"dev/{SIG}.ipynb": "a character device, not a regular file: not read"
    }


def test_a_hard_link_is_read_as_the_file_it_is(tmp_path):
    """Hard links are files, not pointers: only who can write SUBMISSIONS makes
    them, and no download or unzip does (the README says so)."""
    original = _write(tmp_path, "outside/x.ipynb", b"bytes")
    (tmp_path / "class" / "ann").mkdir(parents=True)
    os.link(original, tmp_path / "class" / "ann" / f"{SIG}.ipynb")
    [submission] = collect(tmp_path / "class").submissions
    assert submission.content == b"bytes"


def test_a_file_over_the_size_limit_is_listed_not_read(tmp_path):
    _write(tmp_path, f"ann/{SIG}.ipynb", b"x" * (MIB + 1))
    result = collect(tmp_path, limits=SMALL)
    assert result.submissions == []
    reason = _reasons(result)[f"ann/{SIG}.ipynb"]
    assert reason == "larger than 1 MB (the limit): not read"


def test_folders_nest_to_a_limit(tmp_path):
    _write(tmp_path, "a/b/c/d/e/x.ipynb")
    _write(tmp_path, f"ann/{SIG}.ipynb")
    result = collect(tmp_path, limits=ReadLimits(folder_depth=3))
    assert [s.student for s in result.submissions] == ["ann"]
    assert _reasons(result) == {"a/b/c/d/": "folders nested too deep: not searched"}


def test_the_submissions_folder_may_itself_be_a_link(tmp_path):
    """The instructor names SUBMISSIONS: that one link is followed."""
    _write(tmp_path, f"real/ann/{SIG}.ipynb")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert [s.student for s in collect(tmp_path / "link").submissions] == ["ann"]
