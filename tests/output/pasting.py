"""A catalogue entry printed by `python -m grader mistake-entry`, pasted where its
comments say (the end of _ENTRIES, VALUES_IN_CHECKS), as a maintainer does."""

from __future__ import annotations

import itertools
from pathlib import Path

STEPS = ("# 1.", "# 2.", "# 3.")  # the comments that start each step
VALUES_MARKER = "    # --- values pasted from `python -m grader mistake-entry`"


def paste_entry(mistakes_py: Path, entry: str) -> None:
    """Paste the entry's step 1 at the end of _ENTRIES and its step 2 into
    VALUES_IN_CHECKS of the mistakes.py at `mistakes_py`."""
    lines = entry.splitlines()
    steps = [n for n, line in enumerate(lines) if line.startswith(STEPS)]
    mistake, values = (
        [line for line in lines[start:end] if not line.startswith("#")]
        for start, end in itertools.pairwise(steps)
    )
    text = mistakes_py.read_text(encoding="utf-8")
    close = text.index("\n)  # fmt: skip", text.index("_ENTRIES = ("))
    text = text[:close] + "\n" + "\n".join(mistake) + text[close:]
    after = text.index("\n", text.index(VALUES_MARKER))
    text = text[:after] + "\n" + "\n".join(values) + text[after:]
    mistakes_py.write_text(text, encoding="utf-8")
