"""The shortcuts taken when a run record is built, each against the path it shortcuts:
`redact` (exact leaf types returned as they are, the secret-key test remembered per key)
against the plain recursive walk; the JSON column's empty list and map against
`to_json_text`; `cap_inputs` deciding "fits" from the character count against the
encoded size."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sluicegate.store.scripts import JsonText
from sluicegate.triggers import inputs as inputs_module
from sluicegate.triggers.history import cap_inputs
from sluicegate.triggers.inputs import REDACTED, redact
from sluicegate.values import to_json_text
from sqlalchemy.dialects import postgresql, sqlite


def reference_redact(value: Any) -> Any:
    """`redact` as it was before its shortcuts."""
    if isinstance(value, Mapping):
        return {k: REDACTED if isinstance(k, str)
                and inputs_module._SECRET_KEY.search(k.lower())
                and v not in (None, "") else reference_redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reference_redact(v) for v in value]
    return value


class Text(str):
    """A str subclass (as key and as value)."""


class Listing(list):  # type: ignore[type-arg]
    """A list subclass."""


KEYS = st.sampled_from(["password", "Password", "api_key", "apiKey", "token", "name",
                        "n", "secret_thing", "passwd", "user", "PASS", "", "é", "x-token"])
LEAVES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                   st.text(max_size=5), st.just(""), st.decimals(allow_nan=False,
                                                                 allow_infinity=False),
                   st.builds(Text, st.text(max_size=3)))
VALUES = st.recursive(LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.builds(Listing, st.lists(inner, max_size=3)),
    st.dictionaries(st.one_of(KEYS, st.builds(Text, KEYS), st.integers()), inner,
                    max_size=4),
    st.builds(OrderedDict, st.dictionaries(KEYS, inner, max_size=3))), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_redact_equals_the_plain_walk(value: Any) -> None:
    got, want = redact(value), reference_redact(value)
    assert got == want and type(got) is type(want)
    assert repr(got) == repr(want)


def test_redact_remembers_keys_but_never_past_its_bound(monkeypatch: Any) -> None:
    monkeypatch.setattr(inputs_module, "_SECRET_KEYS", {})
    monkeypatch.setattr(inputs_module, "_SECRET_KEYS_KEPT", 3)
    value = {f"k{i}": i for i in range(10)} | {"password": "p", "my_token": "t"}
    assert redact(value) == reference_redact(value)
    assert len(inputs_module._SECRET_KEYS) == 3
    assert redact({"password": "p"}) == {"password": REDACTED}   # past the bound too


def test_the_secret_key_pattern_is_the_one_redact_uses() -> None:
    assert isinstance(inputs_module._SECRET_KEY, re.Pattern)
    assert inputs_module._secret_key("Client_Secret") and not inputs_module._secret_key("n")


def _outcome(call: Any) -> Any:
    try:
        return call()
    except Exception as exc:   # the same failure either way
        return type(exc)


@given(st.one_of(st.just([]), st.just({}), st.none(), VALUES))
def test_json_column_binds_as_to_json_text(value: Any) -> None:
    want = _outcome(lambda: None if value is None else to_json_text(value))
    for dialect in (postgresql.psycopg.dialect(), sqlite.dialect()):
        assert _outcome(lambda: JsonText().process_bind_param(value, dialect)) == want


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=4), st.one_of(st.text(max_size=400),
                                                        st.integers()), max_size=6),
       st.sampled_from([1024, 1100, 2048]))
def test_cap_inputs_decides_fit_by_the_encoded_size(inputs: dict[str, Any],
                                                    cap: int) -> None:
    size = len(to_json_text(inputs).encode("utf-8", "surrogatepass"))
    kept, marker = cap_inputs(inputs, cap)
    if size <= cap:
        assert (kept, marker) == (inputs, None)
    else:
        assert marker is not None and marker["bytes"] == size and marker["cap"] == cap
        assert len(to_json_text(kept).encode("utf-8", "surrogatepass")) <= cap


def test_cap_inputs_counts_multibyte_text_exactly() -> None:
    inputs = {"t": "é" * 600}            # 600 characters, 1,200 bytes
    kept, marker = cap_inputs(inputs, 1024)
    assert marker == {"bytes": len(to_json_text(inputs).encode()), "cap": 1024}
    assert kept != inputs
    assert cap_inputs({"t": "é" * 400}, 1024) == ({"t": "é" * 400}, None)
