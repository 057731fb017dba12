"""PFT4xx: saved adapters (adapter_config.json + adapter_model.safetensors) against the base model."""

# Specs these rules can report on: a saved adapter's folder (its adapter_config.json) and a diffusers
# LoRA file's component. A config in code, YAML or a shell script has no weights.
SOURCES = ("adapter_config", "diffusers_lora")
