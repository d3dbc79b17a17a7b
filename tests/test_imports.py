import importlib
import pkgutil
import subprocess
import sys

import numerate


def test_every_module_imports():
    for info in pkgutil.walk_packages(numerate.__path__, "numerate."):
        if info.name != "numerate.__main__":
            importlib.import_module(info.name)


def test_import_numerate_is_light():
    code = "import sys, numerate; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# The layers, bottom to top. A module may import from its own layer and the ones below, never from above.
SHARED = {"errors", "registry", "bigint", "lengths", "devices", "procs", "malloc", "version"}
APPLICATION = {"cli", "commands", "__main__"}


def import_graph() -> dict[str, set[str]]:
    """module -> numerate modules it imports, at top level or inside functions (both can close a cycle)."""
    import ast
    from pathlib import Path

    root = Path(numerate.__file__).parent.parent
    modules = {}
    for path in (root / "numerate").rglob("*.py"):
        name = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path

    def resolve(target: str) -> str:
        while target not in modules and "." in target:
            target = target.rsplit(".", 1)[0]
        return target

    graph = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("numerate"):
                targets |= {resolve(f"{node.module}.{a.name}") for a in node.names}
            elif isinstance(node, ast.Import):
                targets |= {resolve(a.name) for a in node.names if a.name.startswith("numerate")}
        graph[name] = {t for t in targets if t != name and t in modules}
    return graph


def test_no_import_cycles():
    graph = import_graph()
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt) :] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])


def _layer(module: str) -> int:
    part = module.split(".")[1] if "." in module else ""
    if part in APPLICATION:
        return 2
    return 0 if part in SHARED or module == "numerate" else 1


def test_library_never_imports_the_application_and_helpers_import_only_helpers():
    bad = [
        f"{m} -> {t}"
        for m, targets in import_graph().items()
        for t in targets
        # the root package's lazy __getattr__ is the door to the Python API (numerate.load, numerate.train, ...)
        if _layer(t) > _layer(m) and not (m == "numerate" and t in ("numerate.__main__", "numerate.api"))
    ]
    assert not bad, "imports from a higher layer: " + ", ".join(sorted(bad))


# The library's packages (and top-level modules), bottom to top: each may import only those listed before it. The
# root package `numerate` (its version) may be read by any.
PACKAGE_ORDER = [
    "version", "errors", "registry", "bigint", "lengths", "devices", "procs", "malloc", "sweep", "plots",
    "config", "tasks", "tokenizer", "formats", "model", "capacity", "data", "certificate_json", "checkpoint",
    "fieldview",
    "eval", "train", "lm", "procedures", "iterate", "verify", "solver", "report", "comparison", "api",
    "commands", "cli", "__main__",
]  # fmt: skip


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """numerate.X.Y -> X: which package imports which (imports inside functions included)."""

    def package(module: str) -> str:
        parts = module.split(".")
        return parts[1] if len(parts) > 1 else ""

    out: dict[str, set[str]] = {}
    for m, targets in graph.items():
        out.setdefault(package(m), set()).update(package(t) for t in targets if package(t) != package(m))
    return out


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt, path + [nxt])
                if found:
                    return found
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node, [node])
            if found:
                return found
    return None


def test_no_package_level_import_cycles():
    cycle = find_cycle(package_graph(import_graph()))
    assert cycle is None, "package-level import cycle: " + " -> ".join(cycle)


def test_packages_import_only_packages_below_them():
    graph = package_graph(import_graph())
    unlisted = sorted(p for p in graph if p and p not in PACKAGE_ORDER)
    assert not unlisted, f"packages missing from PACKAGE_ORDER: {unlisted}"
    rank = {p: i for i, p in enumerate(PACKAGE_ORDER)}
    bad = [f"{p} -> {t}" for p, ts in graph.items() if p for t in ts if t and rank[t] >= rank[p]]
    assert not bad, "imports from a package at or above: " + ", ".join(sorted(bad))


def test_a_planted_cycle_is_found():
    graph = package_graph(import_graph())
    assert find_cycle(graph) is None
    graph["eval"].add("verify")  # as eval/answer.py once imported verify.field while verify imported eval
    assert find_cycle(graph) is not None
    graph = package_graph(import_graph())
    graph["eval"].add("iterate")  # as eval/evaluate.py once imported iterate.stepwise
    assert find_cycle(graph) is not None


def test_help_and_a_bad_verb_import_no_torch():
    """Only the verb being run is imported: `numerate --help` and a typo cost no torch import."""
    code = (
        "import sys\nfrom numerate.cli import main\n"
        "for argv in (['--help'], ['bogus'], ['list', '--help']):\n"
        "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
        "import numerate.commands.solve  # declared for `numerate solve`, which tunes memory before torch loads\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_every_verb_declares_itself_in_its_own_module():
    import argparse

    from numerate.cli import VERBS, build_parser

    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(action.choices) == set(VERBS)
    for verb, sub in action.choices.items():
        assert sub.get_default("func").__module__ == f"numerate.commands.{VERBS[verb][0]}", verb


def test_a_name_has_one_address():
    """No module re-exports what it imports (an unused import kept with `noqa: F401` gives a name a second
    address); only package `__init__` files gather names, and optional dependencies may be probed for."""
    from pathlib import Path

    root = Path(numerate.__file__).parent
    probes = ("import matplotlib", "import transformers")  # imported to see whether an optional extra is there
    found = [
        f"{path.relative_to(root)}:{n}"
        for path in root.rglob("*.py")
        if path.name != "__init__.py"
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if "noqa: F401" in line and not line.strip().startswith(probes)
    ]
    assert not found, "re-exports outside package __init__ files: " + ", ".join(found)
