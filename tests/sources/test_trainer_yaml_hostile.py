"""Hostile and oversized trainer YAML: alias bombs, deep nesting, invalid explicit tags, megabytes
of keys peftlint never reads, and generated YAML and shell texts (hypothesis). Each gives at most one
clear finding, never PFT999, and the rest of the file is still checked. Speed is measured in
``benchmarks/trainer_inputs.py``; here memory is bounded where an expansion would blow it up."""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.lintutil import lint

from peftlint.sources.trainer_keys import WANTED
from peftlint.sources.trainer_shell import extract_trainer_shell
from peftlint.sources.trainer_yaml import extract_trainer_yaml
from peftlint.sources.yamlread import MAX_DEPTH, SAFE_LOAD_LIMIT, read_yaml

MODEL = "HuggingFaceTB/SmolLM2-135M"
HEAD = f"base_model: {MODEL}\nadapter: lora\n"


def bomb(levels: int = 9) -> str:
    """The "billion laughs": each level is nine aliases of the one before (9**9 leaves)."""
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    names = "abcdefghijklmnop"[:levels]
    for prev, cur in zip(names, names[1:]):
        text += f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]\n"
    return text


def _peak_mb(fn) -> tuple[object, float]:
    tracemalloc.start()
    try:
        out = fn()
        return out, tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def test_alias_bomb_in_a_key_never_read_costs_nothing(tmp_path: Path):
    text = HEAD + bomb() + "lora_target_modules: [q_proj, vproj]\n"
    assert len(bomb().encode()) < 600
    res, peak = _peak_mb(lambda: extract_trainer_yaml(text, "ax.yaml", "/tmp/ax.yaml"))
    assert res.problems == [] and res.specs[0].static("target_modules") == ["q_proj", "vproj"]
    assert peak < 20
    (tmp_path / "ax.yaml").write_text(text)
    [f] = lint(tmp_path, ".")
    assert f["code"] == "PFT101" and f["subject"] == "vproj"


def test_alias_bomb_in_a_read_key_is_one_finding(tmp_path: Path):
    text = HEAD + bomb() + "lora_target_modules: *i\nlora_modules_to_save: [embed_tokenz]\n"
    res, peak = _peak_mb(lambda: extract_trainer_yaml(text, "ax.yaml", "/tmp/ax.yaml"))
    [p] = res.problems
    assert p.code == "PFT902" and "expands to more than 10000 nodes" in p.message and p.subject == "lora_target_modules"
    assert peak < 100
    (tmp_path / "ax.yaml").write_text(text)
    got = sorted((f["code"], f["line"]) for f in lint(tmp_path, "."))
    # the bomb once, at its key; the rest of the file is still checked; the value is unknown, never empty
    assert ("PFT902", 12) in got and ("PFT306", 13) in got and ("PFT904", 12) in got
    assert not any(code == "PFT205" for code, _ in got)
    assert not any(code == "PFT999" for code, _ in got)


def test_aliases_that_stay_small_are_followed():
    text = HEAD + "targets: &t [q_proj, v_proj]\nlora_target_modules: *t\n"
    [spec] = extract_trainer_yaml(text, "ax.yaml", "/tmp/ax.yaml").specs
    v = spec.get("target_modules")
    assert v.value == ["q_proj", "v_proj"] and (v.items[1].span.line, v.items[1].span.column) == (3, 22)


def test_merge_keys_fill_keys_the_document_does_not_set():
    text = f"defaults: &d\n  base_model: {MODEL}\n  adapter: lora\n  lora_r: 4\n<<: *d\nlora_r: 8\n" \
           "lora_target_modules: [q_proj]\n"
    [spec] = extract_trainer_yaml(text, "ax.yaml", "/tmp/ax.yaml").specs
    assert spec.model.ref == MODEL and spec.static("r") == 8


def test_nesting_safe_load_cannot_read_is_one_finding(tmp_path: Path):
    deep = "[" * 600 + "]" * 600
    block = "".join("  " * i + f"k{i}:\n" for i in range(600)) + "  " * 600 + "v: 1\n"
    for text in (HEAD + f"x: {deep}\nlora_target_modules: [vproj]\n",
                 HEAD + f"lora_target_modules: {deep}\nlora_modules_to_save: [vproj]\n",
                 HEAD + "lora_target_modules: [vproj]\nnested:\n" + "".join("  " + ln + "\n" for ln in block.splitlines())):
        res = extract_trainer_yaml(text, "ax.yaml", "/tmp/ax.yaml")
        [p] = res.problems
        assert p.code == "PFT902" and f"more than {SAFE_LOAD_LIMIT} levels" in p.message
        assert len(res.specs) == 1
    # PyYAML's own loader (what the trainers call) fails on it under Python's default recursion limit
    # (other libraries loaded in the same test process may raise the limit)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        yaml.safe_load(HEAD + f"x: {deep}\n")
        raise AssertionError("yaml.safe_load read 600 levels")
    except RecursionError:
        pass
    finally:
        sys.setrecursionlimit(limit)
    (tmp_path / "ax.yaml").write_text(HEAD + f"x: {deep}\nlora_target_modules: [vproj]\n")
    assert sorted(f["code"] for f in lint(tmp_path, ".")) == ["PFT101", "PFT902"]


def test_nesting_peftlint_does_not_read_is_a_note(tmp_path: Path):
    deep = "[" * (MAX_DEPTH + 50) + "]" * (MAX_DEPTH + 50)
    yaml.safe_load(HEAD + f"x: {deep}\n")  # the trainer reads it
    res = extract_trainer_yaml(HEAD + f"x: {deep}\nlora_target_modules: [vproj]\n", "ax.yaml", "/tmp/ax.yaml")
    assert res.problems == [] and res.specs[0].static("target_modules") == ["vproj"]
    (tmp_path / "ax.yaml").write_text(HEAD + f"lora_target_modules: {deep}\n")
    [f] = lint(tmp_path, ".")
    assert f["code"] == "PFT904" and f"nests more than {MAX_DEPTH} levels" in f["message"]


def test_invalid_explicit_tags_are_one_finding(tmp_path: Path):
    text = HEAD + "lora_r: !!int abc\nlora_dropout: !!float x\nunused: !!bool maybe\nwhen: !!timestamp x\n" \
                  "other: !custom 3\nlora_target_modules: [q_proj, vproj]\n"
    res = extract_trainer_yaml(text, "ax.yaml", "/tmp/ax.yaml")
    [p] = res.problems
    assert p.code == "PFT902" and (p.span.line, p.span.column) == (3, 9)
    assert "`!!int abc` is not a valid !!int value" in p.message and "(4 more such values in this file)" in p.message
    [spec] = res.specs
    assert spec.fields["r"].dynamic and spec.static("target_modules") == ["q_proj", "vproj"]  # unknown, not absent
    # PyYAML agrees that the file cannot be loaded
    for bad in ("x: !!int abc\n", "x: !!bool maybe\n", "x: !!timestamp x\n", "x: !custom 3\n"):
        try:
            yaml.safe_load(bad)
        except Exception:
            continue
        raise AssertionError(f"yaml.safe_load accepted {bad!r}")
    (tmp_path / "ax.yaml").write_text(text)
    # lora_r and lora_dropout are unknown (a note each), never taken as absent
    assert sorted(f["code"] for f in lint(tmp_path, ".")) == ["PFT101", "PFT902", "PFT904", "PFT904"]


def test_megabytes_peftlint_never_reads(tmp_path: Path):
    rows = "".join(f"  - path: data/file_{i}.jsonl\n    type: alpaca\n    tags: [a, b, {i}]\n" for i in range(60000))
    text = HEAD + "datasets:\n" + rows + "lora_target_modules: [q_proj, vproj]\n"
    assert len(text) > 4_000_000
    res = extract_trainer_yaml(text, "ax.yaml", "/tmp/ax.yaml")
    assert res.problems == [] and res.specs[0].static("target_modules") == ["q_proj", "vproj"]
    # the datasets section was walked as events only: no node was built for it
    [doc] = read_yaml(text, WANTED.__contains__).documents
    assert sorted(doc.entries) == ["adapter", "base_model", "lora_target_modules"]
    item = res.specs[0].get("target_modules").items[1]
    assert item.span.line == text.count("\n") and item.span.column == 31


def test_yaml_without_trainer_keys_is_not_parsed():
    # a broken YAML that is no trainer config: nothing, not even a parse error
    assert extract_trainer_yaml("a: [1, 2\nb: {c\n", "x.yaml", "/tmp/x.yaml").problems == []


# -- generated inputs ---------------------------------------------------------------------------

KEYS = ["base_model", "adapter", "lora_target_modules", "lora_target_linear", "lora_target", "finetuning_type",
        "use_peft", "model_name_or_path", "lora_r", "peft_config", "name", "target_modules", "model", "x", "<<"]
scalars = st.one_of(st.sampled_from(["lora", "q_proj", "all", "true", "${X}", "{{ x }}", "!!int a", "*a", "&a b",
                                     "", "- a", "[", "'", "\"", ":", "#"]),
                    st.text(max_size=12), st.integers(), st.booleans(), st.none())
trees = st.recursive(scalars, lambda c: st.one_of(st.lists(c, max_size=4), st.dictionaries(
    st.sampled_from(KEYS), c, max_size=4)), max_leaves=20)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=st.dictionaries(st.sampled_from(KEYS), trees, max_size=8), noise=st.text(max_size=30),
       cut=st.integers(min_value=0, max_value=400))
def test_generated_yaml_never_crashes(doc, noise, cut):
    text = yaml.safe_dump(doc, default_flow_style=None, allow_unicode=True)
    for variant in (text, text[:cut] + noise + text[cut:], "adapter: lora\n" + text.replace("'", "")):
        res = extract_trainer_yaml(variant, "g.yaml", "/tmp/g.yaml")
        assert all(p.code in ("PFT902", "PFT209") for p in res.problems)
        for spec in res.specs:
            for v in spec.fields.values():
                assert v.span.line >= 1 and v.span.column >= 1


WORDS = st.sampled_from(["--use_peft", "--lora_target_modules", "--lora_target", "--model_name_or_path",
                         "llamafactory-cli", "train", "accelerate", "launch", "q_proj", "v_proj,k_proj", "all",
                         "$X", "${X:-q_proj}", "${X:+y}", "${X:=z}", "${#X}", "$(date)", "`x`", "X=1", "export",
                         "'a b'", '"$X y"', "\\\n", ";", "&&", "|", "2>&1", "<<EOF", "EOF", "#", "if", "fi", "{",
                         "}", "for", "do", "done", "source", "${", "$", "\\", "'", '"', "(", ")", "\n"])


@settings(max_examples=200, deadline=None)
@given(words=st.lists(st.one_of(WORDS, st.text(max_size=6)), max_size=40))
def test_generated_shell_never_crashes(words):
    text = " ".join(words)
    res = extract_trainer_shell(text, "g.sh", "/tmp/g.sh")
    assert res.problems == []
    n_lines = text.count("\n") + 1
    for spec in res.specs:
        for v in spec.fields.values():
            for item in [v, *(v.items or [])]:
                assert 1 <= item.span.line <= item.span.end_line <= n_lines
