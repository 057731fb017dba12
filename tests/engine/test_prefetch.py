"""Reading ahead while a cold run imports peft: the files read ahead give the very findings a plain
read gives, and a read-ahead that could differ (a config class peft does not target) is read again."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from peftlint.config import Settings
from peftlint.engine import discover as disc
from peftlint.engine import prefetch
from peftlint.engine.run import Linter
from peftlint.sources.python import extract_python

LORA = textwrap.dedent("""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained("gpt2")
    model = get_peft_model(model, LoraConfig(target_modules=["c_atn"], r={r}))
""")
SFT = textwrap.dedent("""
    from peft import LoraConfig
    from trl import SFTConfig
    args = SFTConfig(output_dir="out")
    peft_config = LoraConfig(target_modules=["q_proj"])
""")
PROMPT = textwrap.dedent("""
    from peft import PromptTuningConfig, LoraConfig
    PromptTuningConfig(num_virtual_tokens=8, task_type="CAUSAL_LM")
""")


def _tree(root: Path) -> Path:
    root.mkdir(exist_ok=True)
    for i in range(9):
        (root / f"lora{i}.py").write_text(LORA.replace("{r}", str(4 + i)))
    (root / "sft.py").write_text(SFT)
    (root / "prompt.py").write_text(PROMPT)
    (root / "other.py").write_text("import os\nprint(os.sep)\n")
    return root


def test_kept_results_equal_a_plain_read(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    classes = Linter(Settings(), root).config_classes()
    items = [(str(p), disc.PYTHON, p.name) for p in sorted(root.glob("*.py"))]
    found = prefetch.read_all(items, 10**6)
    assert str(root / "other.py") not in found  # no peft: dropped by the prefilter
    kept = prefetch.usable(_done(found), classes)
    # PromptTuningConfig is read ahead as a config (its name is in the text) but peft's facts say it
    # selects no modules: that file must be read again
    assert str(root / "prompt.py") in found and str(root / "prompt.py") not in kept
    assert sorted(Path(p).name for p in kept) == sorted([f"lora{i}.py" for i in range(9)] + ["sft.py"])
    for path, ahead in kept.items():
        plain = extract_python(Path(path).read_text(), Path(path).name, path, classes)
        assert ahead.source == plain


def test_a_cold_run_reads_ahead_and_reports_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _tree(tmp_path / "tree")
    serial = Linter(Settings(cache_dir=str(tmp_path / "c1")), root).lint_paths([root], jobs=1)
    used: list[int] = []
    real = prefetch.usable

    def counting(reading: prefetch.Reading, classes: object) -> dict:
        out = real(reading, classes)  # type: ignore[arg-type]
        used.append(len(out))
        return out

    monkeypatch.setattr(prefetch, "usable", counting)
    linter = Linter(Settings(cache_dir=str(tmp_path / "c2")), root)
    reads: list[str] = []
    read_python = linter.readers[disc.PYTHON]
    linter.readers[disc.PYTHON] = lambda text, path, *a: reads.append(path) or read_python(text, path, *a)
    ahead = linter.lint_paths([root], jobs=0)
    assert used == [10] and reads == ["prompt.py"]
    assert [d.to_json() for d in ahead.diagnostics] == [d.to_json() for d in serial.diagnostics]
    assert [d.code for d in ahead.diagnostics].count("PFT101") == 9


def _slow_read(log: str, items: list, max_file_size: int) -> dict:
    with open(log, "a") as fh:
        fh.write(items[0][0] + "\n")
    import time

    time.sleep(0.5)
    return {}


def test_the_run_does_not_wait_for_a_long_read_ahead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When peft is imported before the tree is read, the batches not started are dropped: the run
    reads those files itself instead of waiting."""
    import functools

    log = tmp_path / "batches.log"
    monkeypatch.setattr(prefetch, "read_all", functools.partial(_slow_read, str(log)))
    cands = [disc.Candidate(tmp_path / f"f{i}.py", disc.PYTHON, False) for i in range(40)]
    reading = prefetch.start(cands, tmp_path, 10**6)
    assert reading is not None and len(reading.batches) == 10
    assert prefetch.usable(reading, {"LoraConfig"}) == {}
    started = log.read_text().splitlines() if log.exists() else []
    assert len(started) <= 3  # the one being read (and one queued), not all ten


def _done(found: dict) -> prefetch.Reading:
    from concurrent.futures import Future

    future: Future = Future()
    future.set_result(found)

    class Pool:
        def shutdown(self, wait: bool = True) -> None:
            pass

    return prefetch.Reading(Pool(), [future])  # type: ignore[arg-type]
