"""Layout rules of the package, checked on the source with ``ast`` (nothing is imported).

* no import cycle between modules (module-level and function-level imports; imports under
  ``if TYPE_CHECKING:`` and the re-exports of package ``__init__`` files are not followed);
* no cross-module import of a leading-underscore name (``from .x import _helper``);
* nothing outside the CLI/experiments layer (``brianforce.experiments.cli``, ``brianforce.__main__``,
  ``brianforce.experiments*``, ``brianforce.recipes*``) imports from that layer.

The checker is tested on planted violations in a throw-away package, so it can fail.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "brianforce"
# first component below the package of the modules that form the CLI/experiments layer
_LAYER_EXACT = ("cli", "__main__")
_LAYER_PREFIXES = ("experiments", "recipes")


@dataclass
class Module:
    name: str
    path: Path
    is_package: bool          # an __init__.py
    tree: ast.Module
    n_lines: int


@dataclass
class Layout:
    modules: dict
    edges: dict = field(default_factory=dict)      # name -> {target: first line}
    private: list = field(default_factory=list)    # "importer:line <- module.name"
    upward: list = field(default_factory=list)     # "importer:line -> target"
    cycles: list = field(default_factory=list)     # ["a -> b (line n)", ...] per cycle

    @property
    def largest(self) -> Module:
        return max(self.modules.values(), key=lambda m: m.n_lines)


def _collect(package_dir: Path) -> dict:
    package_dir = Path(package_dir)
    root = package_dir.name
    mods = {}
    for f in sorted(package_dir.rglob("*.py")):
        parts = (root, *f.relative_to(package_dir).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        text = f.read_text(encoding="utf-8")
        mods[".".join(parts)] = Module(".".join(parts), f, is_pkg, ast.parse(text, filename=str(f)),
                                       text.count("\n") + (not text.endswith("\n") and bool(text)))
    return mods


def _base(mod: Module, node: ast.ImportFrom) -> str:
    """Absolute module name of ``from <...> import`` in ``mod``."""
    if not node.level:
        return node.module or ""
    parts = mod.name.split(".")
    if not mod.is_package:
        parts = parts[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def _type_checking_lines(tree: ast.Module) -> set:
    """Line numbers inside ``if TYPE_CHECKING:`` blocks (imports there never run)."""
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            t = node.test
            name = t.id if isinstance(t, ast.Name) else t.attr if isinstance(t, ast.Attribute) else None
            if name == "TYPE_CHECKING":
                for stmt in node.body:
                    lines.update(range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1))
    return lines


def _reexports(mods: dict) -> dict:
    """``{package: {name: (module, name there)}}`` from the module-level imports of each ``__init__``."""
    out = {}
    for m in mods.values():
        if not m.is_package:
            continue
        table = out.setdefault(m.name, {})
        for node in m.tree.body:
            if isinstance(node, ast.ImportFrom):
                src = _base(m, node)
                for a in node.names:
                    if a.name != "*":
                        table[a.asname or a.name] = (src, a.name)
    return out


def _resolve(mods: dict, reexports: dict, module: str, name: str):
    """Module that ``from module import name`` depends on: a submodule, the defining module of
    a package re-export, or ``module`` itself (``None`` outside the package)."""
    for _ in range(20):
        if f"{module}.{name}" in mods:
            return f"{module}.{name}"
        if module in reexports and name in reexports[module]:
            nxt, nxt_name = reexports[module][name]
            if (nxt, nxt_name) != (module, name):
                module, name = nxt, nxt_name
                continue
        break
    return module if module in mods else None


def _in_layer(name: str, root: str) -> bool:
    parts = name.split(".")
    if parts[0] != root or len(parts) < 2:
        return False
    top = parts[1]
    return top in _LAYER_EXACT or top.startswith(_LAYER_PREFIXES)


def _cycles(graph: dict) -> list:
    """Strongly connected components with more than one module (iterative Tarjan)."""
    index, low, on, stack, comps = {}, {}, set(), [], []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    comps.append(sorted(comp))
    return sorted(comps)


def _by_line(entry: str) -> tuple:
    """Sort key of ``"module:line ..."`` report entries: module, then line number."""
    module, _, rest = entry.partition(":")
    return module, int(rest.split(" ", 1)[0]), rest


def analyse(package_dir) -> Layout:
    """Imports of every module of the package in ``package_dir`` and the layout rules they break."""
    mods = _collect(package_dir)
    root = Path(package_dir).name
    reexports = _reexports(mods)
    layout = Layout(mods)
    cycle_edges = {}
    for m in mods.values():
        typing_only = _type_checking_lines(m.tree)
        for node in ast.walk(m.tree):
            targets = []                           # (target module or None, name imported or None)
            if isinstance(node, ast.ImportFrom):
                base = _base(m, node)
                if base.split(".")[0] != root:
                    continue
                for a in node.names:
                    if a.name == "*":
                        targets.append((base if base in mods else None, None, base))
                        continue
                    target = _resolve(mods, reexports, base, a.name)
                    is_module = f"{base}.{a.name}" in mods
                    if (a.name.startswith("_") and not a.name.endswith("__") and not is_module
                            and base != m.name):
                        layout.private.append(f"{m.name}:{node.lineno} <- {base}.{a.name}")
                    targets.append((target, a.name, target or base))
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.split(".")[0] == root:
                        targets.append((a.name if a.name in mods else None, None, a.name))
            for target, _, named in targets:
                entry = f"{m.name}:{node.lineno} -> {named}"
                if (_in_layer(named, root) and not _in_layer(m.name, root) and m.name != root
                        and entry not in layout.upward):
                    layout.upward.append(entry)
                if target is None or target == m.name:
                    continue
                layout.edges.setdefault(m.name, {}).setdefault(target, node.lineno)
                # package __init__ files only re-export: their imports are not dependencies
                if not m.is_package and node.lineno not in typing_only:
                    cycle_edges.setdefault(m.name, {}).setdefault(target, node.lineno)
    layout.private.sort(key=_by_line)
    layout.upward.sort(key=_by_line)
    for comp in _cycles({k: set(v) for k, v in cycle_edges.items()}):
        members = set(comp)
        layout.cycles.append([f"{a} -> {b} (line {line})" for a in comp
                              for b, line in sorted(cycle_edges.get(a, {}).items()) if b in members])
    return layout


def _report(layout: Layout) -> str:
    big = layout.largest
    return (f"largest module {big.name} {big.n_lines} lines; modules {len(layout.modules)}; "
            f"private cross-imports {len(layout.private)}; upward imports {len(layout.upward)}; "
            f"cycles {len(layout.cycles)}")


@pytest.fixture(scope="module")
def layout() -> Layout:
    return analyse(PACKAGE_DIR)


# ---------------------------------------------------------------------------- the package
def test_no_import_cycles(layout):
    assert not layout.cycles, "import cycles:\n" + "\n".join("  " + "; ".join(c) for c in layout.cycles)


def test_no_private_cross_module_imports(layout):
    assert not layout.private, ("leading-underscore names imported from another module (make them public "
                                "in their home module):\n" + "\n".join("  " + p for p in layout.private))


def test_no_imports_of_the_cli_experiments_layer_from_below(layout):
    assert not layout.upward, ("modules below the CLI/experiments layer import from it:\n"
                               + "\n".join("  " + u for u in layout.upward))


MAX_MODULE_LINES = 600


def test_no_module_over_600_lines(layout):
    """Small modules, one job each: none over ``MAX_MODULE_LINES`` lines."""
    print(_report(layout))
    sizes = sorted(layout.modules.values(), key=lambda m: -m.n_lines)
    print("largest modules:", ", ".join(f"{m.name} ({m.n_lines})" for m in sizes[:5]))
    assert len(layout.modules) > 10
    too_big = [f"{m.name} ({m.n_lines} lines)" for m in sizes if m.n_lines > MAX_MODULE_LINES]
    assert not too_big, f"modules over {MAX_MODULE_LINES} lines (split them by job): {', '.join(too_big)}"


# ---------------------------------------------------------------------------- the checker
def _write(root: Path, files: dict) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


_CLEAN = {
    "fakepkg/__init__.py": "from .a import public\nfrom .b import helper\n__version__ = '0'\n",
    "fakepkg/a.py": "from .b import helper\n\ndef public():\n    from .sub import thing\n    return helper(thing)\n",
    "fakepkg/b.py": "import os\n\ndef helper(x):\n    return x\n\ndef _private():\n    return 1\n"
                    "\ndef use():\n    return _private()\n",
    "fakepkg/sub/__init__.py": "from .m import thing\n",
    "fakepkg/sub/m.py": "from ..b import helper\nfrom .. import b\nthing = helper(b.helper(1))\n",
    "fakepkg/c.py": "from fakepkg import __version__\nfrom fakepkg.sub import thing\nfrom . import _d\n",
    "fakepkg/_d.py": "x = 1\n",
    "fakepkg/cli.py": "from .recipes_x import run\n\ndef main():\n    from .experiments import go\n    return go()\n",
    "fakepkg/recipes_x.py": "from .a import public\n\ndef run():\n    return public()\n",
    "fakepkg/experiments/__init__.py": "from .e1 import go\n",
    "fakepkg/experiments/e1.py": "from ..recipes_x import run\n\ndef go():\n    return run()\n",
    "fakepkg/typed.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .typed2 import T\n",
    "fakepkg/typed2.py": "from .typed import TYPE_CHECKING\nT = int\n",
}


def test_checker_accepts_a_clean_package(tmp_path):
    """Re-exports through ``__init__``, submodule imports, ``from . import _module``, dunder
    names, imports inside the CLI/experiments layer and ``TYPE_CHECKING`` imports are allowed."""
    lay = analyse(_write(tmp_path, _CLEAN) / "fakepkg")
    assert (lay.cycles, lay.private, lay.upward) == ([], [], [])
    assert "fakepkg.sub.m" in lay.edges["fakepkg.a"]            # followed through sub/__init__
    assert lay.largest.name == "fakepkg.b"


def test_checker_catches_planted_violations(tmp_path):
    bad = dict(_CLEAN)
    # function-level import closing a cycle a -> sub.m -> b -> a (through a re-export)
    bad["fakepkg/b.py"] = _CLEAN["fakepkg/b.py"] + "\ndef back():\n    from fakepkg import a\n    return a\n"
    bad["fakepkg/c.py"] = "from .b import _private\n"                         # private cross-import
    bad["fakepkg/sub/m.py"] = _CLEAN["fakepkg/sub/m.py"] + "from ..cli import public\n"   # upward import
    bad["fakepkg/d.py"] = "def f():\n    from .experiments import go\n    import fakepkg.recipes_x\n"
    lay = analyse(_write(tmp_path, bad) / "fakepkg")
    assert lay.private == ["fakepkg.c:1 <- fakepkg.b._private"]
    assert sorted(lay.upward) == ["fakepkg.d:2 -> fakepkg.experiments.e1", "fakepkg.d:3 -> fakepkg.recipes_x",
                                  "fakepkg.sub.m:4 -> fakepkg.cli"]
    assert len(lay.cycles) == 1
    cycle = "; ".join(lay.cycles[0])
    for edge in ("fakepkg.a -> fakepkg.b", "fakepkg.b -> fakepkg.a (line 13)", "fakepkg.a -> fakepkg.sub.m"):
        assert edge in cycle, cycle


def test_checker_finds_a_two_module_cycle_of_module_level_imports(tmp_path):
    lay = analyse(_write(tmp_path, {"pk/__init__.py": "", "pk/x.py": "from .y import f\n",
                                    "pk/y.py": "import pk.x\n\ndef f():\n    pass\n"}) / "pk")
    assert lay.cycles == [["pk.x -> pk.y (line 1)", "pk.y -> pk.x (line 1)"]]
