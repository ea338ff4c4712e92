"""The package's floors (DESIGN.md, "Floors"): cli -> workflows -> api -> rooms, no circle, and
files small enough to read."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "forecast"
# what each part may import of the package; a part is a room (a subpackage) or a top module
ALLOWED = {
    "cli": {"workflows", "api", "config", "data", "models", "training", "evaluation", "errors", "atomic",
            "__init__"},
    "workflows": {"api", "config", "data", "models", "evaluation", "errors", "atomic", "__init__"},
    "api": {"config", "data", "models", "training", "evaluation", "errors", "checkpoint"},
    "training": {"data", "models", "errors", "config", "atomic"},
    "evaluation": {"data", "models", "errors", "atomic"},
    "data": {"errors", "atomic", "lazy"},
    "models": {"errors"},
    "config": {"models", "errors"},
    "checkpoint": {"errors", "atomic", "__init__"},
    "atomic": set(),
    "errors": set(),
    "lazy": set(),
    "__init__": {"lazy"},
}


def part_of(module: str) -> str:
    """forecast.data.reading -> data; forecast.api -> api; forecast -> __init__."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports() -> dict[str, set[str]]:
    """Each module of the package -> the package modules it imports (at any depth in the file)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(p for p in relative.parts if p != "__init__") if relative.name == "__init__" \
            else ".".join(relative.parts)
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name.split(".")[0] == "forecast"}
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "forecast":
                targets |= {f"{node.module}.{a.name}" if _is_module(f"{node.module}.{a.name}") else node.module
                            for a in node.names}
        found[name] = targets
    return found


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def violations(found: dict[str, set[str]]) -> list[str]:
    return [f"{module} imports {target}" for module, targets in found.items() for target in targets
            if part_of(target) != part_of(module) and part_of(target) not in ALLOWED[part_of(module)]]


def test_every_import_points_down_a_floor():
    assert violations(imports()) == []


def test_no_circle_between_parts():
    allowed_edges = {(a, b) for a, targets in ALLOWED.items() for b in targets}
    for a, b in allowed_edges:
        assert (b, a) not in allowed_edges, f"{a} and {b} may import each other"
    graph = {}
    for module, targets in imports().items():
        graph.setdefault(part_of(module), set()).update(part_of(t) for t in targets if part_of(t) != part_of(module))
    seen, stack = set(), []

    def visit(node):
        assert node not in stack, f"circle: {' -> '.join(stack + [node])}"
        if node in seen:
            return
        stack.append(node)
        for nxt in graph.get(node, ()):
            visit(nxt)
        stack.pop()
        seen.add(node)

    for node in graph:
        visit(node)


def test_the_floor_check_catches_the_circles_this_package_had():
    found = imports()
    found["forecast.evaluation.backtest"] = {"forecast.api"}  # evaluation fitted Forecasters
    found["forecast.api"] = found["forecast.api"] | {"forecast.workflows.walkforward"}
    assert sorted(violations(found)) == ["forecast.api imports forecast.workflows.walkforward",
                                         "forecast.evaluation.backtest imports forecast.api"]


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_file_over_400_lines(path):
    assert len(path.read_text().splitlines()) <= 400
