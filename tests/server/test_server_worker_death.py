"""A model build whose worker process dies (killed as the out-of-memory killer kills) costs the
server nothing but that model: the document gets the note the command line gives for a model that
could not be built, the death is logged, and a new worker process builds the next model while the
server goes on answering. The worker kills itself when it starts the build (see
``support/serve_dying_builds.py``): no timing is involved."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, client_capabilities
from support.helpers_hf import TINY_SHAPE
from support.lsputil import MODEL, diagnostics, open_doc, position_of, python_text

DYING = Path(__file__).resolve().parents[1] / "support" / "serve_dying_builds.py"


def _tiny_llama(folder: Path, vocab_size: int, **extra: object) -> Path:
    folder.mkdir()
    config = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], **TINY_SHAPE, "vocab_size": vocab_size,
              **extra}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def _ends(client: object, model: Path) -> list[str]:
    """The end messages of the work-done progress of each build of ``model``."""
    reports = getattr(client, "progress_reports").values()
    return [r[-1].message for r in reports
            if r and str(model) in r[0].title and isinstance(r[-1], lsp.WorkDoneProgressEnd)]


@pytest.mark.asyncio
async def test_a_build_whose_worker_process_dies_leaves_the_server_answering(tmp_path: Path) -> None:
    client = await ClientServerConfig(server_command=[sys.executable, str(DYING)]).start()
    try:
        await client.initialize_session(lsp.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"), root_uri=tmp_path.as_uri()))
        dies = _tiny_llama(tmp_path / "dies", 331, peftlint_test_dies=True)
        text = python_text('["q_proj", "qproj"]').replace(MODEL, str(dies))
        uri = open_doc(client, tmp_path / "dies.py", text)
        [note] = await diagnostics(client, uri)  # the model-free rules ran; PFT101 needs the model
        assert note.code == "PFT901" and f"base model '{dies}' could not be built on the meta device" in note.message
        [died] = [m for m in client.log_messages if "worker process died" in m.message]
        assert died.type == lsp.MessageType.Error and "killed by SIGKILL" in died.message
        assert "peftlint.model.load.build_and_store" in died.message
        assert _ends(client, dies) == [f"{dies} could not be built"]

        # the server answers on the document whose build died
        hover = await client.text_document_hover_async(lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), position=position_of(text, "LoraConfig(", 2)))
        assert hover is not None and "LoraConfig" in hover.contents.value

        # and a new worker process builds the next model
        lives = _tiny_llama(tmp_path / "lives", 332)
        text = python_text('["q_proj", "qproj", ""]').replace(MODEL, str(lives))
        other = open_doc(client, tmp_path / "lives.py", text)
        # PFT101 needs the model; PFT203 is the empty entry completion is asked in
        assert sorted(d.code for d in await diagnostics(client, other)) == ["PFT101", "PFT203"]
        assert _ends(client, lives) == [f"{lives} built"]
        got = await client.text_document_completion_async(lsp.CompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=other), position=position_of(text, '""]', 1)))
        assert got is not None and {"q_proj", "down_proj"} <= {i.label for i in got.items}
        hover = await client.text_document_hover_async(lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=other), position=position_of(text, '"q_proj"', 3)))
        assert hover is not None and f"matches **2** modules of `{lives}`" in hover.contents.value
        assert len([m for m in client.log_messages if "worker process" in m.message]) == 1
        await client.shutdown_session()
    finally:
        await client.stop()
