"""The catalogue entry for an unnamed group, as a maintainer pastes it:
`python -m grader mistake-entry OUT GROUP`.

A group of the class report's "Wrong answers no catalogue names" (grader.output.
unnamed, its values in OUT/unnamed-mistakes.json) becomes a known mistake with two
pastes into the course's backprop_helper/mistakes.py: a Mistake in _ENTRIES (id,
notebook, name, meaning, where it is taught) and what it gives in the check that
found it, in VALUES_IN_CHECKS (check title -> key -> {id: value}; a 1-D array's
value is the list of all its elements, as in a check's mistakes= map). The next
run's check_values reads both and names the mistake where every compared value
matches it.
"""

from __future__ import annotations

import json
import math
import re
from types import ModuleType

from ..catalogue import mistakes_module
from ..course import Course
from .unnamed import UnnamedGroup

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9.-]*")  # as the catalogue's ids
ELEMENT = re.compile(r"(.+)\[(\d+)\]")  # "w[3]": element 3 of the array w
WIDTH = 88


def entry_values(group: UnnamedGroup) -> dict[str, float | list[float]]:
    """key -> what the group's first student got, for each key the check found
    wrong: a number, or every element of a 1-D array in order."""
    got = {key: value for key, _, value in group.compared}
    values: dict[str, float | list[float]] = {}
    for key in group.wrong:
        element = ELEMENT.fullmatch(key)
        if key in got and not (element and f"{element[1]}[0]" in got):
            values[key] = got[key]
            continue
        base, elements = element[1], []
        while f"{base}[{len(elements)}]" in got:
            elements.append(got[f"{base}[{len(elements)}]"])
        values[base] = elements
    return values


def check_entry(module: ModuleType, mistake_id: str, name: str) -> None:
    """Raise ValueError, saying why, when the id or name would break the
    catalogue's rules (a slug not taken; a name without ":" or ";" that is no
    other name's prefix, and none its)."""
    if not ID_PATTERN.fullmatch(mistake_id):
        raise ValueError(
            f"the id {mistake_id!r} is not a slug (lower-case letters, digits, "
            "'-' and '.'): choose another with --id"
        )
    if mistake_id in module.CATALOGUE:
        raise ValueError(f"the catalogue has an id {mistake_id!r}: choose another")
    if ":" in name or ";" in name or not name.strip():
        raise ValueError(f"the name {name!r} must hold no ':' or ';': see --name")
    for other in module.CATALOGUE.values():
        if other.name.startswith(name) or name.startswith(other.name):
            raise ValueError(
                f"the name {name!r} and the catalogue's {other.name!r} ({other.id}) "
                "start alike, which messages cannot tell apart: choose another"
            )


def mistake_entry(
    group: UnnamedGroup,
    course: Course,
    *,
    mistake_id: str = "",
    name: str = "",
    meaning: str = "",
    taught: str = "",
) -> str:
    """What to paste into the course's mistakes.py to name `group` (defaults: an
    id and a name made from the test, a meaning and a place that say where it was
    found). Raises ValueError when id or name break the catalogue's rules."""
    module = mistakes_module(course.source_dir)
    rank = group.group_id.rsplit("-", 1)[-1]
    mistake_id = mistake_id or f"{group.test.removeprefix('test_')}-{rank}".replace(
        "_", "-"
    )
    keys = ", ".join(entry_values(group)) or "values"
    name = name or f"wrong {keys} (group {rank} of {group.test})"
    students = f"{group.count} student{'s' if group.count != 1 else ''}"
    meaning = meaning or (
        f"Found by the class report among the wrong answers no catalogue named "
        f"({students} in {group.test})."
    )
    taught = taught or f"{group.notebook[:2]} · {group.test}"
    check_entry(module, mistake_id, name)
    notebook = next(
        (
            constant
            for constant, value in vars(module).items()
            if constant.isupper() and value == group.notebook
        ),
        repr(group.notebook),
    )
    ids = ", ".join(group.students[:10]) + (", …" if group.count > 10 else "")
    values = "\n".join(
        f"        {_string(key)}: {{{_string(mistake_id)}: {_python(value, 8)}}},"
        for key, value in entry_values(group).items()
    )
    return "\n".join(
        [
            f"# {group.group_id}: {students} ({ids}),",
            f"# found by {group.test} of {group.notebook}.",
            "#",
            "# 1. In backprop_helper/mistakes.py, add to _ENTRIES (in its notebook's",
            "#    section); make the name, meaning and place your own words:",
            f"    ({_string(mistake_id)}, {notebook},",
            f"     {_wrapped(name, 5)},",
            f"     {_wrapped(meaning, 5)},",
            f"     {_wrapped(taught, 5)}),",
            "#",
            "# 2. In the same file, add to VALUES_IN_CHECKS what it gives in the check",
            "#    that found it:",
            f"    {_wrapped(group.what, 4)}: {{",
            values,
            "    },",
            "#",
            "# 3. Grade again (the course changed: every student is graded anew) and",
            "#    the check names it; `python -m grader release` for the release.",
        ]
    )


def _string(text: str) -> str:
    """A string as Python source, in double quotes (JSON's escapes are Python's)."""
    return json.dumps(text, ensure_ascii=False)


def _wrapped(text: str, indent: int) -> str:
    """A string as Python source: pieces on lines of WIDTH columns at most, as
    the catalogue writes long texts (adjacent literals, split after spaces)."""
    room = WIDTH - indent - 4
    pieces, piece = [], ""
    for word in re.split(r"(?<= )", text):
        if piece and len(_string(piece + word)) > room:
            pieces.append(piece)
            piece = ""
        piece += word
    pieces.append(piece)
    return f"\n{' ' * indent}".join(_string(piece) for piece in pieces)


def _python(value: float | list[float], indent: int) -> str:
    """A value as Python source, a long list wrapped at WIDTH columns."""
    if not isinstance(value, list):
        return _float(value)
    items = [_float(item) for item in value]
    one_line = f"[{', '.join(items)}]"
    if indent + len(one_line) + 30 <= WIDTH:
        return one_line
    lines, line = [], ""
    for item in items:
        if line and indent + 4 + len(line) + len(item) + 2 > WIDTH:
            lines.append(line.rstrip())
            line = ""
        line += f"{item}, "
    lines.append(line.rstrip())
    pad = " " * (indent + 4)
    return "[\n" + "\n".join(pad + text for text in lines) + "\n" + " " * indent + "]"


def _float(value: float) -> str:
    """A float as Python source that reads back the same value."""
    return repr(value) if math.isfinite(value) else f'float("{value!r}")'
