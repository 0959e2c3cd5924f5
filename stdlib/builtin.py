"""The shape of a built-in: a table entry binding Deluge names to a Python function.

A module of the stdlib lists its built-ins as `Builtin` rows in two tables:

    METHODS   called on a value, `text.getSuffix("x")`; `receivers` names the value
              types (TEXT, NUMBER, ... or ANY); with `function_form` the same entry is
              also callable as `getSuffix(text, "x")` (receiver first).
    FUNCTIONS called by name only, `ifnull(a, b)`, `Map()`, `randomNumber(1, 10)`.

`fn` receives the receiver (for methods) and then the arguments, positionally. The
dispatcher checks arity against `min_args`/`max_args` before calling, so `fn` only has
to check types, with the helpers of `stdlib.args`.
"""

from __future__ import annotations

__all__ = ["Builtin", "ANY", "method", "function", "OnFirstUse"]

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ANY = "ANY"


@dataclass(frozen=True, slots=True)
class Builtin:
    names: tuple[str, ...]
    fn: Callable[..., Any]
    min_args: int = 0
    max_args: int | None = 0
    receivers: tuple[str, ...] = ()
    function_form: bool = True

    @property
    def name(self) -> str:
        """The canonical spelling, as messages print it."""
        return self.names[0]


def method(names: str | tuple[str, ...], fn: Callable[..., Any], receivers: str | tuple[str, ...],
           min_args: int = 0, max_args: int | None = -1, function_form: bool = True) -> Builtin:
    """A method row: `max_args=-1` (the default) means exactly `min_args`; None means any number."""
    if isinstance(names, str):
        names = (names,)
    if isinstance(receivers, str):
        receivers = (receivers,)
    if max_args == -1:
        max_args = min_args
    return Builtin(names, fn, min_args, max_args, receivers, function_form)


def function(names: str | tuple[str, ...], fn: Callable[..., Any], min_args: int = 0,
             max_args: int | None = -1) -> Builtin:
    """A function row (no receiver): `max_args=-1` means exactly `min_args`; None means any."""
    if isinstance(names, str):
        names = (names,)
    if max_args == -1:
        max_args = min_args
    return Builtin(names, fn, min_args, max_args, (), True)


class OnFirstUse:
    """A module imported when first used, then bound in its place in `namespace` under
    `alias`: built-ins that most runs never call keep their module out of a cold
    `sluice run` (`xpath`'s xml.etree, `text`'s regex engine). The isolation zygote
    preloads every stdlib module and these."""

    def __init__(self, module: str, namespace: dict[str, Any], alias: str) -> None:
        self._module, self._namespace, self._alias = module, namespace, alias

    def __getattr__(self, attr: str) -> Any:
        import importlib

        loaded = importlib.import_module(self._module)
        self._namespace[self._alias] = loaded
        return getattr(loaded, attr)
