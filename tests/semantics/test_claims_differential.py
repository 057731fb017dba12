"""peft judges every claim peftlint makes, on custom models and configs nobody wrote by hand.

hypothesis draws an ``nn.Module`` class (support/claims.py: Linear, Conv, Embedding, LSTM,
MultiheadAttention, nested containers, parameters on the model itself, tied embedding and head)
and a config for it (several methods, targets with typos, regexes, suffixes, embedding names,
exclusions, modules_to_save, layer filters, patterns, target_parameters). peftlint reads the class
statically and lints the config; real peft builds the class on the meta device and applies the
config. Each finding's claim (raises with that text, warns, ignores silently, saves the embedding
whole) must be what peft did, and every raise peft makes must have an error finding.

The run is deterministic (derandomized, no example database). ``PEFTLINT_CLAIMS_EXAMPLES`` sets
the number of examples (benchmarks/claims_differential.py runs it long).
"""

from __future__ import annotations

import copy
import functools
import os
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.claims import configs, drawn_from, judge, models, peft_run, shrunk
from support.custom_models import lint_local, real_model

from peftlint.engine.run import SpecOutcome
from peftlint.sources.python import extract_python

EXAMPLES = int(os.environ.get("PEFTLINT_CLAIMS_EXAMPLES", "100"))

_linter = []


def _shared_linter(tmp):
    from peftlint.config import Settings
    from peftlint.engine.run import Linter

    if not _linter:
        _linter.append(Linter(Settings(), cwd=tmp))
    return _linter[0]


@st.composite
def cases(draw):
    m = draw(models())
    return m, draw(configs(m))


@settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(case=cases())
def test_every_claim_is_what_peft_does(tmp_path_factory, case):
    m, (config_class, kwargs) = case
    source = m.source.replace("import torch.nn as nn\n", f"import torch.nn as nn\nfrom peft import {config_class}, get_peft_model\n", 1)
    tmp = tmp_path_factory.mktemp("claims", numbered=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = peft_run(real_model(m.source, "Net()"), config_class, kwargs)
    src = f"{config_class}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"
    diags, outcome = lint_local(tmp, source, "Net", src, linter=_shared_linter(tmp))
    assert outcome.inventory is not None and not outcome.inventory.unknown, outcome.skipped
    wrong = judge(diags, run)
    assert not wrong, f"{src}\n{m.source}\n" + "\n".join(wrong)


# -- bundled configs shrunk to 2 layers, read from a Hugging Face cache as peftlint reads any model ----

BUNDLED = ["HuggingFaceTB/SmolLM2-135M", "gpt2", "Qwen/Qwen1.5-MoE-A2.7B", "mistralai/Mixtral-8x7B-v0.1"]
BUNDLED_EXAMPLES = max(8, EXAMPLES // 8)


@functools.lru_cache(maxsize=None)
def tiny(hub_id: str):
    """(repo id in the test HF cache, meta model built from the same shrunk config)."""
    import json

    import torch
    import transformers
    from support.helpers_hf import add_to_hf_cache
    from support.oracle import MODELS

    index = json.loads((MODELS.parent / "bundled_index.json").read_text())
    config = shrunk(json.loads((MODELS / index[hub_id]["file"]).read_text()))
    repo = "claims-test/tiny-" + hub_id.replace("/", "-")
    add_to_hf_cache(Path(os.environ["HF_HUB_CACHE"]), repo, {"config.json": json.dumps(config)},
                    commit="0" * 40)
    cfg = transformers.AutoConfig.for_model(config["model_type"], **{k: v for k, v in config.items() if k != "model_type"})
    with torch.device("meta"):
        model = getattr(transformers, config["architectures"][0])._from_config(cfg)
    return repo, model


@settings(max_examples=BUNDLED_EXAMPLES, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
@pytest.mark.parametrize("hub_id", BUNDLED)
def test_every_claim_is_what_peft_does_on_bundled_models(tmp_path_factory, hub_id, data):
    repo, model = tiny(hub_id)
    config_class, kwargs = data.draw(configs(drawn_from(model)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = peft_run(copy.deepcopy(model), config_class, kwargs)
    tmp = tmp_path_factory.mktemp("bundled", numbered=True)
    src = f"{config_class}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"
    text = (f"from peft import {config_class}\nfrom transformers import AutoModelForCausalLM\n"
            f"model = AutoModelForCausalLM.from_pretrained({repo!r})\nconfig = {src}\n")
    (tmp / "train.py").write_text(text, encoding="utf-8")
    linter = _shared_linter(tmp)
    spec = extract_python(text, "train.py", str(tmp / "train.py"), linter.config_classes()).specs[-1]
    found = linter.lint_spec(spec, text, SpecOutcome(spec))
    assert not [f for f in found if f.code == "PFT901"], [f.message for f in found]
    wrong = judge(found, run)
    assert not wrong, f"{hub_id}: {src}\n" + "\n".join(wrong)
