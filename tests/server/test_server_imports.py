"""The server process imports neither torch, transformers nor peft: a warm session (the model's
inventory cached) needs none of them, and what a cold one needs (a model built on the meta device,
peft's facts and verdicts, transformers' model types) is done by the server's worker process, which
stores it in the cache; the diagnostics arrive when it is done."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, client_capabilities
from support.helpers_hf import TINY_SHAPE, add_to_hf_cache
from support.lintutil import lint
from support.lsputil import MODEL, diagnostics, open_doc, python_text

RECORDER = Path(__file__).resolve().parents[1] / "support" / "serve_recording_imports.py"
MODELS = Path(__file__).resolve().parents[2] / "peftlint" / "data" / "models"


async def _session(workspace: Path, record: Path, docs: dict[str, str],
                   env: dict[str, str] | None = None) -> tuple[dict[str, list[str]], list[str]]:
    """Open ``docs`` in one server session: the codes of each one's diagnostics, and the end messages
    of the session's work-done progress (its model builds)."""
    client = await ClientServerConfig(server_command=[sys.executable, str(RECORDER), str(record)],
                                      server_env=env).start()
    try:
        await client.initialize_session(lsp.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"), root_uri=workspace.as_uri()))
        codes = {}
        for name, text in docs.items():
            uri = open_doc(client, workspace / name, text)
            codes[name] = [d.code for d in await diagnostics(client, uri)]
        ends = [r[-1].message for r in client.progress_reports.values()
                if r and isinstance(r[-1], lsp.WorkDoneProgressEnd)]
        await client.shutdown_session()
    finally:
        await client.stop()
    return codes, ends


@pytest.mark.asyncio
async def test_a_session_imports_no_torch_when_a_model_is_built(tmp_path: Path) -> None:
    warm = python_text('["q_proj", "qproj"]')
    (tmp_path / "warm.py").write_text(warm, encoding="utf-8")
    lint(tmp_path, "warm.py")  # the command line caches Llama-3.2-1B's inventory and peft's facts
    (tmp_path / "warm.py").unlink()

    record = tmp_path / "imports.txt"
    assert await _session(tmp_path, record, {"a.py": warm}) == ({"a.py": ["PFT101"]}, [])
    assert record.read_text(encoding="utf-8") == "pygls"

    # a local model no run has built: its config is new (two layers of gpt2)
    config = json.loads((MODELS / "gpt2.json").read_text(encoding="utf-8")) | {"n_layer": 2}
    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "config.json").write_text(json.dumps(config), encoding="utf-8")
    cold = warm.replace("meta-llama/Llama-3.2-1B", "./tiny")
    got = await _session(tmp_path, record, {"a.py": warm, "b.py": cold})
    assert got == ({"a.py": ["PFT101"], "b.py": ["PFT101", "PFT101"]}, ["./tiny built"])  # gpt2 has neither name
    assert record.read_text(encoding="utf-8") == "pygls"  # built by the worker process


@pytest.mark.asyncio
async def test_a_cold_session_leaves_every_heavy_import_to_the_worker_process(tmp_path: Path) -> None:
    """Nothing cached: the model (a tiny llama in a Hugging Face cache), peft's facts, its verdict
    on the config and transformers' model types are all asked of the worker process."""
    cache, hub = tmp_path / "peftlint-cache", tmp_path / "hf-cache"
    config = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], **TINY_SHAPE, "vocab_size": 341}
    add_to_hf_cache(hub, "acme/tiny-llama", {"config.json": json.dumps(config)}, commit="a" * 40)
    env = {**os.environ, "PEFTLINT_CACHE_DIR": str(cache), "HF_HUB_CACHE": str(hub)}
    text = python_text('["q_proj", "qproj"]').replace(MODEL, "acme/tiny-llama")

    record = tmp_path / "imports.txt"
    got = await _session(tmp_path, record, {"a.py": text}, env)
    assert got == ({"a.py": ["PFT101"]}, ["acme/tiny-llama built"])
    assert record.read_text(encoding="utf-8") == "pygls"
    stored = {entry.name.split("-")[0] for entry in cache.iterdir()}
    assert {"inventory", "peftfacts", "peftcheck", "modeltypes"} <= stored, stored
