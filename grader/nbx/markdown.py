"""Markdown to HTML for the feedback page, its math as MathML (grader.nbx.mathml).

nbconvert's own markdown parser (mistune with its math rules) finds the formulas:
`$…$`, `$$…$$`, `\\(…\\)`, `\\[…\\]` and `\\begin{…}…\\end{…}`; its renderer would
write them back as TeX for MathJax, this one writes MathML. The HTML that comes out
still goes through the sanitizer (grader.nbx.sanitize.student_html) in the
template, math included. mistune's math rules take time quadratic in the number of
unclosed delimiters, so the page renders at most MAX_MARKDOWN_CHARS of one cell as
markdown (grader.nbx.page_text shows a longer one as text).
"""

from __future__ import annotations

from jinja2 import pass_context
from nbconvert.filters.markdown_mistune import (
    InvalidNotebook,
    IPythonRenderer,
    MarkdownWithMath,
)

from .mathml import tex_to_mathml

MAX_MARKDOWN_CHARS = 20_000  # of one cell; the course's longest has 2,200


class MathMLRenderer(IPythonRenderer):
    """nbconvert's renderer, with formulas as MathML."""

    def block_math(self, body: str) -> str:
        """$$…$$ and \\[…\\]: a display formula."""
        return tex_to_mathml(body, display=True)

    def inline_math(self, body: str) -> str:
        """$…$ and \\(…\\): an inline formula."""
        return tex_to_mathml(body)

    def latex_environment(self, name: str, body: str) -> str:
        """\\begin{name}…\\end{name}: a display formula."""
        return tex_to_mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", display=True)

    def _embed_image_or_attachment(self, src: str) -> str:
        """An attachment as a data: address; a missing one shows no picture
        (nbconvert fails the whole page)."""
        try:
            return super()._embed_image_or_attachment(src)
        except InvalidNotebook:
            return ""


def markdown_html(source: str, attachments: dict | None = None) -> str:
    """A markdown text as HTML, its formulas MathML (not yet sanitized)."""
    renderer = MathMLRenderer(
        escape=False, attachments=attachments or {}, exclude_anchor_links=True
    )
    return MarkdownWithMath(renderer=renderer).render(source)


@pass_context
def markdown_math(context, source: str) -> str:
    """The template's filter: markdown of a cell (with its attachments) or of an
    output, as HTML with MathML."""
    cell = context.get("cell")
    attachments = cell.get("attachments") if isinstance(cell, dict) else None
    if not isinstance(attachments, dict):
        attachments = None
    return markdown_html(str(source), attachments)
