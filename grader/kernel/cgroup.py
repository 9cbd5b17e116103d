"""A memory cgroup per student sandbox: the memory a kernel really holds.

An address-space limit (RLIMIT_AS) does not see memory held in files of an in-memory
file system (/tmp, the scratch layer) or in memfds: a kernel could hold gigabytes
that way. The kernel's memory cgroup counts what it holds resident, page cache and
in-memory files included, and the kernel is killed (OOM) past the limit. As root, on
Linux with a cgroup v2 memory controller that the grader may use, or a cgroup v1
memory hierarchy, each sandbox gets one; elsewhere `MemoryCgroup.create` returns
None and `unavailable_reason` says why (the README lists what is counted then).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import time
from functools import cache
from pathlib import Path

from .command import is_root

ROOT_NAME = "grader-kernels"  # the folder the grader's cgroups go in
_numbers = itertools.count()


def _mounts() -> list[tuple[str, str, str, set[str]]]:
    """(mount point, root within the hierarchy, fs type, super options) of every
    cgroup file system in /proc/self/mountinfo."""
    found = []
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            before, _, after = line.partition(" - ")
            fields, extra = before.split(), after.split()
            if (
                len(fields) >= 5
                and len(extra) >= 3
                and extra[0] in ("cgroup", "cgroup2")
            ):
                found.append((fields[4], fields[3], extra[0], set(extra[2].split(","))))
    return found


def _own_paths() -> dict[str, str]:
    """controller list ("memory", "" for v2) -> this process's cgroup path."""
    paths = {}
    with open("/proc/self/cgroup") as cgroups:
        for line in cgroups:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for name in controllers.split(",") if controllers else [""]:
                paths[name] = path
    return paths


def _inside(mount: str, mount_root: str, path: str) -> Path | None:
    """The folder of cgroup `path` under a mount of the hierarchy at `mount_root`."""
    relative = os.path.relpath(path, mount_root)
    if relative.startswith(".."):
        return None
    return Path(mount) / relative


@cache
def _parent() -> tuple[Path, int] | str:
    """(folder to make sandboxes' cgroups in, cgroup version), or why there is none."""
    if not is_root():
        return "not running as root"
    mounts, own = _mounts(), _own_paths()
    for mount, _, kind, _ in mounts:
        if kind != "cgroup2":
            continue
        root = Path(mount)
        if "memory" not in (root / "cgroup.controllers").read_text().split():
            continue
        with contextlib.suppress(OSError):
            (root / "cgroup.subtree_control").write_text("+memory")
        if "memory" in (root / "cgroup.subtree_control").read_text().split():
            folder = root / ROOT_NAME
            folder.mkdir(exist_ok=True)
            (folder / "cgroup.subtree_control").write_text("+memory")
            return folder, 2
    for mount, mount_root, kind, options in mounts:
        if kind == "cgroup" and "memory" in options and "memory" in own:
            here = _inside(mount, mount_root, own["memory"])
            if here is not None and here.is_dir():
                folder = here / ROOT_NAME
                folder.mkdir(exist_ok=True)
                return folder, 1
    return "no cgroup memory controller the grader may use"


def unavailable_reason() -> str | None:
    """Why sandboxes get no memory cgroup here, or None when they do."""
    parent = _parent()
    return parent if isinstance(parent, str) else None


class MemoryCgroup:
    """One sandbox's memory cgroup (v2: memory.max; v1: memory.limit_in_bytes)."""

    def __init__(self, path: Path, version: int) -> None:
        self.path = path
        self.version = version

    @classmethod
    def create(cls) -> MemoryCgroup | None:
        """A new, empty cgroup with no limit yet; None where there can be none."""
        parent = _parent()
        if isinstance(parent, str):
            return None
        folder, version = parent
        path = folder / f"{os.getpid()}-{next(_numbers)}"
        path.mkdir()
        return cls(path, version)

    def _file(self, v2: str, v1: str) -> Path:
        return self.path / (v2 if self.version == 2 else v1)

    def join_command(self) -> list[str]:
        """A prefix that moves the command into this cgroup before it starts."""
        procs = self.path / "cgroup.procs"
        return ["sh", "-c", 'echo $$ > "$0" && exec "$@"', str(procs)]

    def set_limit(self, limit_bytes: int) -> None:
        """Hold the sandbox to this many bytes of memory, swap included."""
        if self.version == 2:
            (self.path / "memory.max").write_text(str(limit_bytes))
            with contextlib.suppress(OSError):
                (self.path / "memory.swap.max").write_text("0")
            return
        # v1 keeps memory <= memory+swap: raise the second first, lower it last.
        memory = self.path / "memory.limit_in_bytes"
        both = self.path / "memory.memsw.limit_in_bytes"
        lowering = limit_bytes < int(memory.read_text())
        order = [memory, both] if lowering else [both, memory]
        for path in order:
            if path.exists():  # memsw: only with swap accounting
                path.write_text(str(limit_bytes))

    def usage(self) -> int:
        """Bytes the sandbox holds now."""
        path = self._file("memory.current", "memory.usage_in_bytes")
        return int(path.read_text())

    def reset_peak(self) -> None:
        """Start measuring the peak afresh (where the kernel allows it)."""
        with contextlib.suppress(OSError):
            self._file("memory.peak", "memory.max_usage_in_bytes").write_text("0")

    def peak(self) -> int:
        """The most bytes held since the last reset (or since the start)."""
        try:
            return int(
                self._file("memory.peak", "memory.max_usage_in_bytes").read_text()
            )
        except (OSError, ValueError):
            return self.usage()

    def oom_kills(self) -> int:
        """How many processes the limit has killed so far."""
        events = self._file("memory.events", "memory.oom_control")
        with contextlib.suppress(OSError):
            for line in events.read_text().splitlines():
                name, _, count = line.partition(" ")
                if name == "oom_kill":
                    return int(count)
        return 0

    def remove(self) -> None:
        """Kill what is still in the cgroup, then remove it."""
        procs = self.path / "cgroup.procs"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                members = procs.read_text().split()
            except OSError:
                return
            if not members:
                break
            for pid in members:
                with contextlib.suppress(OSError):
                    os.kill(int(pid), signal.SIGKILL)
            time.sleep(0.01)
        with contextlib.suppress(OSError):
            self.path.rmdir()
