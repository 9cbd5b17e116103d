"""Python code on the feedback page, lightly highlighted.

Pygments' own HTML wraps every token in a span with a class (two thirds of a
page's code markup) for a style sheet of some sixty colours. The page colours
only what helps reading (comments, strings, numbers, keywords, built-ins and the
names a `def` or `class` defines) in colours that pass WCAG AA contrast on the
code's background (templates/feedback/static/notebook.css), one span for a run of
tokens of one kind; everything else is plain, escaped text.
"""

from __future__ import annotations

import html

from pygments.lexers import PythonLexer
from pygments.token import Comment, Keyword, Name, Number, Operator, String

# Token kind -> the class of its span ("" for plain text); the first match counts.
TOKEN_CLASSES = (
    (Comment, "c"),
    (String, "s"),
    (Number, "m"),
    (Keyword.Constant, "k"),
    (Keyword, "k"),
    (Operator.Word, "k"),
    (Name.Builtin.Pseudo, ""),  # self, cls
    (Name.Builtin, "b"),
    (Name.Function, "f"),
    (Name.Class, "f"),
    (Name.Decorator, "f"),
)
_LEXER = PythonLexer(stripnl=False, ensurenl=False)


def token_class(kind) -> str:
    """The span class of a Pygments token kind, "" for plain text."""
    for parent, name in TOKEN_CLASSES:
        if kind in parent:
            return name
    return ""


def code_html(source: str) -> str:
    """Python source as escaped text with a span around each run of highlighted
    tokens of one kind (the content of a <pre>)."""
    parts: list[str] = []
    run_class, run = "", []
    for kind, text in _LEXER.get_tokens(source):
        name = token_class(kind)
        if name != run_class and not (text.isspace() and run_class):
            parts.append(_span(run_class, "".join(run)))
            run_class, run = name, []
        run.append(text)
    parts.append(_span(run_class, "".join(run)))
    return "".join(parts)


def _span(name: str, text: str) -> str:
    """Escaped text, in a span of class `name` unless plain."""
    if not text:
        return ""
    escaped = html.escape(text, quote=False)
    return f'<span class="{name}">{escaped}</span>' if name else escaped
