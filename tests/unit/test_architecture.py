"""The floor plan holds: domain/ imports nothing outward, and no modules import each other in a circle.

Read from the source with the AST (every import statement, at any depth, including those
inside functions, which hide a circle rather than remove it), so the rule cannot drift from
the code. `if TYPE_CHECKING:` blocks are imports too: a type an annotation needs from
outside the domain is a dependency all the same.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "projections", "audit", "api", "scenarios")
OUTSIDE_DOMAIN = ("api", "audit", "projections", "scenarios", "benchmarks", "tests")


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules `name` imports (a package's module, where `from pkg import mod` names one)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imported(name, path, known) for name, path in known.items()}


def test_the_domain_imports_nothing_from_outside_the_domain():
    outward = {
        f"{name} imports {target}"
        for name, targets in graph().items()
        if name.split(".")[0] == "domain"
        for target in targets
        if target.split(".")[0] != "domain"
    }
    assert not outward, sorted(outward)


def test_no_modules_import_each_other_directly_or_in_a_loop():
    edges = graph()
    # A package's __init__ importing nothing is the rule here; its modules importing the
    # package (for a docstring) is not a circle worth the name, so only module-to-module edges count.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    loops: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                loops.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    assert not loops, loops


def test_a_circle_is_found_when_there_is_one(tmp_path):
    # The check above must be able to fail: two modules that import each other are a loop.
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("import b\n")
    b.write_text("from a import x\n")
    known = {"a": a, "b": b}
    assert imported("a", a, known) == {"b"} and imported("b", b, known) == {"a"}
