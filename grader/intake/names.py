"""How a file's name says whose notebook it is, and which notebook.

Flat files named by an LMS bulk download are mapped to (student, notebook) by a
regular expression with named groups `student_id` and `file_id`, nbgrader's
ZipCollect convention (`FileNameCollectorPlugin.named_regexp`, matched with
`re.match` at the start of the file's name; DEFAULT_PATTERN describes the shapes it
knows). A group named `moodle`, `canvas` or `blackboard` that takes part in the
match says which LMS wrote the name (NameReading.lms).

An LMS writes a prefix (the student's name and id) before the name the student gave
the file. The id is read from that prefix, anchored where the LMS's own structure
ends, and a name whose student part holds a second such prefix is ambiguous: it is
not read at all (read_name gives the reason), so no student can name a file to be
graded as someone else. Canvas's anonymous downloads ("anon_<id>_…") are read as
Canvas's, the id "anon_<id>"; where a Blackboard user name holding "_" begins is
told by grader.intake.blackboard.

Colab's download decorations ("Copy of …", " (1)") and Canvas's resubmission suffix
("-1") are stripped from a notebook's name; names match the released stems
case-insensitively, with spaces and underscores interchangeable.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from ..course import NOTEBOOKS
from ..model import InputError
from .reading import ZIP_SUFFIX

NOTEBOOK_SUFFIX = ".ipynb"
LMS_KINDS = ("moodle", "canvas", "blackboard")

# How a flat file name says whose notebook it is. Shapes it maps (student id chosen):
#   alice_02_forward_propagation.ipynb                         -> alice
#   Ada Lovelace - Copy of 02_forward_propagation (1).ipynb    -> Ada Lovelace
#   Alice Smith_12345_assignsubmission_file_02_….ipynb         -> 12345 (Moodle)
#   smithalice_12345_67890_02_….ipynb, smithalice_LATE_12345_67890_02_…-1.ipynb
#                                                              -> 12345 (Canvas)
#   anon_L9G4k_67890_02_….ipynb, LATE_anon_L9G4k_67890_02_….ipynb
#                                                              -> anon_L9G4k (Canvas,
#                                                                 anonymous grading)
#   backprop_bitdiddle_attempt_2024-01-30-15-00-00_02_….ipynb  -> bitdiddle (Blackboard)
# Moodle and Canvas: the LMS's numeric id (Moodle's participant id, Canvas's user id),
# which stays the same when a name is spelled differently and is what their grade
# imports match on; Blackboard: the user name, which its Grade Center matches on.
# Otherwise the id is everything before the first "_" or " - ". `file_id` keeps
# Colab's decorations; they are stripped later.
#
# Each LMS's prefix is read up to the first place its structure can end, never the
# last: Moodle writes the full name with every "_" replaced by " " (so the first "_"
# ends it), Canvas writes the sortable name as lower-case word characters (the first
# "_<digits>_<digits>_" ends it; "LATE" is upper case, and a name with capitals is
# none of Canvas's), Blackboard puts the user name
# right before the first "_attempt_<date>_" (a user name holding "_" is told by
# grader.intake.blackboard, from the receipts and the assignment's name). Canvas's
# anonymous downloads write "[LATE_]anon_<anonymous id>" where the name and user
# id were (lib/content_zipper.rb, get_filename): the id is "anon_<anonymous id>".
DEFAULT_PATTERN = r"""(?xi)
^
(?:
    (?P<moodle>[^_]+_)(?=\d+_assignsubmission_[a-z]+_)
  | (?P<canvas>(?!(?-i:LATE_)?anon_)(?-i:[^\WA-Z]+?)_(?-i:LATE_)?(?=\d+_\d+_)
             |(?-i:LATE_)?(?=(?-i:anon_)[^\W_]+_\d+_))
  | (?P<blackboard>.+?_)(?=[^_]+_attempt_\d{4}(?:-\d\d){5}_)
)?
(?P<student_id>(?(canvas)(?-i:anon_)?)[^_]+?)
(?(moodle)_assignsubmission_[a-z]+_
 |(?(canvas)_\d+_
  |(?(blackboard)_attempt_\d{4}(?:-\d\d){5}_
   |(?:\s+-\s+|_))))
(?P<file_id>.+?)
(?:\.ipynb)?$
"""

# The part an LMS writes before the student's own file name: found once in a name it
# is the LMS's; found twice, or inside the part the student named, the name is
# ambiguous (which of them did the LMS write?).
MOODLE_PREFIX = re.compile(r"_assignsubmission_", re.I)
BLACKBOARD_PREFIX = re.compile(r"_attempt_\d{4}(?:-\d\d){5}(?![\d-])", re.I)
PREFIX_IN_FILE_NAME = re.compile(
    r"assignsubmission_|attempt_\d{4}(?:-\d\d){5}|(?:^|_)(?:LATE_)?\d+_\d+_"
    r"|(?:^|_)anon_[^\W_]+_\d+_",
    re.I,
)
CANVAS_ID_FIRST = re.compile(r"\d+_")
PROBE = "x"  # a file name after a folder's or zip's name, to read it as a file's
NO_ID = (
    "the name does not say whose notebook it is: expected the student id and the "
    "notebook name, e.g. alice_{notebook}.ipynb (or a folder per student)"
)
AMBIGUOUS = (
    "ambiguous name: {why}, so whose file it is cannot be told from the part the "
    "LMS wrote; ask the student, then put the file in a folder named after the "
    "student"
)

COPY_PREFIX = re.compile(r"^(?:copy of|copia de|copie de|kopie von|cópia de)\s+", re.I)
COPY_SUFFIX = re.compile(r"(?:\s*\(\d+\)|-\d+|\s+-\s+copy|\s+copy)$", re.I)

# Student ids: an id that is already a safe folder name is kept as it is; any other
# gets a readable ASCII form, "~" (which no kept id holds) and 8 hex digits of its
# SHA-256, so two different ids never share a folder.
KEPT_ID = re.compile(r"(?!\.)[A-Za-z0-9._@-]{1,64}")
UNSAFE_ID_CHARACTERS = re.compile(r"[^A-Za-z0-9._@-]")
ID_EDGES = "._@-"
READABLE_CHARACTERS = 40
HASH_DIGITS = 8
# Letters NFKD leaves as they are but a reader takes for Latin ones (Unicode's
# confusables for the Cyrillic and Greek letters in names, and a few more).
CONFUSABLES = str.maketrans(
    {
        **dict(zip("АВЕКМНОРСТХУЅІЈԚԜ", "ABEKMHOPCTXYSIJQW")),
        **dict(zip("аеорсухѕіјһԁԛԝӏ", "aeopcyxsijhdqwl")),
        **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEZHIKMNOPTYX")),
        **dict(zip("αικνορυχ", "aikvopux")),
        **dict(zip("ıłđøħ", "ildoh")),
        "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "þ": "th",
    }
)  # fmt: skip


@dataclass(frozen=True)
class NameReading:
    """What a file name says: whose, which notebook, and which LMS wrote it."""

    student_id: str  # as the name has it (an LMS's id: Moodle's, Canvas's, …)
    file_id: str  # the part naming the notebook, Colab's decorations included
    lms: str = ""  # "moodle", "canvas", "blackboard", or "" (no LMS's shape)
    # what the LMS wrote before the id ("Ada Lovelace_", "lovelaceada_LATE_",
    # "Backprop_ada_"; "" when no LMS did)
    prefix: str = ""


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


def read_name(
    name: str,
    pattern: str | re.Pattern[str] = DEFAULT_PATTERN,
    notebooks: Sequence[str] = NOTEBOOKS,
) -> NameReading | str:
    """What a flat file's name says, or why it says nothing (ambiguous, no id)."""
    reading, why = _read(name, pattern)
    if reading is None:
        return NO_ID.format(notebook=notebooks[0])
    return AMBIGUOUS.format(why=why) if why else reading


def read_owner(
    name: str, pattern: str | re.Pattern[str] = DEFAULT_PATTERN
) -> NameReading | str | None:
    """Whose folder or zip this is, when an LMS named it; None when no LMS did.

    Moodle's "download submissions in folders" writes one folder per student,
    "Full Name_12345_assignsubmission_file" ("…_file_" before Moodle 4.1), holding
    what the student uploaded; Moodle, Canvas and Blackboard name a zip a student
    uploaded like any file. Everything inside belongs to that student, whatever it
    is called. A str is the reason an LMS's name is ambiguous.
    """
    folder = not name.lower().endswith(ZIP_SUFFIX)
    stem = name if folder else name[: -len(ZIP_SUFFIX)]
    probe = (stem if stem.endswith("_") else stem + "_") + PROBE
    reading, why = _read(probe, pattern)
    if reading is None:
        return None
    moodle = reading.lms == "moodle" or MOODLE_PREFIX.search(stem)
    lms = reading.lms or BLACKBOARD_PREFIX.search(stem)
    if not (moodle if folder else moodle or lms):  # only Moodle makes folders
        return None
    if why:
        return AMBIGUOUS.format(why=why)
    if folder and reading.lms != "moodle":
        return None
    if reading.lms == "canvas" and CANVAS_ID_FIRST.match(reading.file_id):
        # "evil_99999_55555_66666_work.zip": the user "evil_99999" (55555) or the
        # user "evil" (99999)? Canvas writes a name ending in "_<digits>" as it is.
        named = reading.file_id.removesuffix(PROBE).removesuffix("_")
        return AMBIGUOUS.format(
            why=f"the part its owner named ({named!r}) starts with digits, so the "
            "Canvas name before the ids may itself end in an id"
        )
    return reading


def _read(name: str, pattern: str | re.Pattern[str]) -> tuple[NameReading | None, str]:
    """The pattern's reading of a name (None: no match) and why it is ambiguous
    ("" when it is not)."""
    match = compiled_pattern(pattern).match(name)
    if not match or not match.group("student_id") or not match.group("file_id"):
        return None, ""
    groups = match.groupdict()
    lms = next((kind for kind in LMS_KINDS if groups.get(kind) is not None), "")
    prefix = groups[lms] if lms else ""
    reading = NameReading(
        match.group("student_id"), match.group("file_id"), lms, prefix
    )
    return reading, _ambiguity(name, reading)


def _ambiguity(name: str, reading: NameReading) -> str:
    """Why the name is ambiguous ("" when it is not)."""
    prefixes = len(MOODLE_PREFIX.findall(name)) + len(BLACKBOARD_PREFIX.findall(name))
    if prefixes > 1:
        return f"it holds {prefixes} LMS prefixes where an LMS writes one"
    inner = PREFIX_IN_FILE_NAME.search(reading.file_id)
    if inner:
        return (
            f"the part its owner named ({reading.file_id!r}) holds {inner.group()!r}, "
            "which an LMS writes before a student's name"
        )
    return ""


def safe_student_id(raw: str) -> str:
    """The id as a folder name, one per id ("" if it has no letter or digit).

    An id that is already safe (at most 64 of [A-Za-z0-9._@-], not starting with a
    dot) is kept as it is. Any other becomes a readable ASCII form, "~" and 8 hex
    digits of the SHA-256 of its NFC form: "José" -> "Jose~…", a Cyrillic "Аlice" ->
    "Alice~…", so it stays apart from "Jose" and "Alice" (the report lists such ids
    as look-alikes). The same id gives the same folder in every run.
    """
    text = unicodedata.normalize("NFC", raw)
    if not any(char.isalnum() for char in text):
        return ""
    if KEPT_ID.fullmatch(text) and any(
        char.isascii() and char.isalnum() for char in text
    ):
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{_readable(text) or 'id'}~{digest[:HASH_DIGITS]}"


def _readable(text: str) -> str:
    """An ASCII form of an id: look-alike letters as Latin, accents dropped, spaces
    and path separators as "_", anything else outside [A-Za-z0-9._@-] removed."""
    text = unicodedata.normalize("NFKD", text.translate(CONFUSABLES))
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = re.sub(r"[\s/\\]+", "_", text.strip())
    text = UNSAFE_ID_CHARACTERS.sub("", text).strip(ID_EDGES + "_")
    return text[:READABLE_CHARACTERS].rstrip(ID_EDGES + "_")


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
