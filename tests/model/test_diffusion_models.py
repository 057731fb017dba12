"""Diffusion models: components of a pipeline (``repo:unet``), found offline like transformers
models, built by diffusers on the meta device, cached; without diffusers a note says what to install."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.diffusersutil import TINY_CLIP, TINY_UNET, pipeline_dir
from support.helpers_hf import REPO_ROOT, add_to_hf_cache, fake_hub

from peftlint.config import Settings
from peftlint.model.cache import InventoryCache
from peftlint.model.classes import pick_diffusers_class
from peftlint.model.hub import bundled_index
from peftlint.model.load import load_inventory
from peftlint.model.resolve import Resolved, ResolveOptions, Unresolved, resolve, split_subfolder

COMMIT_A, COMMIT_B = "a" * 40, "b" * 40
SDXL = "stabilityai/stable-diffusion-xl-base-1.0"


@pytest.fixture
def opts(tmp_path: Path) -> ResolveOptions:
    return ResolveOptions(hf_cache_dir=str(tmp_path / "hf-empty"))


@pytest.mark.parametrize("ref, expected", [
    ("acme/sd:unet", ("acme/sd", "unet")),
    ("./pipes/sd:text_encoder_2", ("./pipes/sd", "text_encoder_2")),
    ("acme/sd", ("acme/sd", None)),
    ("C:\\models\\sd", ("C:\\models\\sd", None)),  # a Windows drive, not a subfolder
    ("acme/sd:", ("acme/sd:", None)),
    ("acme/sd:un et", ("acme/sd:un et", None)),
])
def test_split_subfolder(ref: str, expected: tuple) -> None:
    assert split_subfolder(ref) == expected


def test_local_pipeline_component(tmp_path: Path, opts: ResolveOptions) -> None:
    pipe = pipeline_dir(tmp_path)
    for res in (resolve(f"{pipe}:unet", options=opts), resolve(str(pipe), subfolder="unet", options=opts)):
        assert isinstance(res, Resolved), res
        assert (res.library, res.subfolder, res.source) == ("diffusers", "unet", "local")
        assert res.label == f"{pipe}:unet" and res.location == str(pipe / "unet" / "config.json")
    te = resolve("./tiny-sd:text_encoder", base_dirs=[str(tmp_path)], options=opts)
    assert isinstance(te, Resolved) and te.library == "transformers" and te.config["model_type"] == "clip_text_model"
    missing = resolve(f"{pipe}:vae", options=opts)
    assert isinstance(missing, Unresolved) and "has no vae/config.json" in missing.reason


def test_a_pipeline_is_not_one_model(tmp_path: Path, opts: ResolveOptions) -> None:
    pipe = pipeline_dir(tmp_path)
    res = resolve(str(pipe), options=opts)
    assert isinstance(res, Unresolved)
    assert "diffusers pipeline" in res.reason
    assert f"`{pipe}:unet`" in res.reason and f"`{pipe}:text_encoder`" in res.reason
    assert ":tokenizer" not in res.reason  # no config.json there
    bundled = resolve(SDXL, options=opts)
    assert isinstance(bundled, Unresolved) and f"`{SDXL}:text_encoder_2`" in bundled.reason


def test_hf_cache_component_and_revision(tmp_path: Path) -> None:
    hf = tmp_path / "hf"
    old = dict(TINY_UNET, cross_attention_dim=16)
    add_to_hf_cache(hf, "acme/sd", {"model_index.json": "{}", "unet/config.json": json.dumps(old)}, commit=COMMIT_A,
                    branch=None)
    add_to_hf_cache(hf, "acme/sd", {"unet/config.json": json.dumps(TINY_UNET),
                                    "text_encoder/config.json": json.dumps(TINY_CLIP)}, commit=COMMIT_B)
    o = ResolveOptions(hf_cache_dir=str(hf))
    main = resolve("acme/sd:unet", options=o)
    assert isinstance(main, Resolved) and main.source == "hf-cache" and main.config["cross_attention_dim"] == 32
    pinned = resolve("acme/sd", subfolder="unet", revision=COMMIT_A, options=o)
    assert isinstance(pinned, Resolved) and pinned.config["cross_attention_dim"] == 16
    te = resolve("acme/sd:text_encoder", options=o)
    assert isinstance(te, Resolved) and te.library == "transformers"


def test_online_downloads_only_the_component_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    files = {"unet/config.json": json.dumps(TINY_UNET), "model_index.json": "{}"}
    with fake_hub({"acme/remote-sd": files}) as hub:
        o = ResolveOptions(online=True, endpoint=hub.url, hf_cache_dir=str(tmp_path))
        res = resolve("acme/remote-sd:unet", options=o)
        assert isinstance(res, Resolved), res
        assert res.source == "online" and res.library == "diffusers"
        assert {p for _, p in hub.requests} == {"/acme/remote-sd/resolve/main/unet/config.json"}
        missing = resolve("acme/remote-sd:transformer", options=o)
        assert isinstance(missing, Unresolved) and "transformer/config.json" in missing.reason


def test_bundled_components(opts: ResolveOptions) -> None:
    index = bundled_index()
    comps = {k: v for k, v in index.items() if v.get("subfolder")}
    assert {f"{SDXL}:unet", f"{SDXL}:text_encoder", f"{SDXL}:text_encoder_2",
            "stable-diffusion-v1-5/stable-diffusion-v1-5:unet", "black-forest-labs/FLUX.1-dev:transformer",
            "stabilityai/stable-diffusion-3-medium-diffusers:text_encoder_3"} <= set(comps)
    for key, entry in comps.items():
        assert key == f"{entry['repo']}:{entry['subfolder']}" and entry["source"]
        res = resolve(key, options=opts)
        assert isinstance(res, Resolved) and res.source == "bundled", res
        assert res.library == entry.get("library", "transformers")
        if res.library == "diffusers":
            assert pick_diffusers_class(res.config, None) == res.config["_class_name"]
    # the SD 1.5 UNet config is UNet2DConditionModel's defaults (the class defaults are SD 1.x)
    sd15 = resolve("stable-diffusion-v1-5/stable-diffusion-v1-5:unet", options=opts)
    assert sd15.config["cross_attention_dim"] == 768 and sd15.config["block_out_channels"] == [320, 640, 1280, 1280]


def test_cache_key_and_memo_tell_components_apart(tmp_path: Path, opts: ResolveOptions) -> None:
    pipe = pipeline_dir(tmp_path, unet=TINY_UNET)
    (pipe / "vae").mkdir()
    (pipe / "vae" / "config.json").write_text((pipe / "unet" / "config.json").read_text())  # same text, other folder
    a, b = resolve(f"{pipe}:unet", options=opts), resolve(f"{pipe}:vae", options=opts)
    assert a.config_text == b.config_text
    cache = InventoryCache(tmp_path / "cache")
    assert cache.key(a, "UNet2DConditionModel") != cache.key(b, "UNet2DConditionModel")
    memo: dict = {}
    s = Settings()
    load_inventory(str(pipe), s, None, subfolder="unet", resolved_memo=memo, inventory_memo={})
    load_inventory(str(pipe), s, None, subfolder="text_encoder", resolved_memo=memo, inventory_memo={})
    assert sorted(k[1] for k in memo) == ["text_encoder", "unet"]


def test_without_diffusers_a_note_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "diffusers", None)  # `import diffusers` raises ImportError
    pipe = pipeline_dir(tmp_path)
    got = load_inventory(f"{pipe}:unet", Settings(), None)
    assert got.inventory is None
    assert 'pip install "peftlint[diffusers]"' in got.why and "UNet2DConditionModel" in got.why


def test_transformers_path_never_imports_diffusers(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from peftlint.config import Settings\n"
        "from peftlint.model.load import load_inventory\n"
        "got = load_inventory('gpt2', Settings(), None)\n"
        "assert got.inventory is not None, got.why\n"
        "print('diffusers' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_warm_run_on_a_diffusion_model_imports_nothing_heavy(tmp_path: Path) -> None:
    pytest.importorskip("diffusers")
    pipe = pipeline_dir(tmp_path)
    script = (
        "import json, sys\n"
        "from peftlint.config import Settings\n"
        "from peftlint.model.load import load_inventory\n"
        "from peftlint.store import default_cache_dir\n"
        f"got = load_inventory({str(pipe) + ':unet'!r}, Settings(), default_cache_dir())\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'transformers', 'peft', 'diffusers'})\n"
        "print(json.dumps({'n': len(got.inventory.modules), 'lib': got.inventory.library, 'heavy': heavy}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PEFTLINT_CACHE_DIR": str(tmp_path / "cache")}

    def run() -> dict:
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        return json.loads(out.stdout)

    cold = load_inventory(f"{pipe}:unet", Settings(), tmp_path / "cache")  # builds, in this process
    assert cold.inventory is not None, cold.why
    warm = run()
    assert warm["heavy"] == []
    assert warm["n"] == len(cold.inventory.modules) > 0 and warm["lib"] == "diffusers"
