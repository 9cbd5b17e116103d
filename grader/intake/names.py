"""How a file's name says whose notebook it is, and which notebook.

Flat files named by an LMS bulk download are mapped to (student, notebook) by a
regular expression with named groups `student_id` and `file_id`, nbgrader's
ZipCollect convention (`FileNameCollectorPlugin.named_regexp`, matched with
`re.match` at the start of the file's name; DEFAULT_PATTERN describes the shapes it
knows). Colab's download decorations ("Copy of …", " (1)") and Canvas's resubmission
suffix ("-1") are stripped from a notebook's name; names match the released stems
case-insensitively, with spaces and underscores interchangeable.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from ..course import NOTEBOOKS
from .errors import InputError

NOTEBOOK_SUFFIX = ".ipynb"

# How a flat file name says whose notebook it is. Shapes it maps (student id chosen):
#   alice_02_forward_propagation.ipynb                         -> alice
#   Ada Lovelace - Copy of 02_forward_propagation (1).ipynb    -> Ada_Lovelace
#   Alice Smith_12345_assignsubmission_file_02_….ipynb         -> 12345 (Moodle)
#   smithalice_12345_67890_02_….ipynb, smithalice_LATE_12345_67890_02_…-1.ipynb
#                                                              -> 12345 (Canvas)
#   backprop_bitdiddle_attempt_2024-01-30-15-00-00_02_….ipynb  -> bitdiddle (Blackboard)
# Moodle and Canvas: the LMS's numeric id (Moodle's participant id, Canvas's user id),
# which stays the same when a name is spelled differently and is what their grade
# imports match on; Blackboard: the user name. Otherwise the id is everything before
# the first "_" or " - ". `file_id` keeps Colab's decorations; they are stripped later.
DEFAULT_PATTERN = r"""(?xi)
^
(?:
    (?P<moodle>.*_)(?=\d+_assignsubmission_)    # Moodle: "Full Name_"
  | (?P<canvas>[^_]+_(?:late_)?)(?=\d+_\d+_)    # Canvas: "lastfirst_" and "LATE_"
  | (?P<blackboard>.*_)(?=[^_]+_attempt_\d)      # Blackboard: "Assignment Name_"
)?
(?P<student_id>[^_]+?)
(?(moodle)_assignsubmission_[^_]+_
 |(?(canvas)_\d+_
  |(?(blackboard)_attempt_[\d-]+_
   |(?:\s+-\s+|_))))
(?P<file_id>.+?)
(?:\.ipynb)?$
"""

COPY_PREFIX = re.compile(r"^(?:copy of|copia de|copie de|kopie von|cópia de)\s+", re.I)
COPY_SUFFIX = re.compile(r"(?:\s*\(\d+\)|-\d+|\s+-\s+copy|\s+copy)$", re.I)
UNSAFE_ID_CHARACTERS = re.compile(r"[^A-Za-z0-9._@-]")


def compiled_pattern(pattern: str | re.Pattern[str]) -> re.Pattern[str]:
    """The pattern compiled; InputError unless it has groups student_id and file_id."""
    try:
        regexp = re.compile(pattern) if isinstance(pattern, str) else pattern
    except re.error as error:
        message = f"the file name pattern is not a regular expression: {error}"
        raise InputError(message) from error
    missing = {"student_id", "file_id"} - set(regexp.groupindex)
    if missing:
        raise InputError(
            "the file name pattern needs the named groups (?P<student_id>…) and "
            f"(?P<file_id>…); it lacks {', '.join(sorted(missing))}"
        )
    return regexp


def safe_student_id(raw: str) -> str:
    """The id made safe as a folder name ("" if nothing usable is left).

    Accents are dropped (José -> Jose), path separators and runs of whitespace become
    "_", characters outside [A-Za-z0-9._@-] are removed, and so are leading dots
    and underscores (nbgrader ignores folders starting with a dot).
    """
    text = unicodedata.normalize("NFKD", raw)
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = re.sub(r"[\s/\\]+", "_", text.strip())
    return UNSAFE_ID_CHARACTERS.sub("", text).lstrip("._").rstrip("_")


def released_stem(name: str, notebooks: Sequence[str] = NOTEBOOKS) -> str | None:
    """The released notebook a (possibly Colab-decorated) name stands for, if any."""
    wanted = _name_key(undecorated(name))
    return next((stem for stem in notebooks if _name_key(stem) == wanted), None)


def undecorated(name: str) -> str:
    """The name without extension, "Copy of " prefixes and " (1)"/"-1" suffixes."""
    name = name.strip()
    if name.lower().endswith(NOTEBOOK_SUFFIX):
        name = name[: -len(NOTEBOOK_SUFFIX)]
    previous = None
    while previous != name:
        previous = name
        name = COPY_SUFFIX.sub("", COPY_PREFIX.sub("", name)).strip()
    return name


def _name_key(name: str) -> str:
    """How names are compared: case-insensitive, spaces and underscores alike."""
    return re.sub(r"[\s_]+", "_", name.strip()).casefold()
