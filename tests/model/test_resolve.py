from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.helpers_hf import REPO_ROOT, add_to_hf_cache, bundled_config, fake_hub

from peftlint.model.hub import bundled_index
from peftlint.model.resolve import Resolved, ResolveOptions, Unresolved, resolve

LLAMA = bundled_config("meta-llama--Llama-2-7b-hf.json")
COMMIT_A = "a" * 40
COMMIT_B = "b" * 40


@pytest.fixture
def hf_cache(tmp_path: Path) -> Path:
    d = tmp_path / "hf-hub"
    d.mkdir()
    return d


@pytest.fixture
def opts(hf_cache: Path) -> ResolveOptions:
    return ResolveOptions(hf_cache_dir=str(hf_cache))


def _config(**overrides: object) -> str:
    return json.dumps({**LLAMA, **overrides}, indent=2)


# -- Hugging Face cache ---------------------------------------------------------------------------


def test_hf_cache_main_branch_and_commit(hf_cache: Path, opts: ResolveOptions) -> None:
    add_to_hf_cache(hf_cache, "acme/llama-7b", {"config.json": _config(num_hidden_layers=3)}, commit=COMMIT_A)
    add_to_hf_cache(
        hf_cache, "acme/llama-7b", {"config.json": _config(num_hidden_layers=5)}, commit=COMMIT_B, branch="v2"
    )
    snapshot_cfg = hf_cache / "models--acme--llama-7b" / "snapshots" / COMMIT_A / "config.json"
    assert snapshot_cfg.is_symlink()  # the real layout: snapshot entries point into blobs/

    main = resolve("acme/llama-7b", options=opts)
    assert isinstance(main, Resolved)
    assert main.source == "hf-cache"
    assert main.label == "acme/llama-7b"
    assert main.config["num_hidden_layers"] == 3
    assert main.location == str(snapshot_cfg)
    assert main.config_text == snapshot_cfg.read_text()

    by_branch = resolve("acme/llama-7b", revision="v2", options=opts)
    assert isinstance(by_branch, Resolved) and by_branch.config["num_hidden_layers"] == 5
    by_commit = resolve("acme/llama-7b", revision=COMMIT_A, options=opts)
    assert isinstance(by_commit, Resolved) and by_commit.config["num_hidden_layers"] == 3
    by_other_commit = resolve("acme/llama-7b", revision=COMMIT_B, options=opts)
    assert isinstance(by_other_commit, Resolved) and by_other_commit.config["num_hidden_layers"] == 5

    missing = resolve("acme/llama-7b", revision="no-such-branch", options=opts)
    assert isinstance(missing, Unresolved)
    assert "no-such-branch" in missing.reason


def test_hf_cache_wins_over_bundled(hf_cache: Path, opts: ResolveOptions) -> None:
    add_to_hf_cache(hf_cache, "gpt2", {"config.json": json.dumps({"model_type": "gpt2", "n_layer": 2})}, commit=COMMIT_A)
    res = resolve("gpt2", options=opts)
    assert isinstance(res, Resolved) and res.source == "hf-cache" and res.config["n_layer"] == 2


def test_hf_cache_broken_json(hf_cache: Path, opts: ResolveOptions) -> None:
    add_to_hf_cache(hf_cache, "acme/broken", {"config.json": '{"model_type": "llama",'}, commit=COMMIT_A)
    res = resolve("acme/broken", options=opts)
    assert isinstance(res, Unresolved)
    assert "not valid JSON" in res.reason and "delete the cached file" in res.reason


def test_default_cache_honours_env(tmp_path: Path) -> None:
    """A fresh process reads HF_HUB_CACHE / HF_HOME like huggingface_hub does."""
    hub = tmp_path / "custom-hub"
    add_to_hf_cache(hub, "acme/env-model", {"config.json": _config()}, commit=COMMIT_A)
    home = tmp_path / "hf-home"
    add_to_hf_cache(home / "hub", "acme/home-model", {"config.json": _config()}, commit=COMMIT_A)
    code = (
        "import sys; from peftlint.model.resolve import resolve, ResolveOptions\n"
        "r = resolve(sys.argv[1], options=ResolveOptions())\n"
        "print(getattr(r, 'source', 'unresolved'))"
    )
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    base_env["PYTHONPATH"] = str(REPO_ROOT)
    for ref, extra in (("acme/env-model", {"HF_HUB_CACHE": str(hub)}), ("acme/home-model", {"HF_HOME": str(home)})):
        out = subprocess.run(
            [sys.executable, "-c", code, ref], env={**base_env, **extra}, capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == "hf-cache", out.stderr


# -- local directories ----------------------------------------------------------------------------


def test_local_dir_relative_to_base_dir(tmp_path: Path, opts: ResolveOptions) -> None:
    project = tmp_path / "project"
    (project / "models" / "tiny").mkdir(parents=True)
    (project / "models" / "tiny" / "config.json").write_text(_config(num_hidden_layers=2))
    res = resolve("models/tiny", base_dirs=[str(project)], options=opts)
    assert isinstance(res, Resolved)
    assert res.source == "local" and res.label == "models/tiny"
    assert res.location == str(project / "models" / "tiny" / "config.json")
    assert res.config["num_hidden_layers"] == 2


def test_local_dir_relative_to_cwd(tmp_path: Path, opts: ResolveOptions, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "config.json").write_text(_config())
    monkeypatch.chdir(tmp_path)
    res = resolve("./ckpt", base_dirs=[str(tmp_path / "elsewhere")], options=opts)
    assert isinstance(res, Resolved) and res.source == "local" and res.label == "./ckpt"


def test_base_dir_wins_over_cwd(tmp_path: Path, opts: ResolveOptions, monkeypatch: pytest.MonkeyPatch) -> None:
    for where, layers in (("a", 1), ("b", 7)):
        (tmp_path / where / "m").mkdir(parents=True)
        (tmp_path / where / "m" / "config.json").write_text(_config(num_hidden_layers=layers))
    monkeypatch.chdir(tmp_path / "a")
    res = resolve("m", base_dirs=[str(tmp_path / "b")], options=opts)
    assert isinstance(res, Resolved) and res.config["num_hidden_layers"] == 7


def test_local_dir_shadows_hub_id(tmp_path: Path, opts: ResolveOptions, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "gpt2").mkdir()
    (tmp_path / "gpt2" / "config.json").write_text(json.dumps({"model_type": "gpt2", "n_layer": 1}))
    monkeypatch.chdir(tmp_path)
    res = resolve("gpt2", options=opts)
    assert isinstance(res, Resolved) and res.source == "local"


def test_path_to_config_file(tmp_path: Path, opts: ResolveOptions) -> None:
    cfg = tmp_path / "config.json"
    cfg.write_text(_config())
    res = resolve(str(cfg), options=opts)
    assert isinstance(res, Resolved) and res.source == "local" and res.location == str(cfg)


def test_local_broken_json(tmp_path: Path, opts: ResolveOptions) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "config.json").write_text('{\n  "model_type": "llama",\n  oops\n}')
    res = resolve("bad", base_dirs=[str(tmp_path)], options=opts)
    assert isinstance(res, Unresolved)
    assert "not valid JSON" in res.reason and "line 3" in res.reason and "fix the file" in res.reason


def test_local_json_not_an_object(tmp_path: Path, opts: ResolveOptions) -> None:
    (tmp_path / "arr").mkdir()
    (tmp_path / "arr" / "config.json").write_text("[1, 2]")
    res = resolve("arr", base_dirs=[str(tmp_path)], options=opts)
    assert isinstance(res, Unresolved) and "JSON object" in res.reason


def test_local_dir_without_config(tmp_path: Path, opts: ResolveOptions) -> None:
    (tmp_path / "adapter-only").mkdir()
    res = resolve("./adapter-only", base_dirs=[str(tmp_path)], options=opts)
    assert isinstance(res, Unresolved)
    assert "has no config.json" in res.reason


# -- bundled set ----------------------------------------------------------------------------------


@pytest.mark.parametrize("hub_id", sorted(bundled_index()))
def test_every_bundled_model_resolves(hub_id: str, opts: ResolveOptions) -> None:
    res = resolve(hub_id, options=opts)
    assert isinstance(res, Resolved), res
    assert res.source == "bundled" and res.label == hub_id
    assert "_source" not in res.config
    if bundled_index()[hub_id].get("library") == "diffusers":
        assert res.library == "diffusers" and isinstance(res.config.get("_class_name"), str)
    else:
        assert isinstance(res.config.get("model_type"), str)
    assert res.needs_remote_code is False


def test_bundled_legacy_and_namespaced_ids(opts: ResolveOptions) -> None:
    for legacy, namespaced in (
        ("gpt2", "openai-community/gpt2"),
        ("t5-small", "google-t5/t5-small"),
        ("roberta-base", "FacebookAI/roberta-base"),
        ("bert-base-uncased", "google-bert/bert-base-uncased"),
    ):
        a, b = resolve(legacy, options=opts), resolve(namespaced, options=opts)
        assert isinstance(a, Resolved) and isinstance(b, Resolved)
        assert a.config_text == b.config_text
        assert b.label == namespaced


def test_bundled_case_insensitive(opts: ResolveOptions) -> None:
    res = resolve("META-LLAMA/llama-2-7b-HF", options=opts)
    assert isinstance(res, Resolved) and res.source == "bundled"
    assert res.config["num_hidden_layers"] == 32


def test_remote_code_flags(tmp_path: Path, opts: ResolveOptions) -> None:
    phi3 = resolve("microsoft/Phi-3-mini-4k-instruct", options=opts)
    assert isinstance(phi3, Resolved)
    assert phi3.has_auto_map and not phi3.needs_remote_code  # phi3 is native in transformers 5

    (tmp_path / "custom").mkdir()
    (tmp_path / "custom" / "config.json").write_text(
        json.dumps({"model_type": "my_fancy_lm", "auto_map": {"AutoModelForCausalLM": "modeling_fancy.FancyLM"}})
    )
    custom = resolve("custom", base_dirs=[str(tmp_path)], options=opts)
    assert isinstance(custom, Resolved) and custom.needs_remote_code and custom.has_auto_map

    (tmp_path / "unknown").mkdir()
    (tmp_path / "unknown" / "config.json").write_text(json.dumps({"model_type": "not_in_transformers"}))
    unknown = resolve("unknown", base_dirs=[str(tmp_path)], options=opts)
    assert isinstance(unknown, Resolved) and unknown.needs_remote_code and not unknown.has_auto_map


# -- aliases --------------------------------------------------------------------------------------


def test_alias_to_hub_id(opts: ResolveOptions) -> None:
    opts.aliases = {"base": "meta-llama/Llama-2-7b-hf"}
    res = resolve("base", options=opts)
    assert isinstance(res, Resolved)
    assert res.ref == "meta-llama/Llama-2-7b-hf" and res.label == "meta-llama/Llama-2-7b-hf"


def test_alias_to_local_path_relative_to_config_dir(tmp_path: Path, opts: ResolveOptions) -> None:
    (tmp_path / "weights" / "v1").mkdir(parents=True)
    (tmp_path / "weights" / "v1" / "config.json").write_text(_config(num_hidden_layers=4))
    opts.aliases = {"mine": "weights/v1"}
    opts.config_dir = str(tmp_path)
    res = resolve("mine", options=opts)
    assert isinstance(res, Resolved) and res.source == "local" and res.config["num_hidden_layers"] == 4


def test_alias_cycle_does_not_hang(opts: ResolveOptions) -> None:
    opts.aliases = {"a": "b", "b": "a"}
    assert isinstance(resolve("a", options=opts), Unresolved)


# -- unresolved -----------------------------------------------------------------------------------


def test_unresolved_reason_is_actionable(opts: ResolveOptions, hf_cache: Path) -> None:
    res = resolve("acme/never-heard-of-it", options=opts)
    assert isinstance(res, Unresolved)
    assert res.ref == "acme/never-heard-of-it"
    for part in ("not a local directory", "not in the Hugging Face cache", str(hf_cache), "not bundled", "--online", "--model"):
        assert part in res.reason


def test_unresolved_path(opts: ResolveOptions) -> None:
    res = resolve("./no/such/dir", options=opts)
    assert isinstance(res, Unresolved)
    assert "not a local directory" in res.reason and "--online" not in res.reason


def test_empty_ref(opts: ResolveOptions) -> None:
    assert isinstance(resolve("", options=opts), Unresolved)


# -- online ---------------------------------------------------------------------------------------


@pytest.fixture
def allow_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test session runs with HF_HUB_OFFLINE=1; the online tests talk to a local server only."""
    from huggingface_hub import constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)


@pytest.mark.usefixtures("allow_network")
def test_online_download_into_hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    hub_cache = tmp_path / "env-hub-cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(hub_cache))
    # huggingface_hub read the environment when it was imported; mirror the new value
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hub_cache))
    text = _config(num_hidden_layers=9)
    with fake_hub({"acme/remote-llama": {"config.json": text}}) as hub:
        offline = resolve("acme/remote-llama", options=ResolveOptions(endpoint=hub.url))
        assert isinstance(offline, Unresolved)
        assert hub.requests == []  # online=False never touches the server

        res = resolve("acme/remote-llama", options=ResolveOptions(online=True, endpoint=hub.url))
        assert isinstance(res, Resolved), res
        assert res.source == "online" and res.config_text == text and res.config["num_hidden_layers"] == 9
        assert Path(res.location).is_relative_to(hub_cache)
        assert [m for m, _ in hub.requests if m == "GET"] == ["GET"]
        assert all(p == "/acme/remote-llama/resolve/main/config.json" for _, p in hub.requests)

        # now it is in the Hugging Face cache: found without the network
        before = len(hub.requests)
        again = resolve("acme/remote-llama", options=ResolveOptions(endpoint=hub.url))
        assert isinstance(again, Resolved) and again.source == "hf-cache"
        assert len(hub.requests) == before


@pytest.mark.usefixtures("allow_network")
def test_online_revision_and_missing_file(tmp_path: Path) -> None:
    with fake_hub({"acme/a": {"config.json": _config()}, "acme/no-config": {"README.md": "hi"}}) as hub:
        opts = ResolveOptions(online=True, endpoint=hub.url, hf_cache_dir=str(tmp_path))
        res = resolve("acme/a", revision="v1.0", options=opts)
        assert isinstance(res, Resolved) and res.revision == "v1.0"
        assert ("GET", "/acme/a/resolve/v1.0/config.json") in hub.requests

        missing = resolve("acme/no-config", options=opts)
        assert isinstance(missing, Unresolved) and "config.json" in missing.reason


@pytest.mark.usefixtures("allow_network")
def test_online_unknown_repo(tmp_path: Path) -> None:
    with fake_hub({}) as hub:
        res = resolve("acme/x", options=ResolveOptions(online=True, endpoint=hub.url, hf_cache_dir=str(tmp_path)))
    assert isinstance(res, Unresolved)
    assert "acme/x does not exist on the Hugging Face Hub" in res.reason


@pytest.mark.usefixtures("allow_network")
def test_online_unreachable_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What hf_hub_download raises when the connection fails (after its own retries, which take
    long enough that the test simulates them)."""
    import huggingface_hub
    from huggingface_hub.errors import LocalEntryNotFoundError

    def unreachable(*args: object, **kwargs: object) -> str:
        try:
            raise ConnectionError("[Errno 111] Connection refused")
        except ConnectionError as exc:
            raise LocalEntryNotFoundError("An error happened while trying to locate the file on the Hub") from exc

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", unreachable)
    res = resolve(
        "acme/x", options=ResolveOptions(online=True, endpoint="http://127.0.0.1:9", hf_cache_dir=str(tmp_path))
    )
    assert isinstance(res, Unresolved)
    assert "could not reach http://127.0.0.1:9" in res.reason and "Connection refused" in res.reason


@pytest.mark.usefixtures("allow_network")
def test_online_prefers_local_sources(tmp_path: Path) -> None:
    with fake_hub({"gpt2": {"config.json": "{}"}}) as hub:
        res = resolve("gpt2", options=ResolveOptions(online=True, endpoint=hub.url, hf_cache_dir=str(tmp_path)))
        assert isinstance(res, Resolved) and res.source == "bundled"
        assert hub.requests == []


# -- import cost ----------------------------------------------------------------------------------


def test_online_with_hf_hub_offline_explains(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with fake_hub({"acme/a": {"config.json": _config()}}) as hub:
        res = resolve("acme/a", options=ResolveOptions(online=True, endpoint=hub.url, hf_cache_dir=str(tmp_path)))
        assert isinstance(res, Unresolved) and "HF_HUB_OFFLINE" in res.reason
        assert hub.requests == []


def test_resolve_imports_no_heavy_packages(tmp_path: Path) -> None:
    code = (
        "import sys, json\n"
        "from peftlint.model.resolve import resolve, ResolveOptions\n"
        f"r = resolve('gpt2', options=ResolveOptions(hf_cache_dir={str(tmp_path)!r}))\n"
        "r2 = resolve('acme/missing', options=ResolveOptions(hf_cache_dir=" + repr(str(tmp_path)) + "))\n"
        "print(json.dumps([r.source, sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'peft'))]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) == ["bundled", []]
