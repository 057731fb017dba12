"""extract_python: PEFT config calls read statically from Python source, linked to their model."""

from __future__ import annotations

import textwrap

import pytest

from peftlint.diagnostics import Span
from peftlint.sources.python import extract_python
from peftlint.spec import AdapterSpec

CLASSES = frozenset({"LoraConfig", "IA3Config", "LoHaConfig", "LoKrConfig", "AdaLoraConfig", "BOFTConfig"})


def run(src: str, classes: frozenset[str] = CLASSES):
    return extract_python(textwrap.dedent(src).lstrip("\n"), "train.py", "/proj/train.py", classes)


def specs(src: str) -> list[AdapterSpec]:
    result = run(src)
    assert result.problems == []
    return result.specs


def one(src: str) -> AdapterSpec:
    found = specs(src)
    assert len(found) == 1, found
    return found[0]


# --------------------------------------------------------------------------- finding calls
@pytest.mark.parametrize(
    "header, call",
    [
        ("from peft import LoraConfig", "LoraConfig"),
        ("from peft import LoraConfig as LC", "LC"),
        ("import peft", "peft.LoraConfig"),
        ("import peft as p", "p.LoraConfig"),
        ("from peft.tuners.lora import LoraConfig", "LoraConfig"),
        ("from peft.tuners.lora.config import LoraConfig", "LoraConfig"),
        ("import peft.tuners.lora", "peft.tuners.lora.LoraConfig"),
        ("from peft import *", "LoraConfig"),
    ],
)
def test_config_call_is_found_through_any_import_form(header: str, call: str) -> None:
    spec = one(f"{header}\ncfg = {call}(r=8)\n")
    assert spec.config_class == "LoraConfig"
    assert spec.source == "python" and spec.method == ""
    assert spec.path == "train.py" and spec.abspath == "/proj/train.py"
    assert spec.span == Span(2, 7, 2, 12 + len(call))


def test_same_spelling_from_elsewhere_is_not_a_config() -> None:
    src = """
    from mylib import LoraConfig
    from peft import IA3Config

    class LoHaConfig:
        pass

    a = LoraConfig(r=8)
    b = LoHaConfig(r=8)
    c = IA3Config(target_modules=["k"])
    """
    found = specs(src)
    assert [s.config_class for s in found] == ["IA3Config"]


def test_local_name_shadowing_the_import_is_not_a_config() -> None:
    src = """
    from peft import LoraConfig

    def build(LoraConfig):
        return LoraConfig(r=4)

    top = LoraConfig(r=8)
    """
    found = specs(src)
    assert len(found) == 1 and found[0].fields["r"].value == 8


def test_classes_outside_the_given_set_are_ignored() -> None:
    src = "from peft import PromptTuningConfig, LoraConfig\nPromptTuningConfig(num_virtual_tokens=8)\nLoraConfig()\n"
    assert [s.config_class for s in specs(src)] == ["LoraConfig"]


def test_multiline_call_span() -> None:
    spec = one(
        """
        from peft import LoraConfig
        config = LoraConfig(
            r=8,
        )
        """
    )
    assert spec.span == Span(2, 10, 4, 2)


# ---------------------------------------------------------------------------- field values
def test_literal_values_and_every_keyword_as_written() -> None:
    spec = one(
        """
        from peft import LoraConfig
        cfg = LoraConfig(
            r=16, lora_alpha=-32, lora_dropout=0.05, use_dora=False, bias="none" "",
            target_module=["q_proj"], layers_to_transform=None, init_lora_weights=True,
        )
        """
    )
    v = {k: f.value for k, f in spec.fields.items()}
    assert v == {
        "r": 16, "lora_alpha": -32, "lora_dropout": 0.05, "use_dora": False, "bias": "none",
        "target_module": ["q_proj"], "layers_to_transform": None, "init_lora_weights": True,
    }
    assert spec.fields["lora_alpha"].kind == "int" and spec.fields["layers_to_transform"].kind == "none"
    assert spec.fields["r"].span == Span(3, 7, 3, 9)
    assert spec.facts.key_spans["target_module"] == Span(4, 5, 4, 29)
    assert not spec.opaque


def test_implicit_concatenation_and_plus() -> None:
    spec = one(
        """
        from peft import LoraConfig
        P = "q_"
        LoraConfig(target_modules="model.*" r"\\.(q|v)_proj", layers_pattern=P + "layers")
        """
    )
    assert spec.fields["target_modules"].value == "model.*\\.(q|v)_proj"
    assert spec.fields["layers_pattern"].value == "q_layers"


def test_list_items_have_their_own_spans() -> None:
    spec = one(
        """
        from peft import LoraConfig
        LoraConfig(target_modules=["q_proj", "v_proj"], modules_to_save=("lm_head",), exclude_modules={"a"})
        """
    )
    tm = spec.fields["target_modules"]
    assert tm.kind == "list" and tm.value == ["q_proj", "v_proj"]
    assert [i.span for i in tm.items] == [Span(2, 28, 2, 36), Span(2, 38, 2, 46)]
    assert spec.fields["modules_to_save"].kind == "tuple" and spec.fields["modules_to_save"].value == ["lm_head"]
    assert spec.fields["exclude_modules"].kind == "set" and spec.fields["exclude_modules"].value == ["a"]


def test_dict_keys_and_members() -> None:
    spec = one(
        """
        from peft import LoraConfig
        LoraConfig(rank_pattern={"q_proj": 4,
                                 "^model.layers.0": 2})
        """
    )
    rp = spec.fields["rank_pattern"]
    assert rp.kind == "dict" and rp.value == {"q_proj": 4, "^model.layers.0": 2}
    assert rp.keys["^model.layers.0"].span == Span(3, 26, 3, 43)
    assert rp.members["q_proj"].value == 4 and rp.members["q_proj"].span == Span(2, 36, 2, 37)


def test_dict_with_a_dynamic_member_keeps_its_keys() -> None:
    spec = one(
        """
        from peft import LoraConfig
        def make(r):
            return LoraConfig(alpha_pattern={"q_proj": r * 2})
        """
    )
    ap = spec.fields["alpha_pattern"]
    assert ap.dynamic and ap.value is None
    assert list(ap.keys) == ["q_proj"] and ap.members["q_proj"].dynamic


def test_constant_resolved_through_a_name_keeps_the_literal_spans() -> None:
    spec = one(
        """
        from peft import LoraConfig

        TARGETS = ["q_proj", "vproj"]

        def main():
            return LoraConfig(target_modules=TARGETS)
        """
    )
    tm = spec.fields["target_modules"]
    assert tm.value == ["q_proj", "vproj"] and not tm.dynamic
    assert tm.items[1].span == Span(3, 22, 3, 29)
    assert tm.origin == "TARGETS (line 3)" and tm.items[1].origin == "TARGETS (line 3)"
    assert spec.facts.arg_spans["target_modules"] == Span(6, 38, 6, 45)


def test_function_local_constant_shadows_the_module_constant() -> None:
    src = """
    from peft import LoraConfig
    TARGETS = ["q_proj"]

    def a():
        TARGETS = ["c_attn"]
        return LoraConfig(target_modules=TARGETS)

    def b():
        return LoraConfig(target_modules=TARGETS)
    """
    first, second = specs(src)
    assert first.fields["target_modules"].value == ["c_attn"]
    assert second.fields["target_modules"].value == ["q_proj"]


def test_constant_inside_the_main_guard_is_static() -> None:
    spec = one(
        """
        from peft import LoraConfig
        if __name__ == "__main__":
            R = 16
            cfg = LoraConfig(r=R)
        """
    )
    assert spec.fields["r"].value == 16


@pytest.mark.parametrize(
    "body, reason",
    [
        ("T = ['q']\nT = ['v']\n", "T is assigned more than once (lines 2, 3)"),
        ("T = ['q']\nT += ['v']\n", "T is assigned more than once (lines 2, 3)"),
        ("T = ['q']\nT.append('v')\n", "T is modified at runtime (T.append('v') at line 3)"),
        ("for T in (['q'], ['v']):\n    pass\n", "T is a loop variable (line 2)"),
        ("if flag:\n    T = ['q']\n", "T is assigned conditionally (line 3)"),
        ("T = find_all_linear_names(model)\n", "computed by find_all_linear_names(model) at runtime"),
        ("from consts import T\n", "T is imported (line 2)"),
    ],
)
def test_names_that_are_not_constants_are_dynamic(body: str, reason: str) -> None:
    src = "from peft import LoraConfig\n" + body + "cfg = LoraConfig(target_modules=T)\n"
    spec = one(src)
    tm = spec.fields["target_modules"]
    assert tm.dynamic and tm.kind == "dynamic" and tm.value is None
    assert tm.reason == reason
    last = src.count("\n")
    assert tm.span == Span(last, 33, last, 34)


def test_parameter_reasons() -> None:
    spec = one(
        """
        from peft import LoraConfig
        def train(targets, r=8):
            return LoraConfig(target_modules=targets, r=r)
        """
    )
    assert spec.fields["target_modules"].reason == "argument 'targets' of train() has no default"
    assert spec.fields["r"].reason == "argument 'r' of train() is set by the caller (default 8)"


def test_peft_enums() -> None:
    src = """
    import peft
    from peft import LoraConfig, TaskType
    a = LoraConfig(task_type=TaskType.CAUSAL_LM)
    b = peft.LoraConfig(task_type=peft.TaskType.SEQ_CLS)
    c = LoraConfig(task_type="TOKEN_CLS")
    """
    a, b, c = specs(src)
    assert (a.task_type, b.task_type, c.task_type) == ("CAUSAL_LM", "SEQ_CLS", "TOKEN_CLS")
    assert a.fields["task_type"].kind == "str"


def test_list_concatenation_keeps_item_spans() -> None:
    spec = one(
        """
        from peft import LoraConfig
        ATTN = ["q_proj", "k_proj"]
        MLP = ["gate_proj"]
        LoraConfig(target_modules=ATTN + MLP + ["lm_head"])
        """
    )
    tm = spec.fields["target_modules"]
    assert tm.value == ["q_proj", "k_proj", "gate_proj", "lm_head"]
    assert [i.span.line for i in tm.items] == [2, 2, 3, 4]
    assert tm.items[2].origin == "MLP (line 3)" and tm.items[3].origin == ""


def test_fstrings_builtins_and_unpacking() -> None:
    spec = one(
        """
        from peft import LoraConfig
        N = 3
        BASE = ("q_proj", "v_proj")
        LoraConfig(
            layers_pattern=f"layers.{N}\\n",
            target_modules=list(BASE),
            modules_to_save=[*BASE, "score"],
            exclude_modules=set(["x"]),
            rank_pattern=dict(q_proj=4),
        )
        """
    )
    assert spec.fields["layers_pattern"].value == "layers.3\n"
    assert spec.fields["target_modules"].kind == "list" and spec.fields["target_modules"].value == ["q_proj", "v_proj"]
    assert spec.fields["modules_to_save"].value == ["q_proj", "v_proj", "score"]
    assert spec.fields["exclude_modules"].value == ["x"]
    assert spec.fields["rank_pattern"].value == {"q_proj": 4}


def test_a_list_with_some_dynamic_items_stays_a_list() -> None:
    spec = one(
        """
        from peft import LoraConfig
        def f(extra):
            return LoraConfig(target_modules=["q_proj", extra, f"{extra}_proj"], modules_to_save=["x"] * 2)
        """
    )
    tm = spec.fields["target_modules"]
    assert tm.kind == "list" and not tm.dynamic and not tm.fully_static
    assert [i.dynamic for i in tm.items] == [False, True, True]
    assert tm.items[1].reason == "argument 'extra' of f() has no default"
    assert spec.fields["modules_to_save"].dynamic


def test_argparse_values_are_dynamic_with_a_reason() -> None:
    spec = one(
        """
        import argparse
        from peft import LoraConfig
        parser = argparse.ArgumentParser()
        parser.add_argument("--lora-r", type=int, default=8)
        args = parser.parse_args()
        cfg = LoraConfig(r=args.lora_r)
        """
    )
    assert spec.fields["r"].reason == "set at runtime by --lora-r (argparse)"


def test_kwargs_and_positional_arguments_make_the_spec_opaque() -> None:
    src = """
    from peft import LoraConfig
    def f(kw):
        a = LoraConfig(r=8, **kw)
        b = LoraConfig("CAUSAL_LM", r=4)
        c = LoraConfig(**{"r": 2, "target_modules": ["q"]})
        return a, b, c
    """
    a, b, c = specs(src)
    assert a.opaque and a.fields["r"].value == 8 and a.facts.opaque_args == ["**kw"]
    assert b.opaque and b.fields["r"].value == 4
    assert not c.opaque and c.fields["target_modules"].items[0].value == "q"


# -------------------------------------------------------------------------- model linking
def test_from_pretrained_to_get_peft_model() -> None:
    spec = one(
        """
        from transformers import AutoModelForCausalLM
        from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

        model_id = "meta-llama/Llama-2-7b-hf"
        model = AutoModelForCausalLM.from_pretrained(model_id, revision="v1", trust_remote_code=True)
        model = prepare_model_for_kbit_training(model)
        config = LoraConfig(r=8, target_modules=["q_proj"])
        model = get_peft_model(model, config)
        """
    )
    m = spec.model
    assert m.ref == "meta-llama/Llama-2-7b-hf"
    assert m.how == "AutoModelForCausalLM.from_pretrained() at line 5"
    assert m.model_class == "AutoModelForCausalLM"
    assert m.revision == "v1" and m.trust_remote_code and not m.from_default
    assert m.span == Span(4, 12, 4, 38) and m.base_dir == "/proj"


@pytest.mark.parametrize(
    "apply",
    [
        "model = get_peft_model(model, LoraConfig(r=8))",
        "model = peft.get_peft_model(model, peft_config=LoraConfig(r=8))",
        "model = PeftModel(model, LoraConfig(r=8))",
        "model.add_adapter(LoraConfig(r=8), adapter_name='a')",
        "model = inject_adapter_in_model(LoraConfig(r=8), model)",
        "trainer = SFTTrainer(model=model, args=None, peft_config=LoraConfig(r=8))",
    ],
)
def test_every_way_of_applying_a_config(apply: str) -> None:
    src = (
        "import peft\n"
        "from peft import LoraConfig, get_peft_model, PeftModel, inject_adapter_in_model\n"
        "from transformers import AutoModelForSeq2SeqLM as M\n"
        "from trl import SFTTrainer\n"
        "model = M.from_pretrained('google/flan-t5-base')\n"
        f"{apply}\n"
    )
    m = one(src).model
    assert m is not None and m.ref == "google/flan-t5-base" and m.model_class == "AutoModelForSeq2SeqLM"


def test_trainer_with_a_model_id_string() -> None:
    spec = one(
        """
        from peft import LoraConfig
        from trl import SFTTrainer
        peft_config = LoraConfig(r=16, target_modules="all-linear")
        trainer = SFTTrainer(
            model="Qwen/Qwen2-0.5B",
            peft_config=peft_config,
        )
        """
    )
    assert spec.model.ref == "Qwen/Qwen2-0.5B"
    assert spec.model.how == "model= of SFTTrainer() at line 4"
    assert spec.model.model_class is None


def test_two_functions_each_get_their_own_model() -> None:
    src = """
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification
    from peft import LoraConfig, get_peft_model

    def causal():
        model = AutoModelForCausalLM.from_pretrained("gpt2")
        return get_peft_model(model, LoraConfig(target_modules=["c_attn"]))

    def classifier():
        model = AutoModelForSequenceClassification.from_pretrained("roberta-base")
        cfg = LoraConfig(task_type="SEQ_CLS")
        return get_peft_model(model, cfg)
    """
    a, b = specs(src)
    assert (a.model.ref, a.model.model_class) == ("gpt2", "AutoModelForCausalLM")
    assert (b.model.ref, b.model.model_class) == ("roberta-base", "AutoModelForSequenceClassification")
    assert b.model.how == "AutoModelForSequenceClassification.from_pretrained() at line 9"


def test_model_loaded_in_a_helper_and_passed_to_another() -> None:
    src = """
    from transformers import AutoModelForCausalLM
    from peft import LoraConfig, get_peft_model

    def load(name):
        return AutoModelForCausalLM.from_pretrained(name)

    def make_config():
        return LoraConfig(target_modules=["q_proj"])

    def wrap(model, config):
        return get_peft_model(model, config)

    wrap(load("mistralai/Mistral-7B-v0.1"), make_config())
    """
    m = one(src).model
    assert m.ref == "mistralai/Mistral-7B-v0.1"
    assert m.how.startswith("AutoModelForCausalLM.from_pretrained() at line 5")


@pytest.mark.parametrize(
    "comment",
    [
        "cfg = LoraConfig(r=8)  # peftlint: model=meta-llama/Llama-3.2-1B",
        "# peftlint: model = meta-llama/Llama-3.2-1B\ncfg = LoraConfig(r=8)",
        "# peftlint: model=meta-llama/Llama-3.2-1B\n# the adapter for the small model\ncfg = LoraConfig(r=8)",
    ],
)
def test_model_hint_comment_wins(comment: str) -> None:
    src = (
        "from transformers import AutoModelForCausalLM\nfrom peft import LoraConfig, get_peft_model\n"
        "model = AutoModelForCausalLM.from_pretrained('gpt2')\n" + comment + "\nget_peft_model(model, cfg)\n"
    )
    m = one(src).model
    assert m.ref == "meta-llama/Llama-3.2-1B" and m.how == "# peftlint: model= comment"


def test_a_hint_separated_by_code_does_not_apply() -> None:
    src = "from peft import LoraConfig\n# peftlint: model=gpt2\nx = 1\ncfg = LoraConfig(r=8)\n"
    spec = one(src)
    assert spec.model is None
    assert spec.facts.model_unresolved == "no from_pretrained() call or trainer linked to this config"


ARGPARSE_SCRIPT = """
import argparse
from transformers import AutoModelForCausalLM
from peft import LoraConfig, get_peft_model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model_id", type=str, default="facebook/opt-350m")
    parser.add_argument("--model-path", dest="path", required=True)
    args = parser.parse_args()
    model = AutoModelForCausalLM.from_pretrained(args.{attr})
    config = LoraConfig(r=16, target_modules=["q_proj", "v_proj"])
    model = get_peft_model(model, config)


if __name__ == "__main__":
    main()
"""


def test_argparse_default() -> None:
    spec = one(ARGPARSE_SCRIPT.format(attr="model_id"))
    m = spec.model
    assert m.ref == "facebook/opt-350m" and m.from_default
    assert m.how == "default of --model_id (argparse) at line 8"
    assert m.span == Span(8, 57, 8, 76)


def test_argparse_required_option_leaves_the_model_unresolved() -> None:
    spec = one(ARGPARSE_SCRIPT.format(attr="path"))
    assert spec.model is None
    assert spec.facts.model_unresolved == "the model comes from --model-path, which has no default"


HF_PARSER_SCRIPT = """
from dataclasses import dataclass, field
from typing import Optional
from transformers import AutoModelForCausalLM, HfArgumentParser, TrainingArguments
from peft import LoraConfig
from trl import SFTTrainer


@dataclass
class ModelArguments:
    tokenizer_name: Optional[str] = None
    model_name_or_path: str = field({field})


@dataclass
class ScriptArguments:
    base_model: str = "bigscience/bloom-560m"


def main():
    parser = HfArgumentParser((ModelArguments, ScriptArguments, TrainingArguments))
    {unpack}
    model = AutoModelForCausalLM.from_pretrained({ref})
    trainer = SFTTrainer(model=model, args=training_args, peft_config=LoraConfig(r=8))
"""


def test_hf_argument_parser_field_default() -> None:
    src = HF_PARSER_SCRIPT.format(
        field='default="EleutherAI/pythia-160m", metadata={"help": "the model"}',
        unpack="model_args, script_args, training_args = parser.parse_args_into_dataclasses()",
        ref="model_args.model_name_or_path",
    )
    m = one(src).model
    assert m.ref == "EleutherAI/pythia-160m" and m.from_default
    assert m.how == "default of ModelArguments.model_name_or_path at line 11"


def test_hf_argument_parser_plain_default_and_index_form() -> None:
    src = HF_PARSER_SCRIPT.format(
        field="default=None",
        unpack="script_args = parser.parse_args_into_dataclasses()[1]; training_args = None",
        ref="script_args.base_model",
    )
    m = one(src).model
    assert m.ref == "bigscience/bloom-560m" and m.how == "default of ScriptArguments.base_model at line 16"


def test_hf_argument_parser_field_without_default() -> None:
    src = HF_PARSER_SCRIPT.format(
        field='metadata={"help": "required"}',
        unpack="model_args, script_args, training_args = parser.parse_args_into_dataclasses()",
        ref="model_args.model_name_or_path",
    )
    spec = one(src)
    assert spec.model is None
    assert spec.facts.model_unresolved == (
        "the model comes from ModelArguments.model_name_or_path, which has no default"
    )


def test_parameter_default_with_fire() -> None:
    spec = one(
        """
        import fire
        from transformers import AutoModelForCausalLM
        from peft import LoraConfig, get_peft_model

        def train(
            base_model: str = "huggyllama/llama-7b",
            lora_r: int = 8,
        ):
            model = AutoModelForCausalLM.from_pretrained(base_model)
            model = get_peft_model(model, LoraConfig(r=lora_r))

        if __name__ == "__main__":
            fire.Fire(train)
        """
    )
    m = spec.model
    assert m.ref == "huggyllama/llama-7b" and m.from_default
    assert m.how == "default of parameter base_model of train() at line 6"
    assert spec.fields["r"].dynamic


def test_parameter_bound_at_a_call_site() -> None:
    src = """
    from transformers import AutoModelForCausalLM
    from peft import LoraConfig, get_peft_model

    def train(base_model, output_dir="out"):
        model = AutoModelForCausalLM.from_pretrained(base_model)
        return get_peft_model(model, LoraConfig(r=8))

    train("bigcode/starcoder2-7b")
    train("gpt2")
    """
    m = one(src).model
    assert m.ref == "bigcode/starcoder2-7b" and not m.from_default
    assert m.how == "AutoModelForCausalLM.from_pretrained() at line 5 (base_model from the first of 2 calls, at line 8)"


def test_parameter_bound_to_an_argparse_option_at_the_call_site() -> None:
    src = """
    import argparse
    from transformers import AutoModelForCausalLM
    from peft import LoraConfig, get_peft_model

    def train(base_model):
        model = AutoModelForCausalLM.from_pretrained(base_model)
        return get_peft_model(model, LoraConfig(r=8))

    if __name__ == "__main__":
        parser = argparse.ArgumentParser()
        parser.add_argument("--base_model", default="google/gemma-2b")
        args = parser.parse_args()
        train(base_model=args.base_model)
    """
    m = one(src).model
    assert m.ref == "google/gemma-2b" and m.how == "default of --base_model (argparse) at line 11"


def test_parameter_without_default_or_caller() -> None:
    spec = one(
        """
        from transformers import AutoModelForCausalLM
        from peft import LoraConfig, get_peft_model

        def train(base_model):
            model = AutoModelForCausalLM.from_pretrained(base_model)
            return get_peft_model(model, LoraConfig(r=8))
        """
    )
    assert spec.model is None
    assert spec.facts.model_unresolved == "argument 'base_model' of train() has no default"


def test_environment_variable_default() -> None:
    spec = one(
        """
        import os
        from transformers import AutoModelForCausalLM
        from peft import LoraConfig, get_peft_model
        model = AutoModelForCausalLM.from_pretrained(os.environ.get("BASE", "microsoft/phi-2"))
        get_peft_model(model, LoraConfig(r=8))
        """
    )
    assert spec.model.ref == "microsoft/phi-2" and spec.model.from_default


def test_unsloth_get_peft_model_is_a_lora_config() -> None:
    src = """
    from unsloth import FastLanguageModel

    model, tokenizer = FastLanguageModel.from_pretrained(
        model_name="unsloth/llama-3-8b-bnb-4bit",
        max_seq_length=2048,
        load_in_4bit=True,
    )
    model = FastLanguageModel.get_peft_model(
        model,
        r=16,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
        lora_alpha=16,
        use_gradient_checkpointing="unsloth",
    )
    """
    spec = one(src)
    assert spec.config_class == "LoraConfig" and spec.span.line == 8
    assert "model" not in spec.fields and spec.fields["r"].value == 16
    assert spec.fields["target_modules"].items[3].value == "o_proj"
    assert spec.facts.tool == "unsloth"
    m = spec.model
    assert m.ref == "unsloth/llama-3-8b-bnb-4bit" and m.model_class == "FastLanguageModel"
    assert m.how == "FastLanguageModel.from_pretrained() at line 3"
    assert not spec.opaque


def test_unsloth_vision_positional_model_name() -> None:
    src = """
    from unsloth import FastVisionModel
    model, processor = FastVisionModel.from_pretrained("unsloth/Llama-3.2-11B-Vision-Instruct")
    model = FastVisionModel.get_peft_model(model, finetune_vision_layers=False, target_modules="all-linear")
    """
    spec = one(src)
    assert spec.model.ref == "unsloth/Llama-3.2-11B-Vision-Instruct"
    assert spec.model.model_class == "FastVisionModel"
    assert spec.fields["target_modules"].value == "all-linear"


def test_no_model_at_all() -> None:
    spec = one("from peft import LoraConfig\ncfg = LoraConfig(r=8)\ncfg.save_pretrained('out')\n")
    assert spec.model is None
    assert spec.facts.model_unresolved == "no from_pretrained() call or trainer linked to this config"


def test_tokenizer_is_not_a_model() -> None:
    spec = one(
        """
        from transformers import AutoTokenizer
        from peft import LoraConfig
        tok = AutoTokenizer.from_pretrained("gpt2")
        cfg = LoraConfig(r=8)
        """
    )
    assert spec.model is None


def test_only_model_in_the_function_is_used_when_nothing_links_it() -> None:
    spec = one(
        """
        from transformers import AutoModelForCausalLM
        from peft import LoraConfig
        from mytrainer import train

        def main():
            model = AutoModelForCausalLM.from_pretrained("gpt2")
            train(model, LoraConfig(r=8))
        """
    )
    assert spec.model.ref == "gpt2"
    assert spec.model.how == "AutoModelForCausalLM.from_pretrained() at line 6, the only model loaded in main()"


# ------------------------------------------------------------------------------- problems
def test_syntax_error_is_a_problem() -> None:
    result = run("from peft import LoraConfig\ncfg = LoraConfig(r=8,, target_modules=['q'])\n")
    assert result.specs == []
    (p,) = result.problems
    assert p.code == "PFT902" and p.message.startswith("cannot parse: ")
    assert p.span.line == 2 and p.span.column == 22


@pytest.mark.parametrize(
    "text",
    [
        "\x00\x01\x02\xff\xfe LoraConfig garbage \x00",
        "\ufeffLoraConfig(((((",
        "LoraConfig = '\udcff'\n",
        "x = " + " or ".join(["a"] * 9000) + "\nLoraConfig()\n",
        "import " + ".".join(["a"] * 20000) + "\nLoraConfig()\n",
        "x = " + "(" * 3000 + "\n LoraConfig",
        "x = " + "[" * 150 + "]" * 150 + "\nfrom peft import LoraConfig\nLoraConfig()\n",
        "",
        "LoraConfig",
    ],
)
def test_garbage_never_raises(text: str) -> None:
    result = extract_python(text, "x.py", "/x.py", CLASSES)
    for p in result.problems:
        assert p.code in ("PFT902", "PFT999"), p


def test_binary_decoded_text_is_a_syntax_problem() -> None:
    blob = bytes(range(256)).decode("latin-1") + "LoraConfig"
    result = extract_python(blob, "x.py", "/x.py", CLASSES)
    assert [p.code for p in result.problems] == ["PFT902"]


def test_file_without_configs_yields_nothing_but_its_syntax_errors() -> None:
    assert run("import torch\nx = torch.zeros(3)\n").specs == []
    assert run("def f(:\n").problems[0].code == "PFT902"


# ------------------------------------------------------------------ realistic whole scripts
DORA_SCRIPT = '''
import os
from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig
from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training


def train_model(base_model: str, quantize: bool, lora_r: int, lora_target_modules: str):
    hf_token = os.getenv("HF_TOKEN")
    tokenizer = AutoTokenizer.from_pretrained(base_model, token=hf_token)
    if quantize:
        model = AutoModelForCausalLM.from_pretrained(
            base_model, token=hf_token, quantization_config=BitsAndBytesConfig(load_in_4bit=True)
        )
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=True)
    else:
        model = AutoModelForCausalLM.from_pretrained(base_model, token=hf_token)
    lora_config = LoraConfig(
        r=lora_r,
        target_modules=(
            lora_target_modules.split(",") if lora_target_modules else ["q_proj", "k_proj", "v_proj"]
        ),
        bias="none",
    )
    model = get_peft_model(model, lora_config)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Fine-tune LLaMA with DoRA and PEFT")
    parser.add_argument("--base_model", type=str, default="huggyllama/llama-7b", help="Base model")
    parser.add_argument("--quantize", action="store_true")
    parser.add_argument("--lora_r", type=int, default=8)
    parser.add_argument("--lora_target_modules", type=str, default=None)
    args = parser.parse_args()
    train_model(
        base_model=args.base_model,
        quantize=args.quantize,
        lora_r=args.lora_r,
        lora_target_modules=args.lora_target_modules,
    )
'''


def test_peft_example_script_with_branches_and_keyword_call_site() -> None:
    spec = one(DORA_SCRIPT)
    assert spec.model.ref == "huggyllama/llama-7b"
    assert spec.model.how == "default of --base_model (argparse) at line 30"
    assert spec.fields["r"].reason == "argument 'lora_r' of train_model() is set by the caller (line 35)"
    assert spec.fields["target_modules"].reason == "chosen at runtime by the condition lora_target_modules"
    assert spec.fields["bias"].value == "none"


def test_trl_script_with_conditional_config_and_model_id_from_dataclass() -> None:
    spec = one(
        """
        from dataclasses import dataclass, field
        from typing import Optional
        from transformers import HfArgumentParser
        from trl import SFTConfig, SFTTrainer
        from peft import LoraConfig

        @dataclass
        class ScriptArguments:
            model_name: Optional[str] = field(default="facebook/opt-350m", metadata={"help": "the model name"})
            use_peft: Optional[bool] = field(default=True)
            peft_lora_r: Optional[int] = field(default=64)

        parser = HfArgumentParser((ScriptArguments, SFTConfig))
        script_args, training_args = parser.parse_args_into_dataclasses()

        if script_args.use_peft:
            peft_config = LoraConfig(r=script_args.peft_lora_r, task_type="CAUSAL_LM")
        else:
            peft_config = None

        trainer = SFTTrainer(model=script_args.model_name, args=training_args, peft_config=peft_config)
        """
    )
    assert spec.model.ref == "facebook/opt-350m" and spec.model.from_default
    assert spec.model.how == "default of ScriptArguments.model_name at line 9"
    assert spec.fields["r"].reason == "set at runtime by ScriptArguments.peft_lora_r"
    assert spec.task_type == "CAUSAL_LM"


def test_rebinding_a_config_variable_cuts_the_flow() -> None:
    src = """
    from transformers import AutoModelForCausalLM
    from peft import LoraConfig, get_peft_model
    cfg = LoraConfig(r=8)
    small = AutoModelForCausalLM.from_pretrained("gpt2")
    get_peft_model(small, cfg)
    cfg = LoraConfig(r=16)
    big = AutoModelForCausalLM.from_pretrained("gpt2-large")
    get_peft_model(big, cfg)
    """
    a, b = specs(src)
    assert (a.model.ref, b.model.ref) == ("gpt2", "gpt2-large")


def test_two_unlinked_models_are_not_guessed() -> None:
    spec = one(
        """
        from transformers import AutoModelForCausalLM
        from peft import LoraConfig
        from trl import DPOTrainer

        def main():
            model = AutoModelForCausalLM.from_pretrained("gpt2")
            ref_model = AutoModelForCausalLM.from_pretrained("gpt2-large")
            DPOTrainer(model, ref_model, LoraConfig(r=8))
        """
    )
    assert spec.model is None
    assert spec.facts.model_unresolved == "several models are loaded in main() and none is visibly given this config"


def test_unreadable_model_name_is_not_replaced_by_another_model() -> None:
    spec = one(
        """
        import sys
        from transformers import AutoModelForCausalLM
        from peft import LoraConfig, get_peft_model
        model = AutoModelForCausalLM.from_pretrained(sys.argv[1])
        other = AutoModelForCausalLM.from_pretrained("gpt2")
        get_peft_model(model, LoraConfig(r=8))
        """
    )
    assert spec.model is None
    assert spec.facts.model_unresolved == "the model comes from the command line (sys.argv[1])"


def test_hint_above_a_multiline_statement() -> None:
    spec = one(
        """
        from peft import LoraConfig, get_peft_model
        # peftlint: model=google/gemma-2b
        model = get_peft_model(
            load_somehow(),
            LoraConfig(r=8),
        )
        """
    )
    assert spec.model.ref == "google/gemma-2b" and spec.model.span == Span(2, 3, 2, 34)


def test_model_built_from_a_loaded_config() -> None:
    spec = one(
        """
        from transformers import AutoConfig, AutoModelForCausalLM
        from peft import LoraConfig, get_peft_model
        config = AutoConfig.from_pretrained("Qwen/Qwen2-7B")
        model = AutoModelForCausalLM.from_config(config)
        get_peft_model(model, LoraConfig(r=8))
        """
    )
    assert spec.model.ref == "Qwen/Qwen2-7B" and spec.model.how == "AutoModelForCausalLM.from_config() at line 4"


def test_name_read_before_its_assignment_is_dynamic() -> None:
    spec = one("from peft import LoraConfig\ncfg = LoraConfig(r=R)\nR = 8\n")
    assert spec.fields["r"].reason == "R is assigned after it is read (line 3)"


def test_chained_hf_parser_and_main_call_without_arguments() -> None:
    spec = one(
        """
        from dataclasses import dataclass
        from transformers import AutoModelForCausalLM, HfArgumentParser
        from peft import IA3Config, get_peft_model

        @dataclass
        class Args:
            model_name_or_path: str = "bigscience/bloomz-560m"

        def main(use_cache=False):
            args = HfArgumentParser(Args).parse_args_into_dataclasses()[0]
            model = AutoModelForCausalLM.from_pretrained(args.model_name_or_path, use_cache=use_cache)
            get_peft_model(model, IA3Config(target_modules=["query_key_value"], feedforward_modules=[]))

        if __name__ == "__main__":
            main()
        """
    )
    assert spec.config_class == "IA3Config"
    assert spec.model.ref == "bigscience/bloomz-560m"
    assert spec.model.how == "default of Args.model_name_or_path at line 7"


def test_parameter_default_used_when_the_call_does_not_pass_it() -> None:
    spec = one(
        """
        from transformers import AutoModelForCausalLM
        from peft import LoraConfig, get_peft_model

        def train(base_model="openai-community/gpt2", r=8):
            model = AutoModelForCausalLM.from_pretrained(base_model)
            get_peft_model(model, LoraConfig(r=r))

        if __name__ == "__main__":
            train(r=16)
        """
    )
    assert spec.model.ref == "openai-community/gpt2" and spec.model.from_default
    assert spec.model.how == "default of parameter base_model of train() at line 4"


def test_unusual_line_breaks_do_not_shift_hint_lines() -> None:
    src = "from peft import LoraConfig\nx = '\x0c\u2028'  # form feed and line separator in a string\n"
    src += "# peftlint: model=gpt2\ncfg = LoraConfig(r=8)\n"
    spec = one(src)
    assert spec.model.ref == "gpt2" and spec.model.span.line == 3


def test_tuple_unpacking_and_subscripts_of_constants() -> None:
    spec = one(
        """
        from peft import LoraConfig
        Q, V = "q_proj", "v_proj"
        TARGETS = {"llama": ["q_proj", "v_proj"], "falcon": ["query_key_value"]}
        LoraConfig(target_modules=TARGETS["falcon"], modules_to_save=[Q, V], layers_pattern=TARGETS["llama"][1])
        """
    )
    tm = spec.fields["target_modules"]
    assert tm.value == ["query_key_value"] and tm.items[0].span == Span(3, 54, 3, 71)
    assert spec.fields["modules_to_save"].value == ["q_proj", "v_proj"]
    assert spec.fields["layers_pattern"].value == "v_proj"


# ------------------------------------------------------------------------------- positions
def test_columns_count_characters_not_bytes() -> None:
    spec = one(
        """
        from peft import LoraConfig
        É = "é"; cfg = LoraConfig(target_modules=["日本_proj", "q_proj"])  # 注释
        """
    )
    tm = spec.fields["target_modules"]
    assert spec.span == Span(2, 16, 2, 64)
    assert [i.span for i in tm.items] == [Span(2, 43, 2, 52), Span(2, 54, 2, 62)]


def test_parenthesised_values_and_tuples() -> None:
    spec = one(
        """
        from peft import LoraConfig
        cfg = LoraConfig(modules_to_save=(
            "a",  # the first (one)
            "b",
        ), r=(8), layers_to_transform=(), lora_dropout=(f(a) * 2), target_modules=(  # a comment
            ["q"]))
        """
    )
    assert spec.fields["modules_to_save"].span == Span(3, 5, 4, 9)  # from the first to the last item
    assert spec.fields["r"].span == Span(5, 7, 5, 8)  # without the parentheses
    assert spec.facts.key_spans["r"] == Span(5, 4, 5, 8)
    assert spec.fields["layers_to_transform"].span == Span(5, 32, 5, 32)
    assert spec.fields["lora_dropout"].reason == "computed by (f(a) * 2) at runtime"  # as written
    assert spec.fields["target_modules"].span == Span(6, 5, 6, 10)


def test_a_hint_inside_a_string_is_not_a_comment() -> None:
    spec = one('from peft import LoraConfig\ns = "# peftlint: model=gpt2"; cfg = LoraConfig(r=8)\n')
    assert spec.model is None
