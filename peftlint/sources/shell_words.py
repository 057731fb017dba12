"""Shell words → their values after expansion, with the source offset of every character.

Part of reading training scripts (``shell_commands.py`` splits a script into commands): single
and double quotes, backslash escapes, ``$VAR``, ``${VAR}``, ``${VAR:-default}``,
``${VAR:=default}``, ``${VAR:+alt}`` with variables the script assigned, and field splitting of
unquoted expansions on blanks. What the script cannot tell — a variable only the environment sets,
positional parameters, ``$(...)``, arithmetic, other ``${...}`` forms — is a ``Dyn`` part with a
reason, never guessed. A variable the environment may set but the script gives a default
(``${MODEL:-gpt2}``) takes the default, marked as such. Each field keeps the offsets its
characters came from, so a value read through a variable points at the assignment's literal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import repeat

from peftlint.textpos import LineIndex

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_NESTING = 32  # ${A:-${B:-...}} levels read before the rest is dynamic
# Expansion bounds, as YAML aliases have theirs: `A=$A$A` forty times is 2**40 characters from a
# 400-byte script. One word expands to at most MAX_WORD characters, one file's expansions to
# MAX_EXPANDED in all; past that the word is dynamic, with the reason.
MAX_WORD = 65_536
MAX_EXPANDED = 500_000
_PLAIN = re.compile(r"[^\s;&|()<>\\'\"$`]+")  # a run of characters that stand for themselves
_PLAIN_DQ = re.compile(r'[^"\\$`]+')  # the same inside double quotes


@dataclass
class Dyn:
    """A part of a word whose value the script does not determine."""

    reason: str


@dataclass
class Var:
    chars: list[tuple[str, int]] | None  # the value with each character's source offset; None: dynamic
    reason: str = ""  # why it is dynamic
    origin: str = ""  # "MODEL (line 5)"
    from_default: bool = False


@dataclass
class Field:
    """One word of a command after expansion and field splitting."""

    text: str | None  # None when dynamic
    start: int  # the use-site word in the script
    end: int
    reason: str = ""
    origin: str = ""  # the variable a value came through, "" for a literal word
    from_default: bool = False
    offsets: list[int] = field(default_factory=list)  # source offset of each character of ``text``

    @property
    def dynamic(self) -> bool:
        return self.text is None

    def source_range(self) -> tuple[int, int]:
        """Where the characters are written: one contiguous run in the script, else the word itself."""
        o = self.offsets
        if self.text and len(o) == len(self.text) and o == list(range(o[0], o[0] + len(o))):
            return o[0], o[-1] + 1
        return self.start, self.end



class Chars:
    """The expansion of one word so far: characters (char, offset, splittable) and dynamic parts."""

    def __init__(self) -> None:
        self.parts: list[tuple[str, int, bool] | Dyn] = []
        self.origin = ""
        self.from_default = False
        self.quoted = False  # any quoting: an empty word still counts

    def add(self, ch: str, off: int, split: bool = False) -> None:
        self.parts.append((ch, off, split))

    def run(self, text: str, start: int) -> None:
        """Characters ``text`` written at ``start`` onwards, none a split point."""
        self.parts.extend(zip(text, range(start, start + len(text)), repeat(False)))


class WordReader:
    """Expands words against the variables assigned so far (``vars``)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)
        self.vars: dict[str, Var] = {}
        self.depth = 0  # inside if/for/while/case/{ } blocks: assignments there are conditional
        self.sourced = ""  # after `source file`: any variable may have been set there
        self.nesting = 0
        self.expanded = 0  # characters inserted from variables so far (MAX_EXPANDED)
        self.lines = LineIndex(text)

    def line(self, off: int) -> int:
        return self.lines.pos(off)[0]

    def word(self, pos: int, stop: str = "") -> tuple[Chars, int]:
        """One word from ``pos``: up to a blank or operator (or a character of ``stop``, inside
        ``${...}``)."""
        out = Chars()
        t = self.text
        while pos < self.n:
            if not stop:
                m = _PLAIN.match(t, pos)
                if m:
                    out.run(m.group(), pos)
                    pos = m.end()
                    if pos >= self.n:
                        break
            c = t[pos]
            if c in stop or (not stop and (c in " \t\r\n;&|()<>")):
                break
            if c == "\\":
                if t.startswith("\\\n", pos):
                    pos += 2
                    continue
                if pos + 1 < self.n:
                    out.add(t[pos + 1], pos + 1)
                pos += 2
                out.quoted = True
            elif c == "'":
                end = t.find("'", pos + 1)
                end = self.n if end < 0 else end
                out.run(t[pos + 1:end], pos + 1)
                pos = end + 1
                out.quoted = True
            elif c == '"':
                pos = self._double(pos + 1, out)
                out.quoted = True
            elif c == "$":
                pos = self._dollar(pos, out, quoted=False)
            elif c == "`":
                end = t.find("`", pos + 1)
                out.parts.append(Dyn(f"command substitution {t[pos:(end + 1 if end > 0 else self.n)][:40]}"))
                pos = self.n if end < 0 else end + 1
            else:
                out.add(c, pos, split=bool(stop) and c in " \t\n")  # blanks of an unquoted ${X:-a b}
                pos += 1
        return out, pos

    def _double(self, pos: int, out: Chars) -> int:
        t = self.text
        while pos < self.n and t[pos] != '"':
            m = _PLAIN_DQ.match(t, pos)
            if m:
                out.run(m.group(), pos)
                pos = m.end()
                continue
            c = t[pos]
            if c == "\\" and pos + 1 < self.n and t[pos + 1] in '$`"\\\n':
                if t[pos + 1] != "\n":
                    out.add(t[pos + 1], pos + 1)
                pos += 2
            elif c == "$":
                pos = self._dollar(pos, out, quoted=True)
            elif c == "`":
                end = t.find("`", pos + 1)
                out.parts.append(Dyn("command substitution"))
                pos = self.n if end < 0 else end + 1
            else:
                out.add(c, pos)
                pos += 1
        return pos + 1

    def _dollar(self, pos: int, out: Chars, quoted: bool) -> int:
        t = self.text
        nxt = t[pos + 1] if pos + 1 < self.n else ""
        if nxt == "(":
            end = _matching(t, pos + 1, "(", ")")
            kind = "arithmetic" if t.startswith("$((", pos) else "command substitution"
            out.parts.append(Dyn(f"{kind} {t[pos:end][:40]}"))
            return end
        if nxt == "{":
            return self._braced(pos, out, quoted)
        if nxt == '"' and not quoted:  # $"..." (a translated string): the string itself
            return pos + 1
        if nxt == "'" and not quoted:
            end = t.find("'", pos + 2)
            end = self.n if end < 0 else end
            if "\\" in t[pos + 2:end]:
                out.parts.append(Dyn("an ANSI-C quoted string with escapes"))
            else:
                for i in range(pos + 2, end):
                    out.add(t[i], i)
            return end + 1
        m = _NAME.match(t, pos + 1)
        if m:
            self._insert(m.group(), out, quoted)
            return m.end()
        if nxt and (nxt.isdigit() or nxt in "@*#?$!-"):
            out.parts.append(Dyn(f"the shell parameter ${nxt}, set when the script runs"))
            return pos + 2
        out.add("$", pos)
        return pos + 1

    def _braced(self, pos: int, out: Chars, quoted: bool) -> int:
        t = self.text
        end = _matching(t, pos + 1, "{", "}")
        inner = t[pos + 2:end - 1]
        m = _NAME.match(t, pos + 2)
        if not m or inner.startswith("#") or inner.startswith("!"):
            out.parts.append(Dyn(f"the expansion {t[pos:end][:40]}"))
            return end
        name, after = m.group(), m.end()
        op_m = re.match(r":?[-=+]", t[after:end - 1])
        if after == end - 1:
            self._insert(name, out, quoted)
            return end
        if not op_m or self.nesting >= _MAX_NESTING:
            out.parts.append(Dyn(f"the expansion {t[pos:end][:40]}"))
            return end
        op = op_m.group()
        self.nesting += 1
        try:
            word, _ = self.word(after + len(op), stop="}")
        finally:
            self.nesting -= 1
        var = self.vars.get(name)
        empty = var is not None and var.chars == []
        known = var is not None and var.chars is not None and not (empty and op.startswith(":"))
        if var is not None and var.chars is None:
            out.parts.append(Dyn(var.reason))
            return end
        if var is None and self.sourced:
            out.parts.append(Dyn(f"{name} may be set by the file {self.sourced.split(' may')[0]} reads"))
            return end
        if op.endswith("+"):
            if var is None:
                out.parts.append(Dyn(f"{name} is not set in this script, so {t[pos:end][:40]} depends on the "
                                     "environment"))
            elif known:
                _extend(out, word, quoted)
            return end
        if known:
            self._insert(name, out, quoted)
            return end
        # unset here (the environment may set it) or empty: the script's default
        _extend(out, word, quoted)
        out.from_default = True
        out.origin = out.origin or f"the default of ${{{name}{op}...}} (line {self.line(pos)})"
        if op.endswith("=") and not self.depth:
            self.vars[name] = Var([p[:2] for p in word.parts if isinstance(p, tuple)], origin=out.origin,
                                  from_default=True)
        return end

    def _insert(self, name: str, out: Chars, quoted: bool) -> None:
        var = self.vars.get(name)
        if var is None:
            where = f" or by {self.sourced.split(' may')[0]}" if self.sourced else ""
            out.parts.append(Dyn(f"{name} is not set in this script; its value comes from the environment{where}"))
            return
        if var.chars is None:
            out.parts.append(Dyn(var.reason))
            return
        self.expanded += len(var.chars)
        if len(out.parts) + len(var.chars) > MAX_WORD or self.expanded > MAX_EXPANDED:
            out.parts.append(Dyn(f"the expansion of ${name} is longer than peftlint reads ({MAX_WORD:,} characters "
                                 f"in one word, {MAX_EXPANDED:,} in one file)"))
            return
        for ch, off in var.chars:
            out.add(ch, off, split=not quoted)
        out.origin = out.origin or var.origin
        out.from_default = out.from_default or var.from_default


def _extend(out: Chars, word: Chars, quoted: bool) -> None:
    for p in word.parts:
        out.parts.append(p if isinstance(p, Dyn) else (p[0], p[1], not quoted and p[2]))
    out.origin = out.origin or word.origin


def _matching(t: str, pos: int, open_: str, close: str) -> int:
    """The offset after the ``close`` that matches the ``open_`` at ``pos`` (quotes skipped)."""
    depth, i, n = 0, pos, len(t)
    while i < n:
        c = t[i]
        if c == "\\":
            i += 2
            continue
        if c in "'\"" and open_ == "(":
            j = t.find(c, i + 1)
            i = n if j < 0 else j + 1
            continue
        if c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def split_fields(chars: Chars, start: int, end: int) -> list[Field]:
    """Field splitting of unquoted expansion results (on blanks); a dynamic unquoted part makes the
    whole word one dynamic field, since the number of fields is then unknown."""
    dyn = [p for p in chars.parts if isinstance(p, Dyn)]
    if dyn:
        return [Field(None, start, end, reason=dyn[0].reason, origin=chars.origin)]
    if not chars.parts:
        return [_field([], start, end, chars)] if chars.quoted else []
    text, offsets, splits = zip(*chars.parts)  # type: ignore[misc]
    if not any(splits):
        return [Field("".join(text), start, end, origin=chars.origin, from_default=chars.from_default,
                      offsets=list(offsets))]
    fields: list[Field] = []
    cur: list[tuple[str, int]] = []
    for ch, off, split in chars.parts:  # type: ignore[misc]
        if split and ch in " \t\n":
            if cur:
                fields.append(_field(cur, start, end, chars))
                cur = []
            continue
        cur.append((ch, off))
    if cur or (not fields and chars.quoted):
        fields.append(_field(cur, start, end, chars))
    return fields


def _field(cur: list[tuple[str, int]], start: int, end: int, chars: Chars) -> Field:
    return Field("".join(c for c, _ in cur), start, end, origin=chars.origin, from_default=chars.from_default,
                 offsets=[o for _, o in cur])
