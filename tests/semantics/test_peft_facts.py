from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.helpers_hf import REPO_ROOT

from peftlint.semantics import peft_facts as peftinfo
from peftlint.semantics.peft_facts import FACTS_PREFIX, PeftFacts, facts_key, load_peft_facts


@pytest.fixture(scope="module")
def facts() -> PeftFacts:
    return peftinfo.collect_peft_facts()


def test_lora(facts: PeftFacts) -> None:
    lora = facts.configs["LoraConfig"]
    assert lora.peft_type == "LORA" and lora.has_target_modules
    assert facts.by_peft_type("LORA") is lora
    assert lora.fields["target_modules"].default is None
    assert "list[str]" in lora.fields["target_modules"].type.text
    tm = lora.fields["target_modules"].type
    assert sorted(tm.kinds) == ["list", "null", "str"] and tm.items.kinds == ["str"]
    assert lora.fields["r"].default == 8 and lora.fields["r"].type.kinds == ["int"]
    assert lora.fields["bias"].default == "none"
    assert lora.fields["target_parameters"].default is None
    assert "target_module" not in lora.fields  # the typo PFT209 catches


def test_prompt_learning_and_ia3(facts: PeftFacts) -> None:
    prompt = facts.configs["PromptTuningConfig"]
    assert prompt.peft_type == "PROMPT_TUNING" and not prompt.has_target_modules and prompt.is_prompt_learning
    ia3 = facts.configs["IA3Config"]
    assert ia3.peft_type == "IA3" and ia3.has_target_modules and "feedforward_modules" in ia3.fields
    assert facts.by_peft_type("NOT_A_METHOD") is None


def test_every_exported_peft_config(facts: PeftFacts) -> None:
    import peft
    from peft.mapping import PEFT_TYPE_TO_CONFIG_MAPPING

    for peft_type, cls in PEFT_TYPE_TO_CONFIG_MAPPING.items():
        if getattr(peft, cls.__name__, None) is cls:
            assert facts.configs[cls.__name__].peft_type == peft_type.value
    assert "LoftQConfig" not in facts.configs  # a helper config, not a PeftConfig
    assert facts.configs["PeftConfig"].peft_type == ""  # abstract base
    assert facts.by_peft_type("") is None
    assert facts.task_types == [t.value for t in peft.TaskType]
    assert "CAUSAL_LM" in facts.task_types
    assert facts.prefixes["LORA"] == "lora_"
    assert facts.version == peft.__version__


def test_json_roundtrip(facts: PeftFacts) -> None:
    data = json.loads(json.dumps(facts.to_json()))
    assert PeftFacts.from_json(data) == facts


def test_cached_facts_are_reused(tmp_path: Path, facts: PeftFacts, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(peftinfo, "collect_peft_facts", lambda: calls.append(1) or facts)
    first = load_peft_facts(tmp_path)
    second = load_peft_facts(tmp_path)
    assert calls == [1] and first == second == facts
    assert [p.name for p in tmp_path.iterdir()] == [f"{FACTS_PREFIX}{facts_key()}.json"]


def test_corrupt_facts_are_rebuilt(tmp_path: Path, facts: PeftFacts, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(peftinfo, "collect_peft_facts", lambda: calls.append(1) or facts)
    path = tmp_path / f"{FACTS_PREFIX}{facts_key()}.json"
    path.write_text('{"format": 1, "key": "' + facts_key() + '", "payload": {"version": 1}}')
    assert load_peft_facts(tmp_path) == facts
    assert calls == [1]
    assert load_peft_facts(tmp_path) == facts and calls == [1]


def test_no_cache_dir(facts: PeftFacts, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(peftinfo, "collect_peft_facts", lambda: facts)
    assert load_peft_facts(None) == facts


def test_second_load_imports_no_peft(tmp_path: Path) -> None:
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from peftlint.semantics.peft_facts import load_peft_facts\n"
        "facts = load_peft_facts(Path(sys.argv[1]))\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'peft'))\n"
        "print(json.dumps({'n': len(facts.configs), 'heavy': heavy}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}

    def run() -> dict:
        out = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path)], env=env, capture_output=True, text=True, check=True
        )
        return json.loads(out.stdout)

    cold = load_peft_facts(tmp_path)  # in this process: only the second load must be a new process
    warm = run()
    assert warm["heavy"] == [] and warm["n"] == len(cold.configs)


def test_field_types_are_read_from_the_annotations(facts: PeftFacts) -> None:
    """Literal choices, types and sub-configs come from typing.get_type_hints, not from source text."""
    import typing

    import peft

    hints = typing.get_type_hints(peft.LoraConfig)
    init = facts.configs["LoraConfig"].fields["init_lora_weights"].type
    literal = next(a for a in typing.get_args(hints["init_lora_weights"]) if typing.get_origin(a) is typing.Literal)
    assert init.choices == list(typing.get_args(literal))
    assert {"loftq", "orthogonal", "mica", "pissa_niter_[number of iters]"} <= set(init.choices)
    assert init.kinds == ["bool"]
    kasa = facts.configs["LoraConfig"].fields["kasa_config"].type
    assert kasa.classes == ["KasaConfig"] and kasa.optional
    assert facts.configs["LoraConfig"].field_naming_class("KasaConfig") == "kasa_config"
    task = facts.configs["LoraConfig"].fields["task_type"].type
    assert set(task.choices) == {t.value for t in peft.TaskType} and "str" in task.kinds
    assert facts.configs["AdaptionPromptConfig"].is_adaption_prompt
    assert not facts.configs["LoraConfig"].is_adaption_prompt
