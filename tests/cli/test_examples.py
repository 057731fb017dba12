"""`peftlint examples/` — the README's demo — reports each planted mistake and nothing else."""

import importlib.util
from pathlib import Path

from support.lintutil import lint

ROOT = Path(__file__).resolve().parents[2]
# the UNet is built by diffusers, an optional extra: without it the config is only noted as unchecked
DREAMBOOTH = ("examples/diffusers/train_dreambooth_lora.py",) + (
    ("PFT103", "to_out") if importlib.util.find_spec("diffusers") else ("PFT901", None))


def test_examples_report_the_planted_mistakes():
    found = sorted({(d["path"], d["code"], d["subject"]) for d in lint(ROOT, "examples")})
    assert found == [
        ("examples/adapters/wrong-base-lora/adapter_config.json", "PFT402",
         "base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight"),
        ("examples/adapters/wrong-base-lora/adapter_config.json", "PFT404",
         "base_model.model.model.layers.24.self_attn.v_proj.lora_A.weight"),
        ("examples/axolotl_qwen2.yml", "PFT101", "c_attn"),
        ("examples/axolotl_qwen2.yml", "PFT306", "embed_token"),
        DREAMBOOTH,
        ("examples/falcon_qlora.py", "PFT101", "q_proj"),
        ("examples/falcon_qlora.py", "PFT101", "v_proj"),
        ("examples/finetune_opt.ipynb", "PFT101", "query_key_value"),
        ("examples/finetune_opt.ipynb", "PFT204", "q_proj"),
        ("examples/flan_t5_summarize.py", "PFT202", "all-linear"),
        ("examples/flan_t5_summarize.py", "PFT904", "r"),
        ("examples/gpt2_regex.py", "PFT102", "c_attn|c_proj"),
        ("examples/train_sft.py", "PFT101", "vproj"),
        ("examples/train_sft.py", "PFT103", "mlp"),
        ("examples/train_sft.py", "PFT904", "r"),
    ]
