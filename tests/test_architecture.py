"""The package's import contract: its layers, read from the source, and no import cycle.

docs/architecture.md draws the layers; this test is what keeps the drawing true. Every
import counts, at the top of a module or inside a function, and so does
``importlib.import_module("screening...")`` with a literal name: a lazy import is still a
dependency. A module may import from its own layer and the layers below it, never above.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "screening"

#: Top to bottom. A module belongs to the first layer naming it or a package above it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("faces", ("screening.__main__", "screening.launch", "screening.cli")),
    (
        "app support",
        (
            "screening.uploads",
            "screening.review",
            "screening.charts",
            "screening.browse",
            "screening.specreview",
        ),
    ),
    ("run", ("screening.run",)),
    ("audit, engine, explain", ("screening.audit", "screening.engine", "screening.explain")),
    (
        "stages",
        (
            "screening.loading",
            "screening.reading",
            "screening.workbooks",
            "screening.tables",
            "screening.columns",
            "screening.evidence",
            "screening.jobclass",
            "screening.wording",
            "screening.taxonomy",
            "screening.places",
            "screening.facts",
            "screening.ruleset",
            "screening.speccompiler",
            "screening.specdiff",
            "screening.documents",
            "screening.outputs",
            "screening.export",
        ),
    ),
    (
        "models",
        (
            "screening.spec",
            "screening.vocabulary",
            "screening.results",
            "screening.errors",
            "screening.processes",
            "screening",
        ),
    ),
]

#: Who may import the entry points: only the entry above each.
ENTRY_IMPORTERS = {
    "screening.launch": {"screening.__main__"},
    "screening.cli": {"screening.launch"},
}


def package_modules(package: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package by dotted name (migration scripts are not modules)."""
    modules = {}
    for path in sorted(package.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imported_names(module: str, path: Path) -> Iterator[str]:
    """Dotted names a module imports, lazily or not, resolved against the package."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            # `from screening.audit import schema` imports the submodule when there is
            # one, otherwise a name of the package
            for alias in node.names:
                yield f"{base}.{alias.name}"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.args[0].value


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the package's modules it imports."""

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = {resolve(name) for name in _imported_names(module, path)}
        graph[module] = {t for t in targets if t is not None and t != module}
    return graph


def layer_of(module: str) -> int:
    """Index of the module's layer in LAYERS (0 is the top)."""
    best: tuple[int, int] | None = None  # (length of the matching name, layer)
    for index, (_, members) in enumerate(LAYERS):
        for member in members:
            inside = module == member or module.startswith(member + ".")
            if inside and (best is None or len(member) > best[0]):
                best = (len(member), index)
    if best is None:
        raise LookupError(module)
    return best[1]


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    """Every import that goes up a layer or reaches an entry point, as a sentence."""
    found = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            if layer_of(target) < layer_of(module):
                found.append(
                    f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} "
                    f"({LAYERS[layer_of(target)][0]}): a layer may only import the layers below"
                )
            for entry, allowed in ENTRY_IMPORTERS.items():
                inside = target == entry or target.startswith(entry + ".")
                if inside and not module.startswith(entry) and module not in allowed:
                    found.append(f"{module} imports the entry point {target}")
    return found


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(package_modules())


def test_every_module_has_a_layer(graph: dict[str, set[str]]) -> None:
    unplaced = []
    for module in graph:
        try:
            layer_of(module)
        except LookupError:
            unplaced.append(module)
    assert unplaced == [], "add these modules to a layer in LAYERS and docs/architecture.md"


def test_no_module_imports_a_layer_above_it_or_an_entry_point(graph: dict[str, set[str]]) -> None:
    assert layer_violations(graph) == []


def test_no_import_cycle(graph: dict[str, set[str]]) -> None:
    assert import_cycles(graph) == []


def test_the_audit_trail_imports_nothing_of_the_run(graph: dict[str, set[str]]) -> None:
    audit = {
        m: t for m, t in graph.items() if m == "screening.audit" or m.startswith("screening.audit.")
    }
    assert {
        m: sorted(t) for m, t in audit.items() if any(x.startswith("screening.run") for x in t)
    } == {}


def test_the_check_sees_a_broken_layer_and_a_cycle(tmp_path: Path) -> None:
    """The contract is not vacuous: a stage importing the run, lazily, breaks it."""
    package = tmp_path / "screening"
    (package / "run").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "run" / "__init__.py").write_text("")
    (package / "run" / "stages.py").write_text("from screening.evidence import credit\n")
    (package / "evidence.py").write_text(
        "def credit():\n    from screening.run.stages import x\n    return x\n"
    )
    (package / "spec.py").write_text("import importlib\nimportlib.import_module('screening.cli')\n")
    (package / "cli.py").write_text("")
    graph = import_graph(package_modules(package))
    assert import_cycles(graph) == [["screening.evidence", "screening.run.stages"]]
    assert layer_violations(graph) == [
        "screening.evidence (stages) imports screening.run.stages (run): "
        "a layer may only import the layers below",
        "screening.spec (models) imports screening.cli (faces): "
        "a layer may only import the layers below",
        "screening.spec imports the entry point screening.cli",
    ]


#: The app's modules (outside the package).
APP = [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py"))]
#: What screens a batch below the run's entry: the app must not reach for it.
BELOW_THE_RUN_ENTRY = {
    "screening.run.stages.screen_batch",
    "screening.run.stages.screen_files",
    "screening.run.stages.screen_stream",
    "screening.run.stages.decide",
    "screening.engine",
}


def test_the_app_screens_through_the_runs_entry() -> None:
    """The app screens as the command line does (`ScreenJob.resolve`, then the run's
    chunk loop through `screen_loaded`), never by calling the stages or the engine."""
    found = sorted(
        f"{path.name} imports {name}"
        for path in APP
        for name in _imported_names(f"app_pages.{path.stem}", path)
        if any(name == b or name.startswith(b + ".") for b in BELOW_THE_RUN_ENTRY)
    )
    assert found == []


def test_the_engine_starts_no_process() -> None:
    """One durable_rules host per process: the run's workers are the only pool."""
    names = set(_imported_names("screening.engine", PACKAGE / "engine.py"))
    assert sorted(n for n in names if n.split(".")[0] in {"multiprocessing", "concurrent"}) == []
