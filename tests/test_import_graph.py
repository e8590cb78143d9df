"""capc's import graph: no cycles, and the layer order that docs/architecture.md states.

The graph is read from the sources with `ast`, imports inside functions included (a
function-local import is still a dependency; it only hides a cycle from the interpreter).
The layer order is read from the doc itself, from the line written as
`grammar ← compiler ← ... ← commands/cli`, so the picture and this test cannot drift apart.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "capc"
DOC = ROOT / "docs" / "architecture.md"
# Top-level modules that belong to a layer named in the doc by another name.
PART_OF = {"__main__": "cli", "pytest_plugin": "testing", "api": "cli"}  # api: the library beside the CLI
# Cycles known and not fixed yet, each with its reason; an entry must go when its cycle does.
KNOWN_CYCLES: dict[tuple[str, str], str] = {}


def module_names() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[tuple[str, int]]:
    """(imported capc module, line) for every import statement anywhere in the module."""
    out = set()
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            # `from capc.compiler import tabletop` imports the module capc.compiler.tabletop
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        out.update((t, node.lineno) for t in targets if t in known and t != name)
    return out


def import_graph() -> dict[str, set[tuple[str, int]]]:
    known = module_names()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def cycles(graph: dict[str, set[tuple[str, int]]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(t for t, _ in graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(t for t, _ in graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def layer_order() -> list[list[str]]:
    """The layers, lowest first, from the doc's chain: `a ← b ← c|d ← e/f`. `|` separates
    siblings (independent of each other); `/` joins the parts of one layer (`commands/cli`:
    the command modules and the CLI that dispatches to them)."""
    match = re.search(r"`(grammar ← [^`]+)`", DOC.read_text(encoding="utf-8"))
    assert match, "docs/architecture.md no longer states the layer order as `grammar ← ...`"
    return [[sibling.strip() for sibling in layer.split("|")] for layer in match.group(1).split("←")]


def where(module: str, layers: list[list[str]]) -> tuple[int, str]:
    """(layer index, sibling) of a module; the top-level helper modules (diagnostics, limits,
    frozen, ...) are the base layer, -1."""
    top = module.split(".")[1] if "." in module else ""
    top = PART_OF.get(top, top)
    for number, siblings in enumerate(layers):
        for sibling in siblings:
            if top in sibling.split("/"):
                return number, sibling
    return -1, top


def test_the_doc_names_every_package():
    named = {name for layer in layer_order() for sibling in layer for name in sibling.split("/")}
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert packages <= named, f"packages missing from the layer order in docs/architecture.md: {packages - named}"


def test_no_import_cycles():
    found = {tuple(c) for c in cycles(import_graph())}
    new = found - KNOWN_CYCLES.keys()
    assert not new, "modules that import each other (directly or around a loop): " + "; ".join(
        " <-> ".join(c) for c in sorted(new))
    assert KNOWN_CYCLES.keys() <= found, f"fixed, take them out of KNOWN_CYCLES: {KNOWN_CYCLES.keys() - found}"


def test_no_lower_layer_imports_a_higher_one():
    layers = layer_order()
    wrong = []
    for module, targets in sorted(import_graph().items()):
        mine, my_name = where(module, layers)
        for target, line in sorted(targets):
            theirs, their_name = where(target, layers)
            siblings = theirs == mine and their_name != my_name and mine >= 0
            if theirs > mine or siblings:
                wrong.append(f"{module} (line {line}) imports {target}: "
                             f"{'sibling' if siblings else 'higher'} layer '{their_name}'")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("graph, expected", [
    ({"a": {("b", 1)}, "b": {("c", 1)}, "c": {("a", 1)}, "d": set()}, [["a", "b", "c"]]),
    ({"a": {("b", 1)}, "b": set()}, []),
])
def test_the_cycle_finder_finds_cycles(graph, expected):
    assert cycles(graph) == expected


def test_the_safety_case_neither_stores_nor_prints():
    """docs/architecture.md: `capc/safety` depends on nothing that stores or prints; its
    results are read by the layers above (the audit store, the commands)."""
    wrong = []
    for path in sorted((PACKAGE / "safety").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("print", "open"):
                wrong.append(f"{path.name}:{node.lineno}: {node.func.id}()")
            elif (isinstance(node, ast.Attribute) and node.attr in ("stdout", "stderr")
                  and isinstance(node.value, ast.Name) and node.value.id == "sys"):
                wrong.append(f"{path.name}:{node.lineno}: sys.{node.attr}")
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                wrong += [f"{path.name}:{node.lineno}: imports {n}" for n in names
                          if n.split(".")[0] in ("sqlite3", "shelve", "pickle") or n.startswith("capc.audit")]
    assert not wrong, "\n".join(wrong)


# The embodiment's module and the one module allowed to import it: the profile registry, which
# registers it. Everything else reads cells, objects, plans and answers from a RobotProfile.
EMBODIMENT = "capc.compiler.tabletop"
PROFILE_REGISTRY = "capc.compiler.profiles"


def test_only_the_profile_registry_imports_the_tabletop():
    """issue 19: a second embodiment is a second profile, not a fork; nothing outside the
    profile registry names the tabletop module (imports inside functions included)."""
    graph = import_graph()
    wrong = sorted(f"{module} (line {line})" for module, targets in graph.items() if module != PROFILE_REGISTRY
                   for target, line in targets if target == EMBODIMENT)
    assert not wrong, "imports of the tabletop outside the profile registry:\n" + "\n".join(wrong)
    assert any(t == EMBODIMENT for t, _ in graph[PROFILE_REGISTRY])  # the graph sees the one that is there
