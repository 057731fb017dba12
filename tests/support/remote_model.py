"""A local model with its own modeling code (``auto_map``): what ``trust_remote_code`` would run."""

from __future__ import annotations

import json
from pathlib import Path

_CONFIG_CODE = '''
{prelude}
from transformers import PretrainedConfig


class FancyConfig(PretrainedConfig):
    model_type = "fancy_lm"

    def __init__(self, hidden_size=16, vocab_size=32, **kwargs):
        self.hidden_size = hidden_size
        self.vocab_size = vocab_size
        super().__init__(**kwargs)
'''

_MODEL_CODE = '''
import torch.nn as nn
from transformers import PreTrainedModel

from .configuration_fancy import FancyConfig


class FancyForCausalLM(PreTrainedModel):
    config_class = FancyConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.fancy_proj = nn.Linear(config.hidden_size, config.hidden_size)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def get_input_embeddings(self):
        return self.embed

    def get_output_embeddings(self):
        return self.lm_head
'''


def write_remote_code_model(model: Path, marker: Path | None = None) -> Path:
    """Write the model folder ``model`` (config.json naming ``FancyForCausalLM`` through ``auto_map``).
    With ``marker``, importing its configuration code writes that file: proof that the code ran."""
    model.mkdir(parents=True, exist_ok=True)
    prelude = f"import pathlib\n\npathlib.Path({str(marker)!r}).write_text('remote code ran')\n" if marker else ""
    (model / "configuration_fancy.py").write_text(_CONFIG_CODE.format(prelude=prelude))
    (model / "modeling_fancy.py").write_text(_MODEL_CODE)
    (model / "config.json").write_text(json.dumps({
        "model_type": "fancy_lm", "hidden_size": 16, "vocab_size": 32, "architectures": ["FancyForCausalLM"],
        "auto_map": {"AutoConfig": "configuration_fancy.FancyConfig",
                     "AutoModelForCausalLM": "modeling_fancy.FancyForCausalLM"},
    }))  # fmt: skip
    return model
