"""The layering docs/ARCHITECTURE.md claims, checked on the source: lower layers never import upper
ones, the named rules hold, and no module imports itself back through others. Every import
counts, also one inside a function (a lazy import is still a dependency)."""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from tests.conftest import ROOT

# Low to high. A module may import its own layer and the ones below it, never one above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("bot", "bot.clock", "bot.os_errors", "bot.resources", "bot.cli_zh", "bot.progress_bars", "bot.zipguard"),
    ("bot.config", "bot.outfiles", "bot.logsetup"),
    ("bot.mail", "bot.forms"),  # formats and protocols: bytes in, dataclasses out
    ("bot.store", "bot.campaign"),  # the database; the campaign's calendar, roster, standings
    ("bot.intake",),  # what a walk needs, built from the config
    ("bot.present", "bot.outbox", "bot.conversation"),  # what people read; the queue of what we send
    ("bot.pipeline",),  # one message's walk
    ("bot.reading_pool", "bot.reporting"),  # the walk on every core; the read side
    ("bot.daemon", "bot.admin", "bot.inspect", "bot.starter"),  # what commands do
    ("bot.demo", "bot.cli", "bot.__main__"),  # the command line
)

# Pairs that may share a layer but never import each other in this direction.
FORBIDDEN = (
    ("bot.mail", "bot.store"), ("bot.mail", "bot.pipeline"), ("bot.mail", "bot.outbox"),
    ("bot.forms", "bot.store"), ("bot.forms", "bot.pipeline"), ("bot.forms", "bot.outbox"),
    ("bot.store", "bot.campaign"), ("bot.store", "bot.present"),
)


def _modules() -> dict[str, Path]:
    out = {}
    for path in (ROOT / "bot").rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the project modules it imports."""
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package[:len(package) - node.level + 1] if node.level else []
                stem = ".".join(base + (node.module.split(".") if node.module else []))
                targets = [f"{stem}.{a.name}" if f"{stem}.{a.name}" in modules else stem for a in node.names]
            for target in targets:
                while target not in modules and "." in target:
                    target = target.rsplit(".", 1)[0]
                if target in modules and target != name and target.startswith("bot"):
                    graph[name].add(target)
    return graph


def _component(module: str) -> str:
    return ".".join(module.split(".")[:2])


def _layer_of() -> dict[str, int]:
    return {component: i for i, layer in enumerate(LAYERS) for component in layer}


MODULES = _modules()
GRAPH = _imports(MODULES)


def test_every_component_has_a_layer():
    layers = _layer_of()
    assert sorted({_component(m) for m in MODULES} - set(layers)) == []


def test_lower_layers_never_import_upper_ones():
    layers = _layer_of()
    upward = sorted(f"{a} -> {b}" for a, targets in GRAPH.items() for b in targets
                    if layers[_component(b)] > layers[_component(a)])
    assert upward == []


def test_the_named_rules_hold():
    broken = sorted(f"{a} -> {b}" for a, targets in GRAPH.items() for b in targets
                    for low, high in FORBIDDEN if _component(a) == low and _component(b) == high)
    assert broken == []


def test_no_import_cycle():
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            members = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                members.append(w)
                if w == v:
                    break
            if len(members) > 1:
                cycles.append(sorted(members))

    for module in sorted(MODULES):
        if module not in index:
            visit(module)
    assert cycles == []


def test_the_check_sees_imports_of_every_kind():
    """The checker itself: relative, absolute, lazy and `from package import module` imports."""
    assert "bot.pipeline.claim" in GRAPH["bot.pipeline.walk"]  # from .claim import ...
    assert "bot.intake" in GRAPH["bot.pipeline.keep"]  # from ..intake import Intake
    assert any(t.startswith("bot.daemon") for t in GRAPH["bot.cli"])  # imported inside a command
