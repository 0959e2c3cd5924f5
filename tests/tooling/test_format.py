"""`sluice fmt` (issue 13, point 2): house style, every comment kept, idempotent, and the
translation of the formatted script equal to the original's."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from sluicegate.errors import ScriptSyntaxError
from sluicegate.parser import normalize_source, parse_tree
from sluicegate.tooling.format import format_source
from sluicegate.translator import translate

ROOT = Path(__file__).resolve().parents[2]
SLUICE = str(Path(sys.executable).parent / "sluice")

MESSY = """\
// Late fee.
string standalone.fee(map invoice){
total=invoice.get("total")*2/100;   // two percent
if(total>10){ info "big";} else if (total<1) {info "small" ;}
else{
return "none";}


for each  item in invoice.get("items") { if(!item.isEmpty()){continue;} }
resp = invokeurl [ url: "https://api.example.com/v1/fees/" + invoice.get("id") + "/apply" type: POST parameters: {"amount":total,"currency":"EUR"} connection: "books" ];
try {x = resp.toMap();} catch (e) { info e; }
return total.toString();
}
"""

EXPECTED = """\
// Late fee.
string standalone.fee(map invoice)
{
	total = invoice.get("total") * 2 / 100; // two percent
	if(total > 10)
	{
		info "big";
	}
	else if(total < 1)
	{
		info "small";
	}
	else
	{
		return "none";
	}

	for each  item in invoice.get("items")
	{
		if(!item.isEmpty())
		{
			continue;
		}
	}
	resp = invokeurl
	[
		url :"https://api.example.com/v1/fees/" + invoice.get("id") + "/apply"
		type :POST
		parameters:{"amount":total,"currency":"EUR"}
		connection:"books"
	];
	try
	{
		x = resp.toMap();
	}
	catch (e)
	{
		info e;
	}
	return total.toString();
}
"""


def test_house_style() -> None:
    assert format_source(MESSY, "t.dg") == EXPECTED
    assert format_source(EXPECTED, "t.dg") == EXPECTED


def test_task_blocks_one_parameter_a_line_as_the_vendor_writes_them() -> None:
    src = 'r = invokeurl [url:"https://a.example" type:GET];\ninfo r;\n'
    assert format_source(src) == ('r = invokeurl\n[\n\turl :"https://a.example"\n'
                                  '\ttype :GET\n];\ninfo r;\n')
    mail = ('sendmail\n[\n  from :zoho.adminuserid\n  to : "a@example.com"\n'
            '  subject:"Hi"   // greeting\n  message : "Body"\n]\n')
    assert format_source(mail) == ('sendmail\n[\n\tfrom :zoho.adminuserid\n'
                                   '\tto :"a@example.com"\n\tsubject :"Hi" // greeting\n'
                                   '\tmessage :"Body"\n]\n')


VENDOR_SAVED = """\
string standalone.lookup(String deal_id, int page)
{
	result = Map();
	try
	{
		dId = ifnull(deal_id,"").trim();
		if(dId == "")
		{
			result.put("status","error");
			return result.toString();
		}
		resp = invokeurl
		[
			url :"https://www.zohoapis.com/crm/v7/Deals/" + dId
			type :GET
			connection:"zohocrm"
		];
		for each  row in resp.get("data")
		{
			result.put(row.get("id"),{"name":row.get("Deal_Name"),"page":page});
		}
	}
	catch (e)
	{
		result.put("message","Unexpected error: " + e.toString());
	}
	return result.toString();
}
"""


def test_a_script_as_the_vendors_editor_saves_it_is_left_as_it_is() -> None:
    """The house style is the vendor editor's own: its scripts are fixed points."""
    assert format_source(VENDOR_SAVED) == VENDOR_SAVED


def test_every_comment_is_kept_in_place() -> None:
    src = ("/* header\n   two lines */\nx = 1; /* after */\n\n\n// before y\ny = {1, // one\n"
           "  2};\nif (x > 0) // check\n{\n  // inside\n  info x + y;  // trailing\n}\n"
           "// between\nelse\n{\n}\n// the end\n")
    out = format_source(src)
    assert out == ("/* header\n   two lines */\nx = 1; /* after */\n\n// before y\n"
                   "y = {1, // one\n\t2};\nif(x > 0) // check\n{\n\t// inside\n"
                   "\tinfo x + y; // trailing\n}\n// between\nelse\n{\n}\n// the end\n")


def test_trailing_comments_of_consecutive_lines_are_aligned() -> None:
    src = "a = 1;  // one\nlonger = 2; // two\ninfo a + longer;\n"
    assert format_source(src) == "a = 1;      // one\nlonger = 2; // two\ninfo a + longer;\n"


def test_bom_and_crlf_are_kept() -> None:
    src = "\ufeffx=1;\r\ninfo x;\r\n"
    assert format_source(src) == "\ufeffx = 1;\r\ninfo x;\r\n"


def test_invalid_script_is_a_syntax_error_with_its_position() -> None:
    with pytest.raises(ScriptSyntaxError) as caught:
        format_source("x = 1\ny = 2;\n", "bad.dg")
    assert (caught.value.line, caught.value.column) == (1, 6)


# ---- the meaning never changes, on every script we have ----------------------------------
def _conformance_cases() -> list[Path]:
    for parent in ROOT.parents:
        cases = parent / "shared" / "conformance" / "cases"
        if cases.is_dir():
            return sorted(cases.glob("*.dg"))
    return []


def _corpus() -> list[Path]:
    return sorted((ROOT / "tests").rglob("*.dg")) + sorted((ROOT / "examples").glob("*.dg")) \
        + _conformance_cases()


def _dump(text: str) -> str:
    return ast.dump(translate(text, "t.dg").module, include_attributes=False)


def _comments(text: str) -> list[str]:
    return [" ".join(str(c).split()) for c in parse_tree(text)[1]]


def test_formatting_keeps_meaning_and_comments_and_is_idempotent() -> None:
    formatted = 0
    for path in _corpus():
        data = path.read_bytes()
        try:
            original = normalize_source(data, str(path))
            before = _dump(original)
        except (ScriptSyntaxError, RecursionError):
            continue
        if len(original) > 20000:
            continue  # the hostile size scripts: covered by their own suite
        out = format_source(data, str(path))
        text = normalize_source(out)
        assert _dump(text) == before, path
        assert _comments(text) == _comments(original.replace("\r\n", "\n")), path
        assert format_source(out, str(path)) == out, path
        formatted += 1
    # the repository's own scripts, and the shared conformance cases where they are beside it
    assert formatted > (250 if _conformance_cases() else 200)


# ---- the command -------------------------------------------------------------------------
def test_fmt_rewrites_in_place_and_check_names_files(tmp_path: Path) -> None:
    messy = tmp_path / "messy.dg"
    messy.write_text(MESSY, encoding="utf-8")
    clean = tmp_path / "clean.dg"
    clean.write_text(EXPECTED, encoding="utf-8")
    done = subprocess.run([SLUICE, "fmt", "--check", str(tmp_path)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert done.stdout == f"{messy}: would be reformatted\n"
    assert messy.read_text(encoding="utf-8") == MESSY
    done = subprocess.run([SLUICE, "fmt", str(messy), str(clean)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == f"{messy}: formatted\n"
    assert messy.read_text(encoding="utf-8") == EXPECTED
    done = subprocess.run([SLUICE, "fmt", "--check", str(messy)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == ""


def test_fmt_stdin_to_stdout(tmp_path: Path) -> None:
    done = subprocess.run([SLUICE, "fmt", "-"], input=MESSY, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and done.stdout == EXPECTED


def test_fmt_refuses_invalid_scripts_without_touching_them(tmp_path: Path) -> None:
    bad = tmp_path / "bad.dg"
    bad.write_text("x = 1\ny = 2;\n", encoding="utf-8")
    done = subprocess.run([SLUICE, "fmt", str(bad)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1
    assert f"{bad}:1:6: error: Missing ';' after '1'" in done.stderr
    assert "Traceback" not in done.stderr
    assert bad.read_text(encoding="utf-8") == "x = 1\ny = 2;\n"
    missing = subprocess.run([SLUICE, "fmt", str(tmp_path / "nope.dg")], capture_output=True,
                             text=True, timeout=60)
    assert missing.returncode == 2 and "no such file" in missing.stderr
    mixed = subprocess.run([SLUICE, "fmt", "-", str(bad)], capture_output=True, text=True,
                           timeout=60)
    assert mixed.returncode == 2 and "cannot be combined" in mixed.stderr


def test_a_format_that_would_change_meaning_or_lose_a_comment_is_refused(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The self-check is real: a printer bug can never reach a file."""
    from sluicegate.cli import main
    from sluicegate.tooling import format as formatter

    monkeypatch.setattr(formatter._Printer, "document", lambda self, tree: "x = 2;\n")
    with pytest.raises(formatter.FormatterError, match="translate differently"):
        format_source("x = 1;\n")
    monkeypatch.setattr(formatter._Printer, "document", lambda self, tree: "x = 1;\n")
    with pytest.raises(formatter.FormatterError, match="comment would be lost"):
        format_source("x = 1; // why\n")
    script = tmp_path / "a.dg"
    script.write_text("x = 1; // why\n", encoding="utf-8")
    assert main(["fmt", str(script)]) == 1
    assert "a.dg: error: not formatted: a comment would be lost" in capsys.readouterr().err
    assert script.read_text(encoding="utf-8") == "x = 1; // why\n"
