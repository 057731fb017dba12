"""``peftlint configs``: every config site, the model it was checked against and where that model
came from, or why it was not checked. The coverage a run's summary counts, one config at a time."""

from __future__ import annotations

import json
from dataclasses import dataclass

from peftlint.engine.results import RunResult, SpecOutcome
from peftlint.report.printable import escape_line
from peftlint.report.text import coverage, one_line
from peftlint.semantics.param_count import ParameterCount


@dataclass
class ConfigSite:
    path: str
    line: int
    column: int
    config: str  # "LoraConfig", or the adapter's peft_type for a saved adapter
    method: str
    source: str  # "python", "notebook", "adapter_config", "yaml", "shell"
    checked: bool
    model: str | None  # the model it was checked against
    model_ref: str | None  # the reference that was looked up (hub id, path, alias)
    model_source: str | None  # where that reference came from
    from_default: bool  # the reference is a default (argparse, dataclass, parameter)
    why: str | None  # why it was not checked
    # what the config trains on that model (semantics/params.py); None when not computed
    trainable_parameters: int | None = None
    adapted_modules: int | None = None
    all_parameters: int | None = None
    trainable_percent: float | None = None
    adapter_bytes: int | None = None  # float32 tensor bytes of the saved adapter
    parameters_note: str | None = None  # why a count above is null (a checked config only)

    def to_json(self) -> dict:
        return dict(self.__dict__)


def sites(result: RunResult) -> list[ConfigSite]:
    return [_site(o) for o in result.outcomes]


def _site(o: SpecOutcome) -> ConfigSite:
    s = o.spec
    source = "notebook" if s.facts.notebook else s.source
    site = ConfigSite(s.path, s.span.line, s.span.column, s.config_class or s.method, s.method, source,
                      not o.skipped, o.model, o.ref, o.how or None, o.from_default, o.skipped or None)
    count = _count(o)
    if count is not None:
        for name, value in count.report_fields().items():
            setattr(site, name, value)
    return site


def _count(o: SpecOutcome) -> ParameterCount | None:
    return None if o.skipped else o.parameters


def render_json(result: RunResult, options: dict) -> str:
    return json.dumps([c.to_json() for c in sites(result)], indent=2) + "\n"


def render_text(result: RunResult, options: dict) -> str:
    out = []
    found = sites(result)
    for o, c in zip(result.outcomes, found):
        where = f"{escape_line(c.path)}:{c.line}:{c.column}: {c.config}"
        if c.checked:
            via = f" ({c.model_source})" if c.model_source else ""
            default = "; only this default model is checked" if c.from_default else ""
            out.append(f"{where}: checked against {c.model}{via}{default}")
            count = _count(o)
            if count is not None:
                out.append(f"    {count.line()}")
        else:
            out.append(f"{where}: not checked: {one_line(c.why or '')}")
    checked = sum(c.checked for c in found)
    if out:
        out.append("")
    out.append(f"{coverage(result.specs, checked)}.")
    return "\n".join(out) + "\n"
