"""A bounded YAML reader for trainer configs: PyYAML's event stream (libyaml's when available),
composed into nodes only for the top-level keys a caller asks for.

``yaml.compose`` builds a node for every scalar of a document, and constructing values expands
aliases into trees; a 5 MB dataset section or a 500-byte "billion laughs" then costs minutes and
gigabytes although peftlint reads a dozen keys. Here the event stream is walked once: the values of
wanted keys (and of anchored subtrees, which an alias may name later) become ``yaml.Node``\\ s with
their marks, everything else is only counted. Aliases stay shared nodes; turning nodes into
``Value``\\ s (``trainer_values.py``) has its own budget. Values nested deeper than ``MAX_DEPTH``
are not built (the caller reports them as unread); nesting beyond ``SAFE_LOAD_LIMIT`` and scalars
whose explicit tag cannot be constructed (``!!int abc``) make ``yaml.safe_load`` fail, and are
reported once per file. Reading goes on either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import yaml
from yaml import events as ev

from peftlint.codes import Code
from peftlint.diagnostics import Span
from peftlint.sources import Problem
from peftlint.textpos import LineIndex

# Real trainer configs nest a handful of levels: deeper values are not read. yaml.safe_load (the
# pure-Python SafeLoader, which axolotl, TRL and LLaMA-Factory load configs with) stops with
# RecursionError at about 495 levels under Python's default recursion limit.
MAX_DEPTH = 100
SAFE_LOAD_LIMIT = 500
_LOADER = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
_STANDARD_COLLECTION_TAGS = {
    "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:omap", "tag:yaml.org,2002:pairs",
    "tag:yaml.org,2002:set",
}
MERGE_KEY = "<<"
_INT_TAG = "tag:yaml.org,2002:int"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"  # an implicit one may be no date at all: 2001-02-30
_INT_DIGITS = 4000  # under sys.get_int_max_str_digits() (4300): only longer ones need a check


@dataclass
class Entry:
    key: yaml.ScalarNode
    value: yaml.Node | None  # None: the value could not be read (too deep, or an alias to such a value)


@dataclass
class Document:
    root: yaml.Node | None  # the root node when it is a mapping (with only wanted entries), else None
    start: Span  # where the document's root node starts
    entries: dict[str, Entry] = field(default_factory=dict)  # wanted top-level keys (last one wins)
    merged: list[yaml.Node] = field(default_factory=list)  # values of top-level ``<<`` merge keys


@dataclass
class ReadResult:
    documents: list[Document] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def mark_span(start: yaml.Mark, end: yaml.Mark | None, lines: LineIndex) -> Span:
    """The span between two marks, placed by their character index (see ``textpos``)."""
    end = end or start
    return Span(*lines.pos(start.index), *lines.pos(end.index))


class _Stop(Exception):
    """The event stream ended early (a parse error is raised by PyYAML itself)."""


_SCALAR, _ALIAS = ev.ScalarEvent, ev.AliasEvent
_MAP_START, _SEQ_START, _MAP_END, _SEQ_END = (ev.MappingStartEvent, ev.SequenceStartEvent, ev.MappingEndEvent,
                                              ev.SequenceEndEvent)


class _Walker:
    def __init__(self, loader: yaml.BaseLoader, lines: LineIndex) -> None:
        self.lines = lines
        self.get_event = loader.get_event  # the parser's own call: no generator in between
        self.anchors: dict[str, yaml.Node | None] = {}  # None: anchored inside a value that was not read
        self.resolver = yaml.resolver.Resolver()
        self.constructor = yaml.constructor.SafeConstructor()
        self.too_deep: Span | None = None  # where nesting first passes SAFE_LOAD_LIMIT
        self.bad_tags: list[tuple[Span, str]] = []

    def next(self) -> yaml.Event:
        e = self.get_event()
        if e is None:
            raise _Stop()
        return e

    # -- skipping ------------------------------------------------------------------------------
    def skip(self, first: yaml.Event, depth: int) -> None:
        """Consume the node that starts with ``first`` without building it; anchored subtrees are
        built (an alias elsewhere may name them), explicit scalar tags are checked. This loop sees
        every event of the parts peftlint does not read, so it stays lean."""
        level = 0
        e = first
        get = self.get_event
        while True:
            t = type(e)
            if t is _SCALAR:
                if e.anchor is not None or (e.tag is not None and e.tag != "!"):
                    node = self._scalar(e)
                    if e.anchor is not None:
                        self.anchors[e.anchor] = node
            elif t is _MAP_START or t is _SEQ_START:
                if e.anchor is not None:
                    self.anchors[e.anchor] = self.build(e, depth + level)
                else:
                    if e.tag is not None:
                        self._check_collection_tag(e)
                    level += 1
                    if depth + level > SAFE_LOAD_LIMIT and self.too_deep is None:
                        self.too_deep = mark_span(e.start_mark, e.end_mark, self.lines)
            elif t is _MAP_END or t is _SEQ_END:
                level -= 1
            elif t is _ALIAS:
                self._alias(e)
            if level <= 0:
                return
            e = get()
            if e is None:
                raise _Stop()

    # -- building ------------------------------------------------------------------------------
    def build(self, first: yaml.Event, depth: int) -> yaml.Node | None:
        """The node that starts with ``first``; None when it nests deeper than ``MAX_DEPTH``."""
        if isinstance(first, ev.ScalarEvent):
            node = self._scalar(first)
            if first.anchor is not None:
                self.anchors[first.anchor] = node
            return node
        if isinstance(first, ev.AliasEvent):
            return self._alias(first)
        # (node, anchor, pending key of a mapping or None)
        stack: list[tuple[yaml.CollectionNode, str | None]] = []
        lost = False
        e = first
        while True:
            if isinstance(e, (ev.MappingStartEvent, ev.SequenceStartEvent)):
                if depth + len(stack) + 1 > MAX_DEPTH:
                    self.skip(e, depth + len(stack))
                    lost = True
                    child = None
                else:
                    self._check_collection_tag(e)
                    if isinstance(e, ev.MappingStartEvent):
                        tag = e.tag if _explicit(e.tag) else self.resolver.resolve(yaml.MappingNode, None, e.implicit)
                        node = yaml.MappingNode(tag, [], e.start_mark, None, flow_style=e.flow_style)
                    else:
                        tag = e.tag if _explicit(e.tag) else self.resolver.resolve(yaml.SequenceNode, None, e.implicit)
                        node = yaml.SequenceNode(tag, [], e.start_mark, None, flow_style=e.flow_style)
                    stack.append((node, e.anchor))
                    e = self.next()
                    continue
            elif isinstance(e, (ev.MappingEndEvent, ev.SequenceEndEvent)):
                node, anchor = stack.pop()
                node.end_mark = e.end_mark
                if isinstance(node, yaml.MappingNode):
                    # pairs were appended flat (key, value, key, value, ...): pair them up
                    flat = node.value
                    node.value = [(flat[i], flat[i + 1]) for i in range(0, len(flat) - 1, 2)]
                if anchor is not None:
                    self.anchors[anchor] = node
                child = node
            elif isinstance(e, ev.ScalarEvent):
                child = self._scalar(e)
                if e.anchor is not None:
                    self.anchors[e.anchor] = child
            elif isinstance(e, ev.AliasEvent):
                child = self._alias(e)
                lost = lost or child is None
            else:  # pragma: no cover - the parser only yields node events here
                child = None
            if not stack:
                return None if lost else child
            stack[-1][0].value.append(child)
            e = self.next()

    def _scalar(self, e: ev.ScalarEvent) -> yaml.ScalarNode:
        tag = e.tag if _explicit(e.tag) else self.resolver.resolve(yaml.ScalarNode, e.value, e.implicit)
        node = yaml.ScalarNode(tag, e.value, e.start_mark, e.end_mark, style=e.style)
        # an implicit int too long for int() (Python's 4300-digit limit) makes yaml.safe_load fail too;
        # a long one in another base is not built (yaml.safe_load accepts it: see huge_int)
        if huge_int(node):
            return node
        if _explicit(e.tag) or tag == _TIMESTAMP_TAG or (tag == _INT_TAG and len(e.value) > _INT_DIGITS):
            try:
                self.constructor.construct_object(node)
            except Exception as exc:  # ValueError, KeyError, ConstructorError, ... per tag
                self.bad_tags.append((mark_span(e.start_mark, e.end_mark, self.lines), _tag_problem(node, exc)))
        return node

    def _alias(self, e: ev.AliasEvent) -> yaml.Node | None:
        if e.anchor not in self.anchors:
            raise yaml.composer.ComposerError(None, None, f"found undefined alias {e.anchor!r}", e.start_mark)
        return self.anchors[e.anchor]

    def _check_collection_tag(self, e: ev.CollectionStartEvent) -> None:
        if _explicit(e.tag) and e.tag not in _STANDARD_COLLECTION_TAGS:
            self.bad_tags.append((mark_span(e.start_mark, e.end_mark, self.lines),
                                  f"the tag {e.tag!r} names no YAML type that yaml.safe_load can build"))


def huge_int(node: yaml.Node) -> bool:
    """An int scalar longer than ``_INT_DIGITS`` written in binary, octal, hexadecimal or base 60:
    yaml.safe_load builds it (a base-60 one in time that grows with the square of its length: a
    10 MB ``1:59:59:...`` takes hours), and no trainer key takes such a number. It is not built."""
    if node.tag != _INT_TAG or not isinstance(node.value, str) or len(node.value) <= _INT_DIGITS:
        return False
    digits = node.value.replace("_", "").lstrip("+-")
    return not digits.isdigit() or (digits[:1] == "0" and digits != "0")


def _explicit(tag: str | None) -> bool:
    return tag is not None and tag != "!"


def _tag_problem(node: yaml.ScalarNode, exc: Exception) -> str:
    short = node.tag.replace("tag:yaml.org,2002:", "!!")
    if isinstance(exc, yaml.constructor.ConstructorError) and "could not determine a constructor" in str(exc):
        return f"the tag {short!r} names no YAML type that yaml.safe_load can build"
    value = node.value if len(node.value) <= 40 else node.value[:37] + "..."
    return f"`{short} {value}` is not a valid {short} value"


def read_yaml(text: str, wanted: Callable[[str], bool]) -> ReadResult:
    """The top-level mapping entries ``wanted`` accepts, per document, with the problems met.

    A parse error is reported as one ``PFT902`` problem; the documents read before it are kept.
    """
    out = ReadResult()
    loader = _LOADER(text)
    walker = _Walker(loader, LineIndex.of(text))
    try:
        while True:
            e = walker.next()
            if isinstance(e, ev.DocumentStartEvent):
                walker.anchors = {}  # anchors do not cross documents
                doc = _document(walker, wanted)
                if doc is not None:
                    out.documents.append(doc)
            elif isinstance(e, ev.StreamEndEvent):
                break
    except _Stop:
        pass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        span = mark_span(mark, None, walker.lines) if mark is not None else Span(1, 1, 1, 1)
        span = Span(span.line, span.column, span.line, span.column + 1)
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        out.problems.append(Problem(Code.SYNTAX_ERROR, f"cannot parse this trainer config as YAML: {what}", span))
    finally:
        loader.dispose()
    if walker.too_deep is not None:
        out.problems.append(Problem(
            Code.SYNTAX_ERROR, f"this YAML nests more than {SAFE_LOAD_LIMIT} levels deep: yaml.safe_load, which trainers "
            "read their configs with, stops with RecursionError, so the trainer cannot read this file; the other "
            "keys were still checked", walker.too_deep))
    if walker.bad_tags:
        span, what = walker.bad_tags[0]
        more = len(walker.bad_tags) - 1
        also = f" ({more} more such value{'s' if more != 1 else ''} in this file)" if more else ""
        out.problems.append(Problem(
            Code.SYNTAX_ERROR, f"{what}: yaml.safe_load rejects this file, so the trainer cannot read it{also}; "
            "the other keys were still checked", span))
    return out


def _document(walker: _Walker, wanted: Callable[[str], bool]) -> Document | None:
    root = walker.next()
    if not isinstance(root, ev.MappingStartEvent):
        if isinstance(root, ev.DocumentEndEvent):
            return None
        walker.skip(root, 0)
        walker.next()  # DocumentEndEvent
        return None
    doc = Document(None, mark_span(root.start_mark, root.end_mark, walker.lines))
    node = yaml.MappingNode("tag:yaml.org,2002:map", [], root.start_mark, root.end_mark, flow_style=root.flow_style)
    while True:
        k = walker.next()
        if isinstance(k, ev.MappingEndEvent):
            node.end_mark = k.end_mark
            break
        if not isinstance(k, ev.ScalarEvent):  # a complex key: no trainer key is one
            if not isinstance(k, ev.AliasEvent):  # a list or mapping as a key: yaml.safe_load cannot hash it
                walker.bad_tags.append((mark_span(k.start_mark, k.end_mark, walker.lines),
                                        "a list or mapping used as a mapping key (found unhashable key)"))
            walker.skip(k, 1)  # the whole key first: its events come before the value's
            walker.skip(walker.next(), 1)
            continue
        v = walker.next()
        key = walker._scalar(k)
        if k.anchor is not None:
            walker.anchors[k.anchor] = key
        if k.value == MERGE_KEY and k.implicit[0]:  # plain `<<`, not a quoted one
            value = walker.build(v, 1)
            if value is not None:
                doc.merged.append(value)
        elif wanted(k.value):
            value = walker.build(v, 1)
            doc.entries[k.value] = Entry(key, value)
            node.value.append((key, value))
        else:
            walker.skip(v, 1)
    doc.root = node
    walker.next()  # DocumentEndEvent
    return doc
