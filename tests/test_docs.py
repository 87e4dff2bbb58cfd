"""The examples in the README and in docstrings run, and show what the code really returns.

- Every module under ``xlrate/`` whose docstrings hold ``>>>`` examples runs them (doctest).
- The README's ```python block runs statement by statement; a statement followed by a
  comment that is a Python literal (``# Decimal('109.15')``, ``# [109.15, 152.35]``) must
  evaluate to exactly that.
- Every ``xlrate COMMAND`` line of the README names a command that exists.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import re
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "xlrate"
README = (ROOT / "README.md").read_text("utf-8")


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


WITH_EXAMPLES = sorted(_module(p) for p in PACKAGE.rglob("*.py") if ">>> " in p.read_text("utf-8"))


def test_there_are_docstring_examples() -> None:
    assert "xlrate.medicare.pricing" in WITH_EXAMPLES


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_readme_python_example() -> None:
    (block,) = _blocks("python")
    namespace: dict[str, object] = {}
    checked = 0
    for node in ast.parse(block).body:
        source = ast.get_source_segment(block, node)
        assert source is not None
        line = block.splitlines()[node.end_lineno - 1]
        comment = line.split("#", 1)[1].strip() if "#" in line else ""
        if isinstance(node, ast.Expr) and comment:
            value = eval(source, namespace)  # noqa: S307 - our own README
            expected = eval(comment, {"Decimal": Decimal, "nan": float("nan")})  # noqa: S307
            assert value == expected, (
                f"README: {source} gives {value!r}, the comment says {comment}"
            )
            checked += 1
        else:
            exec(compile(ast.Module([node], []), "README.md", "exec"), namespace)  # noqa: S102
    assert checked >= 2


def test_readme_commands_exist() -> None:
    from xlrate.cli import COMMANDS

    named = {
        line.split()[1]
        for block in _blocks("sh")
        for line in block.splitlines()
        if line.startswith("xlrate ")
    }
    assert named and named <= set(COMMANDS), named - set(COMMANDS)
