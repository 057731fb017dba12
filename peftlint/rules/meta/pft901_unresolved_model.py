"""PFT901 unresolved-model."""

from __future__ import annotations

from peftlint.codes import Code
from peftlint.diagnostics import Severity
from peftlint.rules.base import Example, Expect
from peftlint.rules.meta._common import EngineRule


class UnresolvedModel(EngineRule):
    code = Code.UNRESOLVED_MODEL
    name = "unresolved-model"
    severity = Severity.INFO
    summary = "The base model could not be resolved; model-aware rules were skipped (error with `--strict`)."
    docs = """
    peftlint looks for the base model in this order: a `# peftlint: model=ID` comment on or above
    the config, `--model`, what the code says (`from_pretrained(...)` reaching
    `get_peft_model`, a trainer's `model=`, argparse/dataclass defaults), `[tool.peftlint] model`;
    then resolves it offline: local directory, the Hugging Face cache, the configs bundled with
    peftlint, and with `--online` a download of `config.json` alone.

    Fix: add a hint comment, pass `--model`, or `--online`.
    """
    bad = (Example("from peft import LoraConfig\n\nconfig = LoraConfig(target_modules=['q_proj'])\n",
                   expect=(Expect(3, 10, "base model unknown: no from_pretrained() call"),)),)
    good = (Example("from peft import LoraConfig\n\n# peftlint: model=gpt2\nconfig = LoraConfig(target_modules=['c_attn'])\n"),)
