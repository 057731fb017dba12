"""Fixes that change a Python config call's arguments (see docs/fixes.md).

``call_fix`` is what a rule calls to offer such a fix: it says the remedy as operations on the
arguments (``fix/ops.py``); the rewrite itself is libcst's and is computed only when the edit is
needed. ``checked`` is what the engine runs on every such fix before it is reported:

- peft's own config class, on the literal values of the fixed config (as PFT211 builds them), must
  not raise where it did not raise before: a fix peft would reject is not offered at all;
- a safe fix must fix its finding: the rule, run again on the fixed config, reports fewer findings
  for that subject (and no more findings overall); otherwise the fix is offered as unsafe.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Iterable

from peftlint.diagnostics import Applicability, CallChange, Diagnostic, Fix, Span
from peftlint.fix.ops import NotApplicable, Op, OpKind, apply_ops
from peftlint.semantics.peft_check import NotLiteral, construct, literal
from peftlint.spec import Value
from peftlint.textpos import LineIndex

if TYPE_CHECKING:
    from peftlint.rules.base import Rule
    from peftlint.rules.context import Context

_ADDS = (OpKind.SET_ARG, OpKind.APPEND_ITEMS)
# A call longer than this gets no fix: libcst parses about 0.1 MB/s, and each fix is checked by
# building the fixed config; a config call by hand is far shorter (224 full module names ~ 9,000).
MAX_CALL_CHARS = 20_000


def call_fix(ctx: "Context", applicability: Applicability, description: str, ops: Iterable[Op]) -> Fix | None:
    """A fix of the config call of ``ctx`` by ``ops``, or None when the call cannot take it: not a
    Python call, a field that is not written as a literal at the call (a constant defined elsewhere,
    ``**kwargs``), or an argument to add that ``**kwargs`` may already pass."""
    spec = ctx.spec
    ops = tuple(ops)
    if spec.source != "python" or not ctx.text or not ops:
        return None
    for op in ops:
        v = spec.fields.get(op.field)
        written = op.field in spec.facts.arg_spans
        if v is None or not written:
            if op.kind not in _ADDS or v is not None or spec.opaque:
                return None
        elif v.origin or v.dynamic and op.kind != OpKind.SET_ARG:
            return None
    try:
        call_text = LineIndex.of(ctx.text).slice(spec.span)
    except (IndexError, ValueError):
        return None
    if not call_text or len(call_text) > MAX_CALL_CHARS:
        return None
    return Fix(Applicability(applicability), (), description, CallChange(spec.span, call_text, ops), spec.path)


# -- checking a fix before it is offered ----------------------------------------------------------

def checked(rule: "Rule", ctx: "Context", diags: list[Diagnostic]) -> list[Diagnostic]:
    """``diags`` of ``rule`` with each call fix checked (see the module docstring)."""
    out = []
    for d in diags:
        fix = d.fix
        if fix is not None and fix.change is not None and fix.applicability != Applicability.DISPLAY_ONLY:
            d.fix = _check(rule, ctx, d, fix, diags)
        out.append(d)
    return out


def _check(rule: "Rule", ctx: "Context", d: Diagnostic, fix: Fix, before: list[Diagnostic]) -> Fix | None:
    change = fix.change
    assert change is not None  # checked() passes call fixes only
    literals = _literals(ctx)
    try:
        fixed = apply_ops(literals if literals is not None else {}, change.ops)
    except NotApplicable:
        return None
    verdict = _peft_accepts(ctx, literals, fixed)
    if verdict is False:
        return None  # peft would reject the fixed config
    if fix.applicability != Applicability.SAFE:
        return fix
    if verdict is None:
        return replace(fix, applicability=Applicability.UNSAFE)  # nobody could ask peft
    fixed_spec = _fixed_spec(ctx, change.ops)
    if fixed_spec is None:
        return replace(fix, applicability=Applicability.UNSAFE)
    from peftlint.rules.context import Context

    again = Context(spec=fixed_spec, inventory=ctx.inventory, model_label=ctx.model_label, settings=ctx.settings,
                    facts=ctx.facts, resolved=ctx.resolved, text=ctx.text, offload=ctx.offload)
    try:
        after = rule.findings(again)
    except Exception:  # noqa: BLE001 - the rule on a config it was not written for: do not vouch for the fix
        return replace(fix, applicability=Applicability.UNSAFE)
    same = sum(1 for x in before if x.subject == d.subject)
    same_after = sum(1 for x in after if x.subject == d.subject)
    if same_after >= same or len(after) >= len(before):
        return replace(fix, applicability=Applicability.UNSAFE)
    return fix


def _literals(ctx: "Context") -> dict[str, object] | None:
    """The config's arguments that peft's class takes and that are literals; None when the config
    is not one peft's class builds as written (another tool's call, an unknown class)."""
    info = ctx.config_info
    if info is None or ctx.spec.facts.tool or ctx.spec.facts.call:
        return None
    out: dict[str, object] = {}
    for k, v in ctx.spec.fields.items():
        if k in info.fields:
            try:
                out[k] = literal(v)
            except (NotLiteral, TypeError, RecursionError):
                pass
    return out


def _peft_accepts(ctx: "Context", literals: dict[str, object] | None, fixed: dict[str, object]) -> bool | None:
    """False when peft raises on the fixed config something it did not raise on the config as
    written; None when it cannot be asked."""
    info = ctx.config_info
    if literals is None or info is None or any(k not in info.fields for k in fixed):
        return None
    cache = ctx.settings.cache_directory()
    after = construct(ctx.spec.config_class, fixed, cache, offload=ctx.offload)
    if not after.judged:
        return None
    if after.raised is None:
        return True
    was = construct(ctx.spec.config_class, literals, cache, offload=ctx.offload).raised
    return was is not None and was.message == after.raised.message


def _fixed_spec(ctx: "Context", ops: tuple[Op, ...]):
    """The spec as the fixed call will read: changed fields as literal values at the call's span."""
    spec = ctx.spec
    fields = dict(spec.fields)
    touched = {op.field for op in ops}
    current: dict[str, object] = {}
    for name in touched:
        if name in fields:
            try:
                current[name] = literal(fields[name])
            except NotLiteral:
                return None
    try:
        new = apply_ops(current, ops)
    except NotApplicable:
        return None
    for name in touched:
        if name in new:
            span = fields[name].span if name in fields else spec.span
            fields[name] = _value(new[name], span)
        else:
            fields.pop(name, None)
    task = fields.get("task_type")
    return replace(spec, fields=fields, task_type=task.value if task is not None and task.is_str else spec.task_type)


def _value(x: object, span: Span) -> Value:
    if isinstance(x, (list, tuple, set)):
        kind = "tuple" if isinstance(x, tuple) else "set" if isinstance(x, set) else "list"
        items = [_value(i, span) for i in x]
        return Value(list(x) if kind == "list" else x, span, kind=kind, items=items)
    if isinstance(x, dict):
        return Value(dict(x), span, kind="dict", keys={k: Value(k, span, kind="str") for k in x},
                     members={k: _value(v, span) for k, v in x.items()})
    kind = {str: "str", int: "int", float: "float", bool: "bool", type(None): "none"}.get(type(x), "")
    return Value(x, span, kind=kind)


def linear_leaves(ctx: "Context") -> list[str]:
    """The names ``"all-linear"`` resolves to on this model (PEFT matches the leaf names of every
    Linear/Conv1D but the output head); empty without the model's tree."""
    from peftlint.semantics.matching import all_linear_names

    if ctx.inventory is None:
        return []
    task = ctx.spec.task_type or ctx.spec.static("task_type")
    return list(dict.fromkeys(n.rsplit(".", 1)[-1] for n in all_linear_names(ctx.inventory, task)))


def layer_filtered(ctx: "Context") -> bool:
    """``layers_to_transform`` or ``layers_pattern`` is given: a string target_modules is rejected."""
    return any((v := ctx.field(k)) is not None and (v.dynamic or v.value not in (None, []))
               for k in ("layers_to_transform", "layers_pattern"))
