"""The feedback page names the mistakes at the top of each failing test.

A hidden test names the mistakes it recognised by their ids in the course's
catalogue (grader.catalogue); the grader records them as data in the autograded
notebook's metadata (grader.nbx.grades.add_notes), and the class report and
misconceptions.csv count the class by the same ids. NameMistakes gives each
failing test's verdict on the feedback page the same names, with what each means
and where the notebook teaches it, for the template to show above the test's
message (grader/nbx/feedback.py renders the verdicts; this only adds to them).

It runs after FeedbackPage, which gathered the verdicts into
resources["grader_feedback"]: each verdict (in "tests" and "by_test") gets
"misconceptions" (KEY: the word the page shows a student), a list of {label,
mistake_id, notebook, meaning, taught}, empty for a test that passed or named no
known mistake.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode
from traitlets.config import Config

from ..catalogue import named_found, named_mistakes
from ..course import ASSIGNMENT
from .feedback import RESOURCES_KEY, FeedbackPage
from .grades import GRADER_KEY

KEY = "misconceptions"  # in each verdict, for the template


class NameMistakes(NbGraderPreprocessor):
    """Add the mistakes each failing test named to its verdict."""

    source_dir = Unicode(
        "",
        help="The graded course's source folder: its backprop_helper/mistakes.py is "
        "the catalogue the hidden tests name mistakes from (configure_mistake_names "
        "sets it; without it, no names).",
    ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict):
        """Name the mistakes of every failing test's verdict."""
        page = resources.get(RESOURCES_KEY)
        if not page:
            return nb, resources
        findings = nb.metadata.get(GRADER_KEY, {}).get("findings")
        for verdict in [*page.get("tests", []), *page.get("by_test", {}).values()]:
            verdict[KEY] = self._named(verdict, findings)
        return nb, resources

    def _named(self, verdict: dict, findings: dict | None) -> list[dict]:
        """The mistakes one verdict's test found ([] when it passed): from
        the findings the grader recorded (grader.nbx.grades.add_notes), or read
        from the message when the tests ran in the kernel (findings None)."""
        if verdict.get("passed", True) or not self.source_dir:
            return []
        source_dir = Path(self.source_dir)
        try:
            if isinstance(findings, dict):
                found = findings.get(str(verdict.get("name")), {}).get("found", [])
                named = named_found(found, source_dir)
            else:
                named = named_mistakes(str(verdict.get("message", "")), source_dir)
        except (OSError, SyntaxError, ImportError) as error:
            # No catalogue, no names: the page still shows the test's message.
            self.log.warning("the mistake catalogue could not be read: %s", error)
            return []
        return [asdict(mistake) for mistake in named]


def configure_mistake_names(config: Config, course_root: Path) -> None:
    """Run NameMistakes right after FeedbackPage in GenerateFeedback, with
    the catalogue of the course folder `course_root` (its source/<assignment>/)."""
    preprocessors = list(config.GenerateFeedback.preprocessors)
    if NameMistakes not in preprocessors:
        where = (
            preprocessors.index(FeedbackPage) + 1
            if FeedbackPage in preprocessors
            else len(preprocessors)
        )
        preprocessors.insert(where, NameMistakes)
    config.GenerateFeedback.preprocessors = preprocessors
    config.NameMistakes.source_dir = str(Path(course_root) / "source" / ASSIGNMENT)
