"""``peftlint modules MODEL`` as text (a table plus ready-to-paste target_modules) or JSON."""

from __future__ import annotations

import json

from peftlint.semantics import roles
from peftlint.semantics.describe import ModuleGroup, ModulesReport


def _shape(g: ModuleGroup) -> str:
    sep = "x" if g.kind == "Embedding" else "->"
    shown = [f"{a}{sep}{b}" for a, b in g.shapes[:2]]
    return ", ".join(shown) + (" ..." if len(g.shapes) > 2 else "")


def _what(g: ModuleGroup) -> str:
    parts = []
    if g.role:
        parts.append(roles.ROLE_LABELS[g.role])
    if g.head:
        parts.append("output head")
    if g.input_embedding:
        parts.append("input embedding")
    if g.tied:
        parts.append("tied weights")
    if g.towers:
        parts.append("in " + ", ".join(g.towers))
    return "; ".join(parts)


def _selected(g: ModuleGroup) -> str:
    marks = []
    for label, cov in (("all-linear", g.all_linear), ("default", g.default)):
        if cov == "all":
            marks.append(label)
        elif cov == "some":
            marks.append(f"{label} (some)")
    return ", ".join(marks)


def _py(value: object) -> str:
    return json.dumps(value)


def render_text(report: ModulesReport) -> str:
    layers = f", {report.num_hidden_layers} layers" if report.num_hidden_layers else ""
    kind = report.model_type or report.library
    out = [f"{report.model} ({kind}, {report.model_class}{layers})", ""]
    rows = [("target entry", "kind", "count", "layers", "in->out", "selected by", "what")]
    for g in report.groups:
        entry = g.entry or f"({g.leaf}: no unique suffix)"
        rows.append((entry, g.kind, str(g.count), str(g.layers or "-"), _shape(g), _selected(g) or "-", _what(g)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
    if report.parameters:
        out += ["", "Fused parameters (target_parameters only):"]
        prow = [(p.entry, p.module_class, str(p.count), "x".join(str(d) for d in p.shape)) for p in report.parameters]
        pw = [max(len(r[i]) for r in prow) for i in range(3)]
        out += ["  " + "  ".join(c.ljust(w) for c, w in zip(r, pw)) + "  " + r[-1] for r in prow]
    out.append("")
    if report.default_targets is None and not report.peft_model_type:
        out.append("PEFT default (target_modules omitted): none, the config has no model_type; get_peft_model "
                    "and add_adapter raise KeyError: 'model_type'")
    elif report.default_targets is None:
        out.append(f"PEFT default (target_modules omitted): none for `{report.model_type}`; get_peft_model raises")
    else:
        out.append(f"PEFT default (target_modules omitted): {_py(report.default_targets)} "
                   f"({report.default_count} modules)")
    skips = f", not {', '.join(report.all_linear_skips)}" if report.all_linear_skips else ""
    moe = (f"; PEFT's MoE conversion adds target_parameters={_py(report.all_linear_parameters)}"
           if report.all_linear_parameters else "")
    convs = sorted({g.entry or g.leaf for g in report.groups if g.kind.startswith("Conv") and g.kind != "Conv1D (gpt2)"})
    not_conv = f"; not the Conv layers ({', '.join(convs[:4])}{', ...' if len(convs) > 4 else ''})" if convs else ""
    out.append(f'"all-linear" selects {report.all_linear_count} modules (every Linear/Conv1D{skips}){moe}{not_conv}')
    s = report.suggested
    if s:
        out += ["", "Ready to paste:"]
        if "attention" in s:
            out.append(f"  attention only:   target_modules={_py(s['attention'])}")
        if "attention_mlp" in s:
            out.append(f"  attention + MLP:  target_modules={_py(s['attention_mlp'])}")
        if "all_linear" in s:
            out.append('  all linear:       target_modules="all-linear"')
            if "all_linear_explicit" in s:
                out.append(f"    (the same as {_py(s['all_linear_explicit'])})")
    for note in report.notes:
        out += ["", f"note: {note}"]
    if report.adapter is not None:
        a = report.adapter
        out += ["", f"{a['adapter_config']} ({a['method']}):", f"  {a['line']}"]
    return "\n".join(out) + "\n"


def render_json(report: ModulesReport) -> str:
    return json.dumps(report.to_json(), indent=2) + "\n"
