"""The package's import contract: each layer imports only from the layers below it, and nothing cycles.

``nox -s lint`` runs it (and CI with it). Every import statement counts, wherever it stands: at the
top of a module, inside a function, under ``if TYPE_CHECKING:``. A deferred import is still a
dependency; deferring it only hides a knot.

Usage: ``python tools/import_layers.py [PACKAGE_DIR]`` (default ``optuna_clank``); exit 1 and one
line per broken rule when the contract does not hold.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),
    ("arena",),
    ("spec",),
    ("sampler",),
    ("trial",),
    ("study",),
    ("run",),
    ("serve", "inspect"),
    ("cli",),
)
"""Bottom first. A layer may import its own and every lower layer; the names in one tuple are
siblings that may not import each other."""

ROOT_NAMES = frozenset({"__version__"})
"""What a layer may take from the package root itself (``optuna_clank/__init__.py``)."""


def layer_rank(layers: Sequence[Sequence[str]]) -> dict[str, int]:
    return {name: rank for rank, names in enumerate(layers) for name in names}


def module_names(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module and package of the package."""
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def imports_of(module: str, path: Path, modules: Mapping[str, Path]) -> Iterator[tuple[str, int, tuple[str, ...]]]:
    """``(imported module, line, names)`` for each in-package import of one module."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    root = module.split(".", maxsplit=1)[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == root or alias.name.startswith(root + "."):
                    yield _known(alias.name, modules), node.lineno, ()
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target != root and not target.startswith(root + "."):
                continue
            names = tuple(alias.name for alias in node.names)
            for name in names:  # ``from pkg import submodule`` imports the submodule
                if f"{target}.{name}" in modules:
                    yield f"{target}.{name}", node.lineno, ()
            if not all(f"{target}.{name}" in modules for name in names):
                yield _known(target, modules), node.lineno, names


def _known(name: str, modules: Mapping[str, Path]) -> str:
    while name not in modules and "." in name:
        name = name.rpartition(".")[0]
    return name


def check(package_dir: Path, layers: Sequence[Sequence[str]] = LAYERS) -> list[str]:
    """Every broken rule as one line (empty: the contract holds)."""
    rank = layer_rank(layers)
    modules = module_names(package_dir)
    root = package_dir.name
    problems: list[str] = []
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        parts = module.split(".")
        own = parts[1] if len(parts) > 1 and parts[1] in rank else None
        if len(parts) > 1 and own is None and path.parent != package_dir:
            problems.append(f"{path}: in no layer (add its subpackage to LAYERS)")
        edges = graph.setdefault(module, set())
        for target, line, names in imports_of(module, path, modules):
            if target == module:
                continue
            edges.add(target)
            where = f"{path}:{line}"
            if target == root:
                if own is not None and not set(names) <= ROOT_NAMES:
                    problems.append(
                        f"{where}: imports the package root ({', '.join(names)}); only {sorted(ROOT_NAMES)}"
                    )
                continue
            theirs = target.split(".")[1]
            if own is None:
                continue
            if theirs not in rank:
                problems.append(f"{where}: {own} imports {target}, which is in no layer")
                continue
            if rank[theirs] > rank[own] or (rank[theirs] == rank[own] and theirs != own):
                problems.append(f"{where}: {own} imports {target} ({theirs} is not below {own})")
    problems += [f"import cycle: {' -> '.join(cycle)}" for cycle in _cycles(graph)]
    return problems


def _cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected component with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
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
                found.append(sorted(component))

    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def main(argv: Sequence[str]) -> int:
    package_dir = Path(argv[0] if argv else "optuna_clank")
    problems = check(package_dir)
    for problem in problems:
        print(problem)
    if problems:
        order = " < ".join("|".join(names) for names in LAYERS)
        print(f"{len(problems)} broken import rule(s); the layers, bottom first: {order}")
        return 1
    print(f"import layers hold: {' < '.join('|'.join(n) for n in LAYERS)}, no cycle")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
