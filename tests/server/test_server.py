"""``peftlint server`` driven by a real LSP client (pytest-lsp) over stdio, on unsaved buffers of a
workspace, with a bundled model (meta-llama/Llama-3.2-1B: 16 layers), offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from support.helpers_hf import TINY_SHAPE
from support.lsputil import MODEL, SERVER, apply, diagnostics, open_doc, position_of, python_text

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("workspace")


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient, workspace: Path):
    await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), root_uri=workspace.as_uri(),
        workspace_folders=[lsp.WorkspaceFolder(uri=workspace.as_uri(), name="ws")]))
    yield
    await lsp_client.shutdown_session()


async def test_diagnostics_on_open_of_an_unsaved_buffer(client: LanguageClient, workspace: Path) -> None:
    text = python_text('["q_proj", "qproj"]')
    uri = open_doc(client, workspace / "open.py", text)  # never written to disk
    found = [d for d in await diagnostics(client, uri) if d.code == "PFT101"]
    assert len(found) == 1
    [d] = found
    assert d.source == "peftlint" and d.severity == lsp.DiagnosticSeverity.Error
    assert "`qproj` matches no module of meta-llama/Llama-3.2-1B" in d.message
    assert d.range.start == position_of(text, '"qproj"') and d.range.end == position_of(text, '"qproj"', 7)
    assert d.code_description is not None and d.code_description.href.endswith("#pft101")
    assert d.related_information and "meta-llama/Llama-3.2-1B" in d.related_information[0].message
    assert not (workspace / "open.py").exists()


async def test_diagnostics_follow_changes_of_the_buffer(client: LanguageClient, workspace: Path) -> None:
    text = python_text('["q_proj", "v_proj"]')
    uri = open_doc(client, workspace / "change.py", text)
    assert [d.code for d in await diagnostics(client, uri)] == []
    start = position_of(text, '"v_proj"', 1)
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[lsp.TextDocumentContentChangePartial(
            range=lsp.Range(start=start, end=lsp.Position(line=start.line, character=start.character + 1)),
            text="")]))  # "v_proj" -> "_proj"
    assert [(d.code, d.range.start.character) for d in await diagnostics(client, uri)] == [
        ("PFT101", start.character - 1)]


async def test_quick_fix_and_fix_all_are_applied(client: LanguageClient, workspace: Path) -> None:
    text = python_text('["q_proj", "v_proj", "q_proj"]')
    uri = open_doc(client, workspace / "fix.py", text)
    found = await diagnostics(client, uri)
    dups = [d for d in found if d.code == "PFT204"]
    assert len(dups) == 1, (found, [m.message for m in client.log_messages])
    [dup] = dups
    got = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), range=dup.range,
        context=lsp.CodeActionContext(diagnostics=[dup])))
    [fix] = [a for a in got if a.kind == lsp.CodeActionKind.QuickFix and "PFT204" in a.title and "noqa" not in a.title]
    assert fix.is_preferred and fix.diagnostics and fix.diagnostics[0].code == "PFT204"
    fixed = apply(text, fix.edit.changes[uri])
    assert fixed == python_text('["q_proj", "v_proj"]')
    [fix_all] = [a for a in got if a.kind == "source.fixAll.peftlint"]
    assert apply(text, fix_all.edit.changes[uri]) == fixed
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=fixed)]))
    assert [d.code for d in await diagnostics(client, uri)] == []


async def test_noqa_action_silences_the_finding(client: LanguageClient, workspace: Path) -> None:
    text = python_text('["q_proj", "qproj"]')
    uri = open_doc(client, workspace / "noqa.py", text)
    [d] = [d for d in await diagnostics(client, uri) if d.code == "PFT101"]
    got = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), range=d.range, context=lsp.CodeActionContext(diagnostics=[d])))
    [unsafe] = [a for a in got if "unsafe fix" in a.title]  # PFT101's fix drops the entry: unsafe, not preferred
    assert unsafe.title == "Remove `qproj` (`q_proj` already targeted) (PFT101, unsafe fix: check the result)"
    assert not unsafe.is_preferred and apply(text, unsafe.edit.changes[uri]) == python_text('["q_proj"]')
    [noqa] = [a for a in got if "# noqa: PFT101" in a.title]
    silenced = apply(text, noqa.edit.changes[uri])
    assert silenced == python_text('["q_proj", "qproj"]', "  # noqa: PFT101")
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=silenced)]))
    assert [d.code for d in await diagnostics(client, uri)] == []


async def test_hover_counts_the_matched_modules(client: LanguageClient, workspace: Path) -> None:
    text = python_text('["q_proj", "down_proj"]')
    uri = open_doc(client, workspace / "hover.py", text)
    got = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=position_of(text, '"q_proj"', 3)))
    assert got is not None
    body = got.contents.value
    assert "`q_proj` (target_modules) matches **16** modules of `meta-llama/Llama-3.2-1B`" in body
    assert "16 × Linear 2048→2048 · query projection" in body and "in 16 of 16 layers" in body
    assert "`model.layers.0.self_attn.q_proj`" in body
    got = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=position_of(text, '"down_proj"', 1)))
    assert "matches **16** modules" in got.contents.value and "8192→2048 · MLP down projection" in got.contents.value


async def test_hover_on_the_config_names_its_model(client: LanguageClient, workspace: Path) -> None:
    text = python_text('["q_proj"]')
    uri = open_doc(client, workspace / "config_hover.py", text)
    got = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=position_of(text, "LoraConfig(", 2)))
    assert got.contents.value == ("**LoraConfig** checked against `meta-llama/Llama-3.2-1B` (AutoModelForCausalLM"
                                  ".from_pretrained() at line 4, the only model loaded in this module)")


async def test_hover_on_all_linear_gives_the_expansion(client: LanguageClient, workspace: Path) -> None:
    text = python_text('"all-linear"')
    uri = open_doc(client, workspace / "all_linear.py", text)
    got = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=position_of(text, '"all-linear"', 4)))
    body = got.contents.value
    assert "matches **112** modules" in body  # 7 projections x 16 layers; lm_head left out
    assert "16 × Linear 2048→8192 · MLP up projection" in body and "lm_head" not in body


async def test_completion_lists_the_models_module_names(client: LanguageClient, workspace: Path) -> None:
    text = python_text('["q_proj", ""]')
    uri = open_doc(client, workspace / "complete.py", text)
    at = position_of(text, '""]', 1)
    got = await client.text_document_completion_async(lsp.CompletionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=at))
    labels = [i.label for i in got.items]
    assert {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"} <= set(labels)
    assert "all-linear" not in labels  # a list entry "all-linear" is PFT202
    q = next(i for i in got.items if i.label == "q_proj")
    assert q.detail == "Linear × 16 · query projection"
    assert q.text_edit.range == lsp.Range(start=at, end=at)  # between the quotes


async def test_one_failing_document_leaves_the_server_answering(client: LanguageClient, workspace: Path) -> None:
    broken = workspace / "broken"
    broken.mkdir()
    (broken / "pyproject.toml").write_text("[tool.peftlint]\nselect = 3\n", encoding="utf-8")
    uri = open_doc(client, broken / "train.py", python_text('["qproj"]'))
    assert await diagnostics(client, uri) == []
    assert any("broken/train.py not linted" in m.message and "select has the wrong type" in m.message
               and m.type == lsp.MessageType.Error for m in client.log_messages)
    text = python_text('["q_proj", "qproj"]')
    other = open_doc(client, workspace / "after_failure.py", text)
    assert [d.code for d in await diagnostics(client, other)] == ["PFT101"]


async def test_notebook_cells_are_linted_as_one_notebook(client: LanguageClient, workspace: Path) -> None:
    nb_uri = (workspace / "train.ipynb").as_uri()
    sources = ["from peft import LoraConfig\nfrom transformers import AutoModelForCausalLM\n",
               "# setup\n",
               'model = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-3.2-1B")\n'
               'config = LoraConfig(target_modules=["q_proj", "qproj", "q_proj"])']
    kinds = [lsp.NotebookCellKind.Code, lsp.NotebookCellKind.Markup, lsp.NotebookCellKind.Code]
    cells = [f"vscode-notebook-cell:{workspace}/train.ipynb#C{i}" for i in range(3)]
    client.notebook_document_did_open(lsp.DidOpenNotebookDocumentParams(
        notebook_document=lsp.NotebookDocument(
            uri=nb_uri, notebook_type="jupyter-notebook", version=1,
            cells=[lsp.NotebookCell(kind=k, document=c) for k, c in zip(kinds, cells)]),
        cell_text_documents=[lsp.TextDocumentItem(uri=c, language_id="python" if k == lsp.NotebookCellKind.Code
                                                  else "markdown", version=1, text=t)
                             for c, k, t in zip(cells, kinds, sources)]))
    found = await diagnostics(client, cells[2])
    assert await diagnostics(client, cells[0]) == []
    by_code = {d.code: d for d in found}
    assert set(by_code) == {"PFT101", "PFT204"}
    assert by_code["PFT101"].range.start == position_of(sources[2], '"qproj"')  # in the cell's own lines
    assert by_code["PFT101"].message.endswith("(cell 3, line 2)")
    got = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=cells[2]), range=by_code["PFT204"].range,
        context=lsp.CodeActionContext(diagnostics=[by_code["PFT204"]])))
    [fix] = [a for a in got if a.is_preferred]
    assert list(fix.edit.changes) == [cells[2]]
    assert apply(sources[2], fix.edit.changes[cells[2]]).endswith('LoraConfig(target_modules=["q_proj", "qproj"])')
    [noqa] = [a for a in got if "# noqa: PFT204" in a.title]
    assert apply(sources[2], noqa.edit.changes[cells[2]]).endswith('"q_proj"])  # noqa: PFT204')


async def test_python_text_under_a_notebook_name_is_linted_as_python(client: LanguageClient, workspace: Path) -> None:
    """jupyterlab-lsp sends a notebook's code cells as one Python document named after the notebook."""
    text = python_text('["q_proj", "qproj"]')
    uri = open_doc(client, workspace / ".virtual_documents" / "nb.ipynb", text, language="python")
    assert [d.code for d in await diagnostics(client, uri)] == ["PFT101"]


async def test_json_that_is_not_an_adapter_config_is_left_alone(client: LanguageClient, workspace: Path) -> None:
    uri = open_doc(client, workspace / "package.json", '{"name": "x", "target_modules": 3}', language="json")
    assert await diagnostics(client, uri) == []


def _builds(client: LanguageClient, model: str) -> list[list[object]]:
    """The progress reports of each work-done progress whose title names ``model``."""
    return [reports for reports in client.progress_reports.values()
            if reports and isinstance(reports[0], lsp.WorkDoneProgressBegin) and model in reports[0].title]


async def test_a_model_build_is_shown_as_progress_then_the_diagnostics_come(
        client: LanguageClient, workspace: Path) -> None:
    # a local model no run has built: a tiny llama of its own (the config text is the cache key)
    tiny = workspace / "tiny-llama-progress"
    tiny.mkdir()
    config = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], **TINY_SHAPE, "vocab_size": 321}
    (tiny / "config.json").write_text(json.dumps(config), encoding="utf-8")
    text = python_text('["q_proj", "qproj"]').replace(MODEL, str(tiny))
    uri = open_doc(client, workspace / "builds.py", text)
    found = await diagnostics(client, uri)
    assert [(d.code, str(tiny) in d.message) for d in found] == [("PFT101", True)]
    [build] = _builds(client, str(tiny))
    begin, end = build  # begin, then end: the build is over before the lint that needed it is published
    assert isinstance(begin, lsp.WorkDoneProgressBegin) and begin.title == f"peftlint: building {tiny}"
    assert begin.message == "as AutoModelForCausalLM, on the meta device"
    assert isinstance(end, lsp.WorkDoneProgressEnd) and end.message == f"{tiny} built"
    # its inventory is cached now: another buffer on the same model builds nothing
    again = open_doc(client, workspace / "builds_again.py", text)
    assert [d.code for d in await diagnostics(client, again)] == ["PFT101"]
    assert len(_builds(client, str(tiny))) == 1
