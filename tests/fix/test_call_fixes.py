"""Python fixes are libcst rewrites of the config call (issue 22): one snapshot per fixable rule with
comments and odd layout inside the call, peft accepting every fixed config, --diff showing what
--fix writes, and no libcst in a run that neither fixes nor shows fixes."""

from __future__ import annotations

import ast
import difflib
import subprocess
import sys
from pathlib import Path

import peft
import pytest
from support.lintutil import lint, run_cli

HEAD = "from peft import LoHaConfig, LoraConfig\n\n# peftlint: model={model}\n"
TAIL = "\n\nprint(config)  # after the call\n"

# rule -> (model, call as written, call after --fix --unsafe-fixes)
SNAPSHOTS = {
    "PFT202": ("HuggingFaceTB/SmolLM2-135M",
               'config = LoraConfig(\n    r=8,   # rank\n    target_modules=[  # every linear layer\n'
               '        "all-linear",\n    ],\n    layers_to_transform = [0, 1],  # first two\n)',
               'config = LoraConfig(\n    r=8,   # rank\n    target_modules=[  # every linear layer\n'
               + "".join(f'        "{n}",\n' for n in ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                                       "down_proj"))
               + '    ],\n    layers_to_transform = [0, 1],  # first two\n)'),
    "PFT204": ("HuggingFaceTB/SmolLM2-135M",
               "config = LoraConfig(target_modules=[\n    'q_proj',  # query\n    'v_proj' ,\n"
               "    # repeated below\n    'q_proj',  # oops\n], lora_dropout=0.1,)",
               "config = LoraConfig(target_modules=[\n    'q_proj',  # query\n    'v_proj' ,\n"
               "    # repeated below\n], lora_dropout=0.1,)"),
    "PFT101": ("HuggingFaceTB/SmolLM2-135M",
               'config = LoraConfig(\n    target_modules=["q", "v_proj"],  # from T5\n    r=16,\n)',
               'config = LoraConfig(\n    target_modules=["q_proj", "v_proj"],  # from T5\n    r=16,\n)'),
    "PFT103": ("HuggingFaceTB/SmolLM2-135M",
               'config = LoraConfig(target_modules=[\n        "q_proj",\n        "mlp",  # the MLP\n    ],\n    r=4)',
               'config = LoraConfig(target_modules=[\n        "q_proj",\n        "mlp.gate_proj",\n'
               '        "mlp.up_proj",\n        "mlp.down_proj",  # the MLP\n    ],\n    r=4)'),
    "PFT104": ("Qwen/Qwen2.5-7B-Instruct",
               'config = LoraConfig(\n    # targets\n    target_modules=["q_proj", "lm_head"],\n    r=8  # rank\n)',
               'config = LoraConfig(\n    # targets\n    target_modules=["q_proj"],\n    r=8,  # rank\n'
               '    modules_to_save=["lm_head"]\n)'),
    "PFT206": ("HuggingFaceTB/SmolLM2-135M",
               "config = LoHaConfig(target_modules=r'.*\\.(q_proj|v_proj)',  # regex\n"
               "                    layers_to_transform=[0])",
               "config = LoHaConfig(target_modules=['q_proj', 'v_proj'],  # regex\n"
               "                    layers_to_transform=[0])"),
    "PFT304": ("HuggingFaceTB/SmolLM2-135M",
               'config = LoraConfig(target_modules=["q_proj"], rank_pattern={\n    "q_proj": 4,  # small\n'
               '    "self_attn": 16,  # never matches\n})',
               'config = LoraConfig(target_modules=["q_proj"], rank_pattern={\n    "q_proj": 4,  # small\n})'),
}

CLASSIFIER = ('from transformers import AutoModelForSequenceClassification\nfrom peft import LoraConfig\n\n'
              'model = AutoModelForSequenceClassification.from_pretrained("roberta-base")\n'
              'config = LoraConfig(\n    r=8,  # rank\n    target_modules=["query", "value"],\n){task}\n')


def _script(model: str, call: str) -> str:
    return HEAD.format(model=model) + call + TAIL


def _call(text: str) -> tuple[str, dict]:
    """The config class and literal keyword arguments of the file's config call (read, never run)."""
    call = next(n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Call)
                and getattr(n.func, "id", "").endswith("Config"))
    return call.func.id, {k.arg: ast.literal_eval(k.value) for k in call.keywords}


def _kwargs(text: str) -> dict:
    return _call(text)[1]


@pytest.fixture(scope="module")
def fixed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, list[dict]]]:
    """Every snapshot fixed by one --fix --unsafe-fixes run: rule -> (fixed text, findings after)."""
    root = tmp_path_factory.mktemp("snap")
    files = {}
    for code, (model, call, _) in SNAPSHOTS.items():
        files[code] = root / f"{code.lower()}.py"
        files[code].write_text(_script(model, call), encoding="utf-8")
    (root / "cls.py").write_text(CLASSIFIER.format(task=""), encoding="utf-8")
    before = lint(root, ".")
    for code in SNAPSHOTS:
        assert any(d["code"] == code and d["fix"] for d in before if d["path"] == files[code].name), code
    run_cli(["check", "--fix", "--unsafe-fixes", "."], root)
    after = lint(root, ".")
    out = {code: (p.read_text(encoding="utf-8"), [d for d in after if d["path"] == p.name])
           for code, p in files.items()}
    out["PFT310"] = ((root / "cls.py").read_text(encoding="utf-8"), [d for d in after if d["path"] == "cls.py"])
    return out


@pytest.mark.parametrize("code", sorted(SNAPSHOTS))
def test_snapshot_keeps_everything_outside_the_edit(code: str, fixed) -> None:
    model, _, want = SNAPSHOTS[code]
    text, after = fixed[code]
    assert text == _script(model, want)
    assert not [d for d in after if d["code"] == code], after


def test_classifier_gets_its_task_type(fixed) -> None:
    text, after = fixed["PFT310"]
    assert text == CLASSIFIER.replace('    target_modules=["query", "value"],\n)',
                                      '    target_modules=["query", "value"],\n    task_type="SEQ_CLS",\n)'
                                      ).format(task="")
    assert not [d for d in after if d["code"] == "PFT310"]


@pytest.mark.parametrize("code", sorted([*SNAPSHOTS, "PFT310"]))
def test_peft_accepts_every_fixed_config(code: str, fixed) -> None:
    import warnings

    text, after = fixed[code]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # a peft warning would fail too
        cls, kwargs = _call(text)
        getattr(peft, cls)(**kwargs)
    assert not [d for d in after if d["code"] == "PFT211"]


def test_all_linear_with_layer_filter_is_an_explicit_list(fixed) -> None:
    """peft rejects target_modules="all-linear" with layers_to_transform: the safe fix lists the layers."""
    with pytest.raises(ValueError, match="layers_to_transform"):
        peft.LoraConfig(target_modules="all-linear", layers_to_transform=[0, 1])
    args = _kwargs(fixed["PFT202"][0])
    assert args["target_modules"] == ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def test_safe_fix_of_all_linear_with_layer_filter(tmp_path: Path) -> None:
    """The PFT202 fix is offered as safe there (peft accepts the list; the rule is clean after it)."""
    p = tmp_path / "train.py"
    p.write_text(_script("HuggingFaceTB/SmolLM2-135M",
                         "config = LoraConfig(target_modules=['all-linear'], layers_to_transform=[0, 1])"), encoding="utf-8")
    found = [d for d in lint(tmp_path, ".") if d["code"] == "PFT202"]
    assert found[0]["fix"]["applicability"] == "safe"
    assert "'all-linear'" not in found[0]["fix"]["edits"][0]["content"]
    run_cli(["check", "--fix", "."], tmp_path)
    assert "target_modules=['q_proj', 'k_proj'," in p.read_text(encoding="utf-8")


GPT2 = 'from peft import LoraConfig\n\n# peftlint: model=gpt2\nconfig = LoraConfig(target_modules=["q_proj","v_proj","c_attn","c_attn"])\n'


def test_diff_is_what_fix_writes(tmp_path: Path) -> None:
    """The issue's case: several passes; --diff used to show only the first."""
    p = tmp_path / "train.py"
    p.write_text(GPT2, encoding="utf-8")
    code, diff = run_cli(["check", "--diff", "--unsafe-fixes", "."], tmp_path)
    assert p.read_text(encoding="utf-8") == GPT2
    run_cli(["check", "--fix", "--unsafe-fixes", "."], tmp_path)
    written = p.read_text(encoding="utf-8")
    assert written != GPT2
    expected = "".join(difflib.unified_diff(GPT2.splitlines(keepends=True), written.splitlines(keepends=True),
                                            fromfile="a/train.py", tofile="b/train.py"))
    assert diff == expected
    assert 'target_modules=["c_attn"]' in written


def _imports_libcst(tmp: Path, *args: str) -> bool:
    code = ("import sys\nfrom peftlint.cli import main\n"
            "try:\n    main([*sys.argv[1:]], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
            "print('LIBCST' if 'libcst' in sys.modules else 'NO-LIBCST')\n")
    res = subprocess.run([sys.executable, "-c", code, *args], cwd=tmp, capture_output=True, text=True, timeout=300)
    return res.stdout.strip().splitlines()[-1] == "LIBCST"


def test_libcst_only_with_fix_or_diff(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(GPT2, encoding="utf-8")
    assert "fixable" in run_cli(["check", "."], tmp_path)[1]  # the findings carry fixes
    assert not _imports_libcst(tmp_path, "check", ".")
    assert _imports_libcst(tmp_path, "check", "--diff", ".")


# -- the checks a fix passes before it is offered ------------------------------------------------

def _lint_with(tmp: Path, rule, text: str):
    from peftlint.config import Settings
    from peftlint.engine.run import Linter

    (tmp / "train.py").write_text(text, encoding="utf-8")
    linter = Linter(Settings(), tmp)
    linter._rules["python"] = [rule]
    return [d for d in linter.lint_paths([tmp]).diagnostics if d.code == rule.code]


def _rule_offering(applicability, ops, fires=lambda ctx: True):
    from peftlint.diagnostics import Severity
    from peftlint.rules.base import Rule
    from peftlint.rules.callfix import call_fix

    class Offers(Rule):
        code, name, severity, summary, needs_model = "PFT000", "offers", Severity.WARNING, "test rule", False

        def check(self, ctx):
            if fires(ctx):
                yield self.diagnostic(ctx, ctx.spec.span, "a finding", subject="x",
                                      fix=call_fix(ctx, applicability, "the fix", ops))

    return Offers()


def test_a_fix_peft_rejects_is_not_offered(tmp_path: Path) -> None:
    from peftlint.diagnostics import Applicability
    from peftlint.fix.ops import Op, OpKind

    set_str = [Op(OpKind.SET_ARG, "target_modules", value="all-linear")]
    for applicability in (Applicability.SAFE, Applicability.UNSAFE):
        [d] = _lint_with(tmp_path, _rule_offering(applicability, set_str),
                         "from peft import LoraConfig\nc = LoraConfig(target_modules=['q_proj'], layers_to_transform=[0])\n")
        assert d.fix is None  # peft: "layers_to_transform cannot be used when target_modules is a str"
    [d] = _lint_with(tmp_path, _rule_offering(Applicability.SAFE, set_str),
                     "from peft import LoraConfig\nc = LoraConfig(target_modules=['q_proj'])\n")
    assert d.fix is not None and d.fix.applicability == Applicability.UNSAFE  # the rule still fires after it


def test_a_safe_fix_that_fixes_its_finding_stays_safe(tmp_path: Path) -> None:
    from peftlint.diagnostics import Applicability
    from peftlint.fix.ops import Op, OpKind

    rule = _rule_offering(Applicability.SAFE, [Op(OpKind.SET_ARG, "r", value=8)],
                          fires=lambda ctx: ctx.spec.static("r") == 0)
    [d] = _lint_with(tmp_path, rule, "from peft import LoraConfig\nc = LoraConfig(r=0)\n")
    assert d.fix.applicability == Applicability.SAFE
    assert d.fix.edits[0].content == "8"  # the edit shown is narrowed to what changes


def test_a_call_fix_survives_the_results_cache_without_libcst() -> None:
    from peftlint.diagnostics import Applicability, CallChange, Diagnostic, Fix, Severity, Span
    from peftlint.fix.ops import Op, OpKind

    change = CallChange(Span(2, 5, 2, 40), "LoraConfig(target_modules=['a', 'a'])",
                        (Op(OpKind.REPLACE_ITEM, "target_modules", index=1),))
    d = Diagnostic("PFT204", "duplicate-entry", Severity.WARNING, "m", "t.py", Span(2, 34, 2, 37),
                   fix=Fix(Applicability.SAFE, (), "remove", change, "t.py"))
    back = Diagnostic.from_json(d.to_json(cache=True))
    assert back.fix.change == change and back.fix.applicability == Applicability.SAFE
    [e] = back.fix.edits
    assert (e.span, e.content) == (Span(2, 35, 2, 40), "")  # `, 'a'` goes
    assert d.to_json()["fix"]["edits"] == [e.to_json()]
