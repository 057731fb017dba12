"""Facts about the installed peft (config classes, their fields and defaults, task types), read
from peft itself once and cached as JSON keyed by the peft and peftlint versions, so warm runs
never import peft."""

from __future__ import annotations

import dataclasses
import enum
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peftlint import __version__, store, typedjson
from peftlint.model.offload import Offload, in_process
from peftlint.store import package_versions

FACTS_PREFIX = "peftfacts-"


JSON_KINDS = ("null", "bool", "int", "float", "str", "list", "dict")


@dataclass
class FieldType:
    """A field's annotation as data, read with ``typing.get_type_hints``/``get_args`` from peft's
    dataclass (never from its source text), so that checks need no peft import.

    A union is flattened into its alternatives: the JSON kinds it accepts, the values of its
    ``Literal``/``Enum`` members, the item type of its ``list``/``tuple``/``set`` members and the
    sub-config dataclasses (written as a JSON object). ``open`` marks an alternative peftlint does
    not model (any class that is neither): then every value may be accepted.
    """

    text: str  # the annotation as peft writes it, for messages
    kinds: list[str] = field(default_factory=list)  # of JSON_KINDS
    choices: list[Any] = field(default_factory=list)  # Literal and Enum values
    items: "FieldType | None" = None  # element type of the sequence alternatives (None: not declared)
    classes: list[str] = field(default_factory=list)  # sub-config dataclasses ("LoftQConfig")
    open: bool = False

    @property
    def optional(self) -> bool:
        return "null" in self.kinds

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "FieldType":
        data = dict(data)
        if data.get("items") is not None:
            data["items"] = cls.from_json(data["items"])
        return cls(**data)


@dataclass
class FieldInfo:
    """One ``__init__`` argument of a peft config class: its default and type."""

    default: Any  # JSON-able default, None when it has no JSON form
    type: FieldType


@dataclass
class ConfigClassInfo:
    """What peftlint knows of one peft config class."""

    name: str  # "LoraConfig"
    peft_type: str  # "LORA"; "" for the abstract bases PeftConfig / PromptLearningConfig
    fields: dict[str, FieldInfo]  # the dataclass fields __init__ accepts
    has_target_modules: bool
    is_prompt_learning: bool = False  # PromptLearningConfig: prompt/prefix tuning, P-tuning (no target modules)
    is_adaption_prompt: bool = False  # AdaptionPrompt: its target_modules name attention blocks, not layers

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ConfigClassInfo":
        data = dict(data)
        data["fields"] = {k: FieldInfo(v["default"], FieldType.from_json(v["type"])) for k, v in data["fields"].items()}
        return cls(**data)

    @property
    def targets_layers(self) -> bool:
        """Whether ``target_modules`` selects layers for PEFT's module matching. Prompt-learning
        configs take no targets; AdaptionPrompt's name the attention blocks it wraps itself."""
        return self.has_target_modules and not self.is_prompt_learning and not self.is_adaption_prompt

    def field_naming_class(self, class_name: str) -> str | None:
        """The field whose annotation names the sub-config class ``class_name`` ("KasaConfig" -> kasa_config)."""
        return next((n for n, f in self.fields.items() if class_name in f.type.classes), None)


@dataclass
class PeftFacts:
    """What the installed peft exports: its config classes, task types and prefixes."""

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
        why = _inconsistent(data)
        if why:
            raise typedjson.ShapeError(f"peft facts: {why}")
        return typedjson.load(cls, data, "peft facts")


def _inconsistent(data: Any) -> str:
    """Why ``data`` cannot be the facts of a usable peft ("" when it can): config classes keyed by
    their names, at least one with ``target_modules`` and a peft type, and task types."""
    configs, tasks = (data.get("configs"), data.get("task_types")) if isinstance(data, dict) else (None, None)
    if not isinstance(configs, dict) or not isinstance(tasks, list) or not tasks:
        return "no config classes or no task types"
    if not all(isinstance(c, dict) and c.get("name") == name and isinstance(c.get("has_target_modules"), bool)
               and isinstance(c.get("peft_type"), str) for name, c in configs.items()):
        return "inconsistent config classes"
    if not any(c["has_target_modules"] and c["peft_type"] for c in configs.values()):
        return "no config class with target_modules"
    return ""


def facts_key() -> str:
    return store.digest({
        "peft": package_versions("peft")["peft"],
        "peftlint": __version__,
        "source": store.source_digest("semantics/peft_facts.py"),
    })


def facts_cached(cache_dir: Path | None) -> bool:
    """Whether ``cache_dir`` holds an entry for the installed peft (read without importing it)."""
    path = store.entry_path(cache_dir, FACTS_PREFIX, facts_key())
    return path is not None and path.is_file()


def cached_target_classes(cache_dir: Path | None) -> set[str] | None:
    """The config classes with ``target_modules`` from the cached facts, without building the facts
    (what the text prefilter needs: a run whose files all come from the result cache stops here).
    None when the entry is missing or not plainly that of the installed peft: then load the facts."""
    key = facts_key()
    payload = _read_payload(store.entry_path(cache_dir, FACTS_PREFIX, key), key, keep=True)
    if not isinstance(payload, dict) or payload.get("version") != package_versions("peft")["peft"]:
        return None
    if _inconsistent(payload):
        return None
    return {name for name, c in payload["configs"].items() if c["has_target_modules"]}


def load_peft_facts(cache_dir: Path | None, *, offload: Offload = in_process) -> PeftFacts:
    """The facts of the installed peft, from ``cache_dir`` when cached there (None: no caching); on a
    miss they are read from peft where ``offload`` runs it (the language server: its worker process)."""
    key = facts_key()
    path = store.entry_path(cache_dir, FACTS_PREFIX, key)
    facts = _read_facts(path, key)
    if facts is None:
        with store.file_lock(cache_dir, f"{FACTS_PREFIX}{key}"):  # concurrent runs import peft once
            facts = _read_facts(path, key)
            if facts is None:
                facts = offload(collect_peft_facts)
                store.write_entry(path, key, facts.to_json())
    return facts


# The entry ``cached_target_classes`` (the prefilter) read, handed once to ``load_peft_facts``: a run
# that lints one file reads the 200 KB entry once, not twice. Taken, not kept: the facts built from it
# share its plain values (field defaults), so a payload is never built into facts twice.
_READ_AHEAD: list[tuple[str, str, Any]] = []


def _read_payload(path: Path | None, key: str, *, keep: bool = False) -> Any:
    if path is None:
        return None
    if _READ_AHEAD:
        (where, read_key, payload), = _READ_AHEAD
        _READ_AHEAD.clear()
        if (where, read_key) == (str(path), key):
            return payload
    payload = store.read_entry(path, key)
    if keep and payload is not None:
        _READ_AHEAD.append((str(path), key, payload))
    return payload


def _read_facts(path: Path | None, key: str) -> PeftFacts | None:
    payload = _read_payload(path, key)
    if isinstance(payload, dict):
        try:
            facts = PeftFacts.from_json(payload)
        except (TypeError, ValueError, KeyError, AttributeError):
            return None  # damaged, foreign or crafted entry: rebuilt and overwritten by the caller
        if facts.version == store.package_versions("peft")["peft"]:
            return facts
    return None


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
        hints = typing.get_type_hints(obj)
        fields = {
            f.name: FieldInfo(default=_default(f), type=field_type(hints.get(f.name, f.type), text=_type_name(f.type)))
            for f in dataclasses.fields(typing.cast(Any, obj))  # a PeftConfig subclass: a dataclass
            if f.init
        }
        configs[name] = ConfigClassInfo(
            name=name,
            peft_type=type_of.get(obj, ""),
            fields=fields,
            has_target_modules="target_modules" in fields,
            is_prompt_learning=issubclass(obj, peft.PromptLearningConfig),
            is_adaption_prompt=issubclass(obj, peft.AdaptionPromptConfig),
        )
    return PeftFacts(
        version=getattr(peft, "__version__", package_versions("peft")["peft"]),
        configs=configs,
        task_types=[_enum_value(t) for t in peft.TaskType],
        prefixes={_enum_value(k): v for k, v in sorted(PEFT_TYPE_TO_PREFIX_MAPPING.items(), key=lambda kv: str(kv[0]))},
    )


_PLAIN_KINDS = {type(None): "null", bool: "bool", int: "int", float: "float", str: "str", dict: "dict",
                list: "list", tuple: "list", set: "list", frozenset: "list"}


def field_type(annotation: Any, text: str | None = None) -> FieldType:
    """``annotation`` (a resolved type hint) as a :class:`FieldType`; ``text`` is how peft writes it."""
    ft = FieldType(text=text or _type_name(annotation))
    _add(ft, annotation)
    return ft


def _add(ft: FieldType, hint: Any) -> None:
    origin = typing.get_origin(hint)
    args = [a for a in typing.get_args(hint) if a is not Ellipsis]
    if origin is typing.Literal:
        ft.choices += [_jsonable(a) for a in args if _jsonable(a) not in ft.choices]
        return
    if origin is typing.Union or (origin is not None and type(hint).__name__ == "UnionType"):
        for a in args:
            _add(ft, a)
        return
    base = origin if origin is not None else hint
    if base in _PLAIN_KINDS:
        kind = _PLAIN_KINDS[base]
        if kind not in ft.kinds:
            ft.kinds.append(kind)
        if kind == "list" and args:
            if ft.items is None:
                ft.items = FieldType(text=", ".join(_type_name(a) for a in args))
            for a in args:
                _add(ft.items, a)
        return
    if isinstance(base, type) and issubclass(base, enum.Enum):
        ft.choices += [_jsonable(m) for m in base if _jsonable(m) not in ft.choices]
        return
    if isinstance(base, type) and dataclasses.is_dataclass(base):
        ft.classes.append(base.__name__)
        if "dict" not in ft.kinds:
            ft.kinds.append("dict")
        return
    ft.open = True


def accepts(ft: FieldType, value: Any, *, int_as_float: bool = True, any_choice: bool = False) -> bool:
    """Whether the JSON-like ``value`` has a form ``ft`` declares. ``int_as_float``: an int where a
    float is declared (peft computes with it the same); ``any_choice``: a value of the type of the
    declared choices counts even when it is not one of them (a question of value, not of type)."""
    if ft.open:
        return True
    choice_types = {type(c) for c in ft.choices}
    if type(value) in choice_types and (any_choice or value in ft.choices):
        return True
    kind = _PLAIN_KINDS.get(type(value))
    if kind is None:
        return False
    if kind in ft.kinds:
        if kind == "list" and ft.items is not None:
            return all(accepts(ft.items, v, int_as_float=int_as_float, any_choice=any_choice) for v in value)
        return True
    return kind == "int" and int_as_float and "float" in ft.kinds


def _enum_value(value: Any) -> str:
    return str(value.value) if isinstance(value, enum.Enum) else str(value)


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, str):
        return annotation
    if annotation is type(None):
        return "None"
    if isinstance(annotation, type):
        return annotation.__name__
    return re.sub(r"\b(?:[a-z_][a-z0-9_]*\.)+(?=[A-Za-z_])", "", str(annotation).replace("NoneType", "None"))


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
