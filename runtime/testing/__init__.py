"""The script authors' workbench: `sluice test` over `*.test.toml` files, offline.

    tomlfile   TOML values (decimals keep their written scale) and the line of every key
    spec       the test-file schema: TestFile, Case, Stub; errors as file:line
    fakes      the in-memory record store and the fake CRM and Books APIs over it
    broker     the test broker: stubs, cassettes, fakes; never the network
    compare    strict comparison, paths into values, readable diffs
    runner     one case: inputs, trigger, fixed clock -> Outcome (failures, what happened)
    session    finding test files, running cases (in parallel), the report
    update     --update: rewriting failing expectations, comments and order kept
    cassettes  --record: real HTTP once, replayed offline, never a secret
    coverage   --coverage: statements run per script, the HTML page
    watch      --watch: run again on change
    command    the `sluice test` command line
    plugin     the pytest plugin (entry point pytest11)
"""

from __future__ import annotations

__all__ = ["Session", "SpecError", "load_test_file", "run_case"]

from ..lazy import lazy_names

_EXPORTS = {"Session": "session", "SpecError": "spec", "load_test_file": "spec",
            "run_case": "runner"}

__getattr__ = lazy_names(globals(), _EXPORTS)
