"""`sluice test --coverage`: statements run per script, lines never run, the HTML page."""

from __future__ import annotations

import re

from wbhelpers import sluice_test, write

SCRIPT = """
if (x < 1)
{
    info "<script>alert('small')</script>";
    return "small";
}
else if (x > 100)
{
    return "big";
}
y = x * 2; z = y + 1;
return z;
"""


def test_coverage_names_the_share_and_the_lines_never_run(tmp_path, capsys):
    write(tmp_path, "branches", SCRIPT, """
        [[case]]
        name = "small"
        inputs = { x = 0 }
        expect.return = "small"

        [[case]]
        name = "middle"
        inputs = { x = 5 }
        expect.return = 11
        """)
    report = tmp_path / "out" / "coverage.html"
    code, out, _ = sluice_test(capsys, str(tmp_path), "--coverage", "--coverage-html",
                               str(report))
    assert code == 0
    # statements: if test (1), info (3), return (4), else-if test (6), return (8),
    # y and z (10, two statements), return (11); line 8 never ran
    assert f"{tmp_path}/branches.dg: 88% of 8 statements; never run: lines 8" in out
    assert out.splitlines()[-1] == "2 passed, 0 failed"
    page = report.read_text()
    assert "&lt;script&gt;alert(&#x27;small&#x27;)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # nothing loaded from elsewhere
    assert '<tr class="missed"><td class="n">8</td>' in page
    assert '<tr class="run"><td class="n">10</td>' in page
    assert '<tr class=""><td class="n">2</td>' in page  # a brace is no statement


def test_full_coverage_when_every_branch_runs(tmp_path, capsys):
    write(tmp_path, "branches", SCRIPT, """
        [[case]]
        name = "small"
        inputs = { x = 0 }
        [[case]]
        name = "big"
        inputs = { x = 500 }
        [[case]]
        name = "middle"
        inputs = { x = 5 }
        """)
    code, out, _ = sluice_test(capsys, str(tmp_path), "--coverage", "--coverage-html",
                               str(tmp_path / "c.html"))
    assert code == 0
    assert "branches.dg: 100% of 8 statements\n" in out


def test_calls_to_scripts_beside_it_work_and_count_for_the_caller_only(tmp_path, capsys):
    # the helper runs a statement on line 4, the line of main that never runs
    (tmp_path / "helper.dg").write_text(
        "int standalone.helper(int x)\n{\n    z = x;\n    return z + 5;\n}\n")
    write(tmp_path, "main", """
        y = standalone.helper(x);
        if (y > 100)
        {
            return 0;
        }
        return y + 1;
        """, """
        [[case]]
        name = "calls the helper"
        inputs = { x = 5 }
        expect.return = 11
        """)
    code, out, _ = sluice_test(capsys, str(tmp_path), "--coverage", "--coverage-html",
                               str(tmp_path / "c.html"))
    assert code == 0, out
    assert "main.dg: 75% of 4 statements; never run: lines 4\n" in out
    assert "helper.dg" not in out  # it has no test file of its own
