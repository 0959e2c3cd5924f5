"""The bounded regex engine (the stdlib/regex package): Java syntax, engine choice, time bounds."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sluicegate.errors import LimitExceeded, ScriptRuntimeError
from sluicegate.limits import Limits, RunContext, activate
from sluicegate.stdlib import regex as rx


@pytest.fixture(autouse=True)
def default_run() -> Iterator[RunContext]:
    with activate(RunContext()) as ctx:
        yield ctx


def invalid(pattern: str) -> str:
    with pytest.raises(ScriptRuntimeError) as info:
        rx.compile_pattern(pattern)
    return info.value.message


# -- Java syntax ----------------------------------------------------------------------

@pytest.mark.parametrize("pattern, text, expected", [
    ("\\p{Alpha}+", "ab1cé", ["ab", "c"]),          # POSIX classes are US-ASCII, as in Java
    ("\\p{Punct}", "a,b;c", [",", ";"]),
    ("\\P{Digit}+", "12ab34", ["ab"]),
    ("\\p{L}+", "héllo wörld", ["héllo", "wörld"]),
    ("\\p{IsLatin}+", "abc αβγ", ["abc"]),
    ("\\p{InGreek}+", "abc αβγ", ["αβγ"]),           # a block: only the regex package
    ("\\p{Lu}", "aBcD", ["B", "D"]),
    ("\\p{javaLowerCase}+", "abC", ["ab"]),
    ("\\Qa.b*\\E", "xa.b*y", ["a.b*"]),
    ("\\u00e9", "café", ["é"]),
    ("\\x{1F600}", "hi😀", ["😀"]),
    ("\\0101", "ABA", ["A", "A"]),                  # octal
    ("\\h+", "a \u00a0\tb", [" \u00a0\t"]),
    ("\\R", "a\r\nb\nc", ["\r\n", "\n"]),
    ("[a-z&&[^aeiou]]+", "hello", ["h", "ll"]),     # class intersection
    ("[\\W_]+", "a_b-c é", ["_", "-", " é"]),       # \W is ASCII: é is not a word char
    ("[^\\S\\n]+", "a \t\nb", [" \t"]),
    ("\\d+", "١٢3", ["3"]),                          # \d is ASCII
    ("{name}", "Hi {name}", ["{name}"]),            # a brace that is no repetition
    ("a{2,3}", "aaaa", ["aaa"]),
    ("(?x) a  b # comment\n c", "abc", ["abc"]),
    ("(?<y>\\d{4})-\\k<y>", "2024-2024 2024-2025", ["2024-2024"]),
    ("(\\w)\\1", "hello", ["ll"]),
    ("\\w+(?=!)", "hi! yo", ["hi"]),
    ("(?<=\\$)\\d+", "$12 13", ["12"]),
    ("a*+a", "aaa", []),                             # possessive: never gives back
    ("(?>a+)b", "aab", ["aab"]),
    ("\\bcat\\b", "cat concat cat", ["cat", "cat"]),
])
def test_java_syntax_is_understood(pattern: str, text: str, expected: list[str]) -> None:
    assert rx.find_all(text, pattern) == expected


def test_inline_flag_applies_to_the_rest_of_its_group_across_alternatives() -> None:
    assert rx.find_all("AB aB Ab C c", "a(?i)b|c") == ["aB", "C", "c"]
    assert rx.find_all("AB ab", "(?i)ab") == ["AB", "ab"]
    assert rx.find_all("abB aBB abb ABB", "(a(?i)b)B") == ["abB", "aBB"]
    assert rx.full_match("ABC", "(?i:a)BC") is True
    assert rx.full_match("Abc", "(?i:a)BC") is False


def test_dollar_matches_only_at_the_very_end() -> None:
    assert rx.replace_all("ab\n", "b$", "X") == "ab\n"
    assert rx.replace_all("ab", "b$", "X") == "aX"
    assert rx.replace_all("a1\nb1", "(?m)1$", "!") == "a!\nb!"


def test_empty_matches_follow_java() -> None:
    assert rx.replace_all("abc", "x*", "-") == "-a-b-c-"
    assert rx.replace_all("aaa", "a*", "-") == "--"
    assert rx.replace_all("a😀b", "", "|") == "|a|😀|b|"


@pytest.mark.parametrize("text, pattern, expected", [
    ("9", "[^ab]*?", "-9-"),                       # stdlib re (Python alone gives "--9-")
    ("9" * 5000, "[^ab]*?", "-9" * 5000 + "-"),    # RE2
    ("12", "(?=[0-9])[0-9]*?", "-1-2"),            # lookahead: the regex package
    ("12" * 3000, "(?=[0-9])[0-9]*?", "-1-2" * 3000),
])
def test_after_an_empty_match_every_engine_moves_one_character(
        text: str, pattern: str, expected: str) -> None:
    assert rx.replace_all(text, pattern, "-") == expected


def test_replacement_group_syntax() -> None:
    assert rx.replace_all("ab", "(a)(b)", "$2$1") == "ba"
    assert rx.replace_all("ab", "(a)(b)", "$10") == "a0"       # only groups that exist
    assert rx.replace_all("ab", "(a)(b)", "\\$1") == "$1"
    assert rx.replace_all("ab", "(a)(b)", "\\\\") == "\\"
    assert rx.replace_all("ab", "(a)|(b)", "[$2]") == "[][b]"     # unmatched group is empty
    assert rx.replace_first("a1b2", "\\d", "#") == "a#b2"


@pytest.mark.parametrize("replacement, reason", [
    ("$x", "Illegal group reference"),
    ("$", "Illegal group reference: group index is missing"),
    ("\\", "character to be escaped is missing"),
    ("${nope}", "No group with name {nope}"),
    ("$2", "No group 2"),
])
def test_bad_replacement_texts(replacement: str, reason: str) -> None:
    with pytest.raises(ScriptRuntimeError) as info:
        rx.replace_all("abc", "(b)", replacement)
    assert info.value.message == f"Invalid replacement text '{replacement}': {reason}"


# -- invalid patterns -----------------------------------------------------------------------

@pytest.mark.parametrize("pattern, reason", [
    ("(abc", "unclosed group"),
    ("abc)", "unmatched closing ')'"),
    ("[a-", "unclosed character class"),
    ("\\y", "illegal/unsupported escape sequence \\y"),
    ("a{3,1}", "illegal repetition range {3,1}"),
    ("[z-a]", "illegal character range"),
    ("a**", "multiple repeat"),
    ("*a", "nothing to repeat"),
    ("\\k<nope>", "named capturing group <nope> does not exist"),
])
def test_invalid_patterns_name_the_pattern_and_reason(pattern: str, reason: str) -> None:
    assert invalid(pattern) == f"Invalid regular expression '{pattern}': {reason}"


def test_deep_nesting_is_refused_instead_of_overflowing_the_stack() -> None:
    assert invalid("(" * 300 + "a" + ")" * 300).endswith(": groups are nested too deeply")
    assert invalid("[" * 100 + "a" + "]" * 100).endswith(
        ": character classes are nested too deeply")
    assert invalid("(" * 300 + "a").startswith("Invalid regular expression '" + "(" * 117 + "...'")
    assert rx.contains_match("xa", "(" * 100 + "a" + ")" * 100)


# -- bounded time -------------------------------------------------------------------------

def test_catastrophic_pattern_finishes_quickly_with_the_right_answer() -> None:
    text = "a" * 100_000 + "!"
    start = time.perf_counter()
    assert rx.full_match(text, "(a+)+$") is False
    assert rx.replace_all(text, "(a+)+$", "x") == text
    assert rx.replace_all(text, "(a|aa)+!", "x") == "x"
    assert rx.contains_match(text, "(x+x+)+y") is False
    assert time.perf_counter() - start < 2.0


def test_backtracking_only_pattern_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rx.bounds, "REGEX_TIMEOUT", 0.2)
    start = time.perf_counter()
    with pytest.raises(ScriptRuntimeError) as info:
        rx.full_match("a" * 60 + "b", "(a|aa)+\\1$")
    assert info.value.message == "Regular expression '(a|aa)+\\1$' took too long"
    assert time.perf_counter() - start < 2.0


def test_stdlib_re_is_used_only_when_its_work_is_provably_small() -> None:
    simple = rx.compile_pattern("[0-9]+")
    assert simple._use_py(10)
    assert not simple._use_py(100_000)
    assert not rx.compile_pattern("(a+)+")._use_py(5)            # nested quantifiers
    assert not rx.compile_pattern("(a|ab)*c")._use_py(5)         # choices under a repeat
    assert not rx.compile_pattern("\\p{L}+")._use_py(5)          # stdlib re lacks \p


@pytest.mark.parametrize("pattern, replacement", [
    ("[0-9]+", "#"), ("(\\w+)@(\\w+)", "$2 at $1"), ("\\s*,\\s*", ";"), ("(?i)É", "e"),
    ("x*", "-"), ("\\bb", "B"), ("[^\\p{Alpha}\\s]", ""), ("(a)|(b)", "<$1$2>"),
])
def test_engines_agree_on_short_and_long_texts(pattern: str, replacement: str) -> None:
    unit = "ab1 , bé22,é x@y b😀 "
    short = rx.replace_all(unit, pattern, replacement)           # stdlib re or RE2
    long = rx.replace_all(unit * 3000, pattern, replacement)     # RE2 (linear time)
    if pattern == "x*":     # the empty match at the end of the text happens once
        assert long == short[:-1] * 3000 + "-"
    else:
        assert long == short * 3000


def test_text_with_a_lone_surrogate_still_matches() -> None:
    text = "a\ud800b" * 2000
    assert rx.replace_all(text, "[ab]+", "x").startswith("x\ud800x")


# -- sizes and cache ------------------------------------------------------------------------

def test_replacement_growth_is_checked_before_the_result_exists() -> None:
    text = "a" * 100_000
    with pytest.raises(LimitExceeded):
        rx.replace_all(text, "a", "b" * 1000)
    small = RunContext(limits=Limits(max_text=200_000))
    with activate(small), pytest.raises(LimitExceeded):
        rx.replace_all(text, "(a)", "$1$1$1")
    with activate(small), pytest.raises(LimitExceeded):
        rx.replace_all(text * 2, "(a)+?", "$1$1$1")       # RE2 path
    with activate(small):
        assert len(rx.replace_all(text, "(a)", "$1$1")) == 200_000
        wide = "é" * 150_000        # 300 kB of UTF-8 but 150,000 characters: within limit
        assert rx.replace_all(wide, "(é)+?", "$1") == wide
    with pytest.raises(LimitExceeded):
        rx.replace_all(text, "a", "b" * 1000)
    with pytest.raises(LimitExceeded):
        rx.replace_all(text, "", "b" * 200)
    with pytest.raises(LimitExceeded):
        rx.replace_literal(text, "A", "b" * 1000, ignore_case=True)


def test_compiled_patterns_are_cached_per_pattern_and_flags() -> None:
    assert rx.compile_pattern("a+b") is rx.compile_pattern("a+b")
    assert rx.compile_pattern("a+b") is not rx.compile_pattern("a+b", True)
    assert rx.compile_pattern.cache_info().maxsize == 512


def test_literal_patterns_skip_the_regex_engines() -> None:
    assert rx.compile_pattern("\\.").literal == "."
    assert rx.compile_pattern(",").literal == ","
    assert rx.compile_pattern("a.b").literal is None
    assert rx.compile_pattern("x", True).literal is None
    assert rx.replace_all("1.2.3", "\\.", "") == "123"


def test_replace_literal_ignore_case() -> None:
    assert rx.replace_literal("A.a.A", "a.", "x", ignore_case=True) == "xxA"
    assert rx.replace_literal("A.a.A", "a.", "x", ignore_case=True, count=1) == "xa.A"
    assert rx.replace_literal("aaa", "", "-") == "-a-a-a-"
