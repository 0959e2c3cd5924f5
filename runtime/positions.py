"""Script positions in generated code: where a running script is, read from a traceback.

The translator stores script columns as 0-based character offsets in the Python AST
(`col_offset`); Python keeps them in the code object's position table. This module is
the one place that turns them back into the 1-based columns users see.
"""

from __future__ import annotations

__all__ = ["SCRIPT_FILENAME", "locate", "variable_from_name_error"]

import re
from types import TracebackType

SCRIPT_FILENAME = "<deluge>"
_NAME_RE = re.compile(r"'v_([A-Za-z_][A-Za-z0-9_]*)'")


def locate(tb: TracebackType | None) -> tuple[int | None, int | None]:
    """(line, column) of the innermost frame of generated script code in a traceback."""
    found: tuple[int | None, int | None] = (None, None)
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename == SCRIPT_FILENAME:
            line, col = tb.tb_lineno, None
            index = tb.tb_lasti // 2
            for i, pos in enumerate(code.co_positions()):
                if i == index:
                    if pos[0] is not None:
                        line = pos[0]
                    if pos[2] is not None:
                        col = pos[2] + 1
                    break
            found = (line, col)
        tb = tb.tb_next
    return found


def variable_from_name_error(exc: NameError) -> str | None:
    """The script variable named by a NameError/UnboundLocalError of generated code."""
    m = _NAME_RE.search(str(exc))
    return m.group(1) if m else None
