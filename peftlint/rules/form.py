"""PFT2xx: the form of the values, checkable without the model."""

from __future__ import annotations

import difflib
import re
from typing import Iterator

from peftlint.linter.context import Context
from peftlint.linter.diagnostics import Diagnostic, Edit, Fix, Severity, Span
from peftlint.linter.matching import ALL_LINEAR
from peftlint.linter.spec import Value
from peftlint.rules.base import Example, Rule

_REGEX_CHARS = re.compile(r"[*+?()|^$\\{}]")
_MALFORMED = re.compile(r"[\[\]'\",\s]")


def literal_problem(entry: str) -> str | None:
    """Why a list entry cannot be a literal module name ("regex", "shorthand", "malformed"), or None."""
    if entry.lower() == ALL_LINEAR:
        return "shorthand"
    if _REGEX_CHARS.search(entry):
        return "regex"
    if entry == "" or _MALFORMED.search(entry) or entry.startswith(".") or entry.endswith(".") or ".." in entry:
        return "malformed"
    return None


def _py(body: str) -> Example:
    return Example(f"from peft import LoraConfig\n\n{body}\n")


def _string_items(ctx: Context, field_name: str = "target_modules"):
    v = ctx.field(field_name)
    if v is None or v.dynamic or v.items is None:
        return
    for item in v.items:
        if not item.dynamic and isinstance(item.value, str):
            yield item


def _quote(ctx: Context, s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class RegexInList(Rule):
    code = "PFT201"
    name = "regex-in-list"
    severity = Severity.ERROR
    summary = "A `target_modules` list entry contains regex syntax; list entries are literal names."
    docs = """
    Only a *string* `target_modules` is a regular expression. Inside a list every entry is a
    literal module name (exact, or a suffix at a dot boundary), so `".*q_proj"` or `"q_.*"`
    matches nothing — silently, if another entry matches. (Before PEFT 0.6 list entries were
    searched as regexes; scripts from that time break this way.)

    Fix: use a single string regex, or list the literal names.
    """
    bad = (_py('config = LoraConfig(target_modules=["q_proj", ".*v_proj"])'),)
    good = (_py('config = LoraConfig(target_modules=r".*\\.(q_proj|v_proj)")'),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        for item in _string_items(ctx):
            if literal_problem(item.value) == "regex":
                yield self.diagnostic(
                    ctx, item.span,
                    f"`{item.value}` is in a list, where entries are literal module names, not regexes: it matches "
                    "nothing. Use one string regex for target_modules (e.g. r\".*\\.(q_proj|v_proj)\") or literal names",
                    subject=item.value)


class ShorthandInList(Rule):
    code = "PFT202"
    name = "shorthand-in-list"
    severity = Severity.ERROR
    summary = '`"all-linear"` inside a list; PEFT expands only the bare string.'
    docs = """
    PEFT expands `target_modules="all-linear"` to every linear layer except the output head, but
    only when it is the bare string. In a list, `["all-linear"]` is a literal module name that
    matches nothing: `Target modules {'all-linear'} not found in the base model`.

    Fix (safe, automatic): `target_modules="all-linear"`.
    """
    bad = (_py('config = LoraConfig(target_modules=["all-linear"])'),)
    good = (_py('config = LoraConfig(target_modules="all-linear")'),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        v = ctx.field("target_modules")
        items = list(_string_items(ctx))
        for item in items:
            if literal_problem(item.value) != "shorthand":
                continue
            fix = None
            if len(v.items) == 1 and not v.origin:
                fix = Fix("safe", (Edit(ctx.spec.path, v.span, _quote(ctx, item.value)),),
                          f'replace the list with the string "{item.value}"')
            yield self.diagnostic(
                ctx, item.span,
                f'"{item.value}" inside a list is a literal module name and matches nothing; PEFT expands the shorthand '
                f'only as a bare string: target_modules="{item.value}"',
                subject=item.value, fix=fix)


class MalformedName(Rule):
    code = "PFT203"
    name = "malformed-name"
    severity = Severity.ERROR
    summary = "An empty entry, or one with brackets, quotes, commas, spaces or stray dots."
    docs = """
    Module names never contain brackets, quotes, commas or spaces, and never start or end with a
    dot. Such entries usually come from a command-line string passed through unparsed
    (`--lora_target_modules '[Wqkv]'` becomes the single name `"[Wqkv]"`) or from splitting
    `"q_proj, v_proj"` on commas only. They match nothing.

    Fix: pass a real list of names.
    """
    bad = (_py('config = LoraConfig(target_modules=["q_proj, v_proj"])'),)
    good = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj"])'),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        for field_name in ("target_modules", "modules_to_save", "exclude_modules"):
            for item in _string_items(ctx, field_name):
                if literal_problem(item.value) != "malformed":
                    continue
                parts = [p for p in re.split(r"[\[\]'\",\s]+", item.value) if p]
                hint = f"; did you mean the list {parts!r}?" if len(parts) > 1 or (parts and parts[0] != item.value) else ""
                what = "an empty name" if item.value == "" else f"`{item.value}` is not a module name"
                yield self.diagnostic(ctx, item.span, f"{what} in {field_name}: it matches nothing{hint}",
                                      subject=item.value)


class DuplicateEntry(Rule):
    code = "PFT204"
    name = "duplicate-entry"
    severity = Severity.WARNING
    summary = "The same entry appears twice."
    docs = """
    A repeated entry changes nothing (PEFT turns the list into a set) but usually hides a typo
    for the name that was meant, such as `["q_proj", "q_proj"]` for `["q_proj", "v_proj"]`.

    Fix (safe, automatic): remove the repetition — and check which name you meant.
    """
    bad = (_py('config = LoraConfig(target_modules=["q_proj", "k_proj", "q_proj"])'),)
    good = (_py('config = LoraConfig(target_modules=["q_proj", "k_proj", "v_proj"])'),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        for field_name in ("target_modules", "modules_to_save", "exclude_modules", "target_parameters"):
            v = ctx.field(field_name)
            if v is None or v.dynamic or v.items is None:
                continue
            seen: set[str] = set()
            prev: Value | None = None
            for item in v.items:
                if not item.dynamic and isinstance(item.value, str):
                    if item.value in seen:
                        fix = None
                        if prev is not None:
                            edit = Edit(ctx.spec.path, Span(prev.span.end_line, prev.span.end_column,
                                                             item.span.end_line, item.span.end_column), "")
                            fix = Fix("safe", (edit,), f"remove the repeated `{item.value}`")
                        yield self.diagnostic(ctx, item.span, f"`{item.value}` appears twice in {field_name}; "
                                              "remove the repetition (did you mean another name?)",
                                              subject=item.value, fix=fix)
                    seen.add(item.value)
                prev = item


class EmptyTargets(Rule):
    code = "PFT205"
    name = "empty-targets"
    severity = Severity.ERROR
    summary = "`target_modules=[]` or `\"\"` and no `target_parameters`."
    docs = """
    An empty `target_modules` is not "use the defaults" (that is `None`): PEFT raises
    `No target_modules passed but also no target_parameters found`. It typically comes from a
    helper like `find_all_linear_names` that returned nothing for a quantized model.

    Fix: omit `target_modules` for PEFT's default, or name the targets.
    """
    bad = (_py('config = LoraConfig(target_modules=[])'),)
    good = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj"])'),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        v = ctx.field("target_modules")
        if v is None or v.dynamic or v.value not in ([], "", (), set()) or v.value is None:
            return
        if v.items is not None and any(i.dynamic for i in v.items):
            return
        tp = ctx.field("target_parameters")
        if tp is not None and (tp.dynamic or tp.value):
            return
        yield self.diagnostic(ctx, v.span, "target_modules is empty and there are no target_parameters: PEFT raises "
                              "\"No `target_modules` passed but also no `target_parameters` found\". Omit it for "
                              "PEFT's default or name the layers", subject="target_modules")


class UnknownArgument(Rule):
    code = "PFT209"
    name = "unknown-argument"
    severity = Severity.ERROR
    summary = "A keyword the config class does not accept (typo such as `target_module=`)."
    docs = """
    PEFT config classes are dataclasses: an unknown keyword raises `TypeError: __init__() got an
    unexpected keyword argument` when the script starts. In a saved `adapter_config.json`, PEFT
    warns about unknown keys and ignores them, so a misspelled field has no effect.

    Fix: use the field name the installed peft defines.
    """
    bad = (_py('config = LoraConfig(target_module=["q_proj", "v_proj"])'),)
    good = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj"])'),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        facts = ctx.facts
        info = facts.configs.get(ctx.spec.config_class) if facts is not None else None
        if info is None:
            return
        known = set(info.fields)
        is_json = ctx.spec.source != "python"
        if is_json:
            known |= {"peft_type", "auto_mapping", "peft_version", "base_model_name_or_path", "revision", "task_type",
                      "inference_mode"}
        for name, v in ctx.spec.fields.items():
            if name in known:
                continue
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.7)
            hint = f"; did you mean `{close[0]}`?" if close else ""
            span = v.span
            if ctx.spec.source == "adapter_config":
                key = ctx.spec.extra.get("key_spans", {}).get(name)
                span = key or span
                yield self.diagnostic(ctx, span, f"`{name}` is not a field of {info.name} in peft {facts.version}: "
                                      f"PEFT warns and ignores it{hint}", subject=name, severity=Severity.WARNING)
            else:
                yield self.diagnostic(ctx, span, f"{info.name} has no argument `{name}`: the script fails with "
                                      f"TypeError: __init__() got an unexpected keyword argument '{name}'{hint}",
                                      subject=name)
