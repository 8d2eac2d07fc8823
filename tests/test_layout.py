"""The package's shape: no import cycle, small modules and functions, one map that is true.

ARCHITECTURE.md names every module and the package docstring every stage, so a module added
without a line in the map, or a stage missing from the docstring, fails here.
"""

import ast
import functools
import re
from pathlib import Path

import mlimages

PACKAGE = Path(mlimages.__file__).parent
REPO = PACKAGE.parent
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 50


def _modules():
    """{dotted name: path} of every module of the package (a package is its __init__)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


@functools.cache
def _extensions():
    """Dotted names of the package's compiled modules (``*.c`` sources): leaves, importing
    nothing of the package."""
    return {".".join(p.relative_to(REPO).with_suffix("").parts) for p in PACKAGE.rglob("*.c")}


def _owner(name, modules):
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imported(path, name, modules):
    """The package's modules that ``name`` (at ``path``) imports, at any depth of its code.

    ``from pkg import sub`` counts as importing ``pkg.sub`` alone when ``sub`` is a module (the
    package's __init__ runs first either way, but does not depend on the importer).
    """
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets, leaves = set(), _extensions()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            subs = [f"{base}.{a.name}" for a in node.names]
            targets.update(s for s in subs if s in modules)
            if not all(s in modules or s in leaves for s in subs):
                targets.add(base)
    return {_owner(t, modules) for t in targets
            if t.startswith("mlimages") and t not in leaves} - {None, name}


def _cycles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
                on.discard(component[-1])
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle():
    modules = _modules()
    graph = {name: _imported(path, name, modules) for name, path in modules.items()}
    assert _cycles(graph) == []


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_modules_and_functions_are_small():
    too_long = []
    for name, path in _modules().items():
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > MAX_MODULE_LINES:
            too_long.append(f"{name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{name}.{node.name}: {length} lines")
    assert too_long == []


def test_architecture_names_every_module():
    text = (REPO / "ARCHITECTURE.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([\w/]+\.py)`", text))
    missing = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
               if p.name != "__main__.py" and str(p.relative_to(PACKAGE)) not in named]
    assert sorted(missing) == []


def test_top_level_holds_only_stages_named_in_the_package_docstring():
    entries = {p.stem for p in PACKAGE.iterdir()
               if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))
               and p.name not in ("__init__.py", "__main__.py")}
    docstring = ast.get_docstring(ast.parse((PACKAGE / "__init__.py").read_text()))
    assert sorted(e for e in entries if f"``{e}``" not in docstring) == []
    # Folders are stages, never loose internals of another stage.
    assert not any(e.startswith("_") and (PACKAGE / e).is_dir() for e in entries)


def test_test_files_have_unique_names():
    # pytest imports test modules by basename (no __init__.py): two equal names cannot both run.
    names = [p.name for p in (REPO / "tests").rglob("test_*.py")]
    assert sorted(n for n in set(names) if names.count(n) > 1) == []
