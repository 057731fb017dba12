"""peft's verdict does not depend on which optional packages happen to be installed here.

peft asks for scipy before it checks a LoftQ config, so where scipy is missing it stops with an
ImportError before its real check. peftlint must report what peft reports where the package is
installed, with or without the package here; when that cannot be had, a note names the package,
and the file's findings are not kept in the result cache (installing the package changes them).
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

import pytest
from support.lintutil import lint

CASES = [
    ("LoraConfig", {"init_lora_weights": "loftq"}, 'LoraConfig(init_lora_weights="loftq")'),
    ("AdaLoraConfig", {"init_lora_weights": "loftq", "loftq_config": {"loftq_bits": 4}, "total_step": 10},
     'AdaLoraConfig(init_lora_weights="loftq", loftq_config={"loftq_bits": 4}, total_step=10)'),
]


def fake_package(root: Path, name: str, body: str = "") -> Path:
    """A real, importable package ``name`` under ``root`` (what pip would leave on sys.path)."""
    (root / name).mkdir(parents=True, exist_ok=True)
    (root / name / "__init__.py").write_text(body)
    return root


def peft_message_with(tmp_path: Path, cls: str, kwargs: dict) -> str:
    """What peft raises for ``cls(**kwargs)`` where scipy is installed (scipy as a package on sys.path)."""
    import peft

    sys.path.insert(0, str(fake_package(tmp_path / "site", "scipy")))
    saved = sys.modules.pop("scipy", None)
    try:
        with pytest.raises(Exception) as info, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            getattr(peft, cls)(**kwargs)
    finally:
        sys.path.remove(str(tmp_path / "site"))
        if saved is not None:
            sys.modules["scipy"] = saved
    assert not isinstance(info.value, ImportError)
    return " ".join(str(info.value).split())


@pytest.mark.parametrize("cls,kwargs,body", CASES)
def test_finding_without_scipy(tmp_path, monkeypatch, cls, kwargs, body):
    expected = peft_message_with(tmp_path, cls, kwargs)
    monkeypatch.setitem(sys.modules, "scipy", None)  # not installed: find_spec answers None, import fails
    import importlib.util

    assert importlib.util.find_spec("scipy") is None
    (tmp_path / "train.py").write_text(f"from peft import {cls}\n\nconfig = {body}\n")
    found = [d for d in lint(tmp_path, "--no-cache", ".") if d["code"] == "PFT211"]
    assert [(d["severity"], d["message"].split(": ", 1)[1]) for d in found] == [("error", f"ValueError: {expected}")]


@pytest.mark.parametrize("cls,kwargs,body", CASES)
def test_finding_with_scipy(tmp_path, cls, kwargs, body):
    """Where scipy is installed (the test extra installs it), the same finding, in peft's words."""
    import peft
    import scipy  # noqa: F401 - the real package

    with pytest.raises(ValueError) as info:
        getattr(peft, cls)(**kwargs)
    expected = " ".join(str(info.value).split())
    assert expected == peft_message_with(tmp_path, cls, kwargs)
    (tmp_path / "train.py").write_text(f"from peft import {cls}\n\nconfig = {body}\n")
    found = [d for d in lint(tmp_path, "--no-cache", ".") if d["code"] == "PFT211"]
    assert [(d["severity"], d["message"].split(": ", 1)[1]) for d in found] == [("error", f"ValueError: {expected}")]


def test_unjudged_verdict_is_a_note_and_not_kept_in_the_result_cache(tmp_path, monkeypatch):
    """When peft's check needs a package that a stand-in cannot replace, the config gets a note
    naming it; once the package is installed, the next run (result cache on) checks the config."""
    import peft

    real_post_init = peft.LoraConfig.__post_init__

    def post_init(self):  # an optional-package check that uses the package, not only asks for it
        import peftlint_test_optional_pkg

        peftlint_test_optional_pkg.check(self)
        real_post_init(self)

    monkeypatch.setattr(peft.LoraConfig, "__post_init__", post_init)
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "train.py").write_text(
        "from peft import LoraConfig\n\nconfig = LoraConfig(r=7, lora_alpha=13, target_modules=['q'])\n")

    def notes() -> list[str]:
        return [d["message"] for d in lint(tmp_path / "proj", ".") if d["code"] == "PFT211"]

    for _ in range(2):  # not stored: the second run asks again
        [note] = notes()
        assert "`peftlint_test_optional_pkg`" in note and "not installed" in note
    site = fake_package(tmp_path / "site", "peftlint_test_optional_pkg",
                        "import warnings\n\ndef check(config):\n    pass\n")
    monkeypatch.syspath_prepend(str(site))
    assert notes() == []


def test_no_result_cache_refreshes_the_stored_findings(tmp_path):
    """``--no-result-cache`` lints again and stores what it found: a stale entry is replaced."""
    (tmp_path / "train.py").write_text(
        "from peft import LoraConfig\n\nconfig = LoraConfig(target_modules=['q', 'q'])\n")

    def duplicates(*args: str) -> list[str]:
        return [d["message"] for d in lint(tmp_path, *args, ".") if d["code"] == "PFT204"]

    [message] = duplicates()
    cache = Path(os.environ["PEFTLINT_CACHE_DIR"])
    stale = 0
    for entry in cache.glob("result-*.json"):  # make the stored findings stale: a message nobody wrote
        data = json.loads(entry.read_text())
        for d in data["payload"]["diagnostics"]:
            if d["path"] == "train.py" and d["code"] == "PFT204" and d["message"] == message:
                d["message"] = "stale"
                stale += 1
        entry.write_text(json.dumps(data))
    assert stale and duplicates() == ["stale"]  # replayed as stored
    assert duplicates("--no-result-cache") == [message]
    assert duplicates() == [message]  # the entry was refreshed
