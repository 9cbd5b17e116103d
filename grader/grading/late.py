"""Late work: course.toml's [late] policy, applied from the recorded submission time.

A notebook is late when the LMS recorded it after the due date. Its penalty is
taken off its score as nbgrader's late_submission_penalty is (one per notebook,
never more than the score): "none" records the lateness only; "zero" takes the
whole score (nbgrader's LateSubmissionPlugin, penalty_method = "zero");
"per_day" takes percent_per_day percent of the notebook's maximum score for each
started day late (a minute late is one day). The penalty follows the score: a
score changed in formgrader changes it on the next run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..model import ClassResults, InputError, Lateness

PENALTIES = ("none", "zero", "per_day")
KEYS = {"due", "penalty", "percent_per_day"}


@dataclass(frozen=True)
class LatePolicy:
    """course.toml's [late] table; no due date means nothing is late."""

    due: dt.datetime | None = None  # time zone aware
    penalty: str = "none"  # one of PENALTIES
    percent_per_day: float = 0.0  # with "per_day": of the notebook's max score

    @classmethod
    def from_settings(cls, settings: dict) -> LatePolicy:
        """The [late] table of course.toml's `settings`; InputError naming the key
        for a value the grader cannot use."""
        table = settings.get("late", {})
        unknown = sorted(set(table) - KEYS)
        if unknown:
            raise InputError(
                f"course.toml [late] has unknown keys {unknown}; it takes "
                f"{sorted(KEYS)}"
            )
        due = table.get("due")
        if due is not None and not (
            isinstance(due, dt.datetime) and due.tzinfo is not None
        ):
            raise InputError(
                "course.toml [late] due must be a date and time with its offset "
                f"from UTC, unquoted, e.g. due = 2026-11-20T23:59:00+01:00; got "
                f"{due!r}"
            )
        penalty = table.get("penalty", "none")
        if penalty not in PENALTIES:
            raise InputError(
                f"course.toml [late] penalty must be one of {', '.join(PENALTIES)}; "
                f"got {penalty!r}"
            )
        percent = table.get("percent_per_day", 0)
        if (
            isinstance(percent, bool)
            or not isinstance(percent, (int, float))
            or not 0 <= percent <= 100
        ):
            raise InputError(
                "course.toml [late] percent_per_day must be a number from 0 to 100 "
                f"(the share of a notebook's points each day late costs); got "
                f"{percent!r}"
            )
        if penalty == "per_day" and not percent:
            raise InputError(
                'course.toml [late] penalty = "per_day" needs percent_per_day, '
                "e.g. percent_per_day = 10"
            )
        return cls(due, penalty, float(percent))

    def lateness(
        self, submitted: dt.datetime, score: float, max_score: float
    ) -> Lateness | None:
        """How late a notebook handed in at `submitted` is, and what it costs;
        None when it is on time (or there is no due date)."""
        if self.due is None or submitted <= self.due:
            return None
        late = Lateness(submitted, self.due, 0.0)
        if self.penalty == "zero":
            penalty = score
        elif self.penalty == "per_day":
            penalty = max_score * self.percent_per_day / 100 * late.days
        else:
            penalty = 0.0
        return Lateness(submitted, self.due, max(0.0, min(score, penalty)))

    def apply(
        self, results: ClassResults, submitted: dict[tuple[str, str], dt.datetime]
    ) -> dict[tuple[str, str], Lateness]:
        """(student, notebook) -> its Lateness, for every late notebook."""
        late = {}
        for grade in results.grades:
            when = submitted.get((grade.student, grade.notebook))
            if when is None:
                continue
            found = self.lateness(when, grade.score, grade.max_score)
            if found is not None:
                late[grade.student, grade.notebook] = found
        return late


def student_times(
    submitted: dict[tuple[str, str], dt.datetime],
) -> dict[str, dt.datetime]:
    """student -> the time of their last notebook (nbgrader's timestamp)."""
    latest: dict[str, dt.datetime] = {}
    for (student, _), when in submitted.items():
        if student not in latest or when > latest[student]:
            latest[student] = when
    return latest
