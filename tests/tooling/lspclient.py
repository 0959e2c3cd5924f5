"""A real LSP client over stdio for the tests: pygls's client driving `sluice lsp`."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

SLUICE = str(Path(sys.executable).parent / "sluice")


class Session:
    """One server process: open documents, wait for their diagnostics, ask questions."""

    def __init__(self) -> None:
        self.client = LanguageClient("sluice-tests", "1")
        self.diagnostics: dict[str, list[lsp.Diagnostic]] = {}
        self.versions: dict[str, int] = {}
        self._changed = asyncio.Event()

        @self.client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def _publish(ls: Any, params: lsp.PublishDiagnosticsParams) -> None:
            self.diagnostics[params.uri] = list(params.diagnostics)
            self._changed.set()

    async def start(self, env: dict[str, str] | None = None) -> None:
        await self.client.start_io(SLUICE, "lsp", env=env)
        await self.client.initialize_async(lsp.InitializeParams(
            process_id=None, root_uri=None, capabilities=lsp.ClientCapabilities()))
        self.client.initialized(lsp.InitializedParams())

    async def stop(self) -> None:
        await asyncio.wait_for(self.client.shutdown_async(None), 30)
        self.client.exit(None)
        await asyncio.wait_for(self.client.stop(), 30)

    async def open(self, uri: str, text: str) -> list[lsp.Diagnostic]:
        self.versions[uri] = 1
        self.diagnostics.pop(uri, None)
        self._changed.clear()
        self.client.text_document_did_open(lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(uri=uri, language_id="deluge", version=1,
                                               text=text)))
        return await self._wait(uri)

    async def change(self, uri: str, text: str) -> list[lsp.Diagnostic]:
        self.change_nowait(uri, text)
        return await self._wait(uri)

    def change_nowait(self, uri: str, text: str) -> None:
        """Send the change without waiting for its diagnostics (as an editor types on)."""
        self.versions[uri] += 1
        self.diagnostics.pop(uri, None)
        self._changed.clear()
        self.client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri,
                                                              version=self.versions[uri]),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)]))

    async def _wait(self, uri: str) -> list[lsp.Diagnostic]:
        async def until() -> list[lsp.Diagnostic]:
            while uri not in self.diagnostics:
                self._changed.clear()
                await self._changed.wait()
            return self.diagnostics[uri]
        return await asyncio.wait_for(until(), 30)


def at(line: int, character: int) -> lsp.Position:
    return lsp.Position(line=line, character=character)


def doc(uri: str) -> lsp.TextDocumentIdentifier:
    return lsp.TextDocumentIdentifier(uri=uri)
