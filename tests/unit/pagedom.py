"""A small DOM for the results pages' tests: elements with their attributes and text.

The stdlib's html.parser is enough for pages the harness writes itself, and
for the DOM headless Chromium dumps back (the browser test reads that).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

_VOID = {"meta", "link", "br", "img", "input", "hr", "col", "area", "base", "source", "wbr",
         "path", "use", "rect", "circle", "line", "polyline", "polygon", "stop", "ellipse"}


@dataclass
class El:
    tag: str
    attrs: dict[str, str]
    parent: "El | None" = None
    children: list["El"] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    @property
    def text(self) -> str:
        return "".join(self.parts) + "".join(c.text for c in self.children)

    def iter(self):
        yield self
        for c in self.children:
            yield from c.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs) -> list["El"]:
        return [e for e in self.iter() if (tag is None or e.tag == tag) and (cls is None or cls in e.classes)
                and all(e.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def by_id(self, ident: str) -> "El":
        (e,) = [e for e in self.iter() if e.attrs.get("id") == ident]
        return e


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = El("#root", {})
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        el = El(tag, {k: v or "" for k, v in attrs}, self.cur)
        self.cur.children.append(el)
        if tag not in _VOID:
            self.cur = el

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(El(tag, {k: v or "" for k, v in attrs}, self.cur))

    def handle_endtag(self, tag):
        node = self.cur
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.cur = node.parent

    def handle_data(self, data):
        # Text after a child goes to a synthetic node so reading order is kept.
        if self.cur.children:
            self.cur.children.append(El("#text", {}, self.cur, parts=[data]))
        else:
            self.cur.parts.append(data)


def parse(html: str) -> El:
    p = _Parser()
    p.feed(html)
    p.close()
    return p.root
