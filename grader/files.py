"""Writing the grader's files: whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, content: str | bytes) -> None:
    """Write to a temp file in the same folder, then os.replace it over `path`.

    Readers see the old file or the new one, never half of one. Text is written as
    UTF-8 with its newlines as given. The file is readable by its owner only
    (mkstemp's 0600): what the grader writes holds students' grades.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        with open(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
