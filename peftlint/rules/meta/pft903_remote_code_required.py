"""PFT903 remote-code-required."""

from __future__ import annotations

from peftlint.codes import Code
from peftlint.diagnostics import Severity
from peftlint.rules.base import Example, Expect
from peftlint.rules.meta._common import EngineRule


class RemoteCodeRequired(EngineRule):
    code = Code.REMOTE_CODE_REQUIRED
    name = "remote-code-required"
    severity = Severity.INFO
    summary = "The model needs `trust_remote_code`; not executed unless `--trust-remote-code`."
    docs = """
    A config whose `model_type` the installed transformers does not know (its `auto_map` points
    at Python files shipped with the model) can only be built by running that code. peftlint
    never does that unless you pass `--trust-remote-code`; the model-aware rules are skipped for
    that config.

    The same holds when the code itself loads the model with `trust_remote_code=True` (or a
    trainer config says `trust_remote_code: true`) and the model's `auto_map` names its own class
    for the auto class used, even for a `model_type` transformers knows (DeepSeek-V2/V3 on the hub):
    transformers then builds that class, whose layers may differ from the native one's.
    """
    bad = (Example(
        "from peft import LoraConfig\n\n# peftlint: model=./acme-7b\nconfig = LoraConfig(target_modules=['q_proj'])\n",
        files=(("acme-7b/config.json",
                '{"model_type": "acme", "auto_map": {"AutoModelForCausalLM": "modeling_acme.AcmeForCausalLM"}}'),),
        expect=(Expect(4, 10, "'./acme-7b' needs trust_remote_code"),)),)
    good = (Example("from peft import LoraConfig\n\n# peftlint: model=gpt2\nconfig = LoraConfig(target_modules=['c_attn'])\n"),)
