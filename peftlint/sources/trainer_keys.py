"""Which trainer key becomes which ``LoraConfig`` field, per trainer (read from each trainer's code:
axolotl ``loaders/adapter.py`` ``_build_peft_lora_config`` (v0.18), LLaMA-Factory
``model/adapter.py`` (v0) and ``v1/plugins/model_plugins/peft.py`` ``LoraParams`` (0.9.6), TRL
``trainer/utils.py`` ``get_peft_config``). Only keys passed to ``LoraConfig`` unchanged are listed;
the shorthands (``lora_target_linear``, ``lora_target: all``) are handled by the readers."""

from __future__ import annotations

import re

AXOLOTL = {
    "lora_r": "r", "lora_alpha": "lora_alpha", "lora_dropout": "lora_dropout",
    "lora_target_modules": "target_modules", "lora_modules_to_save": "modules_to_save",
    "lora_exclude_modules": "exclude_modules",
    "peft_layers_to_transform": "layers_to_transform", "peft_layers_pattern": "layers_pattern",
    "lora_target_parameters": "target_parameters", "peft_use_dora": "use_dora", "peft_use_rslora": "use_rslora",
    "lora_fan_in_fan_out": "fan_in_fan_out", "lora_rank_pattern": "rank_pattern",
    "lora_alpha_pattern": "alpha_pattern",
}
LLAMA_FACTORY = {
    "lora_rank": "r", "lora_alpha": "lora_alpha", "lora_dropout": "lora_dropout",
    "lora_target": "target_modules", "additional_target": "modules_to_save",
    "use_dora": "use_dora", "use_rslora": "use_rslora",
}
COMMA_KEYS = {"lora_target", "additional_target"}  # LLaMA-Factory v0's comma-separated lists
# LLaMA-Factory v1: ``peft_config: {name: lora, ...}`` holds LoraParams, whose LoRA fields carry
# LoraConfig's own names; any other key stops training with "Unknown params".
LLAMA_FACTORY_V1 = {
    "r": "r", "lora_alpha": "lora_alpha", "lora_dropout": "lora_dropout", "target_modules": "target_modules",
    "use_rslora": "use_rslora", "use_dora": "use_dora", "modules_to_save": "modules_to_save",
}
LLAMA_FACTORY_V1_OTHER = {
    "name", "adapter_name_or_path", "export_dir", "export_size", "export_hub_model_id", "infer_dtype",
    "export_legacy_format",
}
# v1 ``model_class`` -> (transformers class, task_type LLaMA-Factory derives from the class name)
LLAMA_FACTORY_V1_CLASSES = {
    "llm": ("AutoModelForCausalLM", "CAUSAL_LM"), "cls": ("AutoModelForTokenClassification", "TOKEN_CLS"),
    "other": ("AutoModel", "CAUSAL_LM"),
}
LLAMA_FACTORY_V1_DEFAULT_MODEL = "Qwen/Qwen3-4B-Instruct-2507"  # ModelArguments.model's default
TRL = {
    "lora_r": "r", "lora_alpha": "lora_alpha", "lora_dropout": "lora_dropout",
    "lora_target_modules": "target_modules", "lora_modules_to_save": "modules_to_save",
    "lora_target_parameters": "target_parameters", "use_rslora": "use_rslora", "use_dora": "use_dora",
}

# keys that decide the flavour or the base model (besides the tables above)
AXOLOTL_OTHER = {"adapter", "base_model", "base_model_config", "revision_of_model", "type_of_model",
                 "lora_target_linear", "trust_remote_code"}
LLAMA_FACTORY_OTHER = {"finetuning_type", "model_name_or_path", "model_revision", "trust_remote_code"}
LLAMA_FACTORY_V1_TOP = {"model", "model_class", "peft_config", "trust_remote_code"}
TRL_OTHER = {"use_peft", "model_name_or_path", "model_revision", "lora_task_type", "trust_remote_code"}

WANTED = (set(AXOLOTL) | set(LLAMA_FACTORY) | set(TRL) | AXOLOTL_OTHER | LLAMA_FACTORY_OTHER | LLAMA_FACTORY_V1_TOP
          | TRL_OTHER)

# Top-level keys whose presence marks a YAML file as a trainer config (worth a PFT902 when broken).
MARKERS = re.compile(
    r"""^["']?(lora_target_modules|lora_target_linear|lora_target|lora_modules_to_save|finetuning_type|use_peft|"""
    r"""adapter|peft_layers_to_transform|lora_r|lora_rank|peft_config)["']?[ \t]*:""", re.M)

# Command-line flags (TRL ``ModelConfig`` and LLaMA-Factory ``FinetuningArguments``): field, how read
SHELL_FIELDS = {
    "--lora_target_modules": ("target_modules", "list"), "--lora_target": ("target_modules", "comma"),
    "--lora_modules_to_save": ("modules_to_save", "list"), "--additional_target": ("modules_to_save", "comma"),
    "--lora_r": ("r", "int"), "--lora_rank": ("r", "int"), "--lora_alpha": ("lora_alpha", "int"),
    "--lora_dropout": ("lora_dropout", "float"),
    "--lora_target_parameters": ("target_parameters", "list"), "--lora_task_type": ("task_type", "str"),
}
