"""Issue 21, cause 1: PFT105 says PEFT saves the whole embedding matrix only where peft's
``get_peft_model_state_dict`` really writes it (semantics/embedding_save.py), and PFT104/PFT105
stay silent where targeting the embedding is the point (TrainableTokens, resize_token_embeddings)."""

from __future__ import annotations

import textwrap
import warnings

import pytest
from support.custom_models import real_model
from support.lintutil import lint, said
from support.oracle import built_inventory, fresh

from peftlint.semantics.embedding_save import saved_in_full
from peftlint.semantics.matching import PeftView, compute_targeting

NET = '''\
import torch.nn as nn
from peft import LoraConfig, get_peft_model


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(100, 8)
        self.embed_tokens = nn.Embedding(100, 8)
        self.lin0 = nn.Linear(8, 8)
'''


def peft_saves(model, config) -> set[str]:
    """Modules whose base weight ``get_peft_model_state_dict`` puts into the adapter."""
    from peft import get_peft_model, get_peft_model_state_dict

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pm = get_peft_model(model, config)
        keys = get_peft_model_state_dict(pm)
    return {k.removeprefix("base_model.model.").removesuffix(".base_layer.weight")
            for k in keys if k.endswith("base_layer.weight")}


CASES = [
    ("HuggingFaceTB/SmolLM2-135M", "LlamaForCausalLM", {"target_modules": ["q_proj", "embed_tokens"]}),
    ("HuggingFaceTB/SmolLM2-135M", "LlamaForCausalLM", {"target_modules": ["q_proj", "model.embed_tokens"]}),
    ("HuggingFaceTB/SmolLM2-135M", "LlamaForCausalLM", {"target_modules": r".*(q_proj|embed_tokens)"}),
    ("HuggingFaceTB/SmolLM2-135M", "LlamaForCausalLM", {"target_modules": ["q_proj", "lm_head"]}),
    ("HuggingFaceTB/SmolLM2-135M", "LlamaForCausalLM", {"target_modules": ["q_proj", "lm_head"],
                                                        "trainable_token_indices": [1, 2]}),
    ("gpt2", "GPT2LMHeadModel", {"target_modules": ["wte", "c_attn"]}),
    ("gpt2", "GPT2LMHeadModel", {"target_modules": r".*\.(wte|c_attn)"}),
]


@pytest.mark.parametrize("hub_id,cls,kw", CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_saved_embeddings_agree_with_peft(hub_id, cls, kw):
    from peft import LoraConfig

    inv = built_inventory(hub_id)
    view = PeftView(method="LORA", target_modules=kw["target_modules"])
    targeted = compute_targeting(view, inv).targeted
    ours = saved_in_full("LORA", kw["target_modules"], kw.get("trainable_token_indices"), inv, targeted)
    assert set(ours) == peft_saves(fresh(hub_id, cls), LoraConfig(r=2, **kw))


def test_custom_class_saves_no_embedding():
    from peft import LoraConfig

    for targets in (["emb", "lin0"], ["embed_tokens", "lin0"]):
        assert peft_saves(real_model(NET, "Net()"), LoraConfig(target_modules=targets)) == set()


def _write(tmp_path, text: str) -> None:
    (tmp_path / "train.py").write_text(textwrap.dedent(text), encoding="utf-8")


def test_custom_embedding_gets_no_pft105(tmp_path):
    _write(tmp_path, NET + '\nconfig = LoraConfig(target_modules=["emb", "lin0"])\nmodel = get_peft_model(Net(), config)\n')
    assert [d["code"] for d in lint(tmp_path, ".")] == []


def test_gpt2_wte_warns_of_the_silent_tie_not_of_the_size(tmp_path):
    _write(tmp_path, '''\
        from peft import LoraConfig
        from transformers import AutoModelForCausalLM
        model = AutoModelForCausalLM.from_pretrained("gpt2")
        config = LoraConfig(target_modules=["wte", "c_attn"])
        ''')
    [d] = lint(tmp_path, ".")
    assert d["code"] == "PFT105"
    assert "saves the whole embedding" not in said(d)
    assert "it will NOT warn that the adapter touches a tied weight" in said(d)


def test_embed_tokens_on_a_transformers_model_is_saved_whole(tmp_path):
    _write(tmp_path, '''\
        from peft import LoraConfig
        from transformers import AutoModelForCausalLM
        model = AutoModelForCausalLM.from_pretrained("HuggingFaceTB/SmolLM2-135M")
        config = LoraConfig(target_modules=["q_proj", "embed_tokens"])
        ''')
    [d] = lint(tmp_path, ".")
    assert d["code"] == "PFT105" and "PEFT then saves the whole embedding matrix" in said(d)


def test_trainable_tokens_on_tied_head_and_embedding_is_silent(tmp_path):
    from peft import TrainableTokensConfig, get_peft_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pm = get_peft_model(fresh("HuggingFaceTB/SmolLM2-135M", "LlamaForCausalLM"),
                            TrainableTokensConfig(target_modules=["embed_tokens", "lm_head"], token_indices=[0, 1]))
    model = pm.base_model.model
    assert any(getattr(m, "tied_adapter", None) is model.model.embed_tokens for m in model.lm_head.modules())  # peft ties the head's delta on purpose
    _write(tmp_path, '''\
        from peft import TrainableTokensConfig
        from transformers import AutoModelForCausalLM
        model = AutoModelForCausalLM.from_pretrained("HuggingFaceTB/SmolLM2-135M")
        config = TrainableTokensConfig(target_modules=["embed_tokens", "lm_head"], token_indices=[0, 1])
        ''')
    assert lint(tmp_path, ".") == []


def test_resize_token_embeddings_recipe_is_silent(tmp_path):
    _write(tmp_path, '''\
        from peft import LoraConfig
        from transformers import AutoModelForCausalLM
        model = AutoModelForCausalLM.from_pretrained("HuggingFaceTB/SmolLM2-135M")
        model.resize_token_embeddings(49160)
        config = LoraConfig(target_modules=["q_proj", "embed_tokens", "lm_head"])
        ''')
    assert lint(tmp_path, ".") == []
