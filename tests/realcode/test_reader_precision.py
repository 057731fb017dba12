"""Issue 21, causes 2, 3 and 6: repros of code seen in real repositories, each judged by real peft.

Every repro is a small program with test functions. peftlint lints it through the CLI; the same
source is then executed (small CPU modules, never from the linted tree) and each of its functions is
run with real peft: a function where peft raises must carry the finding, a function where peft
succeeds must carry none.
"""

from __future__ import annotations

import sys
import textwrap
import types
from pathlib import Path

import pytest

from tests.support.lintutil import lint

HEADER = """\
import torch.nn as nn
from peft import LoraConfig, get_peft_model


class A(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin0 = nn.Linear(10, 10)
        self.lin1 = nn.Linear(10, 2)


class B(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3)

"""


def _run_with_peft(source: str, call: str) -> str:
    """'ok' or the exception peft raised when ``call`` runs in a module holding ``source``."""
    module = types.ModuleType("repro")
    exec(compile(source, "repro.py", "exec"), module.__dict__)  # the repro itself, written here
    try:
        eval(call, module.__dict__)
    except (ValueError, TypeError, KeyError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return "ok"


def _errors(tmp_path: Path, source: str) -> list[dict]:
    (tmp_path / "repro.py").write_text(source, encoding="utf-8")
    return [d for d in lint(tmp_path, "--show-notes", "repro.py") if d["severity"] in ("error", "warning")]


def _line(source: str, text: str) -> int:
    return next(i for i, line in enumerate(source.splitlines(), 1) if text in line)


# -- cause 2: a config meets only the models on its own path ------------------------------------
BRANCHES = {
    "if_else": """
        def build(kind):
            if kind == "a":
                model = A()
                config = LoraConfig(target_modules=["lin0", "lin1"])
            else:
                model = B()
                config = LoraConfig(target_modules=["conv"])
            return get_peft_model(model, config)
        """,
    "if_elif": """
        def build(kind):
            if kind == "a":
                model = A()
                config = LoraConfig(target_modules=["lin0", "lin1"])
            elif kind == "b":
                model = B()
                config = LoraConfig(target_modules=["conv"])
            else:
                raise ValueError(kind)
            return get_peft_model(model, config)
        """,
    "match": """
        def build(kind):
            match kind:
                case "a":
                    model = A()
                    config = LoraConfig(target_modules=["lin0"])
                case _:
                    model = B()
                    config = LoraConfig(target_modules=["conv"])
            return get_peft_model(model, config)
        """,
    "try_except": """
        def build(kind):
            try:
                if kind != "a":
                    raise ValueError(kind)
                model = A()
                config = LoraConfig(target_modules=["lin0"])
            except ValueError:
                model = B()
                config = LoraConfig(target_modules=["conv"])
            return get_peft_model(model, config)
        """,
    "same_test_twice": """
        def build(kind):
            if kind == "a":
                model = A()
            else:
                model = B()
            if kind == "a":
                config = LoraConfig(target_modules=["lin0"])
            else:
                config = LoraConfig(target_modules=["conv"])
            return get_peft_model(model, config)
        """,
    "overwritten_before_config": """
        def build(kind):
            model = B()
            config = LoraConfig(target_modules=["conv"])
            if kind == "a":
                model = A()
                config = LoraConfig(target_modules=["lin0"])
            return get_peft_model(model, config)
        """,
    "loop_over_kinds": """
        def build(kind):
            for _ in range(2):
                if kind == "a":
                    model = A()
                    config = LoraConfig(target_modules=["lin1"])
                else:
                    model = B()
                    config = LoraConfig(target_modules=["conv"])
                get_peft_model(model, config)
        """,
    "helper_called_with_each_model": """
        def apply(model, config):
            return get_peft_model(model, config)

        def build(kind):
            if kind == "a":
                return apply(A(), LoraConfig(target_modules=["lin0"]))
            return apply(B(), LoraConfig(target_modules=["conv"]))
        """,
    "model_name_by_branch": """
        from transformers import AutoModelForCausalLM

        def build(kind):
            if kind == "a":
                name = "gpt2"
                config = LoraConfig(target_modules=["c_attn"])
            else:
                name = "facebook/opt-125m"
                config = LoraConfig(target_modules=["q_proj"])
            model = AutoModelForCausalLM.from_pretrained(name)
            return get_peft_model(model, config)
        """,
}


@pytest.mark.parametrize("case", sorted(BRANCHES))
def test_a_config_is_checked_against_the_model_of_its_own_branch(tmp_path: Path, case: str) -> None:
    source = HEADER + textwrap.dedent(BRANCHES[case])
    assert _errors(tmp_path, source) == []
    if "from_pretrained" not in source:  # the hub models are not on the machine; the modules are
        assert _run_with_peft(source, 'build("a")') == "ok"
        assert _run_with_peft(source, 'build("b")') == "ok"


def test_a_wrong_target_in_one_branch_is_still_reported_against_that_branch_model(tmp_path: Path) -> None:
    source = HEADER + textwrap.dedent(BRANCHES["if_else"]).replace('["lin0", "lin1"]', '["lin0", "lin9"]')
    found = _errors(tmp_path, source)
    assert [(d["code"], d["line"], d["model"]) for d in found] == [("PFT101", _line(source, "lin9"), "A")]
    assert _run_with_peft(source, 'build("b")') == "ok"
    # peft ignores an unmatched entry beside one that matches; the finding says so
    assert "ignores it silently" in found[0]["message"]


def test_a_helper_called_with_two_models_checks_its_config_against_each(tmp_path: Path) -> None:
    source = HEADER + textwrap.dedent("""
        def apply(model):
            config = LoraConfig(target_modules=["lin0"])
            return get_peft_model(model, config)

        def build(kind):
            if kind == "a":
                return apply(A())
            return apply(B())
        """)
    found = _errors(tmp_path, source)
    assert [(d["code"], d["model"]) for d in found] == [("PFT101", "B")]
    assert _run_with_peft(source, 'build("a")') == "ok"
    assert "not found in the base model" in _run_with_peft(source, 'build("b")')


def test_a_config_shared_by_both_branches_is_checked_against_each_model(tmp_path: Path) -> None:
    source = HEADER + textwrap.dedent("""
        def build(kind):
            config = LoraConfig(target_modules=["lin0"])
            if kind == "a":
                model = A()
            else:
                model = B()
            return get_peft_model(model, config)
        """)
    found = _errors(tmp_path, source)
    assert [(d["code"], d["model"]) for d in found] == [("PFT101", "B")]
    assert _run_with_peft(source, 'build("a")') == "ok"
    assert "not found in the base model" in _run_with_peft(source, 'build("b")')


# -- cause 3: a splat of unknown content makes the fields unknown, never absent --------------------
SPLATS = {
    "kwargs_helper": """
        def make_config(**kw):
            return LoraConfig(**kw)

        def build():
            return get_peft_model(A(), make_config(target_modules=["lin0"]))
        """,
    "dict_update": """
        def build():
            kwargs = {"r": 8}
            kwargs.update({"target_modules": ["lin0"]})
            return get_peft_model(A(), LoraConfig(**kwargs))
        """,
    "dict_item_assignment": """
        def build():
            kwargs = {"r": 8}
            kwargs["target_modules"] = ["lin0"]
            return get_peft_model(A(), LoraConfig(**kwargs))
        """,
    "dict_update_keywords": """
        def build():
            kwargs = dict(r=8)
            kwargs.update(target_modules=["lin0"])
            return get_peft_model(A(), LoraConfig(**kwargs))
        """,
    "nested_splat": """
        EXTRA = {}

        def build(extra=None):
            extra = extra or {"target_modules": ["lin1"]}
            return get_peft_model(A(), LoraConfig(**{"r": 8, **extra}))
        """,
    "splat_of_a_parameter_item": """
        def build(*args):
            args = args or ({"target_modules": ["lin0"]},)
            return get_peft_model(A(), LoraConfig(**args[0]))
        """,
}


@pytest.mark.parametrize("case", sorted(SPLATS))
def test_fields_a_splat_may_set_are_not_taken_as_omitted(tmp_path: Path, case: str) -> None:
    source = HEADER + textwrap.dedent(SPLATS[case])
    assert _errors(tmp_path, source) == []
    assert _run_with_peft(source, "build()") == "ok"
    notes = [d for d in lint(tmp_path, "--show-notes", "repro.py") if d["code"] == "PFT904"]
    assert any("is not read statically: the fields the call does not name may be set there" in d["message"]
               for d in notes), notes


CHANGED_LATER = {
    "attribute": """
        def build():
            config = LoraConfig(r=8)
            config.target_modules = ["lin0"]
            return get_peft_model(A(), config)
        """,
    "setattr_of_a_name": """
        def build(name="target_modules"):
            config = LoraConfig(r=8, target_modules=["lin9"])
            setattr(config, name, ["lin0"])
            return get_peft_model(A(), config)
        """,
    "setattr_loop": """
        def build(**kw):
            kw = kw or {"target_modules": ["lin0"]}
            config = LoraConfig(r=8)
            for key, value in kw.items():
                setattr(config, key, value)
            return get_peft_model(A(), config)
        """,
}


@pytest.mark.parametrize("case", sorted(CHANGED_LATER))
def test_fields_changed_after_the_config_is_built_are_unknown(tmp_path: Path, case: str) -> None:
    source = HEADER + textwrap.dedent(CHANGED_LATER[case])
    assert _errors(tmp_path, source) == []
    assert _run_with_peft(source, "build()") == "ok"
    notes = [d["message"] for d in lint(tmp_path, "--show-notes", "repro.py") if d["code"] == "PFT904"]
    assert any("after the config is built" in m or "setattr(config" in m for m in notes), notes


def test_a_partly_computed_dict_splat_still_checks_its_static_keys(tmp_path: Path) -> None:
    source = HEADER + textwrap.dedent("""
        def build(rank=8):
            kwargs = {"r": rank, "target_modules": ["lin9"]}
            return get_peft_model(A(), LoraConfig(**kwargs))
        """)
    found = _errors(tmp_path, source)
    assert [(d["code"], d["line"]) for d in found] == [("PFT101", _line(source, '"lin9"'))]
    assert "not found in the base model" in _run_with_peft(source, "build()")


def test_omitted_target_modules_without_a_splat_is_still_reported(tmp_path: Path) -> None:
    source = HEADER + textwrap.dedent("""
        def build():
            return get_peft_model(A(), LoraConfig(r=8))
        """)
    assert [d["code"] for d in _errors(tmp_path, source)] == ["PFT106"]
    assert "Please specify `target_modules`" in _run_with_peft(source, "build()")


# -- cause 6: syntax of a newer Python is linted, with a note ----------------------------------------
NEWER = {
    "pep701_fstring": ('d = {"q": "x"}\nlabel = f"{d["q"]}"\n', "3.12"),
    "pep701_backslash": ('names = ["a"]\nlabel = f"{"\\n".join(names)}"\n', "3.12"),
    "pep695_generics": ("def first[T](xs: list[T]) -> T:\n    return xs[0]\n\n\ntype Names = list[str]\n", "3.12"),
    "pep750_tstring": ('who = "x"\nlabel = t"hello {who}"\n', "3.14"),
    "pep758_except": ("try:\n    pass\nexcept ValueError, TypeError:\n    pass\n", "3.14"),
}


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="this Python reads every construct itself")
@pytest.mark.parametrize("case", sorted(NEWER))
def test_a_file_with_newer_syntax_is_linted_with_a_note(tmp_path: Path, case: str) -> None:
    snippet, version = NEWER[case]
    source = HEADER + snippet + textwrap.dedent("""

        def build():
            return get_peft_model(A(), LoraConfig(target_modules=["lin9"]))
        """)
    try:
        compile(source, "repro.py", "exec")
        pytest.skip("this Python reads the construct itself")
    except SyntaxError:
        pass
    (tmp_path / "repro.py").write_text(source, encoding="utf-8")
    found = lint(tmp_path, "--show-notes", "repro.py")
    codes = [(d["code"], d["severity"]) for d in found]
    assert ("PFT902", "error") not in codes
    note = next(d for d in found if d["code"] == "PFT908")
    assert note["severity"] == "info"
    assert f"needs Python {version}+" in note["message"]
    assert note["line"] == len(HEADER.splitlines()) + snippet.splitlines().index(
        next(s for s in snippet.splitlines() if any(k in s for k in ('f"', "t\"", "[T]", "except")))) + 1
    # the config in the file is still found and checked against the model of the file
    (err,) = [d for d in found if d["severity"] == "error"]
    assert (err["code"], err["line"], err["model"]) == ("PFT101", _line(source, '"lin9"'), "A")


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="this Python reads PEP 701 f-strings itself")
def test_a_newer_fstring_in_a_config_is_an_unknown_value(tmp_path: Path) -> None:
    source = HEADER + textwrap.dedent("""
        d = {"q": "lin0"}

        def build():
            return get_peft_model(A(), LoraConfig(target_modules=["lin9", f"{d["q"]}"]))
        """)
    (tmp_path / "repro.py").write_text(source, encoding="utf-8")
    found = lint(tmp_path, "--show-notes", "repro.py")
    line = _line(source, '"lin9"')
    dynamic = next(d for d in found if d["code"] == "PFT904" and d["line"] == line)
    assert "an f-string of Python 3.12+ syntax" in dynamic["message"]
    assert dynamic["column"] == source.splitlines()[line - 1].index('f"{d') + 1
    # the other entry may match: peft then ignores `lin9` silently, and the finding says that
    (err,) = [d for d in found if d["severity"] == "error"]
    assert err["code"] == "PFT101" and "ignores it silently" in err["message"]


def test_a_real_syntax_error_is_still_an_error(tmp_path: Path) -> None:
    source = HEADER + 'label = f"{d["q"]}"\nconfig = LoraConfig(target_modules=["lin0"]\n'
    (tmp_path / "repro.py").write_text(source, encoding="utf-8")
    found = lint(tmp_path, "repro.py")
    assert [d["code"] for d in found] == ["PFT902"]


def test_newer_syntax_beside_nesting_too_deep_for_libcst_is_a_syntax_error_not_a_crash(tmp_path: Path) -> None:
    # libcst's native parser overflows its stack on this nesting: it runs in a child process here
    source = HEADER + 'd = {"q": 1}\nlabel = f"{d["q"]}"\nx = ' + "(" * 3000 + "\n"
    (tmp_path / "repro.py").write_text(source, encoding="utf-8")
    assert [d["code"] for d in lint(tmp_path, "repro.py")] == ["PFT902"]


def test_a_splat_of_either_dict_reads_the_keys_of_both(tmp_path: Path) -> None:
    differ = HEADER + textwrap.dedent("""
        def build(flag=True):
            return get_peft_model(A(), LoraConfig(**({"target_modules": ["lin0"]} if flag else {"target_modules": ["lin1"]})))
        """)
    assert _errors(tmp_path, differ) == []
    assert _run_with_peft(differ, "build(True)") == _run_with_peft(differ, "build(False)") == "ok"
    same = HEADER + textwrap.dedent("""
        def build(flag=True):
            return get_peft_model(A(), LoraConfig(**({"target_modules": ["lin9"], "r": 4} if flag else {"target_modules": ["lin9"]})))
        """)
    assert [d["code"] for d in _errors(tmp_path, same)] == ["PFT101"]
    assert "not found in the base model" in _run_with_peft(same, "build(True)")
    assert "not found in the base model" in _run_with_peft(same, "build(False)")


def test_a_peft_warning_the_code_answers_after_the_call_is_not_repeated(tmp_path: Path) -> None:
    import warnings

    from peft import ShiraConfig

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ShiraConfig(mask_type="custom", target_modules=["lin0"])
    assert any("config.mask_fn" in str(w.message) for w in caught)  # peft asks for config.mask_fn = ...
    body = """
        from peft import ShiraConfig

        def build(mask):
            config = ShiraConfig(mask_type="custom", target_modules=["lin0"])
            {line}
            return get_peft_model(A(), config)
        """
    # (ShiRA's default r=32 does not fit A's 10x10 layers either: peft raises at injection, PFT103 says
    # so; that finding is the same whether or not the code answers the warning)
    answered = HEADER + textwrap.dedent(body.replace("{line}", "config.mask_fn = mask"))
    assert [d["code"] for d in _errors(tmp_path, answered) if d["code"] != "PFT103"] == []
    unanswered = HEADER + textwrap.dedent(body.replace("{line}", "pass"))
    assert [d["code"] for d in _errors(tmp_path, unanswered) if d["code"] != "PFT103"] == ["PFT211"]


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="this Python reads PEP 701 f-strings itself")
def test_a_notebook_cell_with_a_newer_fstring_is_linted_with_a_note(tmp_path: Path) -> None:
    import json

    cells = [HEADER, 'd = {"q": 1}\nprint(f"{d["q"]}")\n', 'get_peft_model(A(), LoraConfig(target_modules=["lin9"]))\n']
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": c}
                    for c in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "repro.ipynb").write_text(json.dumps(nb, indent=1), encoding="utf-8")
    found = lint(tmp_path, "--show-notes", "repro.ipynb")
    assert "PFT906" not in [d["code"] for d in found]
    note = next(d for d in found if d["code"] == "PFT908")
    assert note["message"].startswith("this cell needs Python 3.12+") and "(cell 2, line 2)" in note["message"]
    (err,) = [d for d in found if d["severity"] == "error"]
    assert (err["code"], err["model"]) == ("PFT101", "A")
