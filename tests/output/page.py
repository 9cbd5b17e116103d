"""A small HTML tree for reading the report in tests (standard library only).

It also checks what a browser would forgive: every opened tag closed, in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = frozenset({"meta", "img", "br", "hr", "link", "input"})


@dataclass
class Element:
    """One tag with its attributes, its children and the text inside it."""

    tag: str
    attrs: dict[str, str | None]
    children: list[Element | str] = field(default_factory=list)

    def text(self) -> str:
        """All text inside, entities decoded, as one string."""
        return "".join(
            child if isinstance(child, str) else child.text() for child in self.children
        )

    def words(self) -> str:
        """The text with runs of whitespace as one space, trimmed."""
        return " ".join(self.text().split())

    def iter(self):
        """This element and every element inside it, in document order."""
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str) -> list[Element]:
        """Every element with this tag inside (or this one)."""
        return [element for element in self.iter() if element.tag == tag]

    def by_id(self, element_id: str) -> Element:
        """The element with this id; fails the test when there is none."""
        found = [e for e in self.iter() if e.attrs.get("id") == element_id]
        assert len(found) == 1, f"{len(found)} elements with id {element_id!r}"
        return found[0]

    def rows(self) -> list[list[str]]:
        """Each table row inside as the words of its cells (header rows too)."""
        return [
            [cell.words() for cell in row.iter() if cell.tag in ("td", "th")]
            for row in self.find_all("tr")
        ]


class TreeBuilder(HTMLParser):
    """Builds Elements; records closing tags that do not match."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        """Open an element (void ones close at once)."""
        element = Element(tag, dict(attrs))
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_endtag(self, tag):
        """Close the innermost element, which must be this tag."""
        if len(self.stack) == 1 or self.stack.pop().tag != tag:
            self.problems.append(f"unexpected </{tag}>")

    def handle_data(self, data):
        """Text goes to the innermost open element."""
        self.stack[-1].children.append(data)


@dataclass
class Page:
    """A parsed document and what did not parse cleanly."""

    root: Element
    problems: list[str]
    unclosed: list[str]


def parse(html: str) -> Page:
    """The document's tree; problems and unclosed tags listed, not raised."""
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    return Page(builder.root, builder.problems, [e.tag for e in builder.stack[1:]])
