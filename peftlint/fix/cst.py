"""Python fixes as libcst rewrites of one config call (see docs/fixes.md).

``rewrite_call`` parses the call's source (exactly the text peftlint found at the call's position)
into libcst's lossless tree, applies the operations of ``fix/ops.py`` to its keyword arguments and
their list/dict literals, and prints the call again. Everything the operations do not touch — the
other arguments, comments, trailing commas, line breaks, quotes — is printed from the tree as it
was read, so it comes back byte for byte; the edit then replaces just the call's text.

libcst is imported here only, and this module only when a fix's edit is needed (``--fix``,
``--diff``, JSON/SARIF output, an editor's code action): reading stays on ``ast``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import libcst as cst

from peftlint.fix.ops import Op, OpKind

_EMPTY = cst.SimpleWhitespace("")


class _Unfit(Exception):
    """The call is not written the way the operations expect: no fix."""


def rewrite_call(call_text: str, ops: Sequence[Op]) -> str | None:
    """The call's text after ``ops``, or None when they cannot be applied faithfully."""
    try:
        node = _parsed(call_text)
    except (cst.ParserSyntaxError, RecursionError, ValueError):
        return None
    if not isinstance(node, cst.Call):
        return None
    try:
        new = _apply(node, list(ops))
        code = cst.Module(body=[], default_newline=_first_newline(call_text)).code_for_node(new)
    except (_Unfit, cst.CSTValidationError, cst.ParserSyntaxError, RecursionError, ValueError):
        return None
    return code


def _first_newline(text: str) -> str:
    """The line end libcst took as the default (its nodes keep only the others)."""
    for i, ch in enumerate(text):
        if ch == "\n":
            return "\n"
        if ch == "\r":
            return "\r\n" if text[i + 1:i + 2] == "\n" else "\r"
    return "\n"


_PARSED: dict[str, cst.BaseExpression] = {}


def _parsed(call_text: str) -> cst.BaseExpression:
    """The call's tree; libcst trees are immutable, so the fixes of one call share one parse."""
    node = _PARSED.get(call_text)
    if node is None:
        node = cst.parse_expression(call_text)
        if len(_PARSED) >= 64:
            _PARSED.clear()
        _PARSED[call_text] = node
    return node


# -- the call ------------------------------------------------------------------------------------

def _kw(call: cst.Call, name: str) -> int | None:
    for i, a in enumerate(call.args):
        if a.keyword is not None and a.keyword.value == name and not a.star:
            return i
    return None


def _apply(call: cst.Call, ops: list[Op]) -> cst.Call:
    quote = _quote_of(call) or "\""
    by_field: dict[str, list[Op]] = {}
    for op in ops:
        by_field.setdefault(op.field, []).append(op)
    for name, mine in by_field.items():
        i = _kw(call, name)
        whole = [o for o in mine if o.kind in (OpKind.SET_ARG, OpKind.REMOVE_ARG)]
        if whole:
            op = whole[0]
            if op.kind == OpKind.REMOVE_ARG:
                if i is None:
                    raise _Unfit
                seq = _Seq.of_call(call)
                seq.remove(i)
                call = seq.into_call(call)
            elif i is not None:
                args = list(call.args)
                args[i] = args[i].with_changes(value=_node(op.value, _quote_of(args[i].value) or quote))
                call = call.with_changes(args=args)
            else:
                call = _add_arg(call, name, _node(op.value, quote))
            continue
        if i is None:  # APPEND_ITEMS to an argument not written yet
            appended = [v for o in mine if o.kind == OpKind.APPEND_ITEMS for v in o.values]
            if len(appended) != sum(len(o.values) for o in mine):
                raise _Unfit
            call = _add_arg(call, name, _node(appended, quote))
            continue
        arg = call.args[i]
        args = list(call.args)
        args[i] = arg.with_changes(value=_edit_container(arg.value, mine, _quote_of(arg.value) or quote))
        call = call.with_changes(args=args)
    return call


def _add_arg(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call:
    like = next((a.equal for a in call.args if a.keyword is not None and isinstance(a.equal, cst.AssignEqual)
                 and not _multiline(a.equal.whitespace_before) and not _multiline(a.equal.whitespace_after)), None)
    equal = like if like is not None else cst.AssignEqual(whitespace_before=_EMPTY, whitespace_after=_EMPTY)
    seq = _Seq.of_call(call)
    seq.append([cst.Arg(value=value, keyword=cst.Name(name), equal=equal)])
    return seq.into_call(call)


def _edit_container(value: cst.BaseExpression, ops: list[Op], quote: str) -> cst.BaseExpression:
    if isinstance(value, (cst.List, cst.Tuple, cst.Set)):
        if isinstance(value, cst.Tuple) and not value.lpar:
            raise _Unfit
        seq = _Seq.of_container(value)
        replaced = sorted((o for o in ops if o.kind == OpKind.REPLACE_ITEM), key=lambda o: -o.index)
        if len({o.index for o in replaced}) != len(replaced):
            raise _Unfit
        for op in replaced:
            if not 0 <= op.index < len(seq.items) or isinstance(seq.items[op.index], cst.StarredElement):
                raise _Unfit
            own = _quote_of(seq.items[op.index].value) or quote  # a replacement keeps the item's quotes
            seq.replace(op.index, [cst.Element(_node(v, own)) for v in op.values])
        for op in ops:
            if op.kind == OpKind.APPEND_ITEMS:
                seq.append([cst.Element(_node(v, quote)) for v in op.values])
            elif op.kind != OpKind.REPLACE_ITEM:
                raise _Unfit
        if not seq.items:
            raise _Unfit
        if isinstance(value, cst.Tuple) and len(seq.items) == 1:
            seq.trailing = True  # ("a",) stays a tuple
        return seq.into_container(value)
    if isinstance(value, cst.Dict):
        seq = _Seq.of_container(value)
        for op in ops:
            if op.kind != OpKind.REMOVE_KEY:
                raise _Unfit
            at = next((k for k, el in enumerate(seq.items) if isinstance(el, cst.DictElement)
                       and isinstance(el.key, cst.SimpleString) and el.key.evaluated_value == op.key), None)
            if at is None:
                raise _Unfit
            seq.remove(at)
        return seq.into_container(value)
    raise _Unfit


# -- a comma-separated sequence and the whitespace between its items -------------------------------

@dataclass
class _Seq:
    """Items without their commas; ``gaps[k]`` is the whitespace before item ``k`` (after the
    opening bracket or the previous comma), ``gaps[-1]`` the whitespace before the closing one."""

    items: list[Any]
    pre_comma: list[Any]  # whitespace between each item and its comma
    gaps: list[Any]
    trailing: bool  # the last item has a comma

    @classmethod
    def of_container(cls, node: Any) -> "_Seq":
        if isinstance(node, cst.List):
            head, tail = node.lbracket.whitespace_after, node.rbracket.whitespace_before
        elif isinstance(node, (cst.Dict, cst.Set)):
            head, tail = node.lbrace.whitespace_after, node.rbrace.whitespace_before
        else:
            head, tail = node.lpar[0].whitespace_after, node.rpar[-1].whitespace_before
        return cls._split(list(node.elements), head, tail, call=False)

    @classmethod
    def of_call(cls, call: cst.Call) -> "_Seq":
        return cls._split(list(call.args), call.whitespace_before_args, _EMPTY, call=True)

    @classmethod
    def _split(cls, elements: list[Any], head: Any, tail: Any, call: bool) -> "_Seq":
        items, pre, gaps = [], [], [head]
        trailing = False
        for k, el in enumerate(elements):
            comma = el.comma
            last = k == len(elements) - 1
            before = el.whitespace_after_arg if call else _EMPTY
            if isinstance(comma, cst.Comma):
                pre.append(comma.whitespace_before if not call else before)
                if call and _has(comma.whitespace_before):
                    raise _Unfit
                after = comma.whitespace_after
                if last:
                    trailing = True
                    if _has(after) and _has(tail):
                        raise _Unfit
                    after = after if _has(after) else tail
                gaps.append(after)
            else:  # only the last item has no comma
                pre.append(_EMPTY)
                gaps.append(before if call else tail)
            items.append(el.with_changes(comma=cst.MaybeSentinel.DEFAULT,
                                         **({"whitespace_after_arg": _EMPTY} if call else {})))
        if not elements:
            gaps.append(tail)
        return cls(items, pre, gaps, trailing)

    def _joined(self, call: bool) -> tuple[list[Any], Any]:
        """The items with their commas again, and the whitespace left for the closing bracket."""
        out = []
        n = len(self.items)
        for k, item in enumerate(self.items):
            last = k == n - 1
            if not last or self.trailing:
                after = self.gaps[k + 1] if not last or call else _EMPTY
                comma = cst.Comma(whitespace_before=_EMPTY if call else self.pre_comma[k], whitespace_after=after)
                if call:
                    item = item.with_changes(whitespace_after_arg=self.pre_comma[k])
                item = item.with_changes(comma=comma)
            elif call:
                item = item.with_changes(whitespace_after_arg=self.gaps[k + 1])
            out.append(item)
        return out, self.gaps[-1]

    def into_container(self, node: Any) -> Any:
        items, closing = self._joined(call=False)
        if isinstance(node, cst.List):
            return node.with_changes(elements=items, lbracket=node.lbracket.with_changes(whitespace_after=self.gaps[0]),
                                     rbracket=node.rbracket.with_changes(whitespace_before=closing))
        if isinstance(node, (cst.Dict, cst.Set)):
            return node.with_changes(elements=items, lbrace=node.lbrace.with_changes(whitespace_after=self.gaps[0]),
                                     rbrace=node.rbrace.with_changes(whitespace_before=closing))
        lpar = [node.lpar[0].with_changes(whitespace_after=self.gaps[0]), *node.lpar[1:]]
        rpar = [*node.rpar[:-1], node.rpar[-1].with_changes(whitespace_before=closing)]
        return node.with_changes(elements=items, lpar=lpar, rpar=rpar)

    def into_call(self, call: cst.Call) -> cst.Call:
        items, _ = self._joined(call=True)
        return call.with_changes(args=items, whitespace_before_args=self.gaps[0])

    def remove(self, k: int) -> None:
        last = k == len(self.items) - 1
        merged = _merge(self.gaps[k], self.gaps[k + 1], last)
        del self.items[k], self.pre_comma[k]
        self.gaps[k:k + 2] = [merged]
        if not self.items:
            self.gaps = [_EMPTY, _EMPTY]

    def replace(self, k: int, new: list[Any]) -> None:
        if not new:
            self.remove(k)
            return
        self.items[k:k + 1] = [self.items[k].with_changes(value=new[0].value)] + new[1:]
        self.pre_comma[k:k + 1] = [self.pre_comma[k]] + [_EMPTY] * (len(new) - 1)
        between = _like_line(self.gaps[k]) if _multiline(self.gaps[k]) else cst.SimpleWhitespace(" ")
        self.gaps[k + 1:k + 1] = [between] * (len(new) - 1)

    def append(self, new: list[Any]) -> None:
        if not new:
            return
        n = len(self.items)
        tail = self.gaps[-1]
        if n == 0:
            self.items, self.pre_comma = list(new), [_EMPTY] * len(new)
            self.gaps = [self.gaps[0]] + [cst.SimpleWhitespace(" ")] * (len(new) - 1) + [tail]
            return
        if _multiline(tail):
            model = next((g for g in reversed(self.gaps[:-1]) if _multiline(g)), None)
            indent = model.last_line if model is not None else tail.last_line
            first = cst.ParenthesizedWhitespace(first_line=tail.first_line, empty_lines=[], indent=tail.indent,
                                                last_line=indent)
            between = cst.ParenthesizedWhitespace(indent=tail.indent, last_line=indent)
            new_tail = cst.ParenthesizedWhitespace(empty_lines=tail.empty_lines, indent=tail.indent,
                                                   last_line=tail.last_line)
            gaps = [first] + [between] * (len(new) - 1) + [new_tail]
        else:
            gaps = [cst.SimpleWhitespace(" ")] * len(new) + [tail]
        self.items += new
        self.pre_comma += [_EMPTY] * len(new)
        self.gaps[-1:] = gaps


def _has(ws: Any) -> bool:
    return not (isinstance(ws, cst.SimpleWhitespace) and ws.value == "")


def _multiline(ws: Any) -> bool:
    return isinstance(ws, cst.ParenthesizedWhitespace)


def _like_line(ws: cst.ParenthesizedWhitespace) -> cst.ParenthesizedWhitespace:
    """A line break with the indentation of ``ws`` (no comment, no blank lines)."""
    return cst.ParenthesizedWhitespace(indent=ws.indent, last_line=ws.last_line)


def _merge(before: Any, after: Any, last: bool) -> Any:
    """The whitespace left where an item goes: the comment and blank/comment lines before it stay,
    the comment on its own line goes with it, and the next item keeps its indentation."""
    if _multiline(before) and _multiline(after):
        return cst.ParenthesizedWhitespace(first_line=before.first_line,
                                           empty_lines=[*before.empty_lines, *after.empty_lines],
                                           indent=after.indent, last_line=after.last_line)
    if _multiline(before):
        return before
    if _multiline(after):
        return cst.ParenthesizedWhitespace(empty_lines=after.empty_lines, indent=after.indent,
                                           last_line=after.last_line)
    return after if last else before


# -- writing values ------------------------------------------------------------------------------

def _quote_of(node: Any) -> str | None:
    """The quote character of the first plain string in ``node`` (a string, or a list/tuple of them)."""
    for s in ([node] if isinstance(node, cst.SimpleString) else
              [getattr(e, "value", None) for e in getattr(node, "elements", ())] if not isinstance(node, cst.Call)
              else [a.value for a in node.args]):
        if isinstance(s, cst.SimpleString) and s.value[-1:] in ("'", '"') and s.value[-3:] not in ("'''", '"""'):
            return s.value[-1]
        if isinstance(s, (cst.List, cst.Tuple)) and (q := _quote_of(s)) is not None:
            return q
    return None


def _code(value: Any, quote: str) -> str:
    if isinstance(value, str):
        if value.isprintable() and "\\" not in value and quote not in value:
            return f"{quote}{value}{quote}"
        return repr(value)
    if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_code(v, quote) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(_code(v, quote) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_code(k, quote)}: {_code(v, quote)}" for k, v in value.items()) + "}"
    raise _Unfit


def _node(value: Any, quote: str) -> cst.BaseExpression:
    return cst.parse_expression(_code(value, quote))
