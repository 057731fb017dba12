"""Helpers shared by the weights rules."""

from __future__ import annotations

from pathlib import PurePosixPath

from peftlint.diagnostics import Diagnostic, Severity, Span
from peftlint.rules.base import Example, Expect, Rule
from peftlint.rules.context import Context
from peftlint.rules.weights._examples import BASE_FILE, GOOD_WEIGHTS
from peftlint.semantics.weights import Mismatch, WeightReport, group_keys

WEIGHTS = "adapter_model.safetensors"


def adapter_example(config: str, weights: bytes | None = GOOD_WEIGHTS, *extra: tuple[str, str | bytes],
             args: tuple[str, ...] = (), note: str = "", expect: tuple[Expect, ...] = ()) -> Example:
    files: tuple[tuple[str, str | bytes], ...] = (BASE_FILE, *extra)
    if weights is not None:
        files = ((WEIGHTS, weights), *files)
    return Example(config, kind="json", files=files, args=args, note=note, expect=expect)


def config_key_span(ctx: Context, *names: str) -> Span:
    for n in names:
        v = ctx.spec.fields.get(n)
        if v is not None:
            return v.span
    return ctx.spec.span


def weights_diagnostic(rule: Rule, ctx: Context, rep: WeightReport, message: str, subject: str | None,
                  severity: Severity | None = None, detail: str | None = None) -> Diagnostic:
    """A finding about the weights file itself, reported at its first byte."""
    path = rep.weights_path or rep.pickle_path or ""
    shown = str(PurePosixPath(ctx.spec.path).parent / PurePosixPath(path.replace("\\", "/")).name)
    d = rule.diagnostic(ctx, Span(1, 1, 1, 1), message, subject=subject, severity=severity, detail=detail)
    d.path = shown[2:] if shown.startswith("./") else shown
    return d


def and_more(n: int) -> str:
    return f" (+{n} more like it)" if n > 0 else ""


def backticked(keys: list[str], limit: int = 3) -> str:
    shown = ", ".join(f"`{k}`" for k in keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def weight_report(ctx: Context) -> WeightReport | None:
    rep = ctx.weights
    if rep is None or not rep.readable:
        return None
    return rep


def mismatch_groups(items: list[Mismatch]) -> list[tuple[Mismatch, int]]:
    by_key = {mm.key: mm for mm in items}
    return [(by_key[keys[0]], len(keys) - 1) for keys in group_keys([mm.key for mm in items]).values()]


def weights_name(rep: WeightReport) -> str:
    """The weight file's name as saved: adapter_model.safetensors, or diffusers' pytorch_lora_weights.safetensors."""
    return PurePosixPath((rep.weights_path or WEIGHTS).replace("\\", "/")).name
