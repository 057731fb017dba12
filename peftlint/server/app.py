"""The pygls server: document sync, diagnostics, code actions, hover, completion.

Linting runs on one worker thread (the ``Linter`` and its models are not shared between threads),
never on the event loop. What is heavy in a lint runs in the server's worker process
(``server/process.py``): a model build, peft's facts and verdicts on a cache miss, so the server
process never imports torch, transformers or peft, and a build that crashes or runs out of memory
does not take it down (the model "could not be built", the death is logged, the next build gets a
new process). A buffer whose model must be built gets its diagnostics when the build is done, and
meanwhile the server keeps reading and answering. The build is shown in the client as work-done
progress (``window/workDoneProgress/create``, ``$/progress`` begin and end) when the client
supports it. Requests that need the current lint of a document (hover, completion, code actions)
wait for it without blocking the loop; a document already linted in its current version is answered
at once, during a build too. A failure on one document is logged (``window/logMessage``) and the
server goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar
from urllib.parse import unquote, urlparse

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from peftlint import __version__
from peftlint.config import SettingsError
from peftlint.server import actions, entries
from peftlint.server.convert import Lines
from peftlint.server.documents import Linted, Projects, diagnostics_by_uri, uri_path
from peftlint.server.notebooks import Cell, NotebookText, write_notebook
from peftlint.server.process import WorkerProcess

T = TypeVar("T")

WORKER_NAME = "peftlint-lint"
# How long the worker waits for the client to accept a progress token before building without one.
PROGRESS_CREATE_TIMEOUT = 10.0


class PeftlintServer(LanguageServer):
    def __init__(self) -> None:
        cells = [lsp.NotebookCellLanguage(language="python"), lsp.NotebookCellLanguage(language="markdown")]
        super().__init__("peftlint", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
                         notebook_document_sync=lsp.NotebookDocumentSyncOptions(notebook_selector=[
                             lsp.NotebookDocumentFilterWithCells(cells=cells, notebook="jupyter-notebook")]))
        self.process = WorkerProcess(log=lambda message: self._log(lsp.MessageType.Error, message))
        self.projects = Projects(building=self.building, offload=self.process)
        self.linted: dict[str, Linted] = {}
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=WORKER_NAME)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._pending: set[str] = set()
        self._lock = threading.Lock()

    # -- running on the worker -----------------------------------------------------------------
    def schedule(self, uri: str) -> None:
        """Lint ``uri`` on the worker (once, however many changes arrive before it starts)."""
        self.loop = self.loop or asyncio.get_running_loop()
        with self._lock:
            if uri in self._pending:
                return
            self._pending.add(uri)
        self.worker.submit(self._lint_job, uri)

    def on_worker(self, fn: Callable[[], T]) -> "asyncio.Future[T]":
        self.loop = self.loop or asyncio.get_running_loop()
        return asyncio.wrap_future(self.worker.submit(fn))

    def _lint_job(self, uri: str) -> Linted | None:
        with self._lock:
            self._pending.discard(uri)
        return self.current(uri)

    def key(self, uri: str) -> str:
        """The document a URI's findings come from: a cell's notebook, else the URI itself."""
        nb = self.workspace.get_notebook_document(cell_uri=uri)
        return nb.uri if nb is not None else uri

    def _source(self, uri: str) -> tuple[int | None, str, Path, NotebookText | None] | None:
        """(version, text, path, notebook) of a document or notebook as it is now."""
        nb = self.workspace.get_notebook_document(notebook_uri=uri)
        if nb is not None:
            cells = [Cell(c.document, c.kind == lsp.NotebookCellKind.Code, self.workspace.get_text_document(c.document).source)
                     for c in nb.cells]
            written = write_notebook(cells)
            return nb.version, written.text, uri_path(uri, "jupyter", self.projects.root), written
        doc = self.workspace.text_documents.get(uri)
        if doc is None:
            return None
        return doc.version, doc.source, uri_path(uri, doc.language_id, self.projects.root), None

    def current(self, uri: str) -> Linted | None:
        """The lint of the document's current text (linted now if it is not yet); worker thread only."""
        uri = self.key(uri)
        now = self._source(uri)
        if now is None:
            return None
        version, text, path, notebook = now
        known = self.linted.get(uri)
        if known is not None and known.version == version and known.text == text:
            return known
        try:
            linted = self.projects.lint(uri, text, path, version, notebook)
        except SettingsError as exc:
            self._log(lsp.MessageType.Error, f"peftlint: {uri} not linted: {exc}")
            self._publish(uri, version, [])
            return None
        except Exception as exc:  # one document's failure must not stop the server
            self._log(lsp.MessageType.Error, f"peftlint: linting {uri} failed: {type(exc).__name__}: {exc}\n"
                                             + traceback.format_exc())
            self._publish(uri, version, [])
            return None
        for shown_in, pairs in diagnostics_by_uri(linted).items():
            self._publish(shown_in, version if notebook is None else None, [shown for _, shown in pairs])
        # stored after the diagnostics are queued: a request that finds this lint is answered after them
        self.linted[uri] = linted
        return linted

    @contextlib.contextmanager
    def building(self, model: str, model_class: str) -> Iterator[None]:
        """A model built on the worker: work-done progress in a client that supports it, ended when the
        build is (the document's diagnostics are published after it)."""
        token = self._progress_token()
        if token is not None:
            begin = lsp.WorkDoneProgressBegin(title=f"peftlint: building {model}", cancellable=False,
                                              message=f"as {model_class}, on the meta device")
            self._on_loop(lambda v: self.work_done_progress.begin(token, v), begin)
        ok = False
        try:
            yield
            ok = True
        finally:
            if token is not None:
                end = lsp.WorkDoneProgressEnd(message=f"{model} built" if ok else f"{model} could not be built")
                self._on_loop(lambda v: self.work_done_progress.end(token, v), end)

    def _progress_token(self) -> str | None:
        """A token the client accepted (``window/workDoneProgress/create``), or None when it cannot show
        progress or does not answer; asked from the worker, which waits for the answer."""
        window = self.client_capabilities.window
        if self.loop is None or not (window and window.work_done_progress):
            return None
        if not threading.current_thread().name.startswith(WORKER_NAME):
            return None  # on the event loop, waiting for the client's answer would stop the loop
        token = f"peftlint-build-{uuid.uuid4().hex}"
        try:
            asyncio.run_coroutine_threadsafe(self.work_done_progress.create_async(token), self.loop).result(
                timeout=PROGRESS_CREATE_TIMEOUT)
        except Exception as exc:  # refused, or no answer: build without progress
            self._log(lsp.MessageType.Warning, f"peftlint: no progress shown for a model build: {exc!r}")
            return None
        return token

    def _publish(self, uri: str, version: int | None, diagnostics: list[lsp.Diagnostic]) -> None:
        params = lsp.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=diagnostics)
        self._on_loop(self.text_document_publish_diagnostics, params)

    def _log(self, kind: lsp.MessageType, message: str) -> None:
        self._on_loop(self.window_log_message, lsp.LogMessageParams(type=kind, message=message))

    def _on_loop(self, fn: Callable[[Any], Any], arg: Any) -> None:
        if self.loop is not None and self.loop.is_running():
            self.loop.call_soon_threadsafe(fn, arg)
        else:
            fn(arg)

    async def fresh(self, uri: str) -> Linted | None:
        """The lint of the document as it is now (waits for the worker when it is behind)."""
        doc = self.workspace.text_documents.get(uri)
        known = self.linted.get(uri)
        if doc is not None and known is not None and known.version == doc.version and known.text == doc.source:
            return known
        return await self.on_worker(lambda: self.current(uri))

    def forget(self, uri: str) -> None:
        known = self.linted.pop(uri, None)
        for shown_in in ([c.uri for c in known.notebook.cells] if known and known.notebook else [uri]):
            self._publish(shown_in, None, [])


def make_server() -> PeftlintServer:
    server = PeftlintServer()

    @server.feature(lsp.INITIALIZE)
    def initialize(ls: PeftlintServer, params: lsp.InitializeParams) -> None:
        folders = params.workspace_folders or []
        uri = folders[0].uri if folders else params.root_uri
        if uri and urlparse(uri).scheme == "file":
            ls.projects.root = Path(unquote(urlparse(uri).path))

    @server.feature(lsp.SHUTDOWN)
    def shutdown(ls: PeftlintServer, params: None) -> None:
        ls.process.close()

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: PeftlintServer, params: lsp.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: PeftlintServer, params: lsp.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: PeftlintServer, params: lsp.DidSaveTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)  # a saved pyproject.toml elsewhere may change the settings

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: PeftlintServer, params: lsp.DidCloseTextDocumentParams) -> None:
        ls.forget(params.text_document.uri)

    @server.feature(lsp.NOTEBOOK_DOCUMENT_DID_OPEN)
    def notebook_open(ls: PeftlintServer, params: lsp.DidOpenNotebookDocumentParams) -> None:
        ls.schedule(params.notebook_document.uri)

    @server.feature(lsp.NOTEBOOK_DOCUMENT_DID_CHANGE)
    def notebook_change(ls: PeftlintServer, params: lsp.DidChangeNotebookDocumentParams) -> None:
        ls.schedule(params.notebook_document.uri)

    @server.feature(lsp.NOTEBOOK_DOCUMENT_DID_CLOSE)
    def notebook_close(ls: PeftlintServer, params: lsp.DidCloseNotebookDocumentParams) -> None:
        ls.forget(params.notebook_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    async def hover(ls: PeftlintServer, params: lsp.HoverParams) -> lsp.Hover | None:
        linted = await ls.fresh(params.text_document.uri)
        return _answer(ls, "hover", lambda: entries.hover(linted.result, Lines(linted.text), params.position)
                       if linted and not linted.notebook else None)

    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=['"', "'"]))
    async def completion(ls: PeftlintServer, params: lsp.CompletionParams) -> lsp.CompletionList | None:
        linted = await ls.fresh(params.text_document.uri)
        return _answer(ls, "completion", lambda: entries.completion(linted.result, Lines(linted.text), params.position)
                       if linted and not linted.notebook else None)

    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION, lsp.CodeActionOptions(
        code_action_kinds=[lsp.CodeActionKind.QuickFix, actions.FIX_ALL]))
    async def code_action(ls: PeftlintServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction] | None:
        uri = params.text_document.uri
        only = [str(getattr(k, "value", k)) for k in params.context.only or []]

        def work() -> list[lsp.CodeAction] | None:
            linted = ls.current(uri)  # on the worker: fix all re-lints with the document's linter
            return _answer(ls, "code actions",
                           lambda: actions.code_actions(linted, uri, params.range, only) if linted else None)

        return await ls.on_worker(work)

    return server


def _answer(ls: PeftlintServer, what: str, fn: Callable[[], T]) -> T | None:
    """``fn()``, or None with the failure logged: a request never takes the server down."""
    try:
        return fn() or None
    except Exception as exc:
        ls._log(lsp.MessageType.Error, f"peftlint: {what} failed: {type(exc).__name__}: {exc}\n"
                                       + traceback.format_exc())
        return None
