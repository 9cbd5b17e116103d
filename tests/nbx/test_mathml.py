"""Math on the feedback page (grader/nbx/mathml.py, grader/nbx/markdown.py): every
formula of the five notebooks as MathML, the allowlist exactly what latex2mathml
writes less what the page drops, a student's hostile TeX inert and quick (property
tests with hypothesis's per-example deadline as the time bound).
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from latex2mathml import commands
from latex2mathml.converter import convert_to_element

from grader.course import NOTEBOOKS, SOURCE_DIR
from grader.nbx.markdown import markdown_html
from grader.nbx.mathml import (
    DROPPED_ATTRIBUTES,
    MATHML_ATTRIBUTES,
    MATHML_TAGS,
    MAX_TEX_CHARS,
    tex_to_mathml,
)
from grader.nbx.sanitize import student_html
from tests.nbx.test_feedback import active_markup
from tests.support import html_text

# Formulas as the notebooks write them: $$…$$ first, then $…$.
FORMULA = re.compile(r"\$\$(.+?)\$\$|\$([^$]+)\$", re.S)
DEADLINE_MS = 2_000  # per example: the largest input converts in ~20 ms


def markdown_cells(stem: str) -> list[str]:
    notebook = nbformat.read(SOURCE_DIR / f"{stem}.ipynb", as_version=4)
    return [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_every_formula_of_the_notebooks_becomes_mathml(stem):
    """Each $…$ and $$…$$ of the notebook's markdown is a <math> element on the
    page; none is left as TeX or shown as code for want of a conversion."""
    for source in markdown_cells(stem):
        formulas = [
            match.group(1) or match.group(2) for match in FORMULA.finditer(source)
        ]
        page = student_html(markdown_html(source))
        assert page.count("<math") == len(formulas), source
        assert "$" not in html_text(page), source
        for tex in formulas:
            assert not tex_to_mathml(tex).startswith("<code>"), tex


def test_display_math_is_a_block_and_inline_math_is_not():
    assert tex_to_mathml("x", display=True).startswith('<math display="block">')
    assert tex_to_mathml("x") == "<math><mi>x</mi></math>"


def test_symbols_are_characters_and_text_is_unescaped_tex():
    """∂ rather than &#x02202;, and \\text{dy\\_pred} reads dy_pred."""
    written = tex_to_mathml(r"\partial \text{dy\_pred}")
    assert written == "<math><mo>∂</mo><mtext>dy_pred</mtext></math>"


# --- the allowlist is what the converter writes -----------------------------------


def converter_corpus() -> list[str]:
    """Every command latex2mathml knows with zero to three arguments, every
    environment, and the constructions the commands do not name."""
    names = sorted(
        {
            value
            for value in vars(commands).values()
            if isinstance(value, str) and value.startswith("\\")
        }
    )
    arguments = ("", "{a}", "{a}{b}", "{a}{b}{c}", "[2]{a}", "{1em}{2em}",
                 "{red}{x}", "{http://x}{y}", "{color:red}{x}", "(x)")  # fmt: skip
    corpus = [f"x{name}{args}y" for name in names for args in arguments]
    for environment in ("matrix", "pmatrix", "cases", "align", "split", "array"):
        corpus.append(rf"\begin{{{environment}}}{{c|l}}a & b \\ \hline c & d"
                      rf"\end{{{environment}}}")  # fmt: skip
    return [*corpus, "x_1", "x^2", "x_1^2", r"\smallint", r"\left(x\middle|y\right)"]


def emitted(element: Element, tags: set[str], attributes: set[str]) -> None:
    tags.add(element.tag)
    attributes.update(element.attrib)
    for child in element:
        emitted(child, tags, attributes)


def test_the_allowlist_is_exactly_what_latex2mathml_writes_less_what_is_dropped():
    """Every element latex2mathml can write is kept; every attribute it can write
    is either kept or dropped on purpose (links, style, classes, colours); nothing
    is allowed that it never writes."""
    tags: set[str] = set()
    attributes: set[str] = set()
    for tex in converter_corpus():
        for display in ("inline", "block"):
            try:
                element = convert_to_element(tex, display=display)
            except Exception:
                continue
            emitted(element, tags, attributes)
    assert tags == MATHML_TAGS
    assert attributes == MATHML_ATTRIBUTES | DROPPED_ATTRIBUTES
    assert not MATHML_ATTRIBUTES & DROPPED_ATTRIBUTES
    assert {"href", "style", "class", "mathcolor", "mathbackground"} <= (
        DROPPED_ATTRIBUTES
    )
    assert not MATHML_TAGS & {"maction", "semantics", "annotation", "annotation-xml"}


# --- a student's TeX ----------------------------------------------------------------

HOSTILE_TEX = [
    r"\href{javascript:alert(1)}{x}",
    r"\style{position: fixed; top: 0; font-size: 90px}{4 / 4}",
    r"\class{grader-verdict grader-score}{x}",
    r"\html{<script>alert(1)</script>}",
    r"\text{<script>alert(1)</script><img src=x onerror=alert(1)>}",
    r"\text{&#x3C;script&#x3E;alert(1)&#x3C;/script&#x3E;}",
    r"\color{white}{hidden}\colorbox{white}{x}\fcolorbox{red}{white}{y}",
    r"\mathrm{</math><script>alert(1)</script>}",
    r"\operatorname{<svg onload=alert(1)>}",
    r"\hspace{9999em}\rule{100em}{100em}x",
    r"\def\a{xxxxxxxx}\def\b{\a\a\a\a\a\a\a\a}\def\c{\b\b\b\b\b\b\b\b}\c\c\c\c",
    "{" * 5000 + "}" * 5000,
    r"\frac{" * 1000 + "x" + "}{y}" * 1000,
    r"\left(" * 500 + "x" + r"\right)" * 500,
    r"\sqrt" * 2000 + "x",
]


def inert_math(tex: str, display: bool = False) -> str:
    """The formula as the page has it (converted, then sanitized), checked inert:
    no tag or attribute that runs or loads anything, restyles or imitates."""
    page = student_html(tex_to_mathml(tex, display))
    assert active_markup(page) == [], page
    assert not re.search(r"<[a-z]+[^>]*\b(href|style|class|id|on\w+)=", page), page
    return page


@pytest.mark.parametrize("tex", HOSTILE_TEX)
def test_hostile_tex_becomes_inert_math_or_code(tex):
    page = inert_math(tex)
    assert page.startswith(("<math>", "<code>"))


def test_a_formula_the_converter_cannot_take_is_code():
    assert tex_to_mathml(r"\frac{a}{") == r"<code>\frac{a}{</code>"
    assert tex_to_mathml("x" * (MAX_TEX_CHARS + 1)).startswith("<code>")
    assert tex_to_mathml(r"\def\a{x}\a") == r"<code>\def\a{x}\a</code>"
    assert tex_to_mathml("a < b & c").startswith("<math>")


TEX_PIECES = st.sampled_from(
    ["{", "}", "\\", "^", "_", "&", "$", "%", "#", "~", "<", ">", "\"", "'",
     "\\\\", "\\frac", "\\left(", "\\right)", "\\text{", "\\begin{matrix}",
     "\\end{matrix}", "\\href{", "\\style{", "\\class{", "\\color{", "\\def",
     "\\sqrt", "\\hat", "\\mathrm{", "\\operatorname{", "<script>", "&#x3C;",
     "javascript:", "onload=", "x", "1", " ", "\n"]
)  # fmt: skip


@settings(deadline=DEADLINE_MS, max_examples=300)
@given(st.lists(TEX_PIECES, max_size=400).map("".join), st.booleans())
def test_any_tex_converts_quickly_to_inert_math(tex, display):
    """Whatever a student writes between dollars: math or code, nothing active,
    within the deadline."""
    inert_math(tex, display)


@settings(deadline=DEADLINE_MS, max_examples=20)
@given(
    st.sampled_from(["{", "}", "\\frac{", "\\left(", "x^", "\\sqrt", "$", "\\\\("]),
    st.integers(min_value=1, max_value=1_000_000),
)
def test_a_megabyte_of_one_piece_converts_quickly(piece, count):
    """1 MB of braces (or of another piece) is code at once: the formula is too
    long to convert."""
    inert_math(piece * count)


@settings(deadline=DEADLINE_MS, max_examples=100)
@given(st.lists(TEX_PIECES, max_size=200).map("".join))
def test_a_students_markdown_with_math_is_inert(text):
    """A markdown cell with a student's own $…$ and $$…$$: converted by the same
    code and sanitized after, like every markdown cell."""
    page = student_html(markdown_html(f"Intro ${text}$ and $${text}$$ and {text}"))
    assert active_markup(page) == [], page
