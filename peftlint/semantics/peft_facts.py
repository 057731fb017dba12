"""Facts about the installed peft (config classes, their fields and defaults, task types), read
from peft itself once and cached as JSON keyed by the peft and peftlint versions, so warm runs
never import peft."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peftlint import __version__, store, typedjson
from peftlint.store import package_versions

FACTS_PREFIX = "peftfacts-"


@dataclass
class ConfigClassInfo:
    name: str  # "LoraConfig"
    peft_type: str  # "LORA"; "" for the abstract bases PeftConfig / PromptLearningConfig
    fields: dict[str, dict[str, Any]]  # field name -> {"default": JSON-able default or None, "type": str}
    has_target_modules: bool
    is_prompt_learning: bool = False


@dataclass
class PeftFacts:
    version: str
    configs: dict[str, ConfigClassInfo]  # every *Config class exported by peft that is a PeftConfig subclass
    task_types: list[str]  # peft.TaskType values
    # peft type -> prefix of its parameter names in saved adapters ("LORA" -> "lora_")
    prefixes: dict[str, str] = field(default_factory=dict)

    def by_peft_type(self, peft_type: str) -> ConfigClassInfo | None:
        return next((c for c in self.configs.values() if c.peft_type == peft_type and peft_type), None)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "PeftFacts":
        """Read back :meth:`to_json`; ``typedjson.ShapeError`` (a ValueError) unless every field has its
        declared type and the facts are those of a usable peft (config classes with their names as keys)."""
        facts = typedjson.load(cls, data, "peft facts")
        if not any(c.has_target_modules and c.peft_type for c in facts.configs.values()):
            raise typedjson.ShapeError("peft facts: no config class with target_modules")
        if any(name != c.name for name, c in facts.configs.items()) or not facts.task_types:
            raise typedjson.ShapeError("peft facts: inconsistent config classes or no task types")
        return facts


def facts_key() -> str:
    return store.digest({
        "peft": package_versions("peft")["peft"],
        "peftlint": __version__,
        "source": store.source_digest("semantics/peft_facts.py"),
    })


def load_peft_facts(cache_dir: Path | None) -> PeftFacts:
    """The facts of the installed peft, from ``cache_dir`` when cached there (None: no caching)."""
    key = facts_key()
    path = store.entry_path(cache_dir, FACTS_PREFIX, key)
    payload = store.read_entry(path, key)
    if isinstance(payload, dict):
        try:
            facts = PeftFacts.from_json(payload)
            if facts.version == package_versions("peft")["peft"]:
                return facts
        except ValueError:
            pass  # damaged, foreign or crafted entry: rebuilt and overwritten below
    facts = collect_peft_facts()
    store.write_entry(path, key, facts.to_json())
    return facts


def collect_peft_facts() -> PeftFacts:
    """Read the facts from the installed peft (imports peft, torch and transformers)."""
    import inspect
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import peft
        from peft.mapping import PEFT_TYPE_TO_CONFIG_MAPPING, PEFT_TYPE_TO_PREFIX_MAPPING

    type_of = {cls: _enum_value(t) for t, cls in PEFT_TYPE_TO_CONFIG_MAPPING.items()}
    configs: dict[str, ConfigClassInfo] = {}
    for name in sorted(dir(peft)):
        obj = getattr(peft, name, None)
        if not (name.endswith("Config") and inspect.isclass(obj) and issubclass(obj, peft.PeftConfig)):
            continue
        fields = {
            f.name: {"default": _default(f), "type": _type_name(f.type)}
            for f in dataclasses.fields(obj)
            if f.init
        }
        configs[name] = ConfigClassInfo(
            name=name,
            peft_type=type_of.get(obj, ""),
            fields=fields,
            has_target_modules="target_modules" in fields,
            is_prompt_learning=issubclass(obj, peft.PromptLearningConfig),
        )
    return PeftFacts(
        version=getattr(peft, "__version__", package_versions("peft")["peft"]),
        configs=configs,
        task_types=[_enum_value(t) for t in peft.TaskType],
        prefixes={_enum_value(k): v for k, v in sorted(PEFT_TYPE_TO_PREFIX_MAPPING.items(), key=lambda kv: str(kv[0]))},
    )


def _enum_value(value: Any) -> str:
    return str(value.value) if isinstance(value, enum.Enum) else str(value)


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, str):
        return annotation
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return _jsonable(f.default)
    if f.default_factory is not dataclasses.MISSING:
        try:
            return _jsonable(f.default_factory())
        except Exception:
            return None
    return None


def _jsonable(value: Any) -> Any:
    """``value`` as plain JSON data; values that have no JSON form become None."""
    if isinstance(value, enum.Enum):
        return _jsonable(value.value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_jsonable(v) for v in value), key=repr)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return None
