"""No module of the package over 500 lines, no class over 200.

Past that a module or a class holds more than one job, and the next change
to one of them has to read all of them (issue 12, point 5): split it along
its responsibilities (pure ``parse_*`` functions beside the fetching class,
a helper class for a job of its own, a ``cli_*`` module per command group).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pelican_engage"
MODULE_LINES = 500
CLASS_LINES = 200


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _name(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def sizes(path: Path) -> tuple[int, dict[str, int]]:
    """(lines of the module, lines of each class by qualified name), nested
    classes included; a class counts from its first decorator to its end."""
    source = path.read_text(encoding="utf-8")
    classes: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                classes[prefix + child.name] = (child.end_lineno or child.lineno) - first + 1
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(source, filename=str(path)), "")
    return len(source.splitlines()), classes


@pytest.mark.parametrize("path", _modules(), ids=_name)
def test_no_module_over_500_lines_and_no_class_over_200(path: Path) -> None:
    name = _name(path)
    lines, classes = sizes(path)
    too_big = []
    if lines > MODULE_LINES:
        too_big.append(f"{name}: {lines} lines (at most {MODULE_LINES})")
    too_big += [
        f"{name}: class {cls}: {count} lines (at most {CLASS_LINES})"
        for cls, count in classes.items()
        if count > CLASS_LINES
    ]
    assert too_big == []


def test_the_counter_sees_a_class_that_is_too_big(tmp_path: Path) -> None:
    body = "\n".join(f"    x{n} = {n}" for n in range(CLASS_LINES))
    big = tmp_path / "big.py"
    nested = "class Outer:\n    class Inner:\n        y = 1\n"
    big.write_text(f"@decorated\nclass Big:\n{body}\n\n\n{nested}")
    lines, classes = sizes(big)
    assert lines == CLASS_LINES + 7
    assert classes == {"Big": CLASS_LINES + 2, "Outer": 3, "Outer.Inner": 2}
