"""While a model is built the server keeps answering: a client that holds back its answer to
``window/workDoneProgress/create`` keeps the server's worker inside the build step (it waits for
that answer before it begins the progress), so what the server answers meanwhile it answers during a
build, without any timing assumption."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, create_work_done_progress, register_lsp_features
from support.helpers_hf import TINY_SHAPE
from support.lsputil import MODEL, SERVER, diagnostics, open_doc, position_of, python_text


def _tiny_llama(folder: Path, vocab_size: int) -> Path:
    """A local model no run has built (the config text is the inventory's cache key)."""
    folder.mkdir()
    config = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], **TINY_SHAPE, "vocab_size": vocab_size}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


@pytest.mark.asyncio
async def test_the_server_answers_while_a_model_is_built(tmp_path: Path) -> None:
    asked, answer = asyncio.Event(), asyncio.Event()
    answer.set()

    async def held_create(client: LanguageClient, params: lsp.WorkDoneProgressCreateParams) -> None:
        asked.set()
        await answer.wait()
        create_work_done_progress(client, params)

    def factory() -> LanguageClient:
        client = LanguageClient(converter_factory=default_converter)
        register_lsp_features(client, {**DEFAULT_CLIENT_FEATURES, lsp.WINDOW_WORK_DONE_PROGRESS_CREATE: held_create})
        return client

    client = await ClientServerConfig(server_command=SERVER, client_factory=factory).start()
    try:
        await client.initialize_session(lsp.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"), root_uri=tmp_path.as_uri()))
        first = _tiny_llama(tmp_path / "first", 322)
        text = python_text('["q_proj", "qproj"]').replace(MODEL, str(first))
        linted = open_doc(client, tmp_path / "linted.py", text)
        assert [d.code for d in await diagnostics(client, linted)] == ["PFT101"]

        answer.clear()
        asked.clear()
        second = _tiny_llama(tmp_path / "second", 323)
        building = open_doc(client, tmp_path / "building.py", python_text('["qproj"]').replace(MODEL, str(second)))
        await asked.wait()  # the worker is in the build step of `second`, waiting for this client
        got = await client.text_document_hover_async(lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=linted), position=position_of(text, '"q_proj"', 3)))
        assert got is not None and f"matches **2** modules of `{first}`" in got.contents.value
        assert building not in client.diagnostics  # not linted yet: its build has not begun
        begun = [r[0].title for r in client.progress_reports.values() if r]
        assert begun == [f"peftlint: building {first}"]

        answer.set()
        assert [d.code for d in await diagnostics(client, building)] == ["PFT101"]
        [(begin, end)] = [r for r in client.progress_reports.values() if r and str(second) in r[0].title]
        assert isinstance(begin, lsp.WorkDoneProgressBegin) and isinstance(end, lsp.WorkDoneProgressEnd)
        assert end.message == f"{second} built"
        await client.shutdown_session()
    finally:
        await client.stop()
