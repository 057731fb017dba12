"""PFT4xx: saved adapters (adapter_config.json + adapter_model.safetensors) against the base model."""
