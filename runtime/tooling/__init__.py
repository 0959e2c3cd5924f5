"""Editor tooling for Deluge: the analysis `check`, the language server and the console share.

    analyze(source, filename, registry=None) -> Document
        the script's tree (with positions and comments), scopes and symbols with inferred
        types, calls with their signatures, and every diagnostic
    diagnose(source, filename, registry=None) -> list[Diagnostic]
        every problem `sluice check` reports: syntax errors (all of them, in line order),
        then what the analysis finds (unknown names and methods, argument counts, reads
        before assignment, unused variables, unreachable code, unknown connections)

`registry` is None (connection names are not checked), an iterable of link names, or a
connection registry (anything with `list()` of views that have `link_name`).

Modules: `documents` (`analyze` and `diagnose` themselves; this package's names are
read from their modules on first use), `catalog` (names and signatures from the
runtime's tables), `model` (the document model), `types` (type inference), `analysis`
(scopes and checks), `features` (completion, hover, signature help, symbols), `format`
(the formatter), `lsp` (the server), `highlight` (the Pygments lexer and the generated
editor grammars).
"""

from __future__ import annotations

__all__ = ["Diagnostic", "Document", "Span", "analyze", "connection_names", "diagnose"]

from ..lazy import lazy_names

# where each name lives; imported on first use: every `sluice` command builds the parser
# of `sluice fmt` and `sluice lsp` (cli), which needs none of the analysis
_HOMES = {"Diagnostic": "model", "Document": "model", "Span": "model", "analyze": "documents",
          "connection_names": "documents", "diagnose": "documents"}

__getattr__ = lazy_names(globals(), _HOMES)
