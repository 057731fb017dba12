"""What the reader records about a config's surroundings (sources/python/intent.py)."""

from __future__ import annotations

import textwrap

from peftlint.sources.python import extract_python


def facts(code: str):
    [spec] = extract_python(textwrap.dedent(code), "t.py", "/tmp/t.py", {"LoraConfig"}).specs
    return spec.facts


def test_pytest_raises_around_the_use_of_the_config():
    f = facts('''\
        import pytest
        from peft import LoraConfig, get_peft_model

        def test_x(model):
            config = LoraConfig(target_modules=["x"])
            with pytest.raises(ValueError, match="not found"):
                get_peft_model(model, config)
        ''')
    assert (f.expects, f.expects_line, f.expects_kind) == ('pytest.raises(ValueError, match="not found")', 6, "raises")


def test_pytest_warns_around_the_config_call_itself():
    f = facts('''\
        import pytest
        from peft import LoraConfig

        def test_x():
            with pytest.warns(UserWarning):
                LoraConfig(target_modules=["x"], loftq_config={})
        ''')
    assert f.expects_kind == "warns"


def test_an_unrelated_block_or_another_function_does_not_count():
    f = facts('''\
        import pytest
        from peft import LoraConfig, get_peft_model

        config = LoraConfig(target_modules=["x"])

        def helper():
            with pytest.raises(ValueError):
                int("x")
        ''')
    assert f.expects == ""


def test_registrations_and_resize():
    f = facts('''\
        import torch.nn as nn
        from peft import LoraConfig
        config = LoraConfig(target_modules=["lstm"])
        config._register_custom_module({nn.LSTM: LoraLSTM, MyConv: LoraConv})
        model.resize_token_embeddings(100)
        ''')
    assert f.custom_modules == ["LSTM", "MyConv"] and f.resizes_embeddings
    f = facts('''\
        from peft import LoraConfig
        config = LoraConfig(target_modules=["lstm"])
        config._register_custom_module(MAPPING)
        ''')
    assert f.custom_modules is None and not f.resizes_embeddings
