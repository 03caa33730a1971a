import subprocess
import sys
from pathlib import Path

import studio.engine

BLOCK_QT = r"""
import importlib.abc, sys

class NoQt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph"):
            raise ImportError(f"{name} is blocked in this test")

sys.meta_path.insert(0, NoQt())
import pkgutil, importlib, studio.engine
names = [m.name for m in pkgutil.walk_packages(studio.engine.__path__, "studio.engine.")]
for n in names:
    importlib.import_module(n)
import studio.cli
assert not [m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6", "pyqtgraph")]
print(",".join(sorted(names)))
"""


def test_engine_imports_with_qt_unimportable():
    r = subprocess.run([sys.executable, "-c", BLOCK_QT], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    # every module of the package was imported so: each file there, none left out
    folder = Path(studio.engine.__file__).parent
    files = sorted(".".join(("studio", "engine", *p.relative_to(folder).with_suffix("").parts))
                   .removesuffix(".__init__") for p in folder.rglob("*.py") if p != folder / "__init__.py")
    assert len(files) > 30 and r.stdout.strip().split(",") == files


def test_the_blocker_really_blocks():
    r = subprocess.run([sys.executable, "-c", BLOCK_QT.split("import pkgutil")[0] + "import PySide6"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "blocked" in r.stderr


def test_what_the_window_reads_before_torch_loads_imports_no_torch():
    # the requests and events, and the model and photo they carry: the window and the state
    # build and read them on the window's thread while the engine thread still imports torch
    code = ("import sys, studio.engine.requests, studio.engine.model_info, studio.engine.photo{}; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'PySide6')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code.format("")], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    # ... and the check sees torch where it is imported (the model file's module loads it)
    r = subprocess.run([sys.executable, "-c", code.format(", studio.engine.checkpoint")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "torch" in r.stdout
