"""Training shell scripts: variables assigned in the script, launchers, several commands per file,
positions in the .sh file, and what the script cannot tell (the environment) as dynamic values."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.lintutil import lint

from peftlint.sources.shell_commands import read_commands
from peftlint.sources.trainer_shell import _LF_LORA_FLAGS, extract_trainer_shell

MODEL = "HuggingFaceTB/SmolLM2-135M"


def _specs(text: str):
    res = extract_trainer_shell(text, "run.sh", "/tmp/run.sh")
    assert res.problems == []
    return res.specs


def _at(text: str, span) -> str:
    assert span.line == span.end_line
    return text.splitlines()[span.line - 1][span.column - 1:span.end_column - 1]


def test_variables_assigned_in_the_script():
    text = f"""#!/bin/bash
set -x
MODEL_PATH={MODEL}
export TARGETS="q_proj v_proj"
LF_TARGETS='q_proj,vproj'
python -m trl.scripts.sft --model_name_or_path ${{MODEL_PATH}} --use_peft --lora_target_modules $TARGETS
llamafactory-cli train --model_name_or_path $MODEL_PATH --lora_target "$LF_TARGETS"
"""
    trl, lf = _specs(text)
    assert trl.model.ref == MODEL and _at(text, trl.model.span) == MODEL and trl.model.span.line == 3
    assert "through MODEL_PATH (line 3)" in trl.model.how and not trl.model.from_default
    # an unquoted $TARGETS is split into two words, each pointing into the assignment
    items = trl.get("target_modules").items
    assert [i.value for i in items] == ["q_proj", "v_proj"]
    assert [(i.span.line, _at(text, i.span)) for i in items] == [(4, "q_proj"), (4, "v_proj")]
    assert lf.facts.tool == "llama-factory" and lf.static("target_modules") == ["q_proj", "vproj"]
    vproj = lf.get("target_modules").items[1]
    assert (vproj.span.line, _at(text, vproj.span)) == (5, "vproj")


def test_defaults_and_the_environment():
    text = f"""MODEL=${{MODEL:-{MODEL}}}
trl sft --model_name_or_path "$MODEL" --use_peft --lora_target_modules ${{TARGET:-q_proj}} k_proj $EXTRA
trl sft --model_name_or_path $BASE --use_peft
"""
    with_default, from_env = _specs(text)
    # the environment may set MODEL, but the script's default is what runs without it
    assert with_default.model.ref == MODEL and with_default.model.from_default
    items = with_default.get("target_modules").items
    assert [i.value for i in items[:2]] == ["q_proj", "k_proj"] and items[2].dynamic
    assert "EXTRA is not set in this script" in items[2].reason
    assert from_env.model is None and "BASE is not set in this script" in from_env.facts.model_unresolved


def test_expansions_peftlint_does_not_guess():
    text = """if [ -n "$BIG" ]; then
  MODEL=meta-llama/Llama-2-70b-hf
fi
for T in q_proj v_proj; do
  trl sft --model_name_or_path $MODEL --use_peft --lora_target_modules $T $(cat targets.txt) ${T:+x} $1
done
"""
    [spec] = _specs(text)
    assert "assigned inside a block at line 2" in spec.facts.model_unresolved
    reasons = [i.reason for i in spec.get("target_modules").items]
    assert "loop variable" in reasons[0] and "command substitution" in reasons[1]
    assert "loop variable" in reasons[2] and "$1" in reasons[3]


def test_launchers_and_several_commands():
    text = f"""# --lora_target_modules in a comment is ignored
accelerate launch --config_file fsdp.yaml --num_processes 8 sft.py --model_name_or_path {MODEL} \\
    --use_peft --lora_target_modules q_proj v_proj 2>&1 | tee log.txt
torchrun --nproc_per_node 2 train.py --model_name_or_path {MODEL} --use_peft true --lora_r 8; \\
deepspeed --num_gpus 2 sft.py --deepspeed ds.json --model_name_or_path={MODEL} --use_peft=1 --lora_target_modules=q_proj
CUDA_VISIBLE_DEVICES=0 trl sft --model_name_or_path {MODEL} --use_peft false --lora_target_modules q_proj
cat > extra.yaml <<EOF
--use_peft --lora_target_modules in a here-document is not a command
EOF
llamafactory-cli train examples/qwen3_lora_sft.yaml lora_rank=4
llamafactory-cli train --model_name_or_path {MODEL} --stage sft
llamafactory-cli train --model_name_or_path {MODEL} --finetuning_type full
"""
    acc, tr, ds, lf = _specs(text)
    assert [s.span.line for s in (acc, tr, ds, lf)] == [2, 4, 5, 11]
    assert acc.static("target_modules") == ["q_proj", "v_proj"] and acc.model.ref == MODEL
    assert tr.static("r") == 8 and "target_modules" not in tr.fields  # PEFT's defaults
    # --flag=value; TRL turns a one-item list into that string (a regex matching nothing)
    assert ds.static("target_modules") == "q_proj" and ds.model.ref == MODEL
    assert _at(text, ds.get("target_modules").span) == "q_proj"
    # LLaMA-Factory's defaults: finetuning_type lora, lora_target all
    assert lf.facts.tool == "llama-factory" and lf.facts.target_rule.written == "--lora_target all (its default)"


def test_words_keep_their_offsets():
    text = 'A=x\\\ny\necho "$A"z \'q\'"r" \\\n  --k=v # c\n'
    [cmd] = read_commands(text)
    assert [f.text for f in cmd.fields] == ["echo", "xyz", "qr", "--k=v"]
    xyz = cmd.fields[1]
    assert [text[o] for o in xyz.offsets] == ["x", "y", "z"]


def test_findings_point_into_the_script(tmp_path: Path):
    text = f"""#!/bin/bash
BASE={MODEL}
TARGETS=q_proj,vproj
llamafactory-cli train \\
    --model_name_or_path ${{BASE}} \\
    --lora_target ${{TARGETS}} \\
    --lora_rank 8
trl sft --model_name_or_path $BASE --use_peft --lora_target_modules k_proj qproj
"""
    (tmp_path / "run.sh").write_text(text)
    got = lint(tmp_path, ".")
    assert [(f["code"], f["line"], _at(text, _span(f))) for f in got] == [
        ("PFT101", 3, "vproj"), ("PFT101", 8, "qproj")]


def _span(f: dict):
    from peftlint.diagnostics import Span

    return Span(f["line"], f["column"], f["end_line"], f["end_column"])


def test_llama_factory_all_on_the_command_line(tmp_path: Path):
    (tmp_path / "run.sh").write_text(
        "llamafactory-cli train --model_name_or_path openai/whisper-small --lora_target all\n")
    [f] = lint(tmp_path, ".")
    assert f["code"] == "PFT104" and f["subject"] == "proj_out" and (f["line"], f["column"]) == (1, 80)
    assert "LLaMA-Factory lists the last name segment" in f["message"]


def test_other_trainers_sharing_lora_rank_are_not_llama_factory(tmp_path: Path):
    """`--lora_rank` alone does not make a LLaMA-Factory command: its HfArgumentParser rejects flags it
    does not have (`--lora_target_modules`, `--target_modules`), so such a command is another trainer's
    (DiffSynth-Studio's train.py takes a comma string, ms-swift `swift sft` a word list); it was read as
    LLaMA-Factory and its comma string reported as one malformed name (PFT203)."""
    text = f"""accelerate launch examples/wanvideo/model_training/train.py \\
    --model_name_or_path {MODEL} --lora_rank 32 --lora_target_modules "q,k,v,o,ffn.0,ffn.2"
swift sft --model {MODEL} --lora_rank 8 --target_modules all-linear
megatron sft --model {MODEL} --lora_rank 8
NPROC_PER_NODE=2 swift sft --model {MODEL} --lora_rank 8
python src/train.py --model_name_or_path {MODEL} --lora_rank 8 --lora_target q_proj,v_proj
"""
    [lf] = _specs(text)
    assert lf.facts.tool == "llama-factory" and lf.span.line == 6
    assert lf.static("target_modules") == ["q_proj", "v_proj"]
    (tmp_path / "train.sh").write_text(text)
    assert lint(tmp_path, ".") == []


OWN_SCRIPTS = {  # real command lines of scripts with their own parser, sharing LLaMA-Factory's `--lora_rank`
    "open-instruct finetune.py": "accelerate launch open_instruct/finetune.py --model_name_or_path {m} --use_lora "
                                 "--lora_rank 64 --lora_alpha 16 --lora_dropout 0.1",
    "Qwen2-VL-Finetune train_sft.py": "deepspeed src/train/train_sft.py --lora_enable True --use_dora False "
                                      "--lora_namespan_exclude \"['lm_head', 'embed_tokens']\" --lora_rank 64 "
                                      "--lora_alpha 64 --num_lora_modules -1 --model_id {m}",
    "LLaVA-style": "python train.py --lora_enable True --lora_rank 8 --lora_bias none --model_name_or_path {m}",
}


@pytest.mark.parametrize("name", sorted(OWN_SCRIPTS))
def test_a_lora_flag_llama_factory_does_not_define_makes_another_trainers_command(tmp_path: Path, name: str):
    """Any `--*lora*` flag LLaMA-Factory's HfArgumentParser does not define (it would stop with "Some specified
    arguments are not used") means the command runs another script: open-instruct's `--use_lora --lora_rank 64`
    was read as LLaMA-Factory with its `lora_target: all` default, where finetune.py lists its own names."""
    text = OWN_SCRIPTS[name].format(m=MODEL) + "\n"
    assert _specs(text) == []
    (tmp_path / "train.sh").write_text(text)
    assert lint(tmp_path, ".") == []


@pytest.mark.parametrize("flag", sorted(_LF_LORA_FLAGS - {"--lora_rank"}))
def test_llama_factory_own_lora_flags_keep_it_llama_factory(flag: str):
    [spec] = _specs(f"python src/train.py --model_name_or_path {MODEL} --lora_rank 8 {flag} 1\n")
    assert spec.facts.tool == "llama-factory"
