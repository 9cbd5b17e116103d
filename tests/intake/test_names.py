"""names: what a file name says (the LMS's part, never the student's) and safe ids."""

from __future__ import annotations

import re
import subprocess
import sys
import unicodedata

import pytest

from grader.intake.names import DEFAULT_PATTERN, NameReading, read_name, safe_student_id

STAMP = "2024-05-17-10-00-00"


@pytest.mark.parametrize(
    ("name", "student_id", "lms", "file_id"),
    [
        # Moodle writes "Full Name_<participant id>_assignsubmission_file_<name>",
        # the full name with "_" replaced by " " (so the first "_" ends it).
        ("Ada Lovelace_12345_assignsubmission_file_02_forward_propagation.ipynb",
         "12345", "moodle", "02_forward_propagation"),
        ("Participant_777_assignsubmission_file_Copy of 01_sigmoid.ipynb",
         "777", "moodle", "Copy of 01_sigmoid"),
        ("Team A-Ada Lovelace_12345_assignsubmission_file_01_sigmoid (1).ipynb",
         "12345", "moodle", "01_sigmoid (1)"),
        ("Ada 2nd Lovelace_12345_assignsubmission_file_01_sigmoid.ipynb",
         "12345", "moodle", "01_sigmoid"),
        # Canvas: "<lastfirst>[_LATE]_<user id>_<file id>_<name>", lastfirst its
        # word characters, lower case; a resubmitted file gets "-1".
        ("lovelaceada_12345_67890_02_forward_propagation.ipynb",
         "12345", "canvas", "02_forward_propagation"),
        ("lovelaceada_LATE_12345_67890_02_forward_propagation-1.ipynb",
         "12345", "canvas", "02_forward_propagation-1"),
        ("lateada_12345_67890_01_sigmoid.ipynb", "12345", "canvas", "01_sigmoid"),
        ("oneil_shaq_12345_67890_01_sigmoid.ipynb", "12345", "canvas", "01_sigmoid"),
        ("zoëmüller_12345_67890_01_sigmoid.ipynb", "12345", "canvas", "01_sigmoid"),
        # Blackboard: "<Assignment>_<user name>_attempt_<stamp>_<name>".
        (f"Backprop Week 2_jdoe3_attempt_{STAMP}_02_forward_propagation.ipynb",
         "jdoe3", "blackboard", "02_forward_propagation"),
        (f"HW_2_jdoe3_attempt_{STAMP}_01_sigmoid.ipynb",
         "jdoe3", "blackboard", "01_sigmoid"),
        # Canvas's anonymous grading: "[LATE_]anon_<anonymous id>_<file id>_<name>".
        ("anon_L9G4k_67890_01_sigmoid.ipynb", "anon_L9G4k", "canvas", "01_sigmoid"),
        ("LATE_anon_L9G4k_67890_01_sigmoid-1.ipynb", "anon_L9G4k", "canvas",
         "01_sigmoid-1"),
        # Not an LMS: the id is what comes before the first "_" or " - ".
        ("alice_02_forward_propagation.ipynb", "alice", "", "02_forward_propagation"),
        ("Ada Lovelace - Copy of 01_sigmoid (1).ipynb", "Ada Lovelace", "",
         "Copy of 01_sigmoid (1)"),
    ],
)  # fmt: skip
def test_lms_names_are_read_from_the_part_the_lms_wrote(name, student_id, lms, file_id):
    """The id is the LMS's (Moodle participant, Canvas user id, Blackboard user
    name); `lms` says which LMS wrote the name, so grades can go back to it."""
    reading = read_name(name, DEFAULT_PATTERN)
    assert (reading.student_id, reading.file_id, reading.lms) == (
        student_id, file_id, lms
    )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("Ada Lovelace_12345_assignsubmission_file_01_sigmoid.ipynb", "Ada Lovelace_"),
        ("lovelaceada_LATE_12345_67890_01_sigmoid.ipynb", "lovelaceada_LATE_"),
        ("LATE_anon_L9G4k_67890_01_sigmoid.ipynb", "LATE_"),
        ("anon_L9G4k_67890_01_sigmoid.ipynb", ""),
        (f"Backprop_ada_l_attempt_{STAMP}_01_sigmoid.ipynb", "Backprop_ada_"),
        ("alice_01_sigmoid.ipynb", ""),
    ],
)  # fmt: skip
def test_the_reading_keeps_what_the_lms_wrote_before_the_id(name, prefix):
    """The prefix holds the name (Moodle, Canvas), Canvas's LATE, and the start
    of a Blackboard user name that holds "_" (told apart by collect)."""
    assert read_name(name, DEFAULT_PATTERN).prefix == prefix


# A student chooses the file's own name; the LMS writes its prefix before it. Each
# name holds a second prefix inside the student's part, naming victim 99999.
AMBIGUOUS = {
    "moodle-in-moodle": "Mallory Evil_55555_assignsubmission_file_"
    "99999_assignsubmission_file_01_sigmoid.ipynb",
    "moodle-name-in-moodle": "Mallory Evil_55555_assignsubmission_file_"
    "Victor Victim_99999_assignsubmission_file_01_sigmoid.ipynb",
    "moodle-in-canvas": "evilmallory_55555_70002_"
    "Victor Victim_99999_assignsubmission_file_01_sigmoid.ipynb",
    "canvas-in-canvas": "evilmallory_55555_70002_"
    "victimvera_99999_70003_01_sigmoid.ipynb",
    "canvas-in-moodle": "Mallory Evil_55555_assignsubmission_file_"
    "victimvera_99999_70003_01_sigmoid.ipynb",
    "blackboard-in-blackboard": f"Backprop_mallory_attempt_{STAMP}_"
    f"Backprop_99999_attempt_{STAMP}_01_sigmoid.ipynb",
    "blackboard-in-canvas": "evilmallory_55555_70002_"
    f"Backprop_99999_attempt_{STAMP}_01_sigmoid.ipynb",
    "blackboard-in-moodle": "Mallory Evil_55555_assignsubmission_file_"
    f"Backprop_99999_attempt_{STAMP}_01_sigmoid.ipynb",
    "anon-in-canvas": "evilmallory_55555_70002_anon_V1ctm_70003_01_sigmoid.ipynb",
    "canvas-in-anon": "anon_Ev1lx_70002_victimvera_99999_70003_01_sigmoid.ipynb",
    # A Canvas user named "evil_99999" (Canvas keeps a name ending in "_<digits>"),
    # user id 55555, uploads 01_sigmoid.ipynb:
    "canvas-name-ending-in-an-id": "evil_99999_55555_66666_01_sigmoid.ipynb",
    # Moodle replaces "_" in full names: this one was not written by Moodle.
    "underscore-in-moodle-name": "Jean_Luc Picard_4242_assignsubmission_file_"
    "01_sigmoid.ipynb",
}


@pytest.mark.parametrize("name", AMBIGUOUS.values(), ids=AMBIGUOUS.keys())
def test_a_name_holding_a_second_lms_prefix_is_ambiguous(name):
    """Not read at all: the reason says the name is ambiguous and what to do."""
    reason = read_name(name, DEFAULT_PATTERN)
    assert isinstance(reason, str)
    assert reason.startswith("ambiguous name:"), reason
    assert "folder named after the student" in reason


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("untitled.ipynb", "does not say whose notebook it is"),
        ("alice.ipynb", "does not say whose notebook it is"),
    ],
)
def test_a_name_without_an_id_says_so(name, words):
    reason = read_name(name, DEFAULT_PATTERN)
    assert isinstance(reason, str) and words in reason


def test_a_custom_pattern_names_its_lms_with_a_group():
    """A --pattern may mark an LMS with a group named moodle, canvas or blackboard."""
    pattern = r"(?P<canvas>)(?P<student_id>\d+)-(?P<file_id>.+)\.ipynb"
    assert read_name("12345-01_sigmoid.ipynb", pattern) == NameReading(
        "12345", "01_sigmoid", "canvas"
    )
    plain = r"(?P<file_id>.+)__(?P<student_id>[a-z]+)\.ipynb"
    assert read_name("01_sigmoid__alice.ipynb", plain) == NameReading(
        "alice", "01_sigmoid", ""
    )


# ---------------------------------------------------------------- safe student ids

SAFE = re.compile(r"[A-Za-z0-9_@-][A-Za-z0-9._@~-]{0,63}")


@pytest.mark.parametrize(
    "raw", ["alice", "a.smith@uni.edu", "s1234567", "12345", "Bob", "o.neil-2",
            "_alice", "-2-3", "jean_luc"],
)  # fmt: skip
def test_ids_that_are_safe_folder_names_are_kept_as_they_are(raw):
    assert safe_student_id(raw) == raw


@pytest.mark.parametrize(
    ("raw", "readable"),
    [
        ("José Núñez", "Jose_Nunez~"),
        ("Аlice", "Alice~"),  # Cyrillic А
        ("Ａlice", "Alice~"),  # full-width Ａ
        ("ﬁona", "fiona~"),  # the ligature ﬁ
        ("@SUM(A1)", "SUMA1~"),
        ("../etc", "etc~"),
        (".hidden", "hidden~"),
        ("a/b\\c", "a_b_c~"),
        ("alice<script>", "alicescript~"),
        ("  Ada   Lovelace ", "Ada_Lovelace~"),
        ("李明", "id~"),
        ("x" * 200, "x" * 40 + "~"),
    ],
)
def test_other_ids_get_a_readable_ascii_form_and_a_hash(raw, readable):
    """Never a dot first, nothing but [A-Za-z0-9._@~-], at most 64 characters."""
    safe = safe_student_id(raw)
    assert safe.startswith(readable)
    assert re.fullmatch(r"[^.~][A-Za-z0-9._@-]*~[0-9a-f]{8}", safe), safe
    assert SAFE.fullmatch(safe)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("José", "Jose"),
        ("Аlice", "Alice"),  # Cyrillic А
        ("Ａlice", "Alice"),
        ("ﬁona", "fiona"),
        ("Ada Lovelace", "Ada_Lovelace"),
        ("a/b", "a_b"),
        ("alice<script>", "alicescript"),
        ("../etc", "etc"),
        (".hidden", "hidden"),
        ("alice ", "alice"),
        ("x" * 200, "x" * 201),
    ],
)
def test_ids_that_differ_stay_apart(one, other):
    """Two different ids never share a folder (they used to: José and Jose)."""
    assert safe_student_id(one) != safe_student_id(other)


def test_the_same_name_in_nfc_or_nfd_is_one_student():
    """A name decomposed by macOS (NFD) is the same text as its NFC form."""
    name = "José"
    nfd = unicodedata.normalize("NFD", name)
    assert nfd != name
    assert safe_student_id(nfd) == safe_student_id(name)


def test_an_id_is_the_same_in_every_run():
    """The hash is not Python's per-process hash(): resuming finds the same folder."""
    code = (
        "from grader.intake.names import safe_student_id\n"
        "print(safe_student_id('José'))"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        for _ in range(2)
    }
    assert runs == {safe_student_id("José") + "\n"}
