"""What a rule sees: one spec, its base model's inventory, and PEFT's targeting computed once."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from peftlint.config import Settings
from peftlint.model.inventory import Inventory
from peftlint.semantics.matching import PeftView, Targeting, compute_targeting
from peftlint.semantics.weights import WeightReport, analyze
from peftlint.sources.adapter_weights import read_adapter_weights
from peftlint.spec import AdapterSpec, Value

TARGET_FIELDS = (
    "target_modules",
    "target_parameters",
    "exclude_modules",
    "modules_to_save",
    "layers_to_transform",
    "layers_pattern",
    "task_type",
)


@dataclass
class Context:
    spec: AdapterSpec
    inventory: Inventory | None = None
    model_label: str | None = None
    settings: Settings = field(default_factory=Settings)
    facts: Any = None  # peftinfo.PeftFacts, when peft's facts could be read
    resolved: Any = None  # resolve.Resolved, when the model was resolved
    text: str = ""  # the source text the spec was read from (fixes edit it)

    @property
    def config_info(self) -> Any:
        """peftinfo.ConfigClassInfo of the spec's config class (its fields), or None."""
        return self.facts.configs.get(self.spec.config_class) if self.facts is not None else None

    def field(self, name: str) -> Value | None:
        return self.spec.fields.get(name)

    @cached_property
    def complete(self) -> bool:
        """True when every field that decides targeting is static, so whole-config verdicts hold."""
        return not self.spec.opaque and all(
            v.fully_static for k, v in self.spec.fields.items() if k in TARGET_FIELDS
        )

    @cached_property
    def view(self) -> PeftView:
        """The targeting fields with dynamic items dropped (see ``complete``)."""
        def static(name: str) -> Any:
            """Static values; wrong types are PFT210's business, and matched as PEFT would."""
            v = self.spec.fields.get(name)
            if v is None or v.dynamic:
                return None
            if v.items is not None:
                items = [i.value for i in v.items if not i.dynamic]
                if name in ("target_modules", "exclude_modules", "modules_to_save", "target_parameters"):
                    items = [f"{x}" for x in items]  # PEFT formats entries into f-strings when matching
                return items
            if name in ("target_modules", "exclude_modules", "layers_pattern", "task_type") and not _is(v.value, str):
                return None
            if name == "layers_to_transform" and not _is(v.value, int):
                return None
            if name in ("modules_to_save", "target_parameters") and not isinstance(v.value, (list, tuple, str, dict)):
                return None  # a number or bool: PEFT cannot iterate it (PFT210 / PFT401 report it)
            return v.value

        tm = self.spec.fields.get("target_modules")
        target_modules = static("target_modules")
        if tm is not None and (tm.dynamic or (tm.value is not None and tm.items is None and not _is(tm.value, str))):
            target_modules = _DYNAMIC
        return PeftView(
            method=self.spec.method or "LORA",
            target_modules=target_modules,
            target_parameters=static("target_parameters"),
            exclude_modules=static("exclude_modules"),
            modules_to_save=static("modules_to_save"),
            layers_to_transform=static("layers_to_transform"),
            layers_pattern=static("layers_pattern"),
            task_type=self.spec.task_type or static("task_type"),
        )

    @cached_property
    def weights(self) -> WeightReport | None:
        """The weight report of a saved adapter's spec (its folder read once), else None."""
        spec = self.spec
        if spec.source != "adapter_config" or not spec.adapter_dir:
            return None
        fields = {k: v.value for k, v in spec.fields.items() if not v.dynamic}
        prefix = (self.facts.prefixes.get(spec.method, "") if self.facts is not None else "") or ""
        targeting = self.targeting if self.inventory is not None else None
        return analyze(read_adapter_weights(spec.adapter_dir), spec.method, fields, targeting, self.inventory, prefix)

    @cached_property
    def targeting(self) -> Targeting | None:
        """PEFT's matching on this model, or None without a model or with dynamic targets."""
        if self.inventory is None or self.view.target_modules is _DYNAMIC:
            return None
        return compute_targeting(self.view, self.inventory)


def _is(value: Any, kind: type) -> bool:
    return isinstance(value, kind) and not isinstance(value, bool)


class _Dynamic:
    def __repr__(self) -> str:
        return "<dynamic>"


_DYNAMIC: Any = _Dynamic()
