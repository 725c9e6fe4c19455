"""The house rules a reader relies on, checked on the source: no import circle in ``store/``,
``gui/`` uses only public names of ``store/``, and no store class's private method is called
from outside that class.

Every import counts: at module level, inside functions and under ``TYPE_CHECKING``, because
a reader follows each of them.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(package: str) -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((REPO / package).rglob("*.py"))
            if "__pycache__" not in p.parts}


def _is_package(name: str, known: dict[str, Path]) -> bool:
    return name in known and known[name].name == "__init__.py"


def _imports(name: str, path: Path, known: dict[str, Path]) -> list[tuple[str, list[str], int]]:
    """(module imported, names taken from it, line) for every import statement in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if _is_package(name, known) else name.rpartition(".")[0]
    found: list[tuple[str, list[str], int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((a.name, [], node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((target, [a.name for a in node.names], node.lineno))
    return found


def _store_graph(package: str = "store") -> dict[str, set[str]]:
    known = _modules(package)
    graph: dict[str, set[str]] = {m: set() for m in known}
    for name, path in known.items():
        for target, names, _line in _imports(name, path, known):
            if not (target == package or target.startswith(package + ".")):
                continue
            # ``from pkg import sub`` imports the submodule; a plain name comes from pkg itself
            subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in known]
            if subs:
                graph[name].update(subs)
            if not names or len(subs) < len(names):
                mod = target
                while mod not in known and "." in mod:
                    mod = mod.rpartition(".")[0]
                graph[name].add(mod)
            graph[name].discard(name)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
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
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_the_store_graph_sees_lazy_and_type_checking_imports():
    graph = _store_graph()
    assert "store.local" in graph["store"]  # the package re-exports LocalStore
    assert "store.errors" in graph["store.local"]


def test_no_import_circle_in_store():
    cycles = _cycles(_store_graph())
    assert cycles == [], "import circles in store/: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_no_import_circle_in_gui():
    # the same rule for the window's rooms (a lazy import inside a function counts too)
    cycles = _cycles(_store_graph("gui"))
    assert cycles == [], "import circles in gui/: " + "; ".join(" <-> ".join(c) for c in cycles)


def _private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def test_gui_imports_only_public_names_of_store():
    known = _modules("gui")
    bad = []
    for name, path in known.items():
        for target, names, line in _imports(name, path, known):
            if not (target == "store" or target.startswith("store.")):
                continue
            private = [p for p in target.split(".") if _private(p)] + [n for n in names if _private(n)]
            if private:
                bad.append(f"{path.relative_to(REPO)}:{line}: {target} {', '.join(private)}")
    assert bad == []


def _private_calls_from_outside(package: str, base: Path = REPO) -> list[str]:
    """``x._name(...)`` where x is not self/cls: a class's private method called by someone else.

    A class may call a private method it defines itself on another instance or on its class
    (``other._seek()``, ``Cache._create(db)`` inside that class); anyone else may not.
    """
    bad = []
    for path in sorted((base / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))

        def scan(node: ast.AST, own: set[str], where: str, path: Path = path) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.ClassDef):
                    methods = {n.name for n in child.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
                    scan(child, methods, child.name)
                    continue
                if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute) \
                        and _private(child.func.attr) and child.func.attr not in own:
                    value = child.func.value
                    receiver = value.id if isinstance(value, ast.Name) else None
                    is_super = isinstance(value, ast.Call) and isinstance(value.func, ast.Name) \
                        and value.func.id == "super"
                    if receiver not in ("self", "cls", "os", "sys") and not is_super:
                        bad.append(f"{path.relative_to(base)}:{child.lineno}: {ast.unparse(child.func)} "
                                   f"(in {where})")
                scan(child, own, where)

        scan(tree, set(), "module level")
    return bad


def test_the_private_call_finder_finds_one(tmp_path):
    # a probe in a tree of its own: writing it into store/ raced every test that reads the tree
    import textwrap
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "_house_probe_tmp.py").write_text(textwrap.dedent("""
        class A:
            def _mine(self): pass
            def ok(self, other): other._mine(); self._x()
        def bad(a): a._mine()
    """))
    found = _private_calls_from_outside("store", tmp_path)
    assert found == ["store/_house_probe_tmp.py:5: a._mine (in module level)"]


def test_no_private_method_is_called_from_outside_its_class():
    assert _private_calls_from_outside("store") == []
    assert _private_calls_from_outside("gui") == []
