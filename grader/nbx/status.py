"""How a notebook's run ended: the executor writes it, the grading stage reads it.

One small JSON file per notebook, outside the student's folder: the status, the
sentence that says why, and each code cell's seconds (what `python -m grader
release` keeps of the answer key's run).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..model import Status


@dataclass
class RunRecord:
    """How one notebook's run ended."""

    status: Status
    detail: str = ""
    seconds: dict[str, float] = field(default_factory=dict)  # cell -> seconds


class RunRecorder:
    """Keeps what happens while a notebook runs, for its RunRecord: each stop or
    death (its status and sentence), each code cell's seconds."""

    def __init__(self) -> None:
        self.events: list[tuple[Status, str]] = []
        self.seconds: dict[str, float] = {}

    def add(self, status: Status, sentence: str) -> None:
        """Something stopped the run or a cell (the first thing sets the status)."""
        self.events.append((status, sentence))

    def time(self, cell: str, seconds: float) -> None:
        """The code cell `cell` took `seconds`."""
        self.seconds[cell] = seconds

    def record(self) -> RunRecord:
        """How the run ended: the first event's status (ok when none), every
        sentence once."""
        if not self.events:
            return RunRecord(Status.OK, "", self.seconds)
        sentences = dict.fromkeys(sentence for _, sentence in self.events)
        return RunRecord(self.events[0][0], "; ".join(sentences), self.seconds)


def status_path(status_dir: str | Path, notebook: str) -> Path:
    """Where the record of one notebook's run is kept."""
    return Path(status_dir) / f"{notebook}.status.json"


def write_record(status_dir: str | Path, notebook: str, record: RunRecord) -> None:
    """Keep how a notebook's run ended."""
    path = status_path(status_dir, notebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"status": str(record.status), "detail": record.detail}
    path.write_text(json.dumps({**data, "seconds": record.seconds}))


def read_record(status_dir: str | Path, notebook: str) -> RunRecord | None:
    """How a notebook's run ended, or None when it never ran."""
    path = status_path(status_dir, notebook)
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return RunRecord(Status(data["status"]), data["detail"], data.get("seconds", {}))
