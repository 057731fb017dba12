"""What a rule sees: one spec, its base model's inventory, and PEFT's targeting computed once."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, cast

from peftlint.config import Settings
from peftlint.model.inventory import Inventory
from peftlint.model.offload import Offload, in_process
from peftlint.semantics import unsloth
from peftlint.semantics.matching import PeftView, Targeting, compute_targeting
from peftlint.semantics.params import ParameterCount, count_for_config, not_counted
from peftlint.semantics.partial import is_partial
from peftlint.semantics.peft_check import Complaint, NotLiteral, Verdict, construct, literal, literal_args, probe
from peftlint.semantics.regex_budget import RegexTooSlow
from peftlint.spec import AdapterSpec, Value

if TYPE_CHECKING:  # the weight readers are imported for saved adapters only
    from peftlint.model.resolve import Resolved
    from peftlint.semantics.peft_facts import ConfigClassInfo, PeftFacts
    from peftlint.semantics.weights import WeightReport

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
    facts: PeftFacts | None = None  # when peft's facts could be read
    resolved: Resolved | None = None  # when the model was resolved
    text: str = ""  # the source text the spec was read from (fixes edit it)
    offload: Offload = in_process  # where peft's verdicts are computed on a cache miss (see model/offload.py)

    @property
    def config_info(self) -> ConfigClassInfo | None:
        """The peft facts of the spec's config class (its fields), or None."""
        return self.facts.configs.get(self.spec.config_class) if self.facts is not None else None

    def field(self, name: str) -> Value | None:
        """The field's value when get_peft_model reads it; None when the config leaves it at its
        default. A field the call does not name is unknown (dynamic), not absent, when an argument
        peftlint cannot read (``**kw``, ``*args``, a positional value) may set it; a field changed
        on the config object after the call is unknown too."""
        facts = self.spec.facts
        if facts.changed_unknown:
            return Value(None, self.spec.span, dynamic=True, kind="dynamic",
                         reason=f"may be changed after the config is built ({facts.changed_unknown})")
        if name in facts.changed_later:
            return facts.changed_later[name]
        v = self.spec.fields.get(name)
        if v is None and self.spec.opaque:
            how = ", ".join(self.spec.facts.opaque_args[:2]) or "an argument peftlint cannot read"
            return Value(None, self.spec.span, dynamic=True, kind="dynamic", reason=f"may be set by {how}")
        return v

    @cached_property
    def complete(self) -> bool:
        """True when every field that decides targeting is static and the model's tree is fully
        known (no ``Inventory.unknown`` subtree), so whole-config verdicts hold."""
        facts = self.spec.facts
        if facts.changed_unknown or any(k in TARGET_FIELDS for k in facts.changed_later):
            return False
        return not self.spec.opaque and not is_partial(self.inventory) and all(
            v.fully_static for k, v in self.spec.fields.items() if k in TARGET_FIELDS
        )

    @cached_property
    def view(self) -> PeftView:
        """The targeting fields with dynamic items dropped (see ``complete``)."""
        def static(name: str) -> object:
            """Static values; wrong types are PFT210's business, and matched as PEFT would."""
            v = self.field(name)
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

        tm = self.field("target_modules")
        target_modules = static("target_modules")
        if tm is not None and (tm.dynamic or (tm.value is not None and tm.items is None and not _is(tm.value, str))):
            target_modules = _DYNAMIC
        target_parameters = cast("list[str] | None", static("target_parameters"))
        sources: dict[str, list[str]] = {}
        if self.spec.facts.tool == "unsloth":
            if not unsloth.targets_as_written(self.spec.facts.call, self.spec.fields):
                target_modules = _DYNAMIC  # unsloth picks or rewrites the layers itself
            elif (self.inventory is not None and self.field("target_parameters") is None
                  and isinstance(target_modules, list)):
                sources = unsloth.moe_target_parameters(target_modules, self.inventory)
                target_parameters = list(sources) or None  # unsloth adds them for the MoE experts
        return PeftView(
            method=self.spec.method or "LORA",
            target_modules=target_modules,
            # what the config holds, as written: a str or dict too (PEFT iterates it; PFT210/PFT401 report it)
            target_parameters=target_parameters,
            parameter_sources=sources,
            unsloth=self.spec.facts.tool == "unsloth",
            exclude_modules=static("exclude_modules"),
            modules_to_save=cast("list[str] | None", static("modules_to_save")),
            layers_to_transform=static("layers_to_transform"),
            layers_pattern=static("layers_pattern"),
            task_type=self.spec.task_type or cast("str | None", static("task_type")),  # a str: static checks
        )

    @cached_property
    def literal_args(self) -> dict[str, object] | None:
        """The config's arguments as literals, when every one of them is (else None)."""
        if self.spec.opaque:
            return None
        return literal_args(self.spec.fields)

    @cached_property
    def peft_verdict(self) -> Verdict | None:
        """What peft itself says when this config is built from its literal arguments (cached on
        disk, see semantics/peft_check.py), or None when it cannot be built faithfully: an argument
        is dynamic or unknown to the class, the config is built by another tool (unsloth, a trainer
        YAML), or peft's facts are missing."""
        info = self.config_info
        spec = self.spec
        if info is None or spec.facts.tool or spec.source not in ("python", "notebook", "adapter_config"):
            return None
        args = self.literal_args
        if args is None:
            return None
        if spec.source == "adapter_config":
            args = {k: v for k, v in args.items() if k in info.fields}  # peft drops the others (PFT209 says so)
        elif any(k not in info.fields for k in args):
            return None  # PFT209: the script stops with a TypeError before any check runs
        return construct(spec.config_class, args, self.settings.cache_directory(),
                         saved=spec.source == "adapter_config", offload=self.offload)

    def constructed(self, names: tuple[str, ...]) -> Verdict | None:
        """peft's verdict on building the config class from these fields alone (the others at their
        defaults), when each is a literal; None when it cannot be asked. Rules use it to ask one of
        peft's checks about a config whose other arguments are computed."""
        if self.spec.facts.tool == "unsloth" or self.config_info is None:
            return None
        args: dict[str, object] = {}
        for name in names:
            v = self.spec.fields.get(name)
            if v is None or name not in self.config_info.fields:
                return None
            try:
                args[name] = literal(v)
            except NotLiteral:
                return None
        return construct(self.spec.config_class, args, self.settings.cache_directory(), offload=self.offload)

    def field_named_by(self, message: str) -> str | None:
        """The argument peft's ``message`` is about: the first field of the class it names (in
        backticks or as a word, also with spaces for underscores: "task type"), or whose annotation
        is a sub-config class it names (``KasaConfig`` -> ``kasa_config``), else the passed string
        value it quotes; fields the config passes come first. None when it names no field."""
        info = self.config_info
        if info is None:
            return None
        hits: list[tuple[int, int, int, str]] = []  # (0 if passed else 1, how, position, field)
        for name in info.fields:
            words = [rf"`{re.escape(name)}`", rf"(?<![\w.`]){re.escape(name)}(?![\w`])"]
            if "_" in name:
                words.append(rf"(?i)\b{re.escape(name.replace('_', ' '))}\b")
            m = next((m for m in (re.search(w, message) for w in words) if m is not None), None)
            if m is not None:
                hits.append((0 if name in self.spec.fields else 1, 0, m.start(), name))
        for cls in sorted({c for f in info.fields.values() for c in f.type.classes}):
            m = re.search(rf"\b{re.escape(cls)}\b", message)
            owner = info.field_naming_class(cls)
            if m is not None and owner is not None:
                hits.append((0 if owner in self.spec.fields else 1, 0, m.start(), owner))
        for name, v in self.spec.fields.items():
            if v.is_str and len(v.value) > 1:
                at = message.find(repr(v.value))
                if at >= 0 and name in info.fields:
                    hits.append((0, 1, at, name))
        return min(hits)[3] if hits else None

    @cached_property
    def peft_complaints(self) -> dict[str, Complaint]:
        """Field -> what peft raised (else warned) about it when the config was built (PFT211
        reports these; other rules leave those fields to it)."""
        verdict = self.peft_verdict
        out: dict[str, Complaint] = {}
        for c in verdict.complaints if verdict is not None else ():  # raises come first
            name = self.field_named_by(c.message)
            if name is not None:
                out.setdefault(name, c)
        return out

    def probe(self, name: str, value: object, leave_out: frozenset[str] = frozenset()) -> Verdict | None:
        """Whether ``name=value`` alone makes get_peft_model fail (see ``peft_check.probe``); None
        when it cannot be asked (unsloth builds the config). The fields in ``leave_out`` (other
        doubtful values) and those peft rejected keep their defaults in the probe."""
        # unsloth checks and rewrites the arguments itself before peft sees them
        if self.spec.facts.tool == "unsloth" or self.config_info is None or not self.config_info.has_target_modules:
            return None
        leave_out = leave_out | set(self.peft_complaints)  # what peft rejects when building the config
        base: dict[str, object] = {}
        for k, v in self.spec.fields.items():
            if k != name and k not in leave_out and self.config_info.fields.get(k) is not None:
                try:
                    base[k] = literal(v)
                except NotLiteral:
                    pass
        return probe(self.spec.config_class, name, value, base, self.settings.cache_directory(), offload=self.offload)

    @cached_property
    def weights(self) -> WeightReport | None:
        """The weight report of a saved adapter's spec (its folder read once), else None."""
        spec = self.spec
        if spec.source not in ("adapter_config", "diffusers_lora") or not spec.adapter_dir:
            return None
        from peftlint.semantics.weights import analyze
        from peftlint.sources.adapter_weights import read_adapter_weights
        from peftlint.sources.diffusers_lora import component_weights

        fields = {k: v.value for k, v in spec.fields.items() if not v.dynamic}
        prefix = (self.facts.prefixes.get(spec.method, "") if self.facts is not None else "") or ""
        targeting = self.targeting if self.inventory is not None else None
        if spec.source == "diffusers_lora":  # one component's weights in a diffusers LoRA file
            found = component_weights(spec.abspath, spec.facts.subfolder or "")
        else:
            found = read_adapter_weights(spec.adapter_dir)
        return analyze(found, spec.method, fields, targeting, self.inventory, prefix)

    @cached_property
    def targeting(self) -> Targeting | None:
        """PEFT's matching on this model, or None without a model, with dynamic targets, or for a
        method that does not pick layers by name (prompt learning, AdaptionPrompt)."""
        if self.inventory is None or self.view.target_modules is _DYNAMIC:
            return None
        info = self.config_info
        if info is not None and not info.targets_layers:
            return None
        return compute_targeting(self.view, self.inventory)

    @cached_property
    def parameters(self) -> ParameterCount | None:
        """What the config trains on this model, as peft's get_nb_trainable_parameters() counts it
        (see semantics/params.py); None without a model."""
        info = self.config_info
        defaults = {k: f.default for k, f in info.fields.items()} if info is not None else None
        try:
            return count_for_config(self.inventory, self.spec, defaults, self.targeting if self.inventory else None,
                                    self.view.task_type, self.complete)
        except RegexTooSlow:
            return not_counted("a regex of the config exceeds the time budget (PFT212)")


def _is(value: object, kind: type) -> bool:
    return isinstance(value, kind) and not isinstance(value, bool)


class _Dynamic:
    def __repr__(self) -> str:
        return "<dynamic>"


_DYNAMIC = _Dynamic()
