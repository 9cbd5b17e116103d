"""TeX to MathML when the feedback page is written: math a browser draws natively,
with no script and nothing fetched.

latex2mathml turns one formula into an element tree; this module writes that tree
out itself, keeping only the MathML elements and attributes of MATHML_TAGS and
MATHML_ATTRIBUTES (the sanitizer, grader.nbx.sanitize, keeps exactly these too):
latex2mathml's own writer un-escapes "<" and "&" in text, so `\\text{<b>x</b>}`
would come out as markup, and it keeps what `\\href`, `\\style`, `\\class`,
`\\color` and `\\colorbox` ask for (links, style, classes, colours). A formula the
converter cannot take, or one too long, too deep or defining macros (whose
expansion can grow exponentially), is shown as its TeX in <code>; the TeX a
student wrote is never parsed by anything but latex2mathml's tokenizer, in linear
time, bounded by MAX_TEX_CHARS.
"""

from __future__ import annotations

import html
import re
from xml.etree.ElementTree import Element

from latex2mathml.converter import convert_to_element

MAX_TEX_CHARS = 4000  # the course's longest formula has 280
MAX_DEPTH = 32  # braces and \left ... \right nested; the course's deepest is 4
# Macro definitions: their expansion is bounded in depth, not in size.
MACRO_DEFINITIONS = re.compile(
    r"\\(def|newcommand|renewcommand|providecommand|DeclareMathOperator"
    r"|newenvironment|renewenvironment|let)(?![A-Za-z])"
)

# What latex2mathml writes that a page keeps: MathML Core's presentation elements
# (and menclose) of its output, without maction, semantics or annotations.
MATHML_TAGS = frozenset(
    """math menclose mfrac mi mn mo mover mpadded mphantom mroot mrow mspace msqrt
    mstyle msub msubsup msup mtable mtd mtext mtr munder munderover""".split()
)
# Attributes latex2mathml writes that change no more than a formula's own layout;
# each value a keyword, a length or a list of them (LENGTHS).
MATHML_ATTRIBUTES = frozenset(
    """accent columnalign columnlines columnspacing depth display displaystyle fence
    form height largeop linebreak linethickness lspace mathsize mathvariant maxsize
    minsize movablelimits notation rowlines rowspacing rspace scriptlevel separator
    stretchy voffset width""".split()
)
# What latex2mathml can also write, and the page drops: a link (\href), style and
# classes (\style, \class), colours (\color, \colorbox: text made invisible or
# made to look like the grader's), and the namespace (implied in HTML).
DROPPED_ATTRIBUTES = frozenset(
    "href style class mathcolor mathbackground border-color xmlns".split()
)
# "0.5em", "-1width", "+.21ex", "bold", "right left", "solid none": at most two
# digits before the point, so no length is more than 99 of its unit.
LENGTHS = re.compile(
    r"(?:[+-]?(?:\d{1,2}(?:\.\d{1,4})?|\.\d{1,4})?[a-z%-]{0,24})"
    r"(?: (?:[+-]?(?:\d{1,2}(?:\.\d{1,4})?|\.\d{1,4})?[a-z%-]{0,24})){0,15}"
)
MAX_ATTRIBUTE_CHARS = 64
CHARACTER_REFERENCE = re.compile(r"&#(x[0-9a-fA-F]{1,6}|[0-9]{1,7});")
# TeX's escaped characters, which latex2mathml leaves escaped in \text{…}
TEXT_ESCAPE = re.compile(r"\\([_{}$&%#])")


def mathml_attribute_allowed(tag: str, name: str, value: str) -> bool:
    """Whether a MathML element keeps an attribute (also the sanitizer's rule)."""
    if tag not in MATHML_TAGS or name not in MATHML_ATTRIBUTES:
        return False
    if name == "display":
        return tag == "math" and value in ("block", "inline")
    return len(value) <= MAX_ATTRIBUTE_CHARS and bool(LENGTHS.fullmatch(value))


def tex_to_mathml(tex: str, display: bool = False) -> str:
    """One formula (without its $ or $$) as MathML, or as <code> when it cannot be
    converted safely."""
    if not convertible(tex):
        return as_code(tex)
    try:
        math = convert_to_element(tex, display="block" if display else "inline")
    except Exception:  # latex2mathml raises anything on TeX it cannot take
        return as_code(tex)
    if not display:
        del math.attrib["display"]  # inline is MathML's default
    _flatten_top_row(math)
    written = _write(math)
    return as_code(tex) if written is None else written


def convertible(tex: str) -> bool:
    """Short enough, nested little enough, no macro definitions."""
    if len(tex) > MAX_TEX_CHARS or MACRO_DEFINITIONS.search(tex):
        return False
    depth = deepest = 0
    for token in re.finditer(r"\\left(?![A-Za-z])|\\right(?![A-Za-z])|[{}]", tex):
        depth += 1 if token.group() in ("{", "\\left") else -1
        deepest = max(deepest, depth)
    return deepest <= MAX_DEPTH


def as_code(tex: str) -> str:
    """The TeX shown as code, escaped."""
    return f"<code>{html.escape(tex, quote=False)}</code>"


def _write(element: Element) -> str | None:
    """The element as MathML text, or None when it holds an element the page does
    not keep (a converter that started writing something new)."""
    parts: list[str] = []
    stack: list[Element | str] = [element]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
            continue
        if item.tag not in MATHML_TAGS:
            return None
        attributes = "".join(
            f' {name}="{html.escape(value)}"'
            for name, value in item.attrib.items()
            if mathml_attribute_allowed(item.tag, name, value)
        )
        text = item.text
        if item.tag == "mtext" and text:
            text = TEXT_ESCAPE.sub(r"\1", text)
        parts.append(f"<{item.tag}{attributes}>{_text(text)}")
        stack.append(f"</{item.tag}>{_text(item.tail)}")
        stack.extend(reversed([_unwrapped(child) for child in item]))
    return "".join(parts)


def _flatten_top_row(math: Element) -> None:
    """<math><mrow>…</mrow></math> as <math>…</math>: <math> is a row itself."""
    if len(math) == 1 and math[0].tag == "mrow" and not math[0].attrib:
        row = math[0]
        math.remove(row)
        math.text = row.text
        math.extend(list(row))


def _unwrapped(element: Element) -> Element:
    """An <mrow> with one child and nothing else is that child (MathML draws them
    alike); the page keeps the child, a few bytes less for each."""
    while (
        element.tag == "mrow"
        and len(element) == 1
        and not (element.text or "").strip()
        and not (element[0].tail or "").strip()
        and not any(
            mathml_attribute_allowed("mrow", name, value)
            for name, value in element.attrib.items()
        )
    ):
        child = element[0]
        child.tail = element.tail
        element = child
    return element


def _text(text: str | None) -> str:
    """Text of the tree, escaped: latex2mathml writes symbols as character
    references ("&#x02202;"), which become the characters themselves."""
    if not text:
        return ""
    return html.escape(CHARACTER_REFERENCE.sub(_character, text), quote=False)


def _character(reference: re.Match[str]) -> str:
    """One character reference's character ("\\ufffd" for one out of range)."""
    code = reference.group(1)
    number = int(code[1:], 16) if code[0] == "x" else int(code)
    return chr(number) if 0 < number <= 0x10FFFF else "\ufffd"
