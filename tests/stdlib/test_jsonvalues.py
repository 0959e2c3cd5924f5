"""JSON built-ins (stdlib/jsonvalues.py): toMap, getJSON, toJSONList, called as scripts do."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal

import pytest

from sluicegate.dispatch import call_function, call_method
from sluicegate.errors import LimitExceeded, ScriptRuntimeError
from sluicegate.limits import Limits, RunContext, activate
from sluicegate.stdlib.jsonvalues import parse_json
from sluicegate.values import display


@pytest.fixture(autouse=True)
def default_run() -> Iterator[RunContext]:
    with activate(RunContext()) as ctx:
        yield ctx


def raises(message: str, receiver: object, name: str, *args: object) -> None:
    with pytest.raises(ScriptRuntimeError) as info:
        call_method(receiver, name, *args)
    assert info.value.message == message


# --- the vendor's documented examples ---------------------------------------------------

def test_tomap_accepts_unquoted_keys_and_values_of_the_vendor_example() -> None:
    # Zoho Deluge docs, toMap: "{company:Zoho, product:Creator}" gives the key-value pair.
    m = call_method("{company:Zoho, product:Creator}", "toMap")
    assert m == {"company": "Zoho", "product": "Creator"}


def test_getjson_and_tojsonlist_read_the_vendor_lenient_example() -> None:
    # Zoho Deluge docs, toJSONList: json_text.getJSON("OrderNo").toJSONList() is 343,443,577.
    text = "{Name:'Lia Shelton', OrderNo:[343,443,577]}"
    assert call_method(text, "getJSON", "Name") == "Lia Shelton"
    orders = call_method(text, "getJSON", "OrderNo")
    assert display(call_method(orders, "toJSONList")) == "343,443,577"


def test_getjson_chains_through_nested_objects_like_the_vendor_example() -> None:
    # Zoho Deluge docs, getJSON: ...getJSON("response").getJSON("employee").getJSON("id").
    text = ('{"response" : {"employee": {"id" : "EMP-001", "role" : "Developer"}}}')
    employee = call_method(call_method(text, "getJSON", "response"), "getJSON", "employee")
    assert call_method(employee, "getJSON", "id") == "EMP-001"


def test_tojsonlist_elements_are_maps_that_answer_getjson() -> None:
    # Zoho Deluge docs, toJSONList: the ids of the "data" array are 1,2.
    response = ('{"data" : [{"id":1, "firstname":"John", "lastName":"Day"}, '
                '{"id":2, "firstname":"Patricia","lastname":"Boyle"}]}')
    rows = call_method(call_method(response, "getJSON", "data"), "toJSONList")
    assert [call_method(r, "getJSON", "id") for r in rows] == [1, 2]


# --- value rules (SPEC §10 "JSON values") -----------------------------------------------

def test_integers_are_numbers_and_fractions_are_decimals_keeping_scale() -> None:
    m = call_method('{"n": 3, "p": 1.50, "z": 1.0, "e": 2.5e2, "neg": -7}', "toMap")
    assert type(m["n"]) is int and m["n"] == 3
    assert type(m["p"]) is Decimal and display(m["p"]) == "1.50"
    assert display(m["z"]) == "1.0"
    assert display(m["e"]) == "250"
    assert m["neg"] == -7


def test_map_display_keeps_key_order_and_scale() -> None:
    m = call_method('{"b": 1, "a": {"p": 12.50}, "l": [true, null, "x"]}', "toMap")
    assert display(m) == '{"b":1,"a":{"p":12.50},"l":[true,null,"x"]}'


def test_lenient_text_gives_the_same_values_as_strict_json() -> None:
    strict = '{"a": 1, "b": [1.5, "x", true, null], "c": {"d": "e"}}'
    lenient = "{a: 1, 'b': [1.5, 'x', TRUE, Null,], c = {d => e};}"
    assert call_method(lenient, "toMap") == call_method(strict, "toMap")


def test_unquoted_values_are_trimmed_text_unless_literal_or_number() -> None:
    m = call_method("{a:  two words  , b: true, c: 12, d: 0.5, e: 007, f: NaN}", "toMap")
    assert m == {"a": "two words", "b": True, "c": 12, "d": Decimal("0.5"), "e": "007",
                 "f": "NaN"}


def test_empty_array_slots_are_null_and_a_trailing_comma_is_ignored() -> None:
    assert call_method("[1,,2,]", "toJSONList") == [1, None, 2]
    assert call_method("[,]", "toJSONList") == [None]


def test_repeated_key_keeps_first_position_and_last_value() -> None:
    m = call_method('{"a": 1, "b": 2, "a": 3}', "toMap")
    assert list(m.items()) == [("a", 3), ("b", 2)]


def test_single_quoted_strings_take_escapes_and_keep_double_quotes() -> None:
    m = call_method("{'q': 'it\\'s \"fine\"', 'u': '\\u00e9\\n'}", "toMap")
    assert m == {"q": "it's \"fine\"", "u": "é\n"}


def test_surrogate_pairs_join_and_lone_surrogates_become_replacement_characters() -> None:
    assert call_method('{"s": "\\ud83d\\ude00"}', "getJSON", "s") == "😀"
    assert call_method('{"s": "a\\ud800b"}', "getJSON", "s") == "a\ufffdb"
    assert call_method("{s: 'a\\ud800b'}", "getJSON", "s") == "a\ufffdb"


def test_non_ascii_text_and_keys_survive() -> None:
    m = call_method('{"naïve": "日本語", \'ключ\': \'значение\'}', "toMap")
    assert m == {"naïve": "日本語", "ключ": "значение"}


def test_byte_order_mark_before_the_text_is_ignored() -> None:
    assert call_method('\ufeff{"a": 1}', "toMap") == {"a": 1}


# --- numbers at the edges ---------------------------------------------------------------

def test_integers_at_the_64_bit_edges_are_numbers() -> None:
    m = call_method('{"max": 9223372036854775807, "min": -9223372036854775808}', "toMap")
    assert m == {"max": 2**63 - 1, "min": -(2**63)}


@pytest.mark.parametrize("text", [
    '{"n": 9223372036854775808}',
    "{n: -9223372036854775809}",
    '{"n": 123456789012345678901234567890}',
    "[" + "9" * 5000 + "]",
    "[1e1001]",
    "{d: 1e-1001}",
])
def test_numbers_beyond_range_raise_number_out_of_range(text: str) -> None:
    with pytest.raises(ScriptRuntimeError) as info:
        parse_json(text)
    assert info.value.message == "Number out of range"


def test_large_but_bounded_exponents_are_decimals() -> None:
    assert parse_json("[1e1000, 1.5e-999]") == [Decimal("1e1000"), Decimal("1.5e-999")]


def test_nineteen_digit_text_inside_strings_is_only_text() -> None:
    assert parse_json('{"phone": "12345678901234567890123"}') == {
        "phone": "12345678901234567890123"}


# --- errors -----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "message"), [
    ("", "toMap: the text is not valid JSON (unexpected end of text at character 1)"),
    ("{", "toMap: the text is not valid JSON (unexpected end of text at character 2)"),
    ('{"a" 1}', "toMap: the text is not valid JSON (expected ':' after a key at character 6)"),
    ("{a:1 b:2}", "toMap: the text is not valid JSON (expected ',' or '}' at character 7)"),
    ("{a:1} x",
     "toMap: the text is not valid JSON (unexpected text after the value at character 7)"),
    ("{'a':'open}", "toMap: the text is not valid JSON (unterminated string at character 6)"),
    ("{[1]:2}", "toMap: the text is not valid JSON (expected a key at character 2)"),
    ("{a:}", "toMap: the text is not valid JSON (unexpected '}' at character 4)"),
    ("[1,2", "toMap: the text is not valid JSON (unexpected end of text at character 5)"),
    ("// note\n{}", "toMap: the text is not valid JSON (unexpected '/' at character 1)"),
])
def test_invalid_json_names_the_problem_and_where(text: str, message: str) -> None:
    raises(message, text, "toMap")


def test_tomap_of_json_that_is_not_an_object_raises() -> None:
    raises("toMap: the text is not a JSON object", "[1, 2]", "toMap")
    raises("toMap: the text is not a JSON object", "not json", "toMap")


def test_getjson_on_text_that_is_not_json_raises() -> None:
    raises("getJSON: the text is not a JSON object", "hello world", "getJSON", "a")
    raises("getJSON: the text is not valid JSON (unexpected end of text at character 7)",
           '{"a":1', "getJSON", "a")


def test_tojsonlist_of_text_that_is_not_an_array_raises() -> None:
    raises("toJSONList: the text is not a JSON array", "not json", "toJSONList")
    raises("toJSONList: the text is not a JSON array", '{"a": [1]}', "toJSONList")


def test_getjson_with_a_list_key_is_a_type_error() -> None:
    raises("Argument 1 of getJSON must be TEXT but found LIST", '{"a":1}', "getJSON", [1])
    raises("Argument 1 of getJSON must be TEXT but found MAP", {"a": 1}, "getJSON", {"k": 1})


def test_wrong_arity_and_receivers_are_reported_by_the_dispatcher() -> None:
    raises("Function 'getJSON' expects 1 argument but got 0", '{"a":1}', "getJSON")
    raises("Unknown function 'toMap' for NUMBER", 5, "toMap")
    raises("Cannot call 'getJSON' on a null value", None, "getJSON", "a")


# --- getJSON and friends on MAP and LIST ------------------------------------------------

def test_getjson_of_a_missing_key_is_null_on_text_and_map() -> None:
    assert call_method('{"a": 1}', "getJSON", "b") is None
    assert call_method({"a": 1}, "getJSON", "b") is None
    assert call_method({"a": 1}, "getJSON", None) is None


def test_getjson_number_key_finds_the_member_written_as_text() -> None:
    assert call_method('{"1": "one"}', "getJSON", 1) == "one"
    assert call_method({"1": "one"}, "getJSON", 1) == "one"
    assert call_method({1: "int", "1": "text"}, "getJSON", 1) == "int"


def test_getjson_on_a_map_returns_the_stored_value_itself() -> None:
    inner = {"n": 3}
    assert call_method({"k": inner}, "getJSON", "k") is inner


def test_tomap_of_a_map_is_that_map_and_tojsonlist_of_a_list_is_a_copy() -> None:
    m = {"a": 1}
    assert call_method(m, "toMap") is m
    original = [1, {"b": 2}]
    copy = call_method(original, "toJSONList")
    assert copy == original and copy is not original


def test_function_forms_use_the_first_argument_as_receiver() -> None:
    assert call_function("getJSON", '{"a": 5}', "a") == 5
    assert call_function("toMap", "{a:1}") == {"a": 1}
    assert call_function("toJSONList", "[1]") == [1]


def test_each_parse_gives_fresh_values() -> None:
    text = '{"a": [1]}'
    first = call_method(text, "toMap")
    first["a"].append(2)
    assert call_method(text, "toMap") == {"a": [1]}


# --- limits -----------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "[" * 10_000 + "]" * 10_000,
    "{a:" * 10_000 + "1" + "}" * 10_000,
    '{"a":' * 10_000 + "1" + "}" * 10_000,
    "[" * 10_000,
])
def test_ten_thousand_levels_hit_the_nesting_limit_quickly(text: str) -> None:
    start = time.perf_counter()
    with pytest.raises(LimitExceeded) as info:
        parse_json(text)
    assert info.value.message == "Nesting limit of 512 levels exceeded"
    assert info.value.limit == "nesting"
    assert time.perf_counter() - start < 0.5


def test_nesting_at_the_limit_is_accepted_and_one_more_is_not() -> None:
    deepest = "[" * 512 + "]" * 512
    value = parse_json(deepest)
    for _ in range(511):
        value = value[0]
    assert value == []
    with pytest.raises(LimitExceeded):
        parse_json("[" + deepest + "]")
    with pytest.raises(LimitExceeded):
        parse_json("{a:" + deepest + "}")


def test_nesting_limit_follows_the_run_and_ignores_brackets_inside_strings() -> None:
    with activate(RunContext(limits=Limits(max_nesting=3))):
        assert parse_json('[[["]]]]{{{{\\"[[[["]]]') == [[[']]]]{{{{"[[[[']]]
        assert parse_json("[{'a':[1]}]") == [{"a": [1]}]
        with pytest.raises(LimitExceeded):
            parse_json('[[[["x"]]]]')
        with pytest.raises(LimitExceeded):
            parse_json("[[[['x']]]]")
        with pytest.raises(LimitExceeded):
            parse_json('[{"a":[' + ",".join(["{}"] * 10) + ', [[1]]]}]')


def test_too_many_elements_in_one_array_or_object_raise() -> None:
    with activate(RunContext(limits=Limits(max_elements=3))):
        assert parse_json("[1,2,3]") == [1, 2, 3]
        for text in ("[1,2,3,4]", "[1,2,3,4,]", "{a:1,b:2,c:3,d:4}", '{"a":1,"b":2,"c":3,"d":4}'):
            with pytest.raises(LimitExceeded) as info:
                parse_json(text)
            assert info.value.limit == "elements"


def test_text_longer_than_the_text_limit_raises() -> None:
    with activate(RunContext(limits=Limits(max_text=10))):
        with pytest.raises(LimitExceeded) as info:
            parse_json('{"a": "0123456789"}')
        assert info.value.limit == "text"


# --- strict fast path and lenient path agree --------------------------------------------

def test_strict_and_lenient_paths_agree_on_a_large_document() -> None:
    rows = ", ".join(
        f'{{"id": {i}, "amount": {i}.50, "tags": ["a", "b"], "ok": {"true" if i % 2 else "false"},'
        f' "note": null}}' for i in range(600))
    strict = '{"rows": [' + rows + "]}"
    expected = {"rows": [{"id": i, "amount": Decimal(f"{i}.50"), "tags": ["a", "b"],
                          "ok": bool(i % 2), "note": None} for i in range(600)]}
    assert parse_json(strict) == expected
    # An unquoted key sends the same document down the lenient parser.
    assert parse_json(strict.replace('"rows"', "rows", 1)) == expected


# --- toString of records: the C encoder after a walk a column at a time -------------------

def _careful_json(value: object, max_text: int) -> str:
    from sluicegate.jsonform.text import _write_json
    from sluicegate.values import NODE_BUDGET

    parts: list[str] = []
    _write_json(value, parts, 0, 512, [NODE_BUDGET, 0, max_text])
    return "".join(parts)


@pytest.mark.parametrize("one_reordered", [False, True])
def test_records_sharing_keys_take_the_encoder_and_write_what_the_careful_writer_does(
        one_reordered: bool) -> None:
    from sluicegate.jsonform.text import _plain_json, to_json_text

    records = [{"id": i, "note": "é\"" * (i % 3), "amount": Decimal(f"{i}.5"), "ok": i % 2 == 0,
                "none": None} for i in range(50)]
    if one_reordered:  # one record lists its keys otherwise: no longer columns of one type
        records[7] = dict(reversed(records[7].items()))
    records[9]["amount"] = Decimal("1E+3")  # str() would show an exponent
    expected = _careful_json(records, 10**9)
    assert _plain_json(records, 0, 512) == expected  # the fast path answers (not None)
    assert to_json_text(records) == expected
    assert '"amount":1000,' in expected


@pytest.mark.parametrize("one_reordered", [False, True])
def test_long_lists_of_records_are_written_a_column_at_a_time_as_the_careful_writer_does(
        one_reordered: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    from sluicegate.jsonform import records as jsonrecords
    from sluicegate.values import to_json_text

    written: list[bool] = []
    records_text = jsonrecords.records_text

    def spy(*args: object) -> str | None:
        text = records_text(*args)  # type: ignore[arg-type]
        written.append(text is not None)
        return text

    monkeypatch.setattr(jsonrecords, "records_text", spy)
    records = [{"name": f"n{i}\u2028\x01\"", "amount": Decimal(f"{i}.50"),
                "ok": [True, None][i % 2], "id": -i * 10**15}
               for i in range(jsonrecords.MIN_RECORDS)]
    records[4]["amount"] = Decimal("1E+3")  # str() would show an exponent
    others = [{"name": "a", "tag": "b"} for _ in range(jsonrecords.MIN_RECORDS)]
    if one_reordered:  # texts alone, so the columns stay of one type: written by the encoder
        others[5] = dict(reversed(others[5].items()))
    for value in (records, {"n": 1, "items": records, "more": others, "d": Decimal("0.1")},
                  {"items": records, "x": "\x00E"},  # a mark in a text: the careful writer
                  {"a": records, "b": records, "c": {"d": records}}):
        written.clear()
        assert to_json_text(value) == _careful_json(value, 10**9)
        assert written and written[0]
        if "more" in value:  # the list of records of another order: the encoder's
            assert written == [True, not one_reordered]


@pytest.mark.parametrize("one_reordered", [False, True])
def test_records_are_counted_exactly_and_fail_only_past_the_text_limit(
        one_reordered: bool) -> None:
    from sluicegate.jsonform.text import _plain_records_json, to_json_text

    records = [{"id": i, "text": "x" * (1000 + i), "amount": Decimal("0.25"), "é": "ü"}
               for i in range(100)]
    if one_reordered:
        records[3] = dict(reversed(records[3].items()))
    chars = sum(len(k) + (len(v) if type(v) is str else 0) for r in records
                for k, v in r.items())
    assert _plain_records_json(records, 0, []) == (chars, 100)  # keys and texts, decimals
    size = len(to_json_text(records))
    assert size > 1 << 16  # past the size the walk counts texts for before building
    with activate(RunContext(limits=Limits(max_text=size))):
        assert len(to_json_text(records)) == size
    with activate(RunContext(limits=Limits(max_text=size - 1))):
        with pytest.raises(LimitExceeded) as info:
            to_json_text(records)
        assert (info.value.limit, info.value.message) == (
            "text", f"Text size limit of {size - 1} characters exceeded")
