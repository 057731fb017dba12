"""Shell scripts → commands of expanded words, with the source offset of every character.

A small reading of POSIX shell, enough for training scripts: comments, line continuations,
``;``/``&&``/``||``/``|``/``&``/newline between commands, single and double quotes, backslash
escapes, redirections (the target word is dropped) and here-documents (their bodies are skipped).
Variables assigned in the script (``MODEL=Qwen/Qwen3-4B``, ``export BASE=...``) are expanded in
later commands (``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR:=default}``, ``${VAR:+alt}``),
unquoted expansions are split into fields on blanks. What the script cannot tell — a variable only
the environment sets, positional parameters, ``$(...)``, arithmetic, an assignment inside an
``if``/loop/function or after ``source`` — is dynamic with a reason, never guessed. A variable the
environment may set but the script gives a default (``${MODEL:-gpt2}``) takes the default, marked
as such. Each field keeps the offsets its characters came from, so a value read through a
variable points at the assignment's literal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import repeat

from peftlint.textpos import LineIndex

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(\+?)=")
_OPEN_BLOCK = {"if", "for", "while", "until", "case", "{", "select"}
_CLOSE_BLOCK = {"fi", "done", "esac", "}"}
_RESERVED = {"then", "else", "elif", "do", "!", "in", "time"} | _OPEN_BLOCK | _CLOSE_BLOCK
_DECLARE = {"export", "readonly", "declare", "typeset", "local"}
_SOURCE = {"source", ".", "eval", "read", "mapfile", "readarray"}
_MAX_NESTING = 32  # ${A:-${B:-...}} levels read before the rest is dynamic
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


@dataclass
class Command:
    fields: list[Field]
    start: int  # offset of the command's first word


class _Chars:
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


class ShellReader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)
        self.vars: dict[str, Var] = {}
        self.depth = 0  # inside if/for/while/case/{ } blocks: assignments there are conditional
        self.heredocs: list[tuple[str, bool]] = []  # (delimiter, strip leading tabs)
        self.sourced = ""  # after `source file`: any variable may have been set there
        self.nesting = 0
        self.lines = LineIndex(text)

    def line(self, off: int) -> int:
        return self.lines.pos(off)[0]

    # -- commands --------------------------------------------------------------------------------
    def commands(self) -> list[Command]:
        out: list[Command] = []
        pos = 0
        while pos < self.n:
            words: list[tuple[_Chars, int, int]] = []
            redirect_next = False
            while pos < self.n:
                c = self.text[pos]
                if c in " \t\r":
                    pos += 1
                elif c == "\\" and self.text.startswith("\\\n", pos):
                    pos += 2
                elif c == "#":
                    nl = self.text.find("\n", pos)
                    pos = self.n if nl < 0 else nl
                elif c in "\n;&|()":
                    pos += 1
                    if c == "\n" and self.heredocs:
                        pos = self._skip_heredocs(pos)
                    break
                elif c in "<>":
                    pos, kind = self._redirection(pos, words)
                    redirect_next = kind == "file"
                    if kind in ("heredoc", "heredoc-strip"):
                        pos = self._heredoc_word(pos, kind == "heredoc-strip")
                else:
                    start = pos
                    chars, pos = self._word(pos)
                    if redirect_next:
                        redirect_next = False
                        continue
                    words.append((chars, start, pos))
            if words:
                cmd = self._finish(words)
                if cmd is not None:
                    out.append(cmd)
        return out

    def _redirection(self, pos: int, words: list) -> tuple[int, str]:
        """Skip a redirection operator: ("file" | "heredoc" | "heredoc-strip" | "none": no target word)."""
        if words and words[-1][2] == pos and all(isinstance(p, tuple) and p[0].isdigit() for p in words[-1][0].parts):
            words.pop()  # the file descriptor of ``2>``
        t = self.text
        kind = "file"
        if t.startswith("<<", pos) and not t.startswith("<<<", pos):
            kind = "heredoc-strip" if t.startswith("<<-", pos) else "heredoc"
        while pos < self.n and t[pos] in "<>&-|":
            pos += 1
        if pos < self.n and t[pos].isdigit() and t[pos - 1] == "&":  # 2>&1
            while pos < self.n and t[pos].isdigit():
                pos += 1
            return pos, "none"
        while pos < self.n and t[pos] in " \t":
            pos += 1
        return pos, kind

    def _heredoc_word(self, pos: int, strip: bool) -> int:
        chars, end = self._word(pos)
        delim = "".join(p[0] for p in chars.parts if isinstance(p, tuple))
        self.heredocs.append((delim, strip))
        return end

    def _skip_heredocs(self, pos: int) -> int:
        for delim, strip in self.heredocs:
            while pos < self.n:
                nl = self.text.find("\n", pos)
                line_end = self.n if nl < 0 else nl
                line = self.text[pos:line_end]
                pos = line_end + 1
                if (line.lstrip("\t") if strip else line) == delim:
                    break
        self.heredocs = []
        return min(pos, self.n)

    def _finish(self, words: list[tuple[_Chars, int, int]]) -> Command | None:
        first_raw = self.text[words[0][1]:words[0][2]]
        if first_raw in _RESERVED:
            if first_raw in _OPEN_BLOCK:
                self.depth += 1
            elif first_raw in _CLOSE_BLOCK:
                self.depth = max(0, self.depth - 1)
            if first_raw == "for" and len(words) > 1:
                name = self.text[words[1][1]:words[1][2]]
                self.vars[name] = Var(None, f"the loop variable of `for {name}` (line {self.line(words[0][1])})")
            rest = words[1:] if first_raw not in ("for", "case", "select") else []
            return self._finish(rest) if rest else None
        # assignments: a command made only of NAME=value words (optionally after export/declare/...)
        names = [self.text[w[1]:w[2]] for w in words]
        body = words[1:] if names[0] in _DECLARE else words
        assigns = [(_ASSIGN.match(self.text, w[1]), w) for w in body]
        if all(m is not None for m, _ in assigns) or (names[0] in _DECLARE and not body):
            for m, (chars, start, end) in assigns:
                self._assign(m, chars, start)
            return None
        if names[0] in _SOURCE:
            where = f"`{names[0]}` at line {self.line(words[0][1])} may change it"
            for k in list(self.vars):
                self.vars[k] = Var(None, where)
            self.sourced = where
        fields: list[Field] = []
        for chars, start, end in words:
            fields.extend(_split(chars, start, end))
        return Command(fields, words[0][1])

    def _assign(self, m: re.Match, chars: _Chars, start: int) -> None:
        name, append = m.group(1), m.group(2)
        skip = m.end() - start  # the NAME= characters at the start of the word
        parts = chars.parts[skip:]
        line = self.line(start)
        if self.depth:
            self.vars[name] = Var(None, f"{name} is assigned inside a block at line {line} (it may not run)")
            return
        if any(isinstance(p, Dyn) for p in parts):
            reason = next(p.reason for p in parts if isinstance(p, Dyn))
            self.vars[name] = Var(None, reason)
            return
        value = [(p[0], p[1]) for p in parts if isinstance(p, tuple)]
        if append:
            old = self.vars.get(name)
            if old is None or old.chars is None:
                self.vars[name] = Var(None, f"{name} is appended to at line {line}, and its earlier value is unknown")
                return
            value = old.chars + value
        self.vars[name] = Var(value, origin=f"{name} (line {line})", from_default=chars.from_default)

    # -- words -----------------------------------------------------------------------------------
    def _word(self, pos: int, stop: str = "") -> tuple[_Chars, int]:
        """One word from ``pos``: up to a blank or operator (or a character of ``stop``, inside
        ``${...}``)."""
        out = _Chars()
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

    def _double(self, pos: int, out: _Chars) -> int:
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

    def _dollar(self, pos: int, out: _Chars, quoted: bool) -> int:
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

    def _braced(self, pos: int, out: _Chars, quoted: bool) -> int:
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
            word, _ = self._word(after + len(op), stop="}")
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

    def _insert(self, name: str, out: _Chars, quoted: bool) -> None:
        var = self.vars.get(name)
        if var is None:
            where = f" or by {self.sourced.split(' may')[0]}" if self.sourced else ""
            out.parts.append(Dyn(f"{name} is not set in this script; its value comes from the environment{where}"))
            return
        if var.chars is None:
            out.parts.append(Dyn(var.reason))
            return
        for ch, off in var.chars:
            out.add(ch, off, split=not quoted)
        out.origin = out.origin or var.origin
        out.from_default = out.from_default or var.from_default


def _extend(out: _Chars, word: _Chars, quoted: bool) -> None:
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


def _split(chars: _Chars, start: int, end: int) -> list[Field]:
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


def _field(cur: list[tuple[str, int]], start: int, end: int, chars: _Chars) -> Field:
    return Field("".join(c for c, _ in cur), start, end, origin=chars.origin, from_default=chars.from_default,
                 offsets=[o for _, o in cur])


def read_commands(text: str) -> list[Command]:
    return ShellReader(text).commands()
