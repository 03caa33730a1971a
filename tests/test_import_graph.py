"""The project's modules import one another without circles (imports inside functions count:
a circle hidden in a function is still one). A module longer than MAX_LINES is listed at the end
of the test run (conftest.py), not failed: a long module may hold two ideas, and is split where an
idea ends, never to meet a count."""

import ast
from pathlib import Path

import studio

ROOT = Path(studio.__file__).resolve().parent
MAX_LINES = 450


def _modules() -> dict[str, Path]:
    out = {}
    for p in ROOT.rglob("*.py"):
        rel = p.relative_to(ROOT.parent).with_suffix("")
        name = ".".join(rel.parts)
        out[name.removesuffix(".__init__")] = p
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name and not name.startswith(t + "."):  # a package's own __init__
                found.add(t)
    return found


def test_no_module_imports_itself_round_a_circle():
    mods = _modules()
    graph = {m: _imports(m, p, set(mods)) for m, p in mods.items()}
    cycles = []
    state: dict[str, int] = {}

    def visit(m, stack):
        state[m] = 1
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                cycles.append(" -> ".join(stack[stack.index(n):] + [n]))
            elif n not in state:
                visit(n, stack + [n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert cycles == []


APP = ("studio.cli", "studio.engine", "studio.gui", "studio.state")  # cli_args, state_map... too


def test_the_app_never_imports_the_benchmarks():
    """The benchmarks sit on top of the app and import it, never the reverse: `face-studio
    bench` reaches them through the program (studio.__main__), not through the command line."""
    mods = _modules()

    def benchmarks_imported(m):
        return sorted(n for n in _imports(m, mods[m], set(mods)) if n.startswith("studio.benchmarks"))

    upward = {m: benchmarks_imported(m) for m in mods if m.startswith(APP)}
    assert {m: found for m, found in upward.items() if found} == {}
    # the scan sees such an import, inside a function too: the program's own
    assert benchmarks_imported("studio.__main__") == ["studio.benchmarks.bench"]


def long_modules(root: Path = ROOT, bound: int = MAX_LINES) -> dict[str, int]:
    """The modules under `root` longer than `bound` lines, with their lengths."""
    found = {}
    for p in sorted(root.rglob("*.py")):
        n = len(p.read_text().splitlines())
        if n > bound:
            found[str(p.relative_to(root.parent))] = n
    return found


def test_long_modules_are_found_and_short_ones_are_not(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "short.py").write_text("x = 1\n" * 10)
    (pkg / "long.py").write_text("x = 1\n" * 11)
    assert long_modules(pkg, bound=10) == {"pkg/long.py": 11}
