"""The hostile set: inputs that once hung peftlint, exhausted its memory or crashed it, each
generated here (nothing big is committed). Every run is a real ``peftlint`` process limited to
1.5 GB of address space (RLIMIT_AS, so an overrun fails the test, not the machine) and 30 seconds
of CPU time (RLIMIT_CPU: the kernel stops a run that computes too long; CPU time, not wall time, so a
loaded machine does not fail a case), and must end with a complete JSON report (exit 0 or 1, no
PFT999) that says what it found. A run blocked without computing (a FIFO read) is stopped by a
generous wall-clock hang guard.

A normal cold run (torch, transformers and peft imported, a model built) fits in that address
space; the fixture checks it first. Runs use a warm cache, except the cases that poison the cache
itself: those must rebuild, and get the normal cold run's CPU time on top of the 30 seconds.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from support import shared
from support.helpers_hf import REPO_ROOT
from support.hostile_inputs import MORE_CASES

from peftlint.semantics.peft_check import CHECK_PREFIX

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS, FIFOs and /dev/zero as on Linux")

LIMIT_BYTES = 1536 * 1024 * 1024
LIMIT_SECONDS = 30.0  # CPU seconds
HANG_GUARD = 600.0  # wall seconds: only a run that waits forever gets near it
SMOL = "HuggingFaceTB/SmolLM2-135M"
ADAPTER = {"peft_type": "LORA", "base_model_name_or_path": SMOL, "r": 8, "task_type": "CAUSAL_LM"}
TINY = {"model_type": "llama", "hidden_size": 16, "intermediate_size": 32, "num_attention_heads": 2,
        "num_key_value_heads": 2, "vocab_size": 64}


@dataclass
class Run:
    code: int
    findings: list[dict]
    stderr: str
    seconds: float  # CPU time (user + system)
    max_rss: int  # bytes


def _limits(cpu_seconds: float) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))
        cpu = int(cpu_seconds) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))  # SIGXCPU at the soft limit
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # whatever the test runner's disposition was

    return apply


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def run_peftlint(cwd: Path, cache: Path, *args: str, seconds: float = LIMIT_SECONDS) -> Run:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PEFTLINT_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen([sys.executable, "-m", "peftlint", "--format", "json", *args, "."], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_limits(seconds),
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=HANG_GUARD)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # its worker processes too, which hold the pipes open
        proc.communicate()
        pytest.fail(f"peftlint hung: no exit within {HANG_GUARD:.0f} s")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    text = err.decode("utf-8", "replace")
    assert proc.returncode != -signal.SIGXCPU, f"peftlint used more than {seconds:.0f} s of CPU time"
    assert proc.returncode in (0, 1), f"exit {proc.returncode}: {text[-2000:]}"
    findings = json.loads(out)  # a complete report
    assert "PFT999" not in {d["code"] for d in findings}, findings
    return Run(proc.returncode, findings, text, _cpu(usage) - _cpu(before), usage.ru_maxrss * 1024)


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """A cache holding peft's facts and SmolLM2's inventory, made by a normal cold run under the
    same address-space limit (which it must fit), plus peft's verdicts on every case's configs;
    returns (cache, CPU seconds the cold run took). Built once per session for all workers."""
    path = shared.once(tmp_path_factory, "hostile-cache", _fill_warm_cache)
    return path / "cache", float((path / "cold-seconds").read_text())


def _fill_warm_cache(root: Path) -> None:
    cache, d = root / "cache", root / "normal"
    d.mkdir()
    (d / "adapter_config.json").write_text(json.dumps({**ADAPTER, "target_modules": ["q_proj", "v_proj"]}))
    _python(d, 'config = LoraConfig(target_modules=["q_proj", "v_proj"])')  # SmolLM2 built as its own class too
    cold = run_peftlint(d, cache, seconds=1800)
    assert cold.findings == []
    (root / "cold-seconds").write_text(repr(cold.seconds))
    # peft's verdict on a config costs an import of peft (seconds) in each process that asks. One run
    # over every case asks peft about all of them, under the same limits (the sum of the cases' CPU
    # time); its verdicts are copied into the shared cache, so that each case's own run below checks
    # reading, matching, rules and reporting of its input in seconds. Its results are not copied.
    every = root / "every-case"
    for i, (name, (make, _)) in enumerate(CASES.items()):
        if name not in NEEDS_BUILD:
            (every / f"case{i}").mkdir(parents=True)
            make(every / f"case{i}")
    (every / "nope.py").write_text(NOPE)  # test_deep_target_modules_in_parallel_workers's files
    side = root / "side-cache"
    shutil.copytree(cache, side)
    run_peftlint(every, side, "--no-result-cache", seconds=LIMIT_SECONDS * len(CASES))
    for entry in side.glob(CHECK_PREFIX + "*"):
        shutil.copy(entry, cache / entry.name)


NOPE = 'from peft import LoraConfig\n\nc = LoraConfig(target_modules=["nope_proj"])\n'


def _adapter(d: Path, **fields: object) -> None:
    (d / "adapter_config.json").write_text(json.dumps({**ADAPTER, **fields}))


def _python(d: Path, body: str) -> None:
    (d / "train.py").write_text(f"from peft import LoraConfig\n\n# peftlint: model={SMOL}\n{body}\n")


def _model_dir(d: Path, layers: int) -> None:
    (d / "m").mkdir()
    (d / "m" / "config.json").write_text(json.dumps({**TINY, "num_hidden_layers": layers}))
    (d / "train.py").write_text("from peft import LoraConfig\n\n# peftlint: model=./m\n"
                                "config = LoraConfig(target_modules=['q_proj'])\n")


def _model_config(d: Path, config: dict, max_modules: int | None = None) -> None:
    if max_modules:  # a lower limit keeps the case cheap: each module created on meta costs milliseconds
        (d / "pyproject.toml").write_text(f"[tool.peftlint]\nmax-model-modules = {max_modules}\n")
    (d / "m").mkdir()
    (d / "m" / "config.json").write_text(json.dumps(config))
    (d / "train.py").write_text("from peft import LoraConfig\n\n# peftlint: model=./m\n"
                                "config = LoraConfig(target_modules=['q_proj'])\n")


def _deep_json(d: Path) -> None:
    (d / "adapter_config.json").write_text(json.dumps({**ADAPTER, "x": 0}).replace("0}", "[" * 5000 + "]" * 5000 + "}"))


def _deep_notebook(d: Path) -> None:
    # a cell that passes the prefilter (peft and a config class), then metadata nested 5,000 deep
    cell = '{"cell_type": "code", "metadata": {}, "source": ["from peft import LoraConfig"], "outputs": []}'
    (d / "nb.ipynb").write_text('{"cells": [' + cell + '], "metadata": {"peft": ' + "[" * 5000 + "]" * 5000 + "}}")


def _text(finding: dict) -> str:
    """A finding's one-line message and its detail (where a note gives the full reason)."""
    return f"{finding['message']} {finding.get('detail') or ''}"


def _long_weight_key(d: Path) -> None:
    """A saved adapter whose safetensors header names a tensor with a 1 MB key."""
    import struct

    _adapter(d, target_modules=["q_proj"])
    key = "base_model.model.model" + ".base_layer" * 95_000 + ".lora_Q"
    header = json.dumps({key: {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    (d / "adapter_model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 4)


def _huge_file(d: Path) -> None:
    with open(d / "big.py", "w") as f:
        f.write("from peft import LoraConfig\n")
        for _ in range(120):
            f.write("x = 1  # " + "#" * 100_000 + "\n")


def _deep_diffusers_metadata(d: Path) -> None:
    """A diffusers LoRA file whose ``lora_adapter_metadata`` is JSON nested 100,000 deep."""
    import struct

    meta = {"lora_adapter_metadata": "[" * 100_000 + "]" * 100_000}
    header = json.dumps({"__metadata__": meta,
                         "unet.x.lora_A.weight": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    (d / "pytorch_lora_weights.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 4)


def _trainer_yaml(d: Path, body: str) -> None:
    (d / "train.yaml").write_text(f"model_name_or_path: {SMOL}\nfinetuning_type: lora\n{body}")


def _codes(f: list[dict]) -> set[str]:
    return {x["code"] for x in f}


CASES: dict[str, tuple[Callable[[Path], None], Callable[[list[dict]], bool]]] = {
    "regex bomb in target_modules": (lambda d: _python(d, 'config = LoraConfig(target_modules="(.*)*z")'),
                                     lambda f: [x["code"] for x in f] == ["PFT212"]),
    "regex bomb as a rank_pattern key": (
        lambda d: _adapter(d, target_modules=["q_proj"], rank_pattern={"(.*)*z": 4}),
        lambda f: "PFT212" in {x["code"] for x in f}),
    "num_hidden_layers 10,000,000": (lambda d: _model_dir(d, 10_000_000),
                                     lambda f: [x["code"] for x in f] == ["PFT901"] and "max-model-modules" in _text(f[0])),
    "num_hidden_layers 5,000": (lambda d: _model_dir(d, 5_000),
                                lambda f: [x["code"] for x in f] == ["PFT901"] and "modules" in _text(f[0])),
    "one name 2,000 times": (lambda d: _adapter(d, target_modules=["q_proj"] * 2000),
                             lambda f: len(f) == 101 and {x["code"] for x in f} == {"PFT204"}),
    "300,000 entries": (lambda d: _adapter(d, target_modules=["q_proj"] * 300_000),
                        lambda f: len(f) == 101),
    "100 KB string in modules_to_save": (lambda d: _adapter(d, target_modules=["q_proj"], modules_to_save=["a" * 100_000]),
                                          lambda f: [x["code"] for x in f] == ["PFT306"]),
    "FIFO named *.py": (lambda d: os.mkfifo(d / "pipe.py"), lambda f: [x["code"] for x in f] == ["PFT907"]),
    "symlink to /dev/zero": (lambda d: (d / "zero.py").symlink_to("/dev/zero"),
                             lambda f: [x["code"] for x in f] == ["PFT907"]),
    "12 MB file": (_huge_file, lambda f: [x["code"] for x in f] == ["PFT907"]),
    "adapter_config.json nested 5,000 deep": (_deep_json, lambda f: [x["code"] for x in f] == ["PFT401"]),
    "notebook nested 5,000 deep": (_deep_notebook, lambda f: [x["code"] for x in f] == ["PFT902"]),
    "1 MB tensor name in a safetensors header": (_long_weight_key, lambda f: "PFT404" in {x["code"] for x in f}),
    "diffusers LoRA metadata nested 100,000 deep": (_deep_diffusers_metadata,
                                                    lambda f: [x["code"] for x in f] == ["PFT401"]),
    "YAML !!binary, a date and a bad tag in trainer keys": (
        lambda d: _trainer_yaml(d, "lora_target: !!binary aGVsbG8=\nlora_rank: 2001-12-14\nlora_alpha: !weird x\n"),
        lambda f: _codes(f) == {"PFT210", "PFT902", "PFT904"}),  # the keys safe_load cannot build: unknown, not absent
    "6,000-digit YAML integer": (lambda d: _trainer_yaml(d, "lora_target: q_proj\nlora_rank: " + "7" * 6000 + "\n"),
                                 lambda f: sorted(x["code"] for x in f) == ["PFT902", "PFT904"]),
    "100,000 YAML documents": (lambda d: _trainer_yaml(d, "lora_target: q_proj\n" + "---\na: 1\n" * 100_000),
                               lambda f: f == []),
    "UTF-16 adapter_config.json": (
        lambda d: (d / "adapter_config.json").write_bytes(json.dumps({**ADAPTER, "target_modules": ["q_proj"]}).encode("utf-16")),
        lambda f: [x["code"] for x in f] == ["PFT401"] and "UTF-16" in f[0]["message"]),
    "adapter_config.json with a UTF-8 BOM": (
        lambda d: (d / "adapter_config.json").write_bytes(b"\xef\xbb\xbf" + json.dumps({**ADAPTER, "target_modules": ["q_proj"]}).encode()),
        lambda f: [x["code"] for x in f] == ["PFT401"] and "byte order mark" in f[0]["message"]),
    "shell variable doubled 40 times": (
        lambda d: (d / "run.sh").write_text("A=q_proj,\n" + "A=$A$A\n" * 40 + f"llamafactory-cli train --model_name_or_path "
                                            f"{SMOL} --finetuning_type lora --lora_target $A\n"),
        lambda f: _codes(f) <= {"PFT904"}),
    "exported shell variable doubled 40 times": (
        lambda d: (d / "run.sh").write_text("export A=q_proj,\n" + "export A=${A}${A}\n" * 40 + f"trl sft --model_name_or_path "
                                            f"{SMOL} --use_peft --lora_target_modules $A\n"),
        lambda f: _codes(f) <= {"PFT904"}),
    "60 catastrophic rank_pattern keys": (
        lambda d: _adapter(d, target_modules=["q_proj"], rank_pattern={"(.*)*" + "a" * i + "z": 4 for i in range(60)}),
        lambda f: len(f) == 60 and _codes(f) == {"PFT212"}),
    ".gitignore pattern that backtracks": (
        lambda d: ((d / ".gitignore").write_text("*a*a*a*a*a*a*a*a*a*a*b\n"), (d / ("a" * 240 + ".py")).write_text("x = 1\n"),
                   _adapter(d, target_modules=["q_proj"])),
        lambda f: f == []),
    "num_codebooks 200,000 (a count under no known key)": (
        lambda d: _model_config(d, {"model_type": "musicgen_decoder", "num_codebooks": 200_000, "hidden_size": 16,
                                    "num_hidden_layers": 1, "num_attention_heads": 2, "ffn_dim": 32, "vocab_size": 64,
                                    "architectures": ["MusicgenForCausalLM"]}, max_modules=1000),
        lambda f: [x["code"] for x in f] == ["PFT901"] and "max-model-modules" in _text(f[0])),
    "1,000,000-line Python file": (
        lambda d: (d / "big.py").write_text("from peft import LoraConfig\n" + "x = 1\n" * 1_000_000),
        lambda f: [x["code"] for x in f] == ["PFT907"] and "lines" in f[0]["message"]),
    "5,000-digit integer": (lambda d: (d / "adapter_config.json").write_text('{"peft_type": "LORA", "r": ' + "7" * 5000 + "}"),
                            lambda f: [x["code"] for x in f] == ["PFT401"]),
    **MORE_CASES,  # third round: one folder of several inputs of a kind per case
}


# Cases whose model has to be built (torch imported): run together, with the normal cold run's time on top.
NEEDS_BUILD = {"num_hidden_layers 5,000", "num_codebooks 200,000 (a count under no known key)"}


@pytest.mark.parametrize("name", [n for n in CASES if n not in NEEDS_BUILD])
def test_hostile_input(name: str, warm: tuple[Path, float], tmp_path: Path) -> None:
    make, expect = CASES[name]
    make(tmp_path)
    run = run_peftlint(tmp_path, warm[0])
    assert expect(run.findings), run.findings[:5]


def test_hostile_models_in_one_run(warm: tuple[Path, float], tmp_path: Path) -> None:
    """The cases whose model has to be built share one run (one import of torch), each in its own
    folder with its own settings; each folder's findings are its case's."""
    names = sorted(NEEDS_BUILD)
    for i, name in enumerate(names):
        (tmp_path / f"case{i}").mkdir()
        CASES[name][0](tmp_path / f"case{i}")
    run = run_peftlint(tmp_path, warm[0], seconds=LIMIT_SECONDS * len(names) + warm[1])
    for i, name in enumerate(names):
        found = [f for f in run.findings if f["path"].startswith(f"case{i}/")]
        assert CASES[name][1](found), (name, found[:5])


_MANY_FIXES = """
import sys
from pathlib import Path
from peftlint.config import Settings
from peftlint.diagnostics import Diagnostic, Edit, Fix, Severity, Span
from peftlint.engine.run import Linter, RunResult
from peftlint.fix.apply import apply_fixes

d = Path(sys.argv[1])
line = "c{} = LoraConfig(target_modules=['q_proj', 'v_proj', 'q_proj'])"
text = "from peft import LoraConfig\\n" + "".join(line.format(i) + "\\n" for i in range(2000))
(d / "train.py").write_text(text)
diags = []
for i in range(2000):
    col = line.format(i).index(", 'q_proj']") + 1  # the repetition and the comma before it
    edit = Edit("train.py", Span(i + 2, col, i + 2, col + len(", 'q_proj'")), "")
    diags.append(Diagnostic("PFT204", "duplicate-entry", Severity.WARNING, "twice", "train.py", edit.span,
                            fix=Fix("safe", (edit,))))
out, _ = apply_fixes(Linter(Settings(), d), RunResult(diags), [d], write=False, unsafe=False, passes=1)
assert out.fixed == 2000 and out.diff.count("\\n-c") == 2000, out.diff[:500]
print("ok")
"""


def test_two_thousand_fixes_in_one_file(tmp_path: Path) -> None:
    """The fix code on one file with 2,000 configs (the Python reader's share of such a file is
    not measured here): one linear pass over the text, within the same bounds."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", _MANY_FIXES, str(tmp_path)], env=env, capture_output=True,
                         text=True, timeout=HANG_GUARD, preexec_fn=_limits(LIMIT_SECONDS))
    assert out.returncode != -signal.SIGXCPU, f"used more than {LIMIT_SECONDS:.0f} s of CPU time"
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


# Each kind of poison on each kind of entry: a run poisons both entries (so it rebuilds both, paying
# one cold start for two checks), and the three runs rotate the kinds.
POISONS = [("fifo", "dev-zero"), ("dev-zero", "crafted"), ("crafted", "fifo")]


@pytest.mark.parametrize(("facts", "inventory"), POISONS, ids=[f"peftfacts-{a}-inventory-{b}" for a, b in POISONS])
def test_poisoned_cache_entry_is_rebuilt(facts: str, inventory: str, warm: tuple[Path, float], tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(warm[0], cache)
    for entry, kind in (("peftfacts", facts), ("inventory", inventory)):
        victims = [p for p in cache.iterdir() if p.name.startswith(entry)]
        assert victims
        for victim in victims:
            data = json.loads(victim.read_text())
            victim.unlink()
            if kind == "fifo":
                os.mkfifo(victim)
            elif kind == "dev-zero":
                victim.symlink_to("/dev/zero")
            else:  # the right key, a payload that would silence every check
                empty = {"configs": {}} if entry == "peftfacts" else {"modules": []}
                victim.write_text(json.dumps({**data, "payload": {**data["payload"], **empty}}))
    d = tmp_path / "work"
    d.mkdir()
    _adapter(d, target_modules=["q_proj", "nope_proj"])
    run = run_peftlint(d, cache, seconds=LIMIT_SECONDS + warm[1])
    assert [x["code"] for x in run.findings] == ["PFT101"]  # the checks ran on rebuilt entries


def test_deep_target_modules_in_parallel_workers(warm: tuple[Path, float], tmp_path: Path) -> None:
    """A value nested 900 deep cannot be pickled back from a worker: that batch is linted in the
    main process, and the run (every other file too) completes."""
    for i in range(4):
        (tmp_path / f"d{i}").mkdir()
        (tmp_path / f"d{i}" / "adapter_config.json").write_text(
            json.dumps({**ADAPTER, "x": 0}).replace('"x": 0', '"target_modules": ' + "[" * 900 + "]" * 900))
    for i in range(8):
        (tmp_path / f"t{i}.py").write_text(NOPE)
    run = run_peftlint(tmp_path, warm[0], "-j", "2", "--no-result-cache")
    assert sorted(x["path"] for x in run.findings if x["code"] == "PFT401") == [f"d{i}/adapter_config.json" for i in range(4)]
