"""A warm server session (the model's inventory cached) imports neither torch, transformers nor
peft; a buffer whose model is not cached yet makes the server build it (and import torch), off the
request path, and its diagnostics arrive when the build is done."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, client_capabilities
from support.lintutil import lint
from support.lsputil import diagnostics, open_doc, python_text

RECORDER = Path(__file__).resolve().parents[1] / "support" / "serve_recording_imports.py"
MODELS = Path(__file__).resolve().parents[2] / "peftlint" / "data" / "models"


async def _session(workspace: Path, record: Path, docs: dict[str, str]) -> dict[str, list[str]]:
    """Open ``docs`` in one server session; the codes of each one's diagnostics."""
    client = await ClientServerConfig(server_command=[sys.executable, str(RECORDER), str(record)]).start()
    try:
        await client.initialize_session(lsp.InitializeParams(
            capabilities=client_capabilities("neovim"), root_uri=workspace.as_uri()))
        codes = {}
        for name, text in docs.items():
            uri = open_doc(client, workspace / name, text)
            codes[name] = [d.code for d in await diagnostics(client, uri)]
        await client.shutdown_session()
    finally:
        await client.stop()
    return codes


@pytest.mark.asyncio
async def test_warm_session_imports_no_torch_until_a_model_is_built(tmp_path: Path) -> None:
    warm = python_text('["q_proj", "qproj"]')
    (tmp_path / "warm.py").write_text(warm, encoding="utf-8")
    lint(tmp_path, "warm.py")  # the command line caches Llama-3.2-1B's inventory and peft's facts
    (tmp_path / "warm.py").unlink()

    record = tmp_path / "imports.txt"
    assert await _session(tmp_path, record, {"a.py": warm}) == {"a.py": ["PFT101"]}
    assert record.read_text(encoding="utf-8") == ""

    # a local model no run has built: its config is new (two layers of gpt2)
    config = json.loads((MODELS / "gpt2.json").read_text(encoding="utf-8")) | {"n_layer": 2}
    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "config.json").write_text(json.dumps(config), encoding="utf-8")
    cold = warm.replace("meta-llama/Llama-3.2-1B", "./tiny")
    got = await _session(tmp_path, record, {"a.py": warm, "b.py": cold})
    assert got == {"a.py": ["PFT101"], "b.py": ["PFT101", "PFT101"]}  # gpt2 has neither name
    assert "torch" in record.read_text(encoding="utf-8").split()
