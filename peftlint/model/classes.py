"""Which model class to build for a spec: pure functions of names, no transformers import (the
class is part of the cache key of warm runs)."""

from __future__ import annotations

from typing import Any

from peftlint.spec import TASK_TYPE_TO_AUTO_CLASS

AUTO_CLASS_TO_TASK_TYPE = {auto: task for task, auto in TASK_TYPE_TO_AUTO_CLASS.items()}

# Auto classes of models with a randomly initialised classification head (``classifier``, ``score``,
# ``qa_outputs``) that training must update.
CLASSIFIER_AUTO_CLASSES = (
    "AutoModelForSequenceClassification",
    "AutoModelForTokenClassification",
    "AutoModelForQuestionAnswering",
    "AutoModelForImageClassification",
    "AutoModelForAudioClassification",
)


def task_types_of(auto_classes: list[str]) -> list[str]:
    """The peft task types whose auto class lists the model class (from ``Inventory.auto_classes``)."""
    return [AUTO_CLASS_TO_TASK_TYPE[a] for a in auto_classes if a in AUTO_CLASS_TO_TASK_TYPE]


# Loader classes from other libraries that build a transformers auto class.
FOREIGN_LOADERS = {
    "FastLanguageModel": "AutoModelForCausalLM",  # unsloth
    "FastVisionModel": "AutoModelForImageTextToText",  # unsloth
    "AutoPeftModel": "AutoModel",
    "AutoPeftModelForCausalLM": "AutoModelForCausalLM",
    "AutoPeftModelForSeq2SeqLM": "AutoModelForSeq2SeqLM",
    "AutoPeftModelForSequenceClassification": "AutoModelForSequenceClassification",
    "AutoPeftModelForTokenClassification": "AutoModelForTokenClassification",
    "AutoPeftModelForQuestionAnswering": "AutoModelForQuestionAnswering",
    "AutoPeftModelForFeatureExtraction": "AutoModel",
}

# The builder tries these in order when the requested auto class has no mapping for the config's type.
CANDIDATE_AUTO_CLASSES = (
    "AutoModelForSeq2SeqLM",
    "AutoModelForSpeechSeq2Seq",
    "AutoModelForImageTextToText",
    "AutoModelForCausalLM",
    "AutoModelForMaskedLM",
    "AutoModelForImageClassification",
    "AutoModel",
)


def pick_diffusers_class(config: dict[str, Any], code_class: str | None) -> str:
    """The diffusers class to build: the class named in the code, else (and for ``AutoModel``, which
    reads it too) the config's ``_class_name``."""
    name = (code_class or "").rsplit(".", 1)[-1].strip()
    if name and name != "AutoModel" and name.isidentifier():
        return name
    return str(config.get("_class_name") or "AutoModel")


def pick_model_class(config: dict[str, Any], code_class: str | None, task_type: str | None) -> str:
    """The transformers class to build: the class named in the code, else the task type's auto
    class, else ``config["architectures"][0]``, else ``AutoModelForCausalLM``.

    This is a pure function of its arguments (no transformers import: its result is part of the
    cache key of warm runs). Whether transformers has the class, and whether an auto class supports
    the config's type, is decided by ``build.build_inventory``, which falls back to a class that can
    build the config and records the substitution in ``Inventory.class_note``.
    """
    if code_class:
        name = code_class.rsplit(".", 1)[-1].strip()
        if name:
            return FOREIGN_LOADERS.get(name, name)
    if task_type:
        key = str(task_type).rsplit(".", 1)[-1].strip().upper()
        if key in TASK_TYPE_TO_AUTO_CLASS:
            return TASK_TYPE_TO_AUTO_CLASS[key]
    archs = config.get("architectures")
    if isinstance(archs, list) and archs and isinstance(archs[0], str) and archs[0].isidentifier():
        return archs[0]
    return "AutoModelForCausalLM"
