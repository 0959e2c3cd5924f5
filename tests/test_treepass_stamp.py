"""treepass.stamp: new nodes take a script node's position, the script's own subtrees
(already positioned) keep theirs and are not walked."""

from __future__ import annotations

import ast

from sluicegate.treepass import stamp


def _unpositioned(src: str) -> ast.expr:
    node = ast.parse(src, mode="eval").body
    for n in ast.walk(node):
        for attr in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
            n.__dict__.pop(attr, None)
    return node


def test_every_new_node_takes_the_position_and_script_nodes_keep_theirs() -> None:
    where = ast.parse("\n\n(  y)", mode="eval").body  # line 3, column 3
    own = ast.parse("\n" * 6 + "a + b", mode="eval").body  # the script's: line 7
    new = _unpositioned("(t if -1 <= (t := x + 1) <= 1 else f(x, [k], *{q: r}))"
                        " if type(x) is int and not x in s else g(x)")
    new.body.orelse.args.append(own)  # a positioned subtree among the new nodes
    stamp(new, where)
    seen = 0
    for n in ast.walk(new):
        if isinstance(n, (ast.expr, ast.stmt)):
            expected = 7 if n is own or n in (own.left, own.right) else 3
            assert (n.lineno, n.end_lineno) == (expected, expected), ast.dump(n)
            if expected == 3:
                assert (n.col_offset, n.end_col_offset) == (3, 4)
                seen += 1
    assert seen > 20
    compile(ast.Expression(body=new), "<t>", "eval")  # complete for the compiler


def test_script_names_and_constants_keep_their_positions_in_lists_and_fields() -> None:
    """Names and constants are stamped where they are met (not walked): one that has a
    position keeps it, in a list (call arguments) as in a field (an operand)."""
    where = ast.parse("\n\n(  y)", mode="eval").body  # line 3
    own_name = ast.parse("\n" * 4 + "a", mode="eval").body  # line 5
    own_const = ast.parse("\n" * 5 + "1", mode="eval").body  # line 6
    new = _unpositioned("f(x, 2) + g")
    new.left.args.append(own_name)  # in a list
    new.right = own_const  # in a field
    stamp(new, where)
    assert (own_name.lineno, own_const.lineno) == (5, 6)
    assert [a.lineno for a in new.left.args] == [3, 3, 5]
    assert (new.lineno, new.left.func.lineno, new.left.func.end_col_offset) == (3, 3, 4)
    compile(ast.Expression(body=new), "<t>", "eval")


def test_fast_path_nodes_placed_when_built_are_where_stamping_would_put_them() -> None:
    """fastnodes.place gives the fast paths' new nodes, when they are built, the position
    the stamping walk would give them: the whole tree, positions included, is the same
    as with every new node left to the stamping."""
    from pathlib import Path

    from sluicegate.errors import ScriptSyntaxError
    from sluicegate.optimizer import fastnodes, fastpaths, faststatements, loopversions
    from sluicegate.sandbox import _finish
    from sluicegate.translator import translate

    def dumped(text: str) -> str | None:
        try:
            module, _ = _finish(translate(text, "f.dg"))
        except ScriptSyntaxError:
            return None
        return ast.dump(module, include_attributes=True)

    def unplaced(where: object) -> dict[str, int]:
        return fastnodes._placing.here  # nothing placed: the stamping positions every node

    scripts = sorted((Path(__file__).parent / "scripts").rglob("*.dg"))
    assert scripts
    compared = 0
    for path in scripts:
        text = path.read_text(encoding="utf-8")
        placed = dumped(text)
        placing = (fastpaths, faststatements, loopversions, fastnodes)  # (_built's)
        saved = [module.place for module in placing]
        for module in placing:
            module.place = unplaced  # type: ignore[assignment]
        try:
            stamped = dumped(text)
        finally:
            for module, place in zip(placing, saved):
                module.place = place  # type: ignore[assignment]
        assert placed == stamped, path.name
        compared += placed is not None
    assert compared > 50
