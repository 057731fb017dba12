"""extract_python: the model behind each config, followed through classes, helpers and pytest."""

from __future__ import annotations

import textwrap

import pytest

from peftlint.sources.python import extract_python
from peftlint.spec import AdapterSpec

CLASSES = frozenset({"LoraConfig", "IA3Config"})
HEADER = """\
import copy
import unittest
import pytest
import torch
from torch import nn
from transformers import AutoModelForCausalLM
from peft import LoraConfig, get_peft_model
"""


def specs(body: str) -> list[AdapterSpec]:
    result = extract_python(HEADER + textwrap.dedent(body), "test_x.py", "/proj/test_x.py", CLASSES)
    assert result.problems == []
    return result.specs


def one(body: str) -> AdapterSpec:
    (spec,) = specs(body)
    return spec


def refs(spec: AdapterSpec) -> list[str]:
    return [m.ref for m in ([spec.model] if spec.model else []) + spec.other_models]


def line_of(text: str, body: str) -> int:
    """1-based line of ``text`` in the linted file (header + body)."""
    lines = (HEADER + textwrap.dedent(body)).splitlines()
    return next(i for i, line in enumerate(lines, start=1) if text in line)


# ------------------------------------------------------------- self.x: the enclosing class only
UNRELATED_CLASS = """
class Other:
    causal_lm_model_id = "gpt2"

class PeftBnbGPUExampleTests(unittest.TestCase):
    def setUp(self):
        self.causal_lm_model_id = "facebook/opt-6.7b"

    def test_causal_lm_training(self):
        model = AutoModelForCausalLM.from_pretrained(self.causal_lm_model_id)
        config = LoraConfig(r=16, target_modules=["q_proj", "v_proj"])
        model = get_peft_model(model, config)
"""


def test_self_attribute_comes_from_the_enclosing_class_not_another_one() -> None:
    spec = one(UNRELATED_CLASS)
    assert refs(spec) == ["facebook/opt-6.7b"]
    assert spec.model.how == f"AutoModelForCausalLM.from_pretrained() at line {line_of('from_pretrained(self', UNRELATED_CLASS)}"
    assert not spec.model.from_default


def test_self_attribute_not_set_in_the_class_is_not_taken_from_another_class() -> None:
    spec = one(UNRELATED_CLASS.replace('self.causal_lm_model_id = "facebook/opt-6.7b"', "pass"))
    assert spec.model is None
    assert spec.facts.model_unresolved == (
        "self.causal_lm_model_id is not set in its class or the bases of its class in this file"
    )


@pytest.mark.parametrize(
    "setup",
    [
        "def setup_method(self):\n        self.model_id = 'facebook/opt-350m'",
        "@classmethod\n    def setUpClass(cls):\n        cls.model_id = 'facebook/opt-350m'",
        "@classmethod\n    def setup_class(cls):\n        cls.model_id = 'facebook/opt-350m'",
        "def __init__(self):\n        self.model_id = 'facebook/opt-350m'",
        "@pytest.fixture(autouse=True)\n    def _ids(self):\n        self.model_id = 'facebook/opt-350m'",
        "model_id = 'facebook/opt-350m'",
    ],
)
def test_every_way_a_test_class_sets_an_attribute(setup: str) -> None:
    body = f"""
class TestX:
    {setup}

    def test_it(self):
        model = AutoModelForCausalLM.from_pretrained(self.model_id)
        get_peft_model(model, LoraConfig(target_modules=["q_proj"]))
"""
    assert refs(one(body)) == ["facebook/opt-350m"]


def test_a_regular_method_does_not_set_the_attribute_for_the_tests() -> None:
    body = """
class TestX:
    def helper(self):
        self.model_id = "gpt2"

    def test_it(self):
        get_peft_model(AutoModelForCausalLM.from_pretrained(self.model_id), LoraConfig(r=8))
"""
    assert one(body).model is None


def test_attribute_from_a_base_class_in_method_resolution_order() -> None:
    body = """
class Left:
    model_id = "gpt2"

class Right:
    model_id = "t5-small"

class Mixed(Left, Right):
    def test_it(self):
        get_peft_model(AutoModelForCausalLM.from_pretrained(self.model_id), LoraConfig(r=8))
"""
    assert refs(one(body)) == ["gpt2"]


SUBCLASSES = """
class Base(unittest.TestCase):
    def setUp(self):
        self.model = AutoModelForCausalLM.from_pretrained(self.model_id)
        self.config = LoraConfig(target_modules=["q_proj"])

    def test_shared(self):
        get_peft_model(self.model, self.config)

class TestOpt(Base):
    model_id = "facebook/opt-350m"

class TestGpt2(Base):
    model_id = "gpt2"

class TestOptOnly(TestOpt):
    def test_own(self):
        get_peft_model(self.model, LoraConfig(r=2))
"""


def test_subclasses_overriding_the_model_give_every_candidate() -> None:
    shared, own = specs(SUBCLASSES)
    assert refs(shared) == ["facebook/opt-350m", "gpt2"]
    line = line_of("from_pretrained(self.model_id)", SUBCLASSES)
    assert shared.model.how == f"AutoModelForCausalLM.from_pretrained() at line {line} (model_id of TestOpt, TestOptOnly)"
    assert shared.other_models[0].how == f"AutoModelForCausalLM.from_pretrained() at line {line} (model_id of TestGpt2)"
    # a test defined in a subclass only runs with that subclass's model
    assert refs(own) == ["facebook/opt-350m"]


def test_one_subclass_without_a_readable_value_leaves_the_config_unchecked() -> None:
    body = SUBCLASSES.replace('model_id = "gpt2"', "model_id = os_environ_model()")
    shared = specs(body)[0]
    assert shared.model is None and shared.other_models == []
    assert shared.facts.model_unresolved == "computed by os_environ_model() at runtime"


# ------------------------------------------------------------------ values through helpers
def test_config_returned_by_a_helper_and_model_returned_by_another() -> None:
    body = """
def make_config():
    return LoraConfig(target_modules=["c_attn"])

def load():
    model = AutoModelForCausalLM.from_pretrained("gpt2")
    return model

def test_it():
    model = load()
    get_peft_model(model, make_config())
"""
    assert refs(one(body)) == ["gpt2"]


def test_model_and_config_passed_to_a_local_helper() -> None:
    body = """
def apply(model, config):
    return get_peft_model(model, config)

def test_it():
    apply(AutoModelForCausalLM.from_pretrained("gpt2"), LoraConfig(r=8))
"""
    assert refs(one(body)) == ["gpt2"]


def test_model_from_a_helper_method_and_a_deep_copy() -> None:
    body = """
class TestX:
    model_id = "facebook/opt-350m"

    def get_model(self):
        return AutoModelForCausalLM.from_pretrained(self.model_id)

    def test_it(self):
        base = self.get_model()
        get_peft_model(copy.deepcopy(base), LoraConfig(r=8))
"""
    assert refs(one(body)) == ["facebook/opt-350m"]


def test_config_passed_to_a_helper_method() -> None:
    body = """
class TestX:
    def run(self, config, model_id="gpt2"):
        model = AutoModelForCausalLM.from_pretrained(model_id)
        return get_peft_model(model, config)

    def test_it(self):
        self.run(LoraConfig(target_modules=["c_attn"]))
"""
    spec = one(body)
    assert refs(spec) == ["gpt2"] and spec.model.from_default


def test_cached_model_on_self_with_a_none_placeholder() -> None:
    body = """
class TestX:
    model_id = "facebook/opt-350m"
    base_model = None

    def get_base_model(self):
        if self.base_model is None:
            self.base_model = AutoModelForCausalLM.from_pretrained(self.model_id)
        return copy.deepcopy(self.base_model)

    def test_it(self):
        get_peft_model(self.get_base_model(), LoraConfig(r=8))
"""
    assert refs(one(body)) == ["facebook/opt-350m"]


def test_config_stored_on_self_in_the_same_method() -> None:
    body = """
def test_it():
    pass

class TestX:
    def test_it(self):
        self.config = LoraConfig(r=8)
        model = AutoModelForCausalLM.from_pretrained("gpt2")
        get_peft_model(model, self.config)
"""
    assert refs(one(body)) == ["gpt2"]


# --------------------------------------------------------------------------------- pytest
def test_parametrize_with_a_module_constant() -> None:
    body = """
MODELS = ["facebook/opt-350m", "gpt2"]

@pytest.mark.parametrize("model_id", MODELS)
def test_it(model_id):
    model = AutoModelForCausalLM.from_pretrained(model_id)
    get_peft_model(model, LoraConfig(target_modules=["q_proj"]))
"""
    spec = one(body)
    assert refs(spec) == ["facebook/opt-350m", "gpt2"]
    assert spec.model.how.endswith(f"(model_id from @pytest.mark.parametrize at line {line_of('parametrize', body)})")
    assert spec.model.span.line == line_of("MODELS = [", body)


def test_parametrize_tuples_pytest_param_and_stacking() -> None:
    body = """
@pytest.mark.parametrize("r", [4, 8])
@pytest.mark.parametrize(
    "name, use_dora",
    [("gpt2", False), pytest.param("facebook/opt-350m", True, id="opt"), ("gpt2", True)],
)
def test_it(name, use_dora, r):
    model = AutoModelForCausalLM.from_pretrained(name)
    get_peft_model(model, LoraConfig(r=r, use_dora=use_dora))
"""
    assert refs(one(body)) == ["gpt2", "facebook/opt-350m"]


def test_parametrize_on_the_class_and_argnames_as_a_list() -> None:
    body = """
@pytest.mark.parametrize(["model_id", "r"], [["t5-small", 4]])
class TestX:
    def test_it(self, model_id, r):
        get_peft_model(AutoModelForCausalLM.from_pretrained(model_id), LoraConfig(r=r))
"""
    assert refs(one(body)) == ["t5-small"]


def test_parametrize_values_computed_at_runtime() -> None:
    body = """
@pytest.mark.parametrize("model_id", load_models())
def test_it(model_id):
    get_peft_model(AutoModelForCausalLM.from_pretrained(model_id), LoraConfig(r=8))
"""
    spec = one(body)
    assert spec.model is None
    assert spec.facts.model_unresolved == (
        f"the values of model_id in @pytest.mark.parametrize at line {line_of('parametrize', body)} are computed at runtime"
    )


def test_fixture_params_read_through_request_param_and_a_model_fixture() -> None:
    body = """
@pytest.fixture(params=["gpt2", pytest.param("facebook/opt-350m", marks=pytest.mark.slow)])
def model_id(request):
    return request.param

@pytest.fixture
def model(model_id):
    yield AutoModelForCausalLM.from_pretrained(model_id)

def test_it(model):
    get_peft_model(model, LoraConfig(r=8))
"""
    spec = one(body)
    assert refs(spec) == ["gpt2", "facebook/opt-350m"]
    assert spec.model.how.endswith(f"(model_id from the params of fixture model_id() at line {line_of('params=', body)})")


def test_a_function_that_is_not_a_test_does_not_get_fixtures() -> None:
    body = """
@pytest.fixture
def model_id():
    return "gpt2"

def train(model_id):
    get_peft_model(AutoModelForCausalLM.from_pretrained(model_id), LoraConfig(r=8))
"""
    spec = one(body)
    assert spec.model is None
    assert spec.facts.model_unresolved == "argument 'model_id' of train() has no default"


# ------------------------------------------------------------------ nn.Module classes of the file
def test_local_module_classes_are_models() -> None:
    body = """
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin0 = nn.Linear(10, 20)

class DeeperMLP(MLP):
    pass

class Holder:
    pass

def test_mlp():
    model = MLP()
    get_peft_model(model, LoraConfig(target_modules=["lin0"]))

def test_deeper():
    get_peft_model(DeeperMLP(), LoraConfig(target_modules=["lin0"]))

def test_not_a_module():
    get_peft_model(Holder(), LoraConfig(target_modules=["lin0"]))
"""
    mlp, deeper, holder = specs(body)
    m = mlp.model
    assert (m.ref, m.library, m.how) == ("MLP", "local", f"MLP() at line {line_of('model = MLP()', body)}")
    assert m.span.line == line_of("model = MLP()", body) and m.model_class is None
    assert (deeper.model.ref, deeper.model.library) == ("DeeperMLP", "local")
    assert holder.model is None
    assert "Holder()" in holder.facts.model_unresolved


def test_config_set_up_once_and_applied_to_several_models() -> None:
    body = """
class TestX:
    def setup_method(self):
        self.peft_config = LoraConfig(target_modules=["q_proj"])

    def test_opt(self):
        get_peft_model(AutoModelForCausalLM.from_pretrained("facebook/opt-350m"), self.peft_config)

    def test_opt_again(self):
        get_peft_model(AutoModelForCausalLM.from_pretrained("facebook/opt-350m"), self.peft_config)

    @pytest.mark.parametrize("name", ["gpt2", "t5-small"])
    def test_others(self, name):
        get_peft_model(AutoModelForCausalLM.from_pretrained(name), self.peft_config)
"""
    assert refs(one(body)) == ["facebook/opt-350m", "gpt2", "t5-small"]


def test_a_config_in_a_parametrize_row_goes_with_the_model_of_its_row() -> None:
    body = """
@pytest.mark.parametrize("r", [4, 8])
@pytest.mark.parametrize(
    "model_id, config",
    [
        ("facebook/opt-350m", LoraConfig(target_modules=["q_proj"])),
        pytest.param("gpt2", LoraConfig(target_modules=["c_attn"]), id="gpt2"),
    ],
)
def test_it(model_id, config, r):
    model = AutoModelForCausalLM.from_pretrained(model_id)
    get_peft_model(model, config)
"""
    opt, gpt2 = specs(body)
    assert refs(opt) == ["facebook/opt-350m"] and refs(gpt2) == ["gpt2"]
    assert opt.model.how.endswith(f"(model_id from @pytest.mark.parametrize at line {line_of('model_id, config', body) - 1})")


@pytest.mark.parametrize("trainer, model_class", [
    ("RewardTrainer", "AutoModelForSequenceClassification"),
    ("PRMTrainer", "AutoModelForTokenClassification"),
    ("SFTTrainer", None),  # a causal LM: the config's own architecture
])
def test_a_trl_trainer_given_a_model_id_loads_it_with_its_auto_class(trainer: str, model_class: str | None) -> None:
    spec = one(f"""
        from trl import {trainer}
        trainer = {trainer}(model="gpt2", peft_config=LoraConfig(target_modules=["c_attn", "score"]))
        """)
    assert spec.model is not None and spec.model.ref == "gpt2"
    assert spec.model.model_class == model_class


def test_a_trainer_of_another_library_gets_no_auto_class() -> None:
    spec = one("""
        from mylib import RewardTrainer
        trainer = RewardTrainer(model="gpt2", peft_config=LoraConfig(target_modules=["c_attn"]))
        """)
    assert spec.model is not None and spec.model.model_class is None
