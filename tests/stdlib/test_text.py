"""TEXT built-ins (stdlib/text.py), called through the dispatcher exactly as scripts call them.

Vendor examples cite their page; other expectations follow SPEC §10 or the choices
documented in the module.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sluicegate.dispatch import call_function, call_method
from sluicegate.errors import LimitExceeded, ScriptRuntimeError
from sluicegate.limits import RunContext, activate
from sluicegate.values import File, TypedList


@pytest.fixture(autouse=True)
def default_run() -> Iterator[RunContext]:
    with activate(RunContext()) as ctx:
        yield ctx


def m(receiver: Any, name: str, *args: Any) -> Any:
    return call_method(receiver, name, *args)


def fails(message: str, receiver: Any, name: str, *args: Any) -> None:
    with pytest.raises(ScriptRuntimeError) as info:
        call_method(receiver, name, *args)
    assert info.value.message == message


# -- vendor examples ------------------------------------------------------------------

def test_get_suffix_vendor_example() -> None:
    # https://www.zoho.com/deluge/help/functions/string/getSuffix.html
    assert m("Create custom apps with Zoho Creator", "getSuffix", "with") == " Zoho Creator"


def test_get_suffix_ignore_case_vendor_example() -> None:
    # https://zoho.com/deluge/help/functions/string/getsuffixignorecase.html
    text = 'Split the text and get suffix of "and"'
    assert m(text, "getSuffixIgnoreCase", "AND") == ' get suffix of "and"'


def test_substring_and_left_right_vendor_examples() -> None:
    # https://www.zoho.com/deluge/help/functions/string/left.html and .../right.html
    assert m("Zoho Creator", "left", 4) == "Zoho"
    assert m("Zoho Creator", "right", 7) == "Creator"


def test_proper_vendor_example() -> None:
    # https://www.zoho.com/deluge/help/functions/string/proper.html
    assert m("zoho creator", "proper") == "Zoho Creator"


def test_padding_vendor_examples_pad_to_total_length() -> None:
    # https://www.zoho.com/deluge/help/functions/string/leftpad.html and .../rightpad.html
    assert m("Left", "leftpad", 6) == "  Left"
    assert m("Right", "rightpad", 6) == "Right "


def test_repeat_vendor_example() -> None:
    # https://www.zoho.com/deluge/help/functions/string/repeat.html
    assert m("Zoho", "repeat", 3) == "ZohoZohoZoho"


def test_concat_vendor_example() -> None:
    # https://www.zoho.com/deluge/help/functions/string/concat.html
    assert call_function("concat", "Zoho", "Deluge") == "ZohoDeluge"
    assert m(m("Zoho", "concat", " "), "concat", "Deluge") == "Zoho Deluge"


def test_hex_vendor_examples() -> None:
    # https://www.zoho.com/deluge/help/functions/string/hextotext.html and .../texttohex.html
    assert call_function("hexToText", "5a6f686f2043726561746f72") == "Zoho Creator"
    assert call_function("textToHex", "Zoho Creator") == "5a6f686f2043726561746f72"


def test_occurrence_count_vendor_example() -> None:
    # https://www.zoho.com/creator/newhelp/script/built-in-functions/built-in-function-string-getoccurencecount.html
    text = ("Zoho Creator, an online database service, helps you create custom database "
            "applications")
    assert m(text, "getOccurenceCount", "database") == 2


def test_remove_occurrence_vendor_examples() -> None:
    # https://zoho.com/deluge/help/functions/string/removefirstoccurence.html and
    # https://zoho.com/deluge/help/functions/string/removelastoccurence.html
    assert m("Zoho Creator 5", "removeFirstOccurence", "5") == "Zoho Creator "
    text = "Create an app using Zoho Creator app builder"
    assert m(text, "removeLastOccurence", "app") == "Create an app using Zoho Creator  builder"


def test_alpha_filters_vendor_examples() -> None:
    # https://zoho.com/deluge/help/functions/string/getalphanumeric.html,
    # .../removeAllAlpha.html and .../removeallalphanumeric.html (the pages show " 5" and
    # " !": HTML collapses the runs of spaces that every kept space produces)
    assert call_function("getAlphaNumeric", "Your joining date is 25-01-2019") == \
        "Yourjoiningdateis25012019"
    assert m("Zoho Creator 5", "removeAllAlpha") == "  5"
    assert m("Zoho Creator 5 is here!", "removeAllAlphaNumeric") == "    !"


def test_is_ascii_vendor_examples() -> None:
    # https://www.zoho.com/deluge/help/functions/string/isAscii.html
    assert m("Hello$World123", "isAscii") is True
    assert m("", "isAscii") is True
    assert m("ß", "isAscii") is False


def test_to_list_vendor_example() -> None:
    # https://zoho.com/creator/help/script/built-in-functions/built-in-function-list-tolist.html
    assert m("ZohoCreator/ZohoCRM", "toList", "/") == ["ZohoCreator", "ZohoCRM"]


def test_index_of_vendor_example() -> None:
    # https://www.zoho.com/creator/newhelp/script/built-in-functions/built-in-function-string-indexof.html
    assert m("Hello world, welcome to the universe", "indexOf", "e") == 1
    assert m("Hello world, welcome to the universe", "find", "e") == 1


def test_rtrim_vendor_example() -> None:
    # https://www.zoho.com/deluge/help/functions/string/rtrim.html
    text = "   Zoho Deluge   "
    assert m(text, "rtrim") == "   Zoho Deluge"
    assert m(m(text, "rtrim"), "length") == 14


# -- length, search, comparison ---------------------------------------------------------

def test_length_counts_code_points_including_emoji() -> None:
    assert m("", "length") == 0
    assert m("héllo😀", "len") == 6
    assert call_function("len", "Deluge") == 6


def test_search_arguments_accept_numbers_as_their_text() -> None:
    assert m("+91 98450", "startsWith", "+91") is True
    assert m("9845012", "startsWith", 98) is True
    assert m("price 12.50", "contains", Decimal("12.50")) is True
    assert m("abc", "notContains", "z") is True


def test_search_argument_null_is_a_type_error_naming_the_function() -> None:
    fails("Argument 1 of contains must be TEXT but found NULL", "abc", "contains", None)
    fails("Argument 1 of getSuffix must be TEXT but found LIST", "abc", "getSuffix", [1])
    fails("Argument 1 of startsWith must be TEXT but found BOOLEAN", "abc", "startsWith",
          True)


def test_ignore_case_variants_handle_non_ascii() -> None:
    assert m("Ärger im Büro", "containsIgnoreCase", "BÜRO") is True
    assert m("Ärger", "startsWithIgnoreCase", "äR") is True
    assert m("Straße", "endsWithIgnoreCase", "SSE") is False   # ß is not "ss" (as in Java)
    assert m("Straße", "endsWithIgnoreCase", "ASSE") is False
    assert m("Straße", "endsWithIgnoreCase", "ßE") is True
    assert m("Éclair au café", "getPrefixIgnoreCase", "AU") == "Éclair "
    assert m("Éclair au café", "getSuffixIgnoreCase", "ÉCLAIR ") == "au café"
    assert m("INV-001", "endsWithIgnoreCase", "") is True
    assert m("äää", "endsWithIgnoreCase", "ÄÄ") is True       # overlapping candidates


def test_equals_is_false_for_other_types_and_ignore_case_compares_text() -> None:
    assert m("abc", "equals", "abc") is True
    assert m("1", "equals", 1) is False
    assert m("abc", "equals", None) is False
    assert m("Zoho", "equalsIgnoreCase", "ZOHO") is True
    assert m("ß", "equalsIgnoreCase", "SS") is False
    assert m("x", "equalsIgnoreCase", None) is False


def test_index_of_is_minus_one_when_absent() -> None:
    assert m("banana", "indexOf", "an") == 1
    assert m("banana", "lastIndexOf", "an") == 3
    assert m("banana", "indexOf", "x") == -1
    assert m("banana", "lastIndexOf", "x") == -1
    assert m("a😀b", "indexOf", "b") == 2


def test_prefix_and_suffix_are_null_when_absent() -> None:
    assert m("key=value", "getPrefix", "=") == "key"
    assert m("abc", "getPrefix", "z") is None
    assert m("abc", "getSuffix", "z") is None
    assert m("abc", "getPrefixIgnoreCase", "Z") is None
    assert call_function("getSuffix", "a=b", "=") == "b"


def test_occurrence_count_is_zero_for_empty_search_text() -> None:
    assert m("banana", "getOccurenceCount", "a") == 3
    assert m("aaaa", "getOccurrenceCount", "aa") == 2
    assert m("abc", "getOccurenceCount", "") == 0


# -- slicing -----------------------------------------------------------------------------

def test_substring_is_zero_based_end_exclusive() -> None:
    s = "Hello World"
    assert m(s, "subString", 0, 5) == "Hello"
    assert m(s, "substring", 6) == "World"
    assert m(s, "subText", 3, 3) == ""
    assert m(s, "mid", 0, 4) == "Hell"
    assert m(s, "subString", 6, -1) == "World"
    assert m(s, "subString", 11) == ""
    assert m("😀ab", "subString", 1, 2) == "a"


def test_substring_out_of_range_raises_with_the_name_used() -> None:
    fails("subString: start index 5 is beyond the text length 3", "abc", "subString", 5)
    fails("subString: end index 4 is beyond the text length 3", "abc", "subString", 0, 4)
    fails("subText: end index 1 is before start index 2", "abc", "subText", 2, 1)
    fails("mid: start index -1 is negative", "abc", "mid", -1)


def test_substring_wrong_type_message() -> None:
    fails("Argument 1 of subString must be NUMBER but found TEXT", "abc", "subString", "x")
    assert m("abc", "subString", "1") == "bc"     # numeric text reads as a number


def test_left_and_right_bounds() -> None:
    assert m("abc", "left", -1) == "abc"
    assert m("abc", "left", 3) == "abc"
    fails("left: 4 characters asked from a text of length 3", "abc", "left", 4)
    fails("right: 4 characters asked from a text of length 3", "abc", "right", 4)
    fails("right: the count -1 is negative", "abc", "right", -1)
    assert m("INV-0042", "right", 4) == "0042"


def test_arity_is_checked_by_the_dispatcher() -> None:
    with pytest.raises(ScriptRuntimeError) as info:
        m("abc", "contains")
    assert info.value.message == "Function 'contains' expects 1 argument but got 0"
    with pytest.raises(ScriptRuntimeError) as info:
        m("abc", "subString")
    assert info.value.message == "Function 'subString' expects 1 to 2 arguments but got 0"


# -- whitespace, case, filters -------------------------------------------------------------

def test_trim_variants_remove_unicode_white_space() -> None:
    assert m("  pad me  ", "trim") == "pad me"
    assert m("  pad me  ", "ltrim") == "pad me  "
    assert m("\u00a0x\t\n", "trim") == "x"
    assert m("", "trim") == ""


def test_case_conversion() -> None:
    assert m("MiXeD", "toLowerCase") == "mixed"
    assert m("straße", "toUpperCase") == "STRASSE"
    assert m("hELLO   wORLD", "proper") == "Hello   World"
    assert m("élan vital", "proper") == "Élan Vital"


def test_alpha_filters_drop_or_keep_spaces() -> None:
    assert m("Order #A-17, qty 3!", "getAlpha") == "OrderAqty"
    assert m("José 12", "getAlpha") == "José"
    assert m("a1-b2 c3!", "removeAllAlphaNumeric") == "- !"
    assert m("Creator 5", "removeAllAlpha") == " 5"


# -- removal and replacement -----------------------------------------------------------------

def test_remove_variants_leave_text_alone_when_absent() -> None:
    assert m("Zoho Creator", "remove", "Creator") == "Zoho "
    assert m("a-b-c-d", "remove", "-") == "abcd"
    assert m("a-b-c-d", "removeFirstOccurrence", "-") == "ab-c-d"
    assert m("a-b-c-d", "removeLastOccurrence", "-") == "a-b-cd"
    assert m("abc", "removeLastOccurence", "z") == "abc"
    assert m("abc", "remove", "") == "abc"


def test_replace_all_uses_regex_unless_third_argument_is_true() -> None:
    # https://www.zoho.com/creator/newhelp/script/built-in-functions/built-in-function-string-replaceall.html
    assert m("Create online database applications", "replaceAll", "online", "custom") == \
        "Create custom database applications"
    assert m("1.2.3", "replaceAll", ".", "-") == "-----"
    assert m("1.2.3", "replaceAll", ".", "-", True) == "1-2-3"
    assert m("$5 and $6", "replaceAll", "$", "USD ", True) == "USD 5 and USD 6"
    assert m("a+b", "replaceAll", "+", "$1", True) == "a$1b"


def test_replace_all_group_references_and_escaped_dollar() -> None:
    assert m("John Smith", "replaceAll", "(\\w+) (\\w+)", "$2, $1") == "Smith, John"
    assert m("cost 5", "replaceAll", "\\d", "\\$") == "cost $"
    assert m("2024-01-05", "replaceAll", "(?<y>\\d{4})-(?<m>\\d\\d)-(?<d>\\d\\d)",
             "${d}/${m}/${y}") == "05/01/2024"


def test_replace_with_a_missing_group_raises_only_when_something_matches() -> None:
    assert m("abc", "replaceAll", "x", "$3") == "abc"
    fails("Invalid replacement text '$3': No group 3", "abc", "replaceAll", "b", "$3")
    fails("Invalid replacement text 'a$': Illegal group reference: group index is missing",
          "abc", "replaceAll", "b", "a$")


def test_replace_first_and_ignore_case_variants() -> None:
    assert m("a-b-c", "replaceFirst", "-", "+") == "a+b-c"
    assert m("Cat cat CAT", "replaceAllIgnoreCase", "cat", "dog") == "dog dog dog"
    assert m("Cat cat CAT", "replaceFirstIgnoreCase", "CAT", "dog") == "dog cat CAT"
    assert m("Cat c.t CAT", "replaceAllIgnoreCase", "C.T", "x", True) == "Cat x CAT"
    assert m("Ünïcode ÜNÏCODE", "replaceAllIgnoreCase", "ünïcode", "u") == "u u"


def test_replace_third_argument_must_be_boolean() -> None:
    fails("Argument 3 of replaceAll must be BOOLEAN but found NUMBER", "a", "replaceAll",
          "a", "b", 1)
    assert m("a.a", "replaceAll", ".", "b", "true") == "aba"


def test_replace_all_invalid_pattern_message() -> None:
    fails("Invalid regular expression '(abc': unclosed group", "x", "replaceAll", "(abc", "")


def test_matches_is_a_whole_text_match() -> None:
    assert call_function("matches", "ID004500F", "[A-Z]{2}[0-9]{6}[A-Z]") is True
    assert m("$345.78", "matches", "\\$[0-9]+\\.[0-9]{2}") is True
    assert m("abc123", "matches", "[0-9]+") is False
    assert m("", "matches", "") is True


# -- building text -------------------------------------------------------------------------

def test_padding_keeps_longer_text_and_negative_counts() -> None:
    assert m("abcdef", "leftpad", 3) == "abcdef"
    assert m("abc", "rightpad", -2) == "abc"
    assert m("", "leftpad", 2) == "  "


def test_huge_padding_and_repeat_raise_limit_exceeded_without_building() -> None:
    start = time.perf_counter()
    with pytest.raises(LimitExceeded):
        m("x", "repeat", 100_000_000)
    with pytest.raises(LimitExceeded):
        m("x", "leftpad", 100_000_000)
    with pytest.raises(LimitExceeded):
        m("x", "rightpad", 100_000_000)
    assert time.perf_counter() - start < 0.5


def test_repeat_zero_and_negative() -> None:
    assert m("ab", "repeat", 0) == ""
    fails("repeat: the count -1 is negative", "ab", "repeat", -1)


def test_reverse_concat_and_null() -> None:
    assert m("stressed", "reverse") == "desserts"
    assert m("a😀b", "reverse") == "b😀a"
    assert m("foo", "concat", None) == "foo"
    assert m("n=", "concat", 5) == "n=5"


def test_hex_to_text_rejects_non_hex() -> None:
    fails("hexToText: 'zz' is not hexadecimal text", "zz", "hexToText")
    assert m("c3a9", "hexToText") == "é"
    assert m("é😀", "textToHex") == "c3a9f09f9880"


# -- lists and files -------------------------------------------------------------------------

def test_to_list_keeps_every_empty_element() -> None:
    assert m("a,b,,c", "toList", ",") == ["a", "b", "", "c"]
    assert m("a,b,", "toList", ",") == ["a", "b", ""]
    assert m(",", "toList", ",") == ["", ""]
    assert m("solo", "toList", ";") == ["solo"]
    assert m("a::b", "toList", "::") == ["a", "b"]
    assert m("a.b", "toList", ".") == ["a", "b"]          # literal, not a regex


def test_to_list_empty_separator_gives_characters_and_default_is_comma() -> None:
    assert m("ab😀", "toList", "") == ["a", "b", "😀"]
    assert m("1,2,3", "toList") == ["1", "2", "3"]
    assert m("", "toList", ",") == []


def test_to_list_string_gives_a_text_typed_list() -> None:
    items = m("1,2,3,4,5", "toListString")
    assert isinstance(items, TypedList) and items.element_type == "TEXT"
    assert list(items) == ["1", "2", "3", "4", "5"]


def test_to_file_wraps_the_text() -> None:
    f = m("héllo", "toFile", "notes.txt")
    assert isinstance(f, File)
    assert (f.name, f.content_type, f.data) == ("notes.txt", "text/plain", "héllo".encode())
    fails("Argument 1 of toFile must be TEXT but found NULL", "x", "toFile", None)


# -- executeXPath ------------------------------------------------------------------------------

CATALOG = """<?xml version="1.0" encoding="UTF-8"?>
<CATALOG>
  <CD id="1"><TITLE>Empire Burlesque</TITLE><PRICE>10.90</PRICE></CD>
  <CD id="2"><TITLE>Hide your heart</TITLE><PRICE>9.90</PRICE></CD>
</CATALOG>"""


def test_execute_xpath_returns_elements_as_xml_and_text_as_text() -> None:
    # https://www.zoho.com/creator/newhelp/script/built-in-functions/built-in-function-xml-execute.html
    assert m(CATALOG, "executeXPath", "/CATALOG/CD/TITLE") == \
        "<TITLE>Empire Burlesque</TITLE><TITLE>Hide your heart</TITLE>"
    assert m(CATALOG, "executeXPath", "/CATALOG/CD/TITLE/text()") == \
        "Empire BurlesqueHide your heart"
    assert m(CATALOG, "executeXpath", "//PRICE[1]/text()") == "10.909.90"
    assert m(CATALOG, "executeXPath", "/CATALOG/CD[2]/TITLE/text()") == "Hide your heart"


def test_execute_xpath_predicates() -> None:
    assert m(CATALOG, "executeXPath", "/CATALOG/CD[@id='2']/PRICE/text()") == "9.90"
    assert m(CATALOG, "executeXPath", "/CATALOG/CD[last()]/@id") == "<id>2</id>"
    assert m(CATALOG, "executeXPath", "//CD[TITLE='Empire Burlesque']/PRICE/text()") == \
        "10.90"
    assert m(CATALOG, "executeXPath", "/CATALOG/CD[@missing]") == ""
    assert m(CATALOG, "executeXPath", "CATALOG/CD[position()=1]/TITLE/text()") == \
        "Empire Burlesque"


def test_execute_xpath_attribute_chain_vendor_example() -> None:
    # https://www.zoho.com/creator/newhelp/script/built-in-functions/built-in-function-xml-execute.html
    text = '<a href="https://example.com/book.pdf" target="_blank">Harry Potter</a>'
    href = m(text, "executeXPath", "/a/@href")
    assert m(href, "executeXpath", "/href/text()") == "https://example.com/book.pdf"


def test_execute_xpath_reads_json_text_and_maps_under_root() -> None:
    # https://www.zoho.com/creator/newhelp/script/built-in-functions/built-in-function-xml-execute.html
    assert m('{"address": {"city": "Surat"}}', "executeXPath", "/root/address/city") == \
        "<city>Surat</city>"
    record = {"Total": Decimal("12.50"), "Deal_Name": {"display_value": "D1"},
              "Tags": ["a", "b"]}
    assert m(record, "executeXPath", "root/Total/text()") == "12.50"
    assert m(record, "executeXPath", "root/Deal_Name/ display_value/text()") == "D1"
    assert m(record, "executeXPath", "/root/Tags[2]/text()") == "b"


def test_execute_xpath_refuses_doctype_and_reports_bad_xml() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    fails("executeXPath: documents with a DOCTYPE or ENTITY declaration are not accepted",
          bomb, "executeXPath", "/x")
    with pytest.raises(ScriptRuntimeError) as info:
        m("<a><b></a>", "executeXPath", "/a")
    assert info.value.message.startswith("executeXPath: the text is not well-formed XML")
    fails("executeXPath: invalid XPath '/a/count(b)': unsupported function count(b)",
          "<a/>", "executeXPath", "/a/count(b)")


def test_execute_xpath_no_match_is_empty_text() -> None:
    assert m("<a><b>1</b></a>", "executeXPath", "/a/c") == ""
    assert m("<a><b>1</b></a>", "executeXPath", "/x/b") == ""
