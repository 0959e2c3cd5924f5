"""Regular expressions from scripts: Java syntax, always finished in bounded time.

Script authors write Java regular expressions (the vendor runs on Java) and a pattern
must never hang a run (SPEC §7). A pattern is translated once per (pattern, flags) and
kept in a bounded LRU cache; each call then picks the engine that is safe for it:

    literal      a pattern without regex meaning (",", "\\.", "{name}"): str methods
    stdlib re    only when a static bound on its backtracking work for this text is
                 small (no quantifier over a group offering choices, and
                 n * choices <= RE_BUDGET): fastest for the short texts scripts handle
    google-re2   everything RE2 expresses: linear in the length of the text
    regex        what RE2 lacks (backreferences, lookaround, possessive and atomic
                 groups, class set operations, \\G, \\X, Unicode blocks), with a
                 REGEX_TIMEOUT per call

Matches are found the way Java's Matcher.find finds them (after an empty match the next
search starts one character later), whichever engine runs.

Java syntax translated for the engines: \\Q...\\E, \\p{Alpha} and the other POSIX classes
(US-ASCII, as in Java), \\p{L} / \\p{IsLatin} / \\p{InGreek} / \\p{javaLowerCase},
\\h \\v \\R, \\uXXXX, \\x{...}, \\0 octal, \\cX, \\e, (?<name>...), \\k<name>, inline flags in
mid pattern ((?i) applies to the rest of its group, as in Java), (?x) comments mode,
possessive quantifiers, [a-z&&[^aeiou]], and a '{' that does not start a repetition
(taken literally, so "{name}" works).

Chosen differences from Java, identical whichever engine runs:
- \\d \\w \\s \\b are US-ASCII (Java's default); case-insensitive matching is Unicode.
- '$' without (?m) matches only at the very end of the text (RE2's rule), never before
  a final line break; '.' excludes only '\\n'.

Replacement texts use Java's syntax: $1, ${name}, and a backslash quotes the next
character ("\\$" is a dollar). Errors are ScriptRuntimeError, e.g.
`Invalid regular expression '(a': unclosed group`,
`Invalid replacement text '$2': No group 2`,
`Regular expression '(a|aa)+\\1$' took too long`.

The package: `javasyntax` translates a Java pattern for the engines, `engines` holds
the compiled `Pattern` and picks the engine per call, `replacement` parses Java
replacement texts and builds results within the text limit, `literal` handles patterns
that are plain text, and `bounds` holds the limits and their errors.
"""

from __future__ import annotations

__all__ = [
    "MAX_PATTERN",
    "Pattern",
    "compile_pattern",
    "contains_match",
    "find_all",
    "find_ignore_case",
    "full_match",
    "literal_regex",
    "literal_text",
    "replace_all",
    "replace_first",
    "replace_literal",
]

import functools

from .bounds import CACHE_SIZE, MAX_PATTERN
from .engines import Pattern
from .literal import find_ignore_case, literal_regex, literal_text, replace_literal


@functools.lru_cache(maxsize=CACHE_SIZE)
def compile_pattern(pattern: str, ignore_case: bool = False) -> Pattern:
    """The compiled form of a Java pattern (cached per (pattern, ignore_case)).

    Raises ScriptRuntimeError `Invalid regular expression '...': reason` (errors are
    not cached, so a pattern past MAX_PATTERN never stays in the cache).
    """
    return Pattern(pattern, ignore_case)


def replace_all(text: str, pattern: str, replacement: str, ignore_case: bool = False) -> str:
    """Java `text.replaceAll(pattern, replacement)`; `$1` and `${name}` in replacement."""
    return compile_pattern(pattern, ignore_case).replace(text, replacement, 0)


def replace_first(text: str, pattern: str, replacement: str, ignore_case: bool = False) -> str:
    """Java `text.replaceFirst(pattern, replacement)`."""
    return compile_pattern(pattern, ignore_case).replace(text, replacement, 1)


def full_match(text: str, pattern: str, ignore_case: bool = False) -> bool:
    """Java `text.matches(pattern)`: the whole text must match."""
    return compile_pattern(pattern, ignore_case).fullmatch(text)


def contains_match(text: str, pattern: str, ignore_case: bool = False) -> bool:
    """Whether the pattern matches anywhere in the text."""
    return compile_pattern(pattern, ignore_case).search(text)


def find_all(text: str, pattern: str, ignore_case: bool = False) -> list[str]:
    """The text of every non-overlapping match, left to right."""
    return compile_pattern(pattern, ignore_case).find_all(text)
