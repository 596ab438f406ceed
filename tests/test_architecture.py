"""The package's architecture, read from its source: no import cycles, and each layer imports only
the layers below it.

    core  <-  ops  <-  kernels  <-  nn, optim, data, models, io, training, profiler  <-  testing, course, cli

kernels sit beside ops: each kernel imports the textbook op it replaces, and nothing in ops or the
core imports a kernel (the core's dispatch registry is filled by minidl.kernels when it loads).
"""

import ast
import pathlib
from collections import defaultdict

import minidl

PACKAGE = pathlib.Path(minidl.__file__).parent
ENGINE = ("core", "ops", "kernels", "nn", "optim", "data", "models", "io", "training", "profiler", "distributed",
          "quantization", "compression")


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules():
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name, path, known):
    """(imported minidl module, line) for every import in the file, in functions too; ``from a import b``
    counts as importing ``a.b`` when that is a module, else ``a``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.append((candidate if candidate in known else base, node.lineno))
    return [(target, line) for target, line in found if target == "minidl" or target.startswith("minidl.")]


def graph():
    known = modules()
    return known, {name: imports_of(name, path, known) for name, path in known.items()}


def layer(name):
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_no_import_cycles():
    known, edges = graph()
    adjacency = defaultdict(set)
    for name, targets in edges.items():
        for target, _ in targets:
            while target not in known and "." in target:
                target = target.rpartition(".")[0]
            if target in known and target != name:
                adjacency[name].add(target)
    cycles, state, stack = [], {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(adjacency[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"
    for node in sorted(known):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


ALLOWED = {  # layer -> the layers it may import (itself always)
    "core": set(),
    "ops": {"core"},
    "kernels": {"core", "ops"},
    "optim": {"core", "kernels", "nn"},  # nn for swa_utils.AveragedModel (a Module); nn never imports optim
    "distributed": {"core"},
    "distributions": {"core", "ops"},  # built from the ops alone, so gradients reach the parameters
}


def test_each_layer_imports_only_the_layers_below_it():
    _, edges = graph()
    violations = []
    for name, targets in edges.items():
        own = layer(name)
        for target, line in targets:
            other = layer(target)
            if other == own or other == "":
                if other == "" and own in ("core", "ops", "kernels"):
                    violations.append(f"{name}:{line} imports the whole package (minidl)")
                continue
            if own in ALLOWED and other not in ALLOWED[own]:
                violations.append(f"{name}:{line} ({own}) imports {target} ({other})")
            if own in ENGINE and other in ("testing", "course", "cli"):
                violations.append(f"{name}:{line}: the engine imports {target}")
    assert not violations, "\n".join(violations)


def test_the_textbook_ops_use_no_threads_and_no_kernels():
    violations = []
    for name, path in modules().items():
        if layer(name) != "ops":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [alias.name for alias in node.names] if isinstance(node, (ast.Import, ast.ImportFrom)) else []
            module = getattr(node, "module", None) or ""
            if any(n in ("threading", "concurrent.futures") for n in names) or module.startswith("minidl.kernels") \
                    or any(n.startswith("minidl.kernels") for n in names):
                violations.append(f"{name}:{node.lineno}")
    assert not violations, "ops import threads or kernels: " + ", ".join(violations)


def test_no_package_module_finds_the_checkout_through_its_own_path():
    offenders = [name for name, path in modules().items()
                 if "__file__" in path.read_text(encoding="utf-8")
                 and any(word in path.read_text(encoding="utf-8") for word in ("chapters", "benchmarks"))]
    assert not offenders, f"modules that locate chapters/ or benchmarks/ through __file__: {offenders}"


def test_the_graph_sees_imports_inside_functions_and_names_imported_from_packages():
    _, edges = graph()
    assert "minidl.course.tour" in {target for target, _ in edges["minidl.cli"]}       # inside a function
    assert "minidl.core.dispatch" in {target for target, _ in edges["minidl.optim.optimizer"]}  # from a import b


def test_every_textbook_op_reads_on_one_screen():
    """Forward and backward of each op in minidl/ops/, with its docstring formula, within 40 lines."""
    long = []
    for name, path in modules().items():
        if layer(name) != "ops":
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            methods = {item.name for item in getattr(node, "body", []) if isinstance(item, ast.FunctionDef)}
            if isinstance(node, ast.ClassDef) and {"forward", "backward"} <= methods:
                if node.end_lineno - node.lineno + 1 > 40:
                    long.append(f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines")
    assert not long, "ops longer than a screen: " + ", ".join(long)
