"""PFT209 suggests a name only for a plausible typo; a field of other PEFT methods is said to be one."""

from __future__ import annotations

import pytest
from support.lintutil import lint


def pft209(tmp_path, body: str, imports: str) -> dict:
    (tmp_path / "train.py").write_text(f"from peft import {imports}\n\nconfig = {body}\n")
    [d] = [d for d in lint(tmp_path, ".") if d["code"] == "PFT209"]
    return d


def test_oft_has_no_alpha_pattern(tmp_path):
    import peft

    with pytest.raises(TypeError, match="alpha_pattern"):
        peft.OFTConfig(target_modules=["q"], alpha_pattern={"q": 4})
    assert "alpha_pattern" in peft.LoraConfig.__dataclass_fields__
    d = pft209(tmp_path, 'OFTConfig(target_modules=["q_proj"], alpha_pattern={"q_proj": 4})', "OFTConfig")
    assert "did you mean" not in d["message"] and "layers_pattern" not in d["message"]
    assert "`alpha_pattern` is a field of" in d["message"] and "not of OFTConfig" in d["message"]


@pytest.mark.parametrize("typo,meant", [("target_module", "target_modules"), ("lora_dropuot", "lora_dropout"),
                                        ("lora_alhpa", "lora_alpha")])
def test_typos_are_suggested(tmp_path, typo, meant):
    d = pft209(tmp_path, f'LoraConfig(target_modules=["q_proj"], {typo}=1)' if typo != "target_module"
               else 'LoraConfig(target_module=["q_proj"])', "LoraConfig")
    assert f"did you mean `{meant}`?" in d["message"]


def test_no_suggestion_for_a_different_word(tmp_path):
    d = pft209(tmp_path, 'LoraConfig(target_modules=["q_proj"], learning_rate=1e-4)', "LoraConfig")
    assert "did you mean" not in d["message"]
