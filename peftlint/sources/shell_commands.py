"""Shell scripts → commands of expanded words (``shell_words.py``), for training scripts.

Comments, line continuations, ``;``/``&&``/``||``/``|``/``&``/newline between commands,
redirections (the target word is dropped) and here-documents (their bodies are skipped).
Assignments (``MODEL=Qwen/Qwen3-4B``, ``export BASE=...``) set the variables later commands
expand; one inside an ``if``/loop/function body, a loop variable, or anything after ``source``/
``eval`` is dynamic, since the script alone does not say whether or how it is set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from peftlint.sources.shell_words import Chars, Dyn, Field, Var, WordReader, split_fields

_ASSIGN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(\+?)=")
_OPEN_BLOCK = {"if", "for", "while", "until", "case", "{", "select"}
_CLOSE_BLOCK = {"fi", "done", "esac", "}"}
_RESERVED = {"then", "else", "elif", "do", "!", "in", "time"} | _OPEN_BLOCK | _CLOSE_BLOCK
_DECLARE = {"export", "readonly", "declare", "typeset", "local"}
_SOURCE = {"source", ".", "eval", "read", "mapfile", "readarray"}


@dataclass
class Command:
    fields: list[Field]
    start: int  # offset of the command's first word


class ShellReader(WordReader):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.heredocs: list[tuple[str, bool]] = []  # (delimiter, strip leading tabs)

    def commands(self) -> list[Command]:
        out: list[Command] = []
        pos = 0
        while pos < self.n:
            words: list[tuple[Chars, int, int]] = []
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
                    chars, pos = self.word(pos)
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
        chars, end = self.word(pos)
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

    def _finish(self, words: list[tuple[Chars, int, int]]) -> Command | None:
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
                assert m is not None  # all matched (or there are none)
                self._assign(m, chars, start)
            return None
        if names[0] in _SOURCE:
            where = f"`{names[0]}` at line {self.line(words[0][1])} may change it"
            for k in list(self.vars):
                self.vars[k] = Var(None, where)
            self.sourced = where
        fields: list[Field] = []
        for chars, start, end in words:
            fields.extend(split_fields(chars, start, end))
        return Command(fields, words[0][1])

    def _assign(self, m: re.Match, chars: Chars, start: int) -> None:
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



def read_commands(text: str) -> list[Command]:
    return ShellReader(text).commands()
