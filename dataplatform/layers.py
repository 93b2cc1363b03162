"""The project's layers and its import graph, read from the source (no module is imported).

Layers import only downward:

| layer | packages | may import |
|---|---|---|
| foundation | `foundation` (stack model and rules, naming, chart pins, data layout) | nothing of ours |
| components | `components` (ComponentResources and their Args) | foundation |
| shell | `dataplatform` (resolve step, program, CLI, plan engine, render, onboarding) | both |
| policy pack | `policies` (runs in Pulumi's analyzer, on its own) | nothing of ours |

Imports under `if TYPE_CHECKING:` are left out: they never run, and a type checker is
the reader they are for. `python -m dataplatform.layers` prints the figures.
"""  # noqa: E501  (a table reads better unwrapped)

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from foundation.layout import REPO_ROOT

PACKAGES = ("foundation", "components", "dataplatform", "policies")
RANK = {"foundation": 0, "components": 1, "dataplatform": 2}
"""Layers by height; `policies` stands apart and may import none of the others."""
FORBIDDEN_IN_COMPONENTS = ("foundation.config.stack", "foundation.config.loader")
"""Components take their Args: they never read a stack config."""


@dataclass(frozen=True)
class Graph:
    modules: frozenset[str]
    edges: dict[str, frozenset[str]]

    @property
    def edge_count(self) -> int:
        return sum(len(v) for v in self.edges.values())


def _module(root: Path, path: Path) -> str:
    # policies/guardrails/x.py is `policies.guardrails.x`: the pack's own imports of
    # `guardrails` are mapped onto that prefix in import_graph.
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(tree: ast.Module) -> Iterable[ast.Import | ast.ImportFrom]:
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
               and "TYPE_CHECKING" in ast.unparse(node.test)
               for stmt in node.body for n in ast.walk(stmt)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in skipped:
            yield node


def import_graph(root: Path = REPO_ROOT) -> Graph:
    """Every module of ours and the modules of ours it imports at run time (at the top
    or inside a function)."""
    files = {_module(root, p): p for pkg in PACKAGES for p in (root / pkg).rglob("*.py")
             if ".venv" not in p.parts}
    modules = set(files)

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    edges: dict[str, set[str]] = defaultdict(set)
    for mod, path in files.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*up, base] if base else up)
                if mod.startswith("policies.") and not node.level:
                    base = f"policies.{base}" if base.startswith("guardrails") else base
                # `from pkg import mod` depends on the module; `from mod import name`, on mod
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                           for a in node.names]
            for target in targets:
                found = known(target)
                if found and found != mod:
                    edges[mod].add(found)
    return Graph(frozenset(modules), {m: frozenset(edges.get(m, ())) for m in modules})


def cycles(graph: Graph) -> list[list[str]]:
    """Import circles: strongly connected sets of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph.modules):
        if v not in index:
            visit(v)
    return found


def _top(module: str) -> str:
    return module.split(".")[0]


def layer_violations(graph: Graph) -> list[str]:
    """Imports that go up a layer, cross into or out of the policy pack, or give a
    component the stack config."""
    out = []
    for mod, targets in sorted(graph.edges.items()):
        for target in sorted(targets):
            a, b = _top(mod), _top(target)
            if a == b == "policies":
                continue
            if "policies" in (a, b):
                out.append(f"{mod} -> {target}: the policy pack stands alone")
            elif RANK[b] > RANK[a]:
                out.append(f"{mod} -> {target}: {a} may not import {b}")
            elif a == "components" and target.startswith(FORBIDDEN_IN_COMPONENTS):
                out.append(f"{mod} -> {target}: components take Args, not the stack config")
    return out


def main() -> None:
    graph = import_graph()
    circles, upward = cycles(graph), layer_violations(graph)
    print(f"modules {len(graph.modules)}, imports {graph.edge_count}, circles {len(circles)}"
          f" ({sum(len(c) for c in circles)} modules in them), upward or crossing imports "
          f"{len(upward)}")
    for line in [*(" <-> ".join(c) for c in circles), *upward]:
        print(f"  {line}")


if __name__ == "__main__":
    main()
