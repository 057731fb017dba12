"""Hover and completion on the targeting fields of a config: what an entry matches in the model the
config was checked against, and the entries that model offers (``peftlint modules``'s list)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from lsprotocol import types as lsp

from peftlint.engine.results import RunResult, SpecOutcome
from peftlint.model.inventory import Inventory
from peftlint.semantics import roles
from peftlint.semantics.describe import describe_modules
from peftlint.semantics.matching import (
    PeftView,
    compute_targeting,
    entry_matches,
    layer_index,
    pattern_key,
    safe_fullmatch,
    wrapper_matches,
)
from peftlint.semantics.regex_budget import RegexTooSlow
from peftlint.server.convert import Lines, contains
from peftlint.spec import Value

LIST_FIELDS = ("target_modules", "modules_to_save", "exclude_modules")
PATTERN_FIELDS = ("rank_pattern", "alpha_pattern")
ALL_LINEAR = "all-linear"
_SHOWN = 3  # module names listed in a hover


@dataclass
class EntryAt:
    """The entry under the cursor: a list item, a string field value, or a pattern key."""

    outcome: SpecOutcome
    field: str
    value: Value
    form: str  # "item" | "string" | "key"

    @property
    def text(self) -> str:
        return str(self.value.value) if self.form != "key" else self._key

    _key: str = ""


def entry_at(result: RunResult, line: int, column: int) -> EntryAt | SpecOutcome | None:
    """The targeting entry at a 1-based position, else the config whose call holds it, else None.
    Notebook specs are skipped: their spans are positions in the cells' program, not the file."""
    config = None
    for o in result.outcomes:
        spec = o.spec
        if spec.facts.notebook:
            continue
        for name in LIST_FIELDS:
            v = spec.fields.get(name)
            if v is None or v.dynamic:
                continue
            if v.items is not None:
                for item in v.items:
                    if item.is_str and contains(item.span, line, column):
                        return EntryAt(o, name, item, "item")
            elif v.is_str and contains(v.span, line, column):
                return EntryAt(o, name, v, "string")
        for name in PATTERN_FIELDS:
            v = spec.fields.get(name)
            for key, kv in ((v.keys or {}).items() if v is not None and not v.dynamic else ()):
                if contains(kv.span, line, column):
                    return EntryAt(o, name, kv, "key", _key=key)
        if contains(spec.span, line, column):
            config = o
    return config


def matched(at: EntryAt, inventory: Inventory) -> list[str]:
    """The modules the entry reaches, as PEFT matches that field (see docs/peft-behaviour.md)."""
    spec, text = at.outcome.spec, at.text
    names = [m.name for m in inventory.modules]
    if at.form == "key":
        return [n for n in names if pattern_key([text], n) == text]
    if at.form == "string" and at.field == "target_modules" and text.lower() == ALL_LINEAR:
        view = PeftView(method=spec.method or "LORA", target_modules=ALL_LINEAR, task_type=spec.task_type)
        return list(compute_targeting(view, inventory).targeted)
    if at.form == "string":
        return [n for n in names if safe_fullmatch(text, n)]
    if at.field == "modules_to_save":
        return [n for n in names if wrapper_matches(text, n)]
    return [n for n in names if entry_matches(text, n)]


def hover(result: RunResult, lines: Lines, pos: lsp.Position) -> lsp.Hover | None:
    line, column = lines.point(pos)
    at = entry_at(result, line, column)
    if at is None:
        return None
    if isinstance(at, SpecOutcome):
        return lsp.Hover(contents=_markdown(_config_text(at)))
    if not at.text:
        return None  # an entry being typed: completion's turn
    inventory = at.outcome.inventory
    if inventory is None:
        why = at.outcome.skipped or "its base model was not resolved"
        body = f"`{at.text}`: not checked against a model: {why}"
    else:
        try:
            body = _entry_text(at, inventory, matched(at, inventory), at.outcome.model or inventory.model_id)
        except RegexTooSlow:
            body = f"`{at.text}`: the pattern is too slow to match (PFT212)"
    return lsp.Hover(contents=_markdown(body), range=lines.range(at.value.span))


def _markdown(text: str) -> lsp.MarkupContent:
    return lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text)


def _config_text(o: SpecOutcome) -> str:
    head = f"**{o.spec.config_class or o.spec.method}**"
    if o.model:
        return f"{head} checked against `{o.model}`" + (f" ({o.how})" if o.how else "")
    return f"{head} not checked against a model: {o.skipped or 'no base model linked to this config'}"


def _entry_text(at: EntryAt, inventory: Inventory, names: list[str], model: str) -> str:
    what = f"`{at.text}`" if at.form != "string" or at.text.lower() != ALL_LINEAR else '`"all-linear"`'
    if not names:
        return f"{what} ({at.field}) matches no module of `{model}`"
    role_of = {n: e.role for e in roles.derive_roles(inventory) for n in e.modules}
    groups: Counter[tuple[str, str, str]] = Counter()
    for n in names:
        m = inventory.module(n)
        if m is None:
            continue
        shape = f" {m.in_features}→{m.out_features}" if m.in_features is not None else ""
        role = roles.ROLE_LABELS.get(role_of.get(n, ""), "")
        groups[(m.cls, shape, role)] += 1
    out = [f"{what} ({at.field}) matches **{len(names)}** module{'s' if len(names) != 1 else ''} of `{model}`", ""]
    for (cls, shape, role), count in groups.most_common():
        out.append(f"- {count} × {cls}{shape}" + (f" · {role}" if role else ""))
    layers = {i for i in (layer_index(n, None) for n in names) if i is not None}
    if layers and inventory.num_hidden_layers:
        out.append(f"- in {len(layers)} of {inventory.num_hidden_layers} layers")
    shown = ", ".join(f"`{n}`" for n in names[:_SHOWN]) + (f", … ({len(names) - _SHOWN} more)"
                                                           if len(names) > _SHOWN else "")
    out.append(f"- {shown}")
    return "\n".join(out)


def completion(result: RunResult, lines: Lines, pos: lsp.Position) -> lsp.CompletionList | None:
    """Inside a string of target_modules / modules_to_save / exclude_modules: the model's entries."""
    line, column = lines.point(pos)
    at = entry_at(result, line, column)
    if not isinstance(at, EntryAt) or at.form == "key" or at.outcome.inventory is None:
        return None
    spec = at.outcome.spec
    report = describe_modules(at.outcome.inventory, spec.task_type, spec.method or "LORA")
    where = _inside_quotes(lines, at.value)
    items = []
    for i, g in enumerate(g for g in report.groups if g.entry):
        role = roles.ROLE_LABELS.get(g.role or "", "")
        shapes = ", ".join(f"{s[0]}→{s[1]}" for s in g.shapes)
        doc = [f"{g.count} × {'/'.join(g.classes)} ({shapes})", f"in {g.layers} layers" if g.layers else "",
               f"all-linear selects {g.all_linear}" if g.all_linear != "no" else "not selected by all-linear",
               "output head" if g.head else "", "input embedding" if g.input_embedding else "",
               f"e.g. `{g.examples[0]}`" if g.examples else ""]
        items.append(lsp.CompletionItem(
            label=g.entry, kind=lsp.CompletionItemKind.Field, sort_text=f"{i:04d}",
            detail=f"{g.kind} × {g.count}" + (f" · {role}" if role else ""),
            documentation=_markdown("\n\n".join(d for d in doc if d)),
            text_edit=lsp.TextEdit(range=where, new_text=g.entry) if where else None))
    if at.form == "string" and at.field == "target_modules" and report.all_linear_count:
        skips = f"; leaves out {', '.join(report.all_linear_skips)}" if report.all_linear_skips else ""
        items.append(lsp.CompletionItem(
            label=ALL_LINEAR, kind=lsp.CompletionItemKind.Keyword, sort_text="0000",
            detail=f"{report.all_linear_count} modules", documentation=_markdown(
                f"every Linear layer of `{report.model}`{skips}"),
            text_edit=lsp.TextEdit(range=where, new_text=ALL_LINEAR) if where else None))
    return lsp.CompletionList(is_incomplete=False, items=items)


def _inside_quotes(lines: Lines, value: Value) -> lsp.Range | None:
    """The range of a string literal's content (between its quotes; all of it when unquoted)."""
    span = value.span
    if span.line != span.end_line:
        return None
    src = lines.line(span.line - 1)[span.column - 1:span.end_column - 1]
    if len(src) >= 2 and src[0] == src[-1] and src[0] in "'\"":
        return lsp.Range(start=lines.position(span.line, span.column + 1),
                         end=lines.position(span.line, span.end_column - 1))
    return lines.range(span)
