"""The house rules of docs/ARCHITECTURE.md that import-linter cannot state: no import cycle between
any two of our modules, and no module over 400 lines outside tests."""

from __future__ import annotations

from pathlib import Path

import grimp

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("flows", "spiders", "infra")
MAX_LINES = 400


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cycles: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = [
            (root, sorted(graph.find_modules_directly_imported_by(root)))
        ]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, todo = work[-1]
            if todo:
                nxt = todo.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(graph.find_modules_directly_imported_by(nxt))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


def test_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for name in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(name)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.x")
    graph.add_import(importer="a.z", imported="a.x")
    assert import_cycles(graph) == [["a.x", "a.y"]]


def test_no_import_cycles() -> None:
    graph = grimp.build_graph(*PACKAGES)
    # A package's __init__ re-exports its modules, so "package imports its module" edges are
    # not dependencies of the design: drop them before looking for cycles.
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported.startswith(module + "."):
                graph.remove_import(importer=module, imported=imported)
    assert import_cycles(graph) == []


def test_no_module_over_400_lines() -> None:
    too_long = {
        str(path.relative_to(REPO)): n
        for folder in (*PACKAGES, "bench")
        for path in sorted((REPO / folder).rglob("*.py"))
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert too_long == {}


def test_architecture_names_every_package_and_module() -> None:
    """docs/ARCHITECTURE.md stays true to the tree: each package of flows/ and infra/ and each
    module of flows/ is named in its layout section."""
    doc = (REPO / "docs" / "ARCHITECTURE.md").read_text()
    layout = doc[doc.index("## Layout") : doc.index("### Dependency rules")]
    missing = [
        str(path.relative_to(REPO))
        for top in ("flows", "infra")
        for path in sorted((REPO / top).iterdir())
        if path.is_dir() and (path / "__init__.py").is_file() and f"{path.name}/" not in layout
    ]
    missing += [
        str(path.relative_to(REPO))
        for path in sorted((REPO / "flows").rglob("*.py"))
        if not path.name.startswith("__") and path.stem not in layout
    ]
    assert missing == []
