"""`peftlint cache fetch PATHS`: the config.json of every model the project names, downloaded into
the Hugging Face cache from a local stand-in for the hub, so a later offline run resolves them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.helpers_hf import add_to_hf_cache, bundled_config, fake_hub
from support.lintutil import lint, run_cli

from peftlint.model.fetch import fetch_config
from peftlint.model.resolve import ResolveOptions


def _config(**extra) -> str:
    cfg = bundled_config("HuggingFaceTB--SmolLM2-135M.json")
    cfg.update(extra)
    return json.dumps(cfg)


@pytest.fixture
def hub_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test session runs with HF_HUB_OFFLINE=1 and an empty HF cache; fetching talks to a local
    server only (HF_ENDPOINT is set by each test)."""
    from huggingface_hub import constants

    cache = tmp_path / "hf-cache"
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    return cache


def _project(root: Path) -> Path:
    proj = root / "proj"
    (proj / "models" / "mine").mkdir(parents=True)
    (proj / "models" / "mine" / "config.json").write_text(_config())
    (proj / "train.py").write_text(
        "from transformers import AutoModelForCausalLM\nfrom peft import LoraConfig\n"
        "model = AutoModelForCausalLM.from_pretrained('acme/remote-llama')\n"
        "config = LoraConfig(target_modules=['q_proj', 'vproj'])\n")
    (proj / "axolotl.yml").write_text("base_model: acme/pinned\nrevision_of_model: v1.0\nadapter: lora\n"
                                      "lora_target_modules: [q_proj]\n")
    (proj / "run.sh").write_text("MODEL=gpt2\ntrl sft --model_name_or_path $MODEL --use_peft\n"
                                 "trl sft --model_name_or_path ./models/mine --use_peft\n"
                                 "trl sft --model_name_or_path acme/already-cached --use_peft\n"
                                 "trl sft --model_name_or_path acme/gone --use_peft\n")
    return proj


def test_fetch_then_lint_offline(tmp_path: Path, hub_env: Path, monkeypatch: pytest.MonkeyPatch):
    proj = _project(tmp_path)
    add_to_hf_cache(hub_env, "acme/already-cached", {"config.json": _config()}, commit="a" * 40)
    repos = {"acme/remote-llama": {"config.json": _config(num_hidden_layers=3)},
             "acme/pinned": {"config.json": _config(num_hidden_layers=5)}}
    with fake_hub(repos) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        code, out = run_cli(["cache", "fetch", "."], proj)
        assert code == 1, out  # acme/gone could not be fetched
        assert "peftlint: could not fetch 1 config.json file: acme/gone; the configs using it are not checked" in out
        lines = out.splitlines()
        assert "fetched  acme/pinned@v1.0: axolotl.yml:1" in lines
        assert "fetched  acme/remote-llama: train.py:4" in lines
        assert "bundled  gpt2: run.sh:2" in lines
        assert "local    ./models/mine: run.sh:3" in lines
        assert "cached   acme/already-cached: run.sh:4" in lines
        [gone] = [ln for ln in lines if ln.startswith("failed")]
        assert "acme/gone does not exist on the Hugging Face Hub" in gone
        assert lines[-2] == "6 models named in 3 files: 2 fetched, 1 cached, 1 bundled, 1 local, 1 failed"
        # only config.json, at the revision the config names
        gets = sorted(p for m, p in hub.requests if m == "GET")
        assert gets == ["/acme/pinned/resolve/v1.0/config.json", "/acme/remote-llama/resolve/main/config.json"]

        again = len(hub.requests)
        code, out = run_cli(["cache", "fetch", "."], proj)
        assert "cached   acme/remote-llama: train.py:4" in out.splitlines()
        assert all(p.endswith("/acme/gone/resolve/main/config.json") for _, p in hub.requests[again:])
        assert run_cli(["cache", "fetch", "--strict", "."], proj)[0] == 1

    # offline again: the fetched models resolve from the Hugging Face cache
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    found = {(f["code"], f["path"]) for f in lint(proj, ".")}
    assert ("PFT101", "train.py") in found
    assert ("PFT901", "run.sh") in found and ("PFT901", "axolotl.yml") not in found
    unresolved = [f for f in lint(proj, ".") if f["code"] == "PFT901"]
    assert [f["line"] for f in unresolved] == [5]  # only acme/gone


def test_fetch_usage_errors(tmp_path: Path):
    code, out = run_cli(["cache", "fetch", "missing-dir"], tmp_path)
    assert code == 2 and "no such file or directory" in out


def test_fetch_config_honours_subfolder_and_revision(tmp_path: Path, hub_env: Path):
    text = _config()
    with fake_hub({"acme/pipeline": {"unet/config.json": text}}) as hub:
        opts = ResolveOptions(endpoint=hub.url, hf_cache_dir=str(hub_env))
        got = fetch_config("acme/pipeline", subfolder="unet", revision="main", options=opts)
        assert got.outcome == "fetched" and Path(got.detail).read_text() == text
        assert ("GET", "/acme/pipeline/resolve/main/unet%2Fconfig.json") in hub.requests or \
            ("GET", "/acme/pipeline/resolve/main/unet/config.json") in hub.requests
        assert fetch_config("acme/pipeline", subfolder="unet", options=opts).outcome == "cached"
        assert fetch_config("acme/pipeline", options=opts).outcome == "failed"  # no top-level config.json


def test_fetch_lists_the_models_each_files_configuration_names(tmp_path: Path):
    # a monorepo: each project names its base model in its own [tool.peftlint]; the code names none
    (tmp_path / "pyproject.toml").write_text('[tool.peftlint]\nmodel = "acme/top"\n')
    for proj, how in (("alpha", "pyproject.toml"), ("beta", ".peftlint.toml")):
        (tmp_path / proj).mkdir()
        table = "[tool.peftlint]\n" if how == "pyproject.toml" else ""
        (tmp_path / proj / how).write_text(f'{table}model = "acme/{proj}-base"\n')
        (tmp_path / proj / "train.py").write_text("from peft import LoraConfig\n"
                                                  "config = LoraConfig(target_modules=['q_proj'])\n")
    code, out = run_cli(["cache", "fetch", "--list", "."], tmp_path)
    assert (code, out) == (0, "acme/alpha-base\nacme/beta-base\n")
    code, out = run_cli(["cache", "fetch", "--list", "beta/train.py"], tmp_path)  # a file named alone
    assert (code, out) == (0, "acme/beta-base\n")
    # --config: one configuration for every file
    code, out = run_cli(["cache", "fetch", "--list", "--config", "pyproject.toml", "."], tmp_path)
    assert (code, out) == (0, "acme/top\n")
    # what `check` reads: the same model per project
    found = {(f["path"], f["message"]) for f in lint(tmp_path, ".") if f["code"] == "PFT901"}
    assert {p for p, _ in found} == {"alpha/train.py", "beta/train.py"}
    assert all(f"acme/{p.split('/')[0]}-base" in m for p, m in found)
