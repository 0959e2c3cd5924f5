"""`sluice lsp` (issue 13, point 1), driven over stdio by a real LSP client (pygls's)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp

sys.path.insert(0, str(Path(__file__).parent))
from lspclient import Session, at, doc

URI = "file:///work/invoice.dg"
SCRIPT = """\
string standalone.label(string who, int n)
{
    return who.trim() + " #" + n;
}
void standalone.run(map invoice)
{
    name = invoice.get("customer");
    title = "Invoice";
    clean = title.trim();
    info standalone.label(clean, 2);
    info clean.toUpperCasee();
    r = invokeurl [ url: "https://a.example" type: GET connection: "bookz" ];
    info r;
}
"""


def _run(body: Callable[[Session], Awaitable[Any]], env: dict[str, str] | None = None) -> Any:
    async def main() -> Any:
        session = Session()
        await session.start(env)
        try:
            return await body(session)
        finally:
            await session.stop()
    return asyncio.run(main())


def test_diagnostics_as_you_type_with_did_you_mean_code_actions() -> None:
    async def body(s: Session) -> None:
        found = await s.open(URI, SCRIPT)
        by_line = {(d.range.start.line, d.severity): d for d in found}
        typo = by_line[(10, lsp.DiagnosticSeverity.Error)]
        assert typo.message.startswith("Unknown function 'toUpperCasee' for TEXT")
        assert (typo.range.start.character, typo.range.end.character) == (15, 27)
        unused = by_line[(6, lsp.DiagnosticSeverity.Warning)]
        assert unused.message == "Variable 'name' is assigned but never used"
        actions = await s.client.text_document_code_action_async(lsp.CodeActionParams(
            text_document=doc(URI), range=typo.range,
            context=lsp.CodeActionContext(diagnostics=[typo])))
        (action,) = actions
        assert action.title == "Change to 'toUpperCase'"
        (edit,) = action.edit.changes[URI]
        assert edit.new_text == "toUpperCase" and edit.range == typo.range
        # typing: a syntax error appears, then goes away
        broken = await s.change(URI, SCRIPT.replace("info r;", "info r"))
        assert [d.message for d in broken] == ["Missing ';' after 'r' (found '}')"]
        fixed = await s.change(URI, SCRIPT.replace("toUpperCasee", "toUpperCase"))
        assert all(d.severity == lsp.DiagnosticSeverity.Warning for d in fixed)
    _run(body)


def _labels(result: Any) -> list[str]:
    items = result.items if hasattr(result, "items") else result
    return [i.label for i in items]


def test_completion_by_context() -> None:
    async def body(s: Session) -> None:
        await s.open(URI, SCRIPT)
        async def items(text: str, line: int, char: int) -> Any:
            await s.change(URI, text)
            return (await s.client.text_document_completion_async(lsp.CompletionParams(
                text_document=doc(URI), position=at(line, char)))).items

        async def complete(text: str, line: int, char: int) -> list[str]:
            return [i.label for i in await items(text, line, char)]

        # methods filtered by the receiver's inferred type (clean is TEXT; the text
        # does not parse while typing: the last parsed analysis answers)
        typing = SCRIPT.replace("    info r;\n", "    info r;\n    x = clean.\n")
        methods = await complete(typing, 13, 14)
        assert "toUpperCase" in methods and "trim" in methods
        assert "keys" not in methods and "addAll" not in methods
        # zoho.* namespaces, then tasks with their parameters
        tasks_ = SCRIPT.replace("    info r;\n", "    info r;\n    x = zoho.crm.\n")
        crm_items = {i.label: i for i in await items(tasks_, 13, 17)}
        assert "getRecordById" in crm_items
        assert crm_items["getRecordById"].detail.startswith("zoho.crm.getRecordById(module, ")
        zoho = await complete(SCRIPT.replace("    info r;\n", "    info r;\n    x = zoho.\n"),
                              13, 13)
        assert {"crm", "books", "currentdate", "encryption"} <= set(zoho)
        # the encryption tasks, with the parameters the runtime counts
        crypt = SCRIPT.replace("    info r;\n", "    info r;\n    x = zoho.encryption.\n")
        crypt_items = {i.label: i for i in await items(crypt, 13, 24)}
        assert {"base64Encode", "base64Decode", "urlEncode", "urlDecode", "hmacsha1",
                "hmacsha256", "hmacsha512", "md5", "sha256", "sha512", "aesEncode",
                "aesDecode"} <= set(crypt_items)
        assert crypt_items["hmacsha256"].detail.startswith(
            "zoho.encryption.hmacsha256(key, data, [output])")
        # words: keywords, built-ins, variables, inputs and user functions
        words = await complete(SCRIPT.replace("    info r;\n", "    info r;\n    x = \n"), 13, 8)
        assert {"if", "return", "ifnull", "clean", "invoice", "standalone.label"} <= set(words)
        # task parameters inside a block
        keys = await complete(SCRIPT.replace('type: GET ', 'type: GET\n    '), 12, 4)
        assert "connection:" in keys and "url:" in keys
    _run(body)


def test_connection_names_complete_from_the_registry(tmp_path: Path) -> None:
    from sluicegate.store.connections import Connection
    from sluicegate.store.db import make_engine
    from sluicegate.store.migrate import upgrade
    from sqlalchemy import insert

    url = f"sqlite:///{tmp_path / 'reg.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        for name in ("books", "crm"):
            conn.execute(insert(Connection).values(
                link_name=name, display_name=name, service="custom", auth_type="api_key",
                params={}, base_urls=[], status="connected"))
    engine.dispose()

    async def body(s: Session) -> None:
        found = await s.open(URI, SCRIPT)
        assert any(d.message == "Connection 'bookz' is not in the registry (did you mean "
                                "'books'?)" for d in found)
        line = SCRIPT.splitlines()[11]
        char = line.index('"bookz"') + 1
        result = await s.client.text_document_completion_async(lsp.CompletionParams(
            text_document=doc(URI), position=at(11, char)))
        assert _labels(result) == ["books", "crm"]
    _run(body, env={"SLUICE_DATABASE_URL": url, "SLUICE_HOME": str(tmp_path),
                    "PATH": "/usr/bin:/bin"})


def test_hover_signature_help_definition_references_symbols_formatting() -> None:
    async def body(s: Session) -> None:
        await s.open(URI, SCRIPT)
        hover = await s.client.text_document_hover_async(lsp.HoverParams(
            text_document=doc(URI), position=at(8, 19)))
        assert "trim() -> TEXT" in hover.contents.value
        assert "white space" in hover.contents.value
        task_hover = await s.client.text_document_hover_async(lsp.HoverParams(
            text_document=doc(URI), position=at(9, 22)))
        assert "string standalone.label(string who, int n)" in task_hover.contents.value
        # signature help while typing the arguments
        typing = SCRIPT.replace("    info r;\n", '    info r;\n    d = daysBetween(x, \n')
        await s.change(URI, typing)
        sig = await s.client.text_document_signature_help_async(lsp.SignatureHelpParams(
            text_document=doc(URI), position=at(13, 23)))
        assert sig.signatures[0].label.startswith("daysBetween(value, ")
        assert sig.active_parameter == 1
        await s.change(URI, SCRIPT)
        # definition and references of a variable and of a user function
        definition = await s.client.text_document_definition_async(lsp.DefinitionParams(
            text_document=doc(URI), position=at(9, 27)))
        assert definition.range.start == at(8, 4)
        refs = await s.client.text_document_references_async(lsp.ReferenceParams(
            text_document=doc(URI), position=at(8, 5),
            context=lsp.ReferenceContext(include_declaration=True)))
        assert [r.range.start for r in refs] == [at(8, 4), at(9, 26), at(10, 9)]
        fn = await s.client.text_document_definition_async(lsp.DefinitionParams(
            text_document=doc(URI), position=at(9, 22)))
        assert fn.range.start == at(0, 7)
        fn_refs = await s.client.text_document_references_async(lsp.ReferenceParams(
            text_document=doc(URI), position=at(0, 20),
            context=lsp.ReferenceContext(include_declaration=False)))
        assert [r.range.start for r in fn_refs] == [at(9, 20)]
        symbols = await s.client.text_document_document_symbol_async(
            lsp.DocumentSymbolParams(text_document=doc(URI)))
        assert [x.name for x in symbols] == ["standalone.label", "standalone.run"]
        assert {c.name for c in symbols[1].children} >= {"invoice", "name", "clean", "r"}
        # formatting: one edit with the formatted text
        await s.change(URI, "x=1;\ninfo x;\n")
        edits = await s.client.text_document_formatting_async(lsp.DocumentFormattingParams(
            text_document=doc(URI), options=lsp.FormattingOptions(tab_size=4,
                                                                  insert_spaces=True)))
        assert [e.new_text for e in edits] == ["x = 1;\ninfo x;\n"]
    _run(body)
