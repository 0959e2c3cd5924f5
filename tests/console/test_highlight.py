"""The console's highlighted copy of a script: every character once, in order (so it lines
up with the textarea above it), with the runtime's own words marked."""

from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from sluicegate.console.highlight import highlight

SAMPLE = ('// a note\nresp = invokeurl\n[\n\turl: "https://x.example/?a=<b>&c"\n'
          '\tconnection: "crm"\n];\nx = "A".toUpperCase();\nif (x == null) { info 12.50; }\n'
          'r = zoho.crm.getRecordById("Leads", 1);\n/* open')


def _text(markup: str) -> str:
    return html.unescape(re.sub(r"</?span[^>]*>", "", markup))


def test_the_runtime_words_are_marked() -> None:
    markup = highlight(SAMPLE)
    assert '<span class="tok-comment">// a note</span>' in markup
    assert '<span class="tok-keyword">if</span>' in markup
    assert '<span class="tok-builtin">toUpperCase</span>' in markup
    assert '<span class="tok-task">zoho.crm.getRecordById</span>' in markup
    assert '<span class="tok-number">12.50</span>' in markup
    assert "&lt;b&gt;&amp;c" in markup


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab "\'/*\n\t{}()<>&;.0123456789_xif')),
               max_size=80))
def test_every_character_appears_once_in_order(source: str) -> None:
    assert _text(highlight(source)) == source
