"""Answer code as normalized tokens: what two copies still share after disguises.

Python's own tokenizer (the standard library's tokenize) splits the code; then
- every identifier becomes "V" (renamed variables, functions and arguments match),
  Python's keywords stay as they are, and so do the names after a "." (the library's
  API: `np.exp`, `.append`), which a disguise does not rename;
- every number becomes "N" and every string "S" (changed literals match);
- comments, blank lines, indentation and line ends are dropped (changed comments
  and layout match).

Each token keeps the line it starts on, so that a matching fragment is shown where
it is in the student's code. Student code is hostile: text the tokenizer cannot read
(an unterminated string, a bad dedent, a stray "$") does not stop it; the rest, from
the line where it stopped, is split by a plain pattern (names, numbers, quotes, any
other character), in time linear in its length.
"""

from __future__ import annotations

import io
import keyword
import re
import token
import tokenize
from dataclasses import dataclass

NAME, NUMBER, STRING = "V", "N", "S"
SKIPPED = {
    token.COMMENT, token.NL, token.NEWLINE, token.INDENT, token.DEDENT,
    token.ENCODING, token.ENDMARKER,
}  # fmt: skip
# Python 3.12 splits f-strings into parts: one "S" for the whole string.
FSTRING_START = getattr(token, "FSTRING_START", None)
FSTRING_END = getattr(token, "FSTRING_END", None)
FSTRING_MIDDLE = getattr(token, "FSTRING_MIDDLE", None)
# What the plain pattern splits the rest into, when the tokenizer gave up.
FALLBACK = re.compile(r"[^\W\d]\w*|\d[\w.]*|'''|\"\"\"|['\"]|\S")


@dataclass(frozen=True)
class Tokens:
    """Normalized tokens and, for each, the line (from 1) it starts on."""

    words: list[str]
    lines: list[int]


def source_lines(code: str) -> list[str]:
    """`code`'s lines as the tokenizer numbers them (split at "\n" only: a form
    feed or a Unicode line separator does not end a line)."""
    lines = code.split("\n")
    return lines[:-1] if len(lines) > 1 and lines[-1] == "" else lines


def normalized_tokens(code: str) -> Tokens:
    """The normalized tokens of `code` (see the module docstring)."""
    words: list[str] = []
    lines: list[int] = []
    previous = ""
    depth = 0  # inside an f-string (3.12): its parts are one "S"
    stopped_at = 0  # the line the tokenizer stopped on, 0 when it read everything
    try:
        for item in tokenize.generate_tokens(io.StringIO(code).readline):
            kind = item.type
            if kind == FSTRING_START:
                depth += 1
                if depth == 1:
                    words.append(STRING)
                    lines.append(item.start[0])
                continue
            if kind == FSTRING_END:
                depth -= 1
                continue
            if depth or kind == FSTRING_MIDDLE or kind in SKIPPED:
                continue
            word = _word(kind, item.string, previous)
            if word:
                words.append(word)
                lines.append(item.start[0])
                previous = word
    except (tokenize.TokenError, SyntaxError) as error:
        stopped_at = _error_line(error, lines)
    if stopped_at:
        _fallback(code, stopped_at, words, lines)
    return Tokens(words, lines)


def _word(kind: int, text: str, previous: str) -> str:
    """The normalized form of one token ("" to drop it)."""
    if kind == token.NAME:
        if keyword.iskeyword(text) or previous == ".":
            return text
        return NAME
    if kind == token.NUMBER:
        return NUMBER
    if kind == token.STRING:
        return STRING
    if kind == token.ERRORTOKEN:
        return "" if text.isspace() else text[:1]
    return text


def _error_line(error: Exception, lines: list[int]) -> int:
    """The line to go on from after the tokenizer's error: where it began, or the
    first line the tokens read so far do not cover."""
    after = lines[-1] + 1 if lines else 1
    if isinstance(error, SyntaxError) and error.lineno:
        return max(min(error.lineno, after), 1)
    where = error.args[1] if len(error.args) > 1 else None  # TokenError: (line, col)
    if isinstance(where, tuple) and where and isinstance(where[0], int):
        return max(min(where[0], after), 1)  # where the unfinished string began
    return after


def _fallback(code: str, first_line: int, words: list[str], lines: list[int]) -> None:
    """Tokens of code's lines from `first_line` on, by the plain pattern."""
    keep = len(lines)
    while keep and lines[keep - 1] >= first_line:
        keep -= 1
    del words[keep:], lines[keep:]
    previous = words[-1] if words else ""
    for number, line in enumerate(source_lines(code)[first_line - 1 :], first_line):
        text = line.split("#", 1)[0] if "'" not in line and '"' not in line else line
        for found in FALLBACK.finditer(text):
            piece = found.group(0)
            if piece[0].isdigit():
                word = NUMBER
            elif piece[0] in "'\"":
                word = STRING
            elif piece[0].isalpha() or piece[0] == "_":
                keep_name = keyword.iskeyword(piece) or previous == "."
                word = piece if keep_name else NAME
            else:
                word = piece
            words.append(word)
            lines.append(number)
            previous = word
