"""`sluice lsp`: the Deluge language server (LSP over stdio, on pygls).

Every feature is `tooling`'s (diagnostics = `check`, completion, hover, signature help,
definitions, references, symbols, formatting, did-you-mean code actions); this module
only converts positions and types. LSP positions are 0-based with UTF-16 columns; the
tooling's are 1-based code points, converted here with the document's own lines.
"""

from __future__ import annotations

__all__ = ["build_server", "serve"]

import asyncio
from typing import Any
from urllib.parse import unquote, urlparse

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from . import analyze, features
from .model import Diagnostic, Document, Span

# Seconds of quiet before a long script is analyzed again (short ones: at once).
_PAUSE = 0.15

_KINDS = {
    "keyword": lsp.CompletionItemKind.Keyword, "function": lsp.CompletionItemKind.Function,
    "method": lsp.CompletionItemKind.Method, "task": lsp.CompletionItemKind.Function,
    "variable": lsp.CompletionItemKind.Variable, "module": lsp.CompletionItemKind.Module,
    "value": lsp.CompletionItemKind.Value, "property": lsp.CompletionItemKind.Property,
}


class _Lines:
    """Conversions between LSP positions (UTF-16) and tooling positions (code points)."""

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")

    def to_tooling(self, pos: lsp.Position) -> tuple[int, int]:
        line = self.lines[pos.line] if pos.line < len(self.lines) else ""
        units = 0
        for index, char in enumerate(line):
            if units >= pos.character:
                return pos.line + 1, index + 1
            units += 2 if ord(char) > 0xFFFF else 1
        return pos.line + 1, len(line) + 1

    def to_lsp(self, line: int, column: int) -> lsp.Position:
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        head = text[: max(column - 1, 0)]
        return lsp.Position(line=line - 1,
                            character=len(head) + sum(1 for c in head if ord(c) > 0xFFFF))

    def range(self, span: Span) -> lsp.Range:
        return lsp.Range(start=self.to_lsp(span.line, span.column),
                         end=self.to_lsp(span.end_line, span.end_column))


class DelugeServer(LanguageServer):
    """Keeps, per open document, its last analysis and the last one that parsed."""

    def __init__(self) -> None:
        super().__init__("sluice-deluge", _version())
        self.analyses: dict[str, Document] = {}
        self.parsed: dict[str, Document] = {}
        self.connections: set[str] | None = None
        self.pending: dict[str, asyncio.Future[None]] = {}

    def analyze(self, uri: str) -> Document:
        text = self.workspace.get_text_document(uri).source
        return self._keep(uri, analyze(text, _path(uri), self.connections))

    def _keep(self, uri: str, doc: Document) -> Document:
        self.analyses[uri] = doc
        if doc.tree is not None:
            self.parsed[uri] = doc
        return doc

    def schedule(self, uri: str) -> None:
        """Analyze after the author pauses, in a worker thread: a long script's analysis
        (about half a second for 2,000 lines) never holds up completion or hover."""
        task = self.pending.pop(uri, None)
        if task is not None:
            task.cancel()
        self.pending[uri] = asyncio.ensure_future(self._analyze_later(uri))

    async def _analyze_later(self, uri: str) -> None:
        text = self.workspace.get_text_document(uri).source
        await asyncio.sleep(_PAUSE if len(text) > 20_000 else 0)
        loop = asyncio.get_running_loop()
        try:
            doc = await loop.run_in_executor(None, analyze, text, _path(uri),
                                             self.connections)
        except Exception as exc:  # noqa: BLE001 - an analysis bug must not stop the server
            self.window_log_message(lsp.LogMessageParams(
                type=lsp.MessageType.Error,
                message=f"sluice: could not analyze {_path(uri)}: {type(exc).__name__}: {exc}"))
            return
        if self.workspace.get_text_document(uri).source != text:
            return  # edited meanwhile: the newer change has its own analysis coming
        self._keep(uri, doc)
        self.pending.pop(uri, None)
        lines = _Lines(text)
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
            uri=uri, diagnostics=[_diagnostic(lines, d) for d in doc.diagnostics]))

    def current(self, uri: str) -> Document:
        doc = self.analyses.get(uri)
        text = self.workspace.get_text_document(uri).source
        if doc is None or doc.source != text.replace("\r\n", "\n") and doc.source != text:
            doc = self.analyze(uri)
        return doc


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sluicegate")
    except PackageNotFoundError:
        return "0"


def _path(uri: str) -> str:
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


def _diagnostic(lines: _Lines, d: Diagnostic) -> lsp.Diagnostic:
    severity = (lsp.DiagnosticSeverity.Error if d.severity == "error"
                else lsp.DiagnosticSeverity.Warning)
    data = {"fix": d.fix.text, "title": d.fix.title} if d.fix is not None else None
    return lsp.Diagnostic(range=lines.range(d.span), message=d.message, severity=severity,
                          source="sluice", code=d.type, data=data)


def build_server() -> DelugeServer:
    """The language server with every feature registered on it."""
    server = DelugeServer()
    _document_features(server)
    _navigation_features(server)
    _editing_features(server)
    return server


def _document_features(server: DelugeServer) -> None:
    """Start-up and the documents' life: opened and changed documents are analysed
    (debounced), closed ones forgotten and their diagnostics cleared."""

    @server.feature(lsp.INITIALIZED)
    def initialized(ls: DelugeServer, params: lsp.InitializedParams) -> None:
        from .cli import configured_connection_names

        try:
            ls.connections = configured_connection_names()
        except Exception:
            ls.connections = None

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: DelugeServer, params: lsp.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: DelugeServer, params: lsp.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: DelugeServer, params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        task = ls.pending.pop(uri, None)
        if task is not None:
            task.cancel()
        ls.analyses.pop(uri, None)
        ls.parsed.pop(uri, None)
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri,
                                                                          diagnostics=[]))


def _navigation_features(server: DelugeServer) -> None:
    """Reading a script: completion, hover, signature help, definition, references and
    the document's symbols."""

    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION,
                    lsp.CompletionOptions(trigger_characters=[".", ":", '"']))
    def completion(ls: DelugeServer, params: lsp.CompletionParams) -> lsp.CompletionList:
        uri = params.text_document.uri
        text = ls.workspace.get_text_document(uri).source
        line, col = _Lines(text).to_tooling(params.position)
        items = features.complete(ls.parsed.get(uri), text, line, col, ls.connections)
        return lsp.CompletionList(is_incomplete=False, items=[_item(c) for c in items])

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: DelugeServer, params: lsp.HoverParams) -> lsp.Hover | None:
        uri = params.text_document.uri
        doc = ls.current(uri)
        lines = _Lines(doc.source)
        found = features.hover(doc, *lines.to_tooling(params.position))
        if found is None:
            return None
        return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown,
                                                    value=found.text),
                         range=lines.range(found.span))

    @server.feature(lsp.TEXT_DOCUMENT_SIGNATURE_HELP,
                    lsp.SignatureHelpOptions(trigger_characters=["(", ","]))
    def signature_help(ls: DelugeServer,
                       params: lsp.SignatureHelpParams) -> lsp.SignatureHelp | None:
        uri = params.text_document.uri
        text = ls.workspace.get_text_document(uri).source
        line, col = _Lines(text).to_tooling(params.position)
        found = features.signature_help(ls.parsed.get(uri), text, line, col)
        if found is None:
            return None
        info = lsp.SignatureInformation(
            label=found.label, documentation=found.documentation or None,
            parameters=[lsp.ParameterInformation(label=p) for p in found.parameters])
        return lsp.SignatureHelp(signatures=[info], active_signature=0,
                                 active_parameter=found.active_parameter)

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: DelugeServer, params: lsp.DefinitionParams) -> lsp.Location | None:
        uri = params.text_document.uri
        doc = ls.current(uri)
        lines = _Lines(doc.source)
        span = features.definition(doc, *lines.to_tooling(params.position))
        return lsp.Location(uri=uri, range=lines.range(span)) if span else None

    @server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
    def references(ls: DelugeServer, params: lsp.ReferenceParams) -> list[lsp.Location]:
        uri = params.text_document.uri
        doc = ls.current(uri)
        lines = _Lines(doc.source)
        spans = features.references(doc, *lines.to_tooling(params.position),
                                    include_declaration=params.context.include_declaration)
        return [lsp.Location(uri=uri, range=lines.range(s)) for s in spans]

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def document_symbols(ls: DelugeServer,
                         params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol]:
        doc = ls.current(params.text_document.uri)
        lines = _Lines(doc.source)
        return [_symbol(lines, s) for s in features.symbols(doc)]


def _editing_features(server: DelugeServer) -> None:
    """Changing a script: whole-document formatting and the diagnostics' quick fixes."""

    @server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
    def formatting(ls: DelugeServer,
                   params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit] | None:
        from sluicegate.errors import ScriptSyntaxError

        from .format import FormatterError, format_source

        text = ls.workspace.get_text_document(params.text_document.uri).source
        try:
            out = format_source(text, _path(params.text_document.uri))
        except (ScriptSyntaxError, FormatterError):
            return None  # the diagnostics say why; an editor keeps the text as it is
        if out == text:
            return []
        lines = _Lines(text)
        end = lines.to_lsp(len(lines.lines), len(lines.lines[-1]) + 1)
        return [lsp.TextEdit(range=lsp.Range(start=lsp.Position(line=0, character=0), end=end),
                             new_text=out)]

    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                    lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]))
    def code_actions(ls: DelugeServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        uri = params.text_document.uri
        actions = []
        for diag in params.context.diagnostics:
            data: Any = diag.data
            if not isinstance(data, dict) or "fix" not in data:
                continue
            edit = lsp.WorkspaceEdit(changes={uri: [lsp.TextEdit(range=diag.range,
                                                                 new_text=data["fix"])]})
            actions.append(lsp.CodeAction(title=data.get("title") or f"Change to {data['fix']}",
                                          kind=lsp.CodeActionKind.QuickFix,
                                          diagnostics=[diag], edit=edit, is_preferred=True))
        return actions


def _item(c: features.Completion) -> lsp.CompletionItem:
    snippet = c.insert_text is not None and "$" in c.insert_text
    return lsp.CompletionItem(
        label=c.label, kind=_KINDS.get(c.kind), detail=c.detail or None,
        documentation=c.documentation or None, insert_text=c.insert_text,
        insert_text_format=lsp.InsertTextFormat.Snippet if snippet else None)


def _symbol(lines: _Lines, s: features.SymbolInfo) -> lsp.DocumentSymbol:
    kind = lsp.SymbolKind.Function if s.kind == "function" else lsp.SymbolKind.Variable
    selection = lines.range(s.selection)
    whole = lines.range(s.span)
    return lsp.DocumentSymbol(name=s.name, kind=kind, range=whole, selection_range=selection,
                              detail=s.detail or None,
                              children=[_symbol(lines, c) for c in s.children] or None)


def serve() -> None:
    """Serve one client over stdin/stdout until it exits."""
    build_server().start_io()
