"""The import graph keeps its shape (docs/architecture.md): a small AST walk, no tool needed.

    base       xlrate (package), codes, errors, files, settings, text, ziputil, xlsx
    sources    xlrate.medicare, xlrate.practice, xlrate.market, xlrate.demo (sample data)
    profile    xlrate.profile
    analysis   xlrate.analysis
    report     xlrate.report (workbook by sheet, readback, the shared copy)
    email      xlrate.email
    excel      xlrate.excel
    cli        xlrate.cli, xlrate.__main__

Three rules, each checked over every ``import`` in the package (inside functions too, since
a function-local import is how a loop hides):

1. a module imports only its own layer or the layers below it;
2. no two modules import each other, directly or round a longer loop;
3. an import inside a function carries a reason: a ``# lazy: why`` comment on its line or
   the line above (pandas and openpyxl stay out of ``import xlrate``; a CLI command loads
   only what it runs).

``KNOWN`` lists what is still to be fixed, each with the reason and who fixes it; an entry
must be removed once its line is gone (the test says so), and a file's count of unexplained
function-local imports may only go down.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "xlrate"

LAYERS = ["base", "sources", "profile", "analysis", "report", "email", "excel", "cli"]
BASE = {"xlrate", "codes", "errors", "files", "settings", "text", "ziputil", "xlsx"}
TOP = {
    "medicare": "sources",
    "practice": "sources",
    "market": "sources",
    "demo": "sources",
    "profile": "profile",
    "analysis": "analysis",
    "report": "report",
    "email": "email",
    "excel": "excel",
    "cli": "cli",
    "__main__": "cli",
}

# (importer, imported) pairs that break rule 1 or 2 today, with who removes them.
KNOWN_EDGES: dict[tuple[str, str], str] = {}

# Unexplained function-local imports per file, to be annotated (or hoisted) by the file's
# owner this session. A count may only go down; 0 drops the entry.
KNOWN_LAZY: dict[str, int] = {}


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    in_function: bool
    explained: bool


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> str:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "xlrate"
    if top in BASE:
        return "base"
    return TOP.get(top, "unknown")


def _target(node: ast.ImportFrom, alias: ast.alias, importer: str) -> str:
    base = node.module or ""
    if node.level:
        package = importer.split(".")
        if MODULES[importer].name != "__init__.py":
            package = package[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join(package + ([node.module] if node.module else []))
    candidate = f"{base}.{alias.name}"
    return candidate if candidate in MODULES else base


def _explained(lines: list[str], lineno: int) -> bool:
    """A ``# lazy:`` comment on the line, or above the block of imports the line is in."""
    if "# lazy:" in lines[lineno - 1]:
        return True
    row = lineno - 2
    while row >= 0:
        text = lines[row].strip()
        if text.startswith("# lazy:"):
            return True
        if text and not (text.startswith(("import ", "from ", ")")) or text.endswith(",")):
            return False  # a blank line between import groups stays in the block
        row -= 1
    return False


def imports_of(module: str) -> list[Import]:
    path = MODULES[module]
    text = path.read_text("utf-8")
    lines = text.splitlines()
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append(
                        Import(
                            module,
                            alias.name,
                            child.lineno,
                            in_function,
                            _explained(lines, child.lineno),
                        )
                    )
            elif isinstance(child, ast.ImportFrom):
                for alias in child.names:
                    found.append(
                        Import(
                            module,
                            _target(child, alias, module),
                            child.lineno,
                            in_function,
                            _explained(lines, child.lineno),
                        )
                    )
            visit(child, inside)

    visit(ast.parse(text, str(path)), False)
    return found


ALL = [imp for module in MODULES for imp in imports_of(module)]
INTERNAL = [i for i in ALL if i.imported.split(".")[0] == "xlrate" and i.imported in MODULES]


def test_every_module_has_a_layer() -> None:
    unplaced = [m for m in MODULES if layer(m) not in LAYERS]
    assert not unplaced, f"give these a layer (BASE or TOP in this file): {unplaced}"


def test_imports_point_down() -> None:
    upward = sorted(
        {
            f"{i.importer} ({layer(i.importer)}) imports {i.imported} ({layer(i.imported)}) "
            f"at line {i.line}"
            for i in INTERNAL
            if layer(i.imported) in LAYERS
            and layer(i.importer) in LAYERS
            and LAYERS.index(layer(i.imported)) > LAYERS.index(layer(i.importer))
            and (i.importer, i.imported) not in KNOWN_EDGES
        }
    )
    assert not upward, "imports that point up a layer:\n" + "\n".join(upward)


def _cycles() -> list[list[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for i in INTERNAL:
        if i.importer != i.imported and (i.importer, i.imported) not in KNOWN_EDGES:
            graph[i.importer].add(i.imported)
    # Tarjan's strongly connected components: any with two or more modules is a loop.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    loops: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                loops.append(sorted(component))

    for node in sorted(MODULES):
        if node not in index:
            connect(node)
    return loops


def test_no_import_loops() -> None:
    loops = _cycles()
    assert not loops, "modules that import each other: " + "; ".join(" <-> ".join(c) for c in loops)


def test_function_local_imports_say_why() -> None:
    unexplained: dict[str, list[int]] = defaultdict(list)
    for i in ALL:
        if i.in_function and not i.explained:
            unexplained[str(MODULES[i.importer].relative_to(PACKAGE.parent))].append(i.line)
    problems = []
    for path, lines in sorted(unexplained.items()):
        allowed = KNOWN_LAZY.get(path, 0)
        if len(set(lines)) > allowed:
            problems.append(f"{path}: lines {sorted(set(lines))} (allowed still: {allowed})")
    assert not problems, (
        "function-local imports without a `# lazy: why` comment (hoist them, or say why):\n"
        + "\n".join(problems)
    )


def test_known_edges_still_exist() -> None:
    present = {(i.importer, i.imported) for i in INTERNAL}
    gone = [edge for edge in KNOWN_EDGES if edge not in present]
    assert not gone, f"fixed, remove from KNOWN_EDGES: {gone}"


def test_the_checker_reads_reasons_and_layers() -> None:
    """The walk itself: layers by folder, and a reason above a block of imports counts."""
    assert layer("xlrate.medicare.pricing") == "sources" and layer("xlrate.cli.report") == "cli"
    assert layer("xlrate.profile") == "profile" and layer("xlrate.ziputil") == "base"
    lines = [
        "def f():",
        "    # lazy: pandas",
        "    import pandas",
        "",
        "    from x import (",
        "        a,",
        "    )",
        "    y = 1",
        "    import z",
    ]
    assert _explained(lines, 3) and _explained(lines, 5)
    assert not _explained(lines, 9)
