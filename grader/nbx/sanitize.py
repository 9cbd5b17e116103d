"""The one allowlist every piece of a student's HTML passes (bleach).

Markdown cells (their math already MathML, grader.nbx.mathml), HTML and markdown
outputs: no script, style, class, id, form, frame or event attribute survives;
links keep http(s), mailto and in-page addresses, images data:image/ ones; MathML
keeps exactly the elements and attributes latex2mathml writes and the page keeps
(grader.nbx.mathml.MATHML_TAGS, mathml_attribute_allowed). A forbidden tag is
shown as text, so the instructor sees what was attempted.
"""

from __future__ import annotations

import re

import bleach

from .mathml import MATHML_TAGS, mathml_attribute_allowed

HTML_TAGS = frozenset(
    """a abbr b blockquote br caption code col colgroup dd del details div dl dt em
    figcaption figure h1 h2 h3 h4 h5 h6 hr i img ins kbd li ol p pre q s samp small
    span strong sub summary sup table tbody td tfoot th thead tr u ul var""".split()
)
ALLOWED_TAGS = HTML_TAGS | MATHML_TAGS
IMAGE_DATA_URL = re.compile(
    r"data:image/(png|jpeg|gif|webp|svg\+xml)(;[a-z0-9=.+-]+)*(;base64)?,", re.I
)
SAFE_HREF = re.compile(r"(https?://|mailto:|#)", re.I)
MAX_IMAGE_SIDE = 4000  # pixels; a bigger width or height attribute is dropped


def image_side(value: str) -> bool:
    """A width or height attribute an image may keep: whole pixels, in range."""
    return value.isdigit() and 0 < int(value) <= MAX_IMAGE_SIDE


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    """Which attributes survive (bleach calls this for each one): no class, id,
    style or event handler anywhere; safe addresses only."""
    if tag in MATHML_TAGS:
        return mathml_attribute_allowed(tag, name, value)
    if tag == "a":
        return name == "title" or (name == "href" and bool(SAFE_HREF.match(value)))
    if tag == "img":
        if name == "src":
            return bool(IMAGE_DATA_URL.match(value))
        if name in ("width", "height"):
            return image_side(value)
        return name in ("alt", "title")
    if tag in ("td", "th"):
        return name in ("colspan", "rowspan") and value.isdigit()
    if tag == "ol":
        return name == "start" and value.isdigit()
    return tag == "abbr" and name == "title"


_CLEANER = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=_allowed_attribute,
    # bleach checks the scheme of href/src first; _allowed_attribute narrows it
    # (data: only for images, never for links).
    protocols=frozenset({"http", "https", "mailto", "data"}),
    strip=False,  # a forbidden tag is shown as text: the instructor sees the attempt
    strip_comments=True,
)


def student_html(html: str) -> str:
    """HTML that came from a student's notebook, made inert (a Jinja filter)."""
    return _CLEANER.clean(str(html))
