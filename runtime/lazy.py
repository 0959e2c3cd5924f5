"""Packages whose public names load on first use (PEP 562), so that importing the
package, or one light submodule of it, does not import the heavy ones.

    __getattr__ = lazy_names(globals(), {"Registry": "registry", ...})

Each name of the mapping is read from its submodule the first time it is asked for, then
kept in the package's namespace (later reads are plain attribute reads).
"""

from __future__ import annotations

__all__ = ["lazy_names"]

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_names(namespace: dict[str, Any], homes: Mapping[str, str]) -> Callable[[str], Any]:
    """The module `__getattr__` of the package whose globals are `namespace`: each name
    of `homes` read from the submodule `homes[name]`."""
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{home}"), name)
        namespace[name] = value
        return value

    return __getattr__
