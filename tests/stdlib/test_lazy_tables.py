"""The built-in tables fill as names are first used (stdlib/tables.py), from a precomputed
index of which module defines which name; they must come out the same as registering
every module in order, whatever order names are first used in, and the index must be
the modules' own names (it cannot drift: regenerate it with `write_index()`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sluicegate.stdlib import nameindex, tables


def _fresh(probe: str) -> dict:
    """Run `probe` in a new interpreter (where no table is filled yet); its last line is
    JSON."""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_the_name_index_is_what_the_modules_define() -> None:
    built = tables.build_names()
    assert built == nameindex.NAMES, (
        "stdlib/nameindex.py is out of date: run "
        "python -c 'from sluicegate.stdlib.tables import write_index; write_index()'")
    assert Path(nameindex.__file__).read_text(encoding="utf-8") == tables.index_source(built)
    # the index names every built-in of every table
    assert "tolowercase" in built["text"] and "ifnull" in built["nulls"]
    assert "zoho.crm.getrecordbyid" in built["tasks"]


# Registers every module in order, the way the tables were built before they were lazy,
# then fills the lazy tables name by name in the given order and compares row identity.
_COMPARE = """
import json, random
from importlib import import_module
from sluicegate.stdlib import tables, nameindex
from sluicegate.stdlib.builtin import ANY

order = [name for names in nameindex.NAMES.values() for name in names]
how = "{how}"
if how == "reverse":
    order.reverse()
elif how == "shuffled":
    random.Random(17).shuffle(order)
for name in order:
    tables.ensure(name)
lazy_loaded = sorted(tables._loaded)

reference = {{t: {{}} for t in tables.METHODS}}
functions, tasks = {{}}, {{}}
for module_name in tables.MODULES:
    module = import_module("sluicegate.stdlib." + module_name)
    for row in getattr(module, "METHODS", ()):
        for receiver in row.receivers:
            for name in row.names:
                reference[receiver][name.lower()] = row
    for row in getattr(module, "FUNCTIONS", ()):
        for name in row.names:
            functions[name.lower()] = row
    for row in getattr(module, "TASKS", ()):
        for name in row.names:
            tasks[name.lower()] = row

def same(a, b):
    return sorted(a) == sorted(b) and all(a[k] is b[k] for k in a)

print(json.dumps({{
    "loaded": lazy_loaded,
    "methods": all(same(tables.METHODS[t], reference[t]) for t in reference),
    "functions": same(tables.FUNCTIONS, functions),
    "tasks": same(tables.TASKS, tasks),
    "sizes": [sum(len(t) for t in reference.values()), len(functions), len(tasks)],
}}))
"""


def test_tables_filled_name_by_name_equal_the_whole_tables_in_any_order() -> None:
    for how in ("index", "reverse", "shuffled"):
        out = _fresh(_COMPARE.format(how=how))
        assert out["loaded"] == sorted(tables.MODULES), how
        assert out["methods"] and out["functions"] and out["tasks"], (how, out)
        assert min(out["sizes"]) > 10, out


def test_the_whole_tables_read_from_the_package_are_complete() -> None:
    out = _fresh("import json\nfrom sluicegate.stdlib import METHODS, FUNCTIONS, TASKS\n"
                 "from sluicegate.stdlib import tables\n"
                 "print(json.dumps({'loaded': sorted(tables._loaded), 'same': "
                 "METHODS is tables.METHODS and FUNCTIONS is tables.FUNCTIONS and "
                 "TASKS is tables.TASKS}))")
    assert out == {"loaded": sorted(tables.MODULES), "same": True}


def test_a_lookup_loads_the_modules_of_its_name_only() -> None:
    probe = """
import json, sys
from sluicegate import dispatch
before = sorted(m for m in sys.modules if m.startswith("sluicegate.stdlib."))
upper = dispatch.call_method("abc", "toUpperCase")
after_text = sorted(m for m in sys.modules if m.startswith("sluicegate.stdlib."))
size = dispatch.call_method([1, 2], "size")
lists, xpath = ("sluicegate.stdlib." + m in sys.modules for m in ("lists", "xpath"))
missing = None
try:
    dispatch.call_method("abc", "noSuchMethodAnywhere")
except Exception as exc:
    missing = str(exc)
print(json.dumps({"before": before, "upper": upper, "after_text": after_text,
                  "size": size, "missing": missing, "lists": lists, "xpath": xpath}))
"""
    out = _fresh(probe)
    assert "sluicegate.stdlib.text" not in out["before"]
    assert out["upper"] == "ABC" and "sluicegate.stdlib.text" in out["after_text"]
    assert out["size"] == 2 and out["lists"]
    assert not out["xpath"]  # nothing used an xpath name
    # an unknown name loads no module; its message (with suggestions) reads them all
    assert out["missing"] == "Unknown function 'noSuchMethodAnywhere' for TEXT"


def test_modules_sharing_a_name_load_together_in_registration_order() -> None:
    """Two modules registering one key load together, the later in MODULES last (its
    row wins, as when every module was registered in order), whichever name is first
    used; a module sharing nothing loads alone."""
    names = {"nulls": ("a", "shared"), "text": ("b",), "dates": ("c", "shared2"),
             "tasks": ("shared", "d"), "files": ("shared2",)}
    by_name = tables._by_name(names)
    assert tables.sharing(by_name["a"], names, by_name) == ["nulls", "tasks"]
    assert tables.sharing(by_name["d"], names, by_name) == ["nulls", "tasks"]
    assert tables.sharing(by_name["shared2"], names, by_name) == ["dates", "files"]
    assert tables.sharing(by_name["b"], names, by_name) == ["text"]
