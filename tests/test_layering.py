"""The package's structure: imports only point down its layers, and there is no import cycle.

Every ``import`` in every module of ``tinygan/`` counts, also those inside functions
(a lazy import is still a dependency).  The layers, bottom-up, as the README states them:
"""
import ast
import os
import subprocess
import sys

import pytest

PACKAGE = os.path.join(os.path.dirname(__file__), "..", "tinygan")

# module (or package prefix) -> layer; a module may import its own layer or lower ones.
LAYERS = [
    ("tinygan._validate", 0), ("tinygan.backend", 0),
    # host metadata beside the backend: dtype names, device names (torch.device)
    ("tinygan.dtypes", 0), ("tinygan.device", 0),
    ("tinygan.autograd", 1), ("tinygan.serialization", 1),
    # torch-style namespaces over the backend: legacy tensor types, torch.cuda, torch.backends
    ("tinygan.tensor_types", 1), ("tinygan.cuda", 1), ("tinygan.backends", 1),
    # torch.Generator: a random stream of its own, over the backend's generators
    ("tinygan.random", 1),
    ("tinygan.ops", 2),
    ("tinygan.nn", 3),
    ("tinygan.optim", 4),
    # the algorithm: objectives, networks, one-step functions, the paper-shaped loops
    ("tinygan.gan.losses", 5), ("tinygan.gan.models", 5), ("tinygan.gan.steps", 5),
    ("tinygan.gan.loops", 5), ("tinygan.gan.config", 5), ("tinygan.gan.factory", 5),
    ("tinygan.gan.averaging", 5),
    ("tinygan.data", 6), ("tinygan.metrics", 6), ("tinygan.plots", 6), ("tinygan.theory", 6),
    ("tinygan.utils", 6),
    # the run machinery around a loop: host data streams, checkpoints, the run folder
    ("tinygan.gan", 7), ("tinygan.testing", 7),
    ("tinygan.demo", 8),
    ("tinygan.cli", 9), ("tinygan.__main__", 9), ("tinygan", 9),
]


def layer_of(module: str) -> int:
    best = None
    for prefix, layer in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, layer)
    assert best is not None, f"{module} has no layer in tests/test_layering.py's table"
    return best[1]


def _modules():
    root = os.path.abspath(os.path.join(PACKAGE, ".."))
    for folder, _, files in os.walk(os.path.abspath(PACKAGE)):
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, root)[:-3].replace(os.sep, ".")
                is_pkg = rel.endswith(".__init__")
                yield (rel[: -len(".__init__")] if is_pkg else rel), path, is_pkg


def _resolve(module: str, is_pkg: bool, node: ast.ImportFrom, known: set) -> list:
    if node.level == 0:
        base = node.module or ""
    else:
        parts = module.split(".")
        if not is_pkg:
            parts = parts[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join(parts + ([node.module] if node.module else []))
    # `from . import x` / `from .pkg import name`: name may be a submodule, else a name of base
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]


def import_graph() -> dict:
    known = {m for m, _, _ in _modules()}
    graph = {}
    for module, path, is_pkg in _modules():
        deps = set()
        for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = _resolve(module, is_pkg, node, known)
            else:
                continue
            for name in names:
                # the longest known module the name refers to
                while name and name not in known:
                    name = name.rpartition(".")[0]
                if name and name != module and name.startswith("tinygan"):
                    deps.add(name)
        graph[module] = deps
    return graph


def test_imports_only_point_down_the_layers():
    upward = []
    for module, deps in import_graph().items():
        for dep in deps:
            # a package's __init__ gathering its own submodules is not an upward import
            if dep.startswith(module + "."):
                continue
            if layer_of(dep) > layer_of(module):
                upward.append(f"{module} (layer {layer_of(module)}) imports {dep} "
                              f"(layer {layer_of(dep)})")
    assert not upward, "upward imports:\n" + "\n".join(sorted(upward))


def test_no_import_cycle():
    graph = import_graph()
    # a package's __init__ importing its submodules is how Python packages work; the cycle
    # that matters runs between modules, so drop package -> own-submodule edges
    edges = {m: {d for d in deps if not d.startswith(m + ".")} for m, deps in graph.items()}
    state, stack, cycles = {}, [], []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for d in sorted(edges.get(m, ())):
            if state.get(d) == 1:
                cycles.append(" -> ".join(stack[stack.index(d):] + [d]))
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2
    for m in sorted(edges):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_import_tinygan_loads_cleanly():
    out = subprocess.run([sys.executable, "-c", "import tinygan; print(tinygan.__version__)"],
                         capture_output=True, text=True, cwd=os.path.join(PACKAGE, ".."))
    assert out.returncode == 0 and out.stdout.strip(), out.stderr


@pytest.mark.parametrize("module,dep,expected", [
    ("tinygan.ops.conv", "tinygan.autograd", True), ("tinygan.autograd", "tinygan.ops", False),
    ("tinygan.gan.loops", "tinygan.gan.train", False), ("tinygan.cli", "tinygan.gan", True)])
def test_the_layer_table_says_what_the_readme_says(module, dep, expected):
    assert (layer_of(dep) <= layer_of(module)) == expected
