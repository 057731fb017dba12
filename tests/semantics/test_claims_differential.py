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

import os
import warnings

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.claims import configs, judge, models, peft_run
from support.custom_models import lint_local, real_model

EXAMPLES = int(os.environ.get("PEFTLINT_CLAIMS_EXAMPLES", "150"))

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
