"""Hooks whose modules most scripts never need (date literals, system values, tasks,
Creator forms) are bound into a compiled script only when its code names them
(hooks.LAZY_HOOKS, sandbox._global_names): the globals of every other script are as
before, and a script that uses one gets the same function as when all were bound."""

from __future__ import annotations

import importlib

from sluicegate.engine import Runtime
from sluicegate.hooks import HOOKS, LAZY_HOOKS, lazy_hooks
from sluicegate.sandbox import clear_cache, compile_script
from sluicegate.translator import HELPERS


def test_every_helper_is_a_hook_or_a_lazy_hook() -> None:
    assert not set(HOOKS) & set(LAZY_HOOKS)
    assert set(LAZY_HOOKS) <= HELPERS
    # dg_unknown_var is never emitted as a call the sandbox binds (translator-internal)
    assert HELPERS - set(HOOKS) - set(LAZY_HOOKS) == {"dg_unknown_var"}
    bound = lazy_hooks([*LAZY_HOOKS, "dg_add", "unrelated"])
    assert set(bound) == set(LAZY_HOOKS)
    for name, (module, attribute) in LAZY_HOOKS.items():
        assert bound[name] is getattr(importlib.import_module(module), attribute)


def test_a_script_gets_the_lazy_hooks_its_code_names_even_in_nested_code() -> None:
    clear_cache()
    plain = compile_script('info "hello";')
    assert not set(LAZY_HOOKS) & set(plain.globals)
    dated = compile_script("void f()\n{\n  info '01-Jan-2026'.getYear();\n}\n"
                           "void g()\n{\n  l = List:Int();\n"
                           "  info zoho.currentdate.getYear() > 2000;\n}\n")
    for name in ("dg_date", "dg_typed_list", "dg_sys"):
        assert dated.globals[name] is lazy_hooks([name])[name], name
    assert "dg_invokeurl" not in dated.globals


def test_scripts_using_lazy_hooks_run_as_before() -> None:
    rt = Runtime()
    r = rt.run("d = '01-Jan-2026'.addDay(1); l = List:Int(); l.add(3);"
               " return d.getYear() + l.get(0);", {})
    assert r.ok, r.error
    assert r.value == 2029
    r = rt.run('x = List:Int(); x.add("a");', {})
    assert not r.ok
