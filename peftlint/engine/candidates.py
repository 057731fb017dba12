"""One config checked against several candidate models (pytest parameters, subclasses).

A finding that is the same for every model that was built (code, span, subject, message) is
reported once. Any other finding is reported for the model it holds on, and its message says so;
its fix is dropped, since an edit right for one model may be wrong for another.
"""

from __future__ import annotations

from peftlint.diagnostics import Diagnostic


def _key(d: Diagnostic) -> tuple:
    return (d.code, d.span, d.subject, d.message)


def merge_findings(per_model: list[tuple[str, list[Diagnostic]]]) -> list[Diagnostic]:
    """Findings of each (model label, findings) pair, merged as described above."""
    labels = [label for label, _ in per_model]
    holders: dict[tuple, set[str]] = {}
    for label, diags in per_model:
        for d in diags:
            holders.setdefault(_key(d), set()).add(label)
    out: list[Diagnostic] = []
    emitted: set[tuple] = set()
    for label, diags in per_model:
        for d in diags:
            key = _key(d)
            if len(holders[key]) == len(labels):
                if key in emitted:
                    continue
                emitted.add(key)
                d.model = d.model or labels[0]
                out.append(d)
                continue
            d.message = f"{d.message} {with_model(label, labels)}"
            d.model = label
            d.fix = None
            out.append(d)
    return out


def with_model(label: str, labels: list[str]) -> str:
    """``(with facebook/opt-350m; the config is also checked against gpt2)``"""
    others = [other for other in labels if other != label]
    return f"(with {label}; the config is also checked against {', '.join(others)})"


def unresolved_list(failures: list[tuple[str, str]]) -> str:
    """One reason for several models that could not be built (each reason names its model)."""
    return "; ".join(why if ref in why else f"{ref!r}: {why}" for ref, why in failures)
