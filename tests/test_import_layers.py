"""The import contract of ``nox -s lint`` (tools/import_layers.py): it holds on the package, and it fails
on each kind of break it exists to catch, including the ones a deferred import would hide."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TOOL = REPO / "tools" / "import_layers.py"


def _load_tool():
    spec = importlib.util.spec_from_file_location("import_layers", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


import_layers = _load_tool()
LAYERS = (("low",), ("mid",), ("left", "right"), ("top",))


def make_package(root: Path, files: dict[str, str]) -> Path:
    """A throwaway package ``pkg`` under ``root`` with ``files`` (path -> source) and every ``__init__``."""
    package = root / "pkg"
    for relative, source in files.items():
        path = package / relative
        for folder in [package, *path.relative_to(package).parents]:
            (package / folder).mkdir(parents=True, exist_ok=True)
            (package / folder / "__init__.py").touch()
        path.write_text(textwrap.dedent(source))
    return package


def test_the_package_keeps_its_layers_and_has_no_cycle() -> None:
    run = subprocess.run([sys.executable, str(TOOL)], cwd=REPO, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "no cycle" in run.stdout


def test_every_subpackage_of_the_package_is_a_layer() -> None:
    package = REPO / "optuna_clank"
    subpackages = {p.parent.name for p in package.glob("*/__init__.py")}
    assert subpackages == {name for names in import_layers.LAYERS for name in names}


def test_downward_imports_pass(tmp_path: Path) -> None:
    package = make_package(
        tmp_path,
        {
            "low/a.py": "X = 1\n",
            "mid/b.py": "from pkg.low.a import X\n",
            "left/c.py": "from pkg.mid import b\n",
            "top/d.py": "import pkg.left.c\nfrom pkg.low.a import X\n",
        },
    )
    assert import_layers.check(package, LAYERS) == []


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {"low/a.py": "from pkg.mid.b import Y\n", "mid/b.py": "Y = 2\n"},
            "pkg/low/a.py:1: low imports pkg.mid.b (mid is not below low)",
            id="upward at the top",
        ),
        pytest.param(
            {"low/a.py": "def f():\n    from pkg.top import d\n    return d\n", "top/d.py": ""},
            "pkg/low/a.py:2: low imports pkg.top.d (top is not below low)",
            id="upward inside a function",
        ),
        pytest.param(
            {
                "low/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.mid.b import Y\n",
                "mid/b.py": "Y = 2\n",
            },
            "pkg/low/a.py:3: low imports pkg.mid.b (mid is not below low)",
            id="upward for type checking only",
        ),
        pytest.param(
            {"left/a.py": "from pkg.right import b\n", "right/b.py": ""},
            "pkg/left/a.py:1: left imports pkg.right.b (right is not below left)",
            id="between siblings",
        ),
        pytest.param(
            {"mid/a.py": "from ..top import d\n", "top/d.py": ""},
            "pkg/mid/a.py:1: mid imports pkg.top.d (top is not below mid)",
            id="upward relative import",
        ),
        pytest.param(
            {"low/a.py": "from pkg import helper\n", "helper.py": ""},
            "pkg/low/a.py:1: low imports pkg.helper",
            id="a root module is in no layer",
        ),
        pytest.param(
            {"low/a.py": "def f():\n    from pkg.low import b\n", "low/b.py": "from pkg.low import a\n"},
            "import cycle: pkg.low.a -> pkg.low.b",
            id="a cycle inside one layer",
        ),
        pytest.param(
            {"attic/a.py": ""},
            "pkg/attic/__init__.py: in no layer",
            id="a subpackage outside the layers",
        ),
    ],
)
def test_each_break_is_one_line(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    package = make_package(tmp_path, files)
    problems = [p.replace(str(tmp_path) + "/", "") for p in import_layers.check(package, LAYERS)]
    assert any(p.startswith(expected) for p in problems), problems


def test_the_tool_exits_1_and_names_the_import(tmp_path: Path) -> None:
    package = make_package(tmp_path, {"core/a.py": "from pkg.cli.b import run\n", "cli/b.py": "run = 1\n"})
    run = subprocess.run([sys.executable, str(TOOL), str(package)], capture_output=True, text=True, check=False)
    assert run.returncode == 1
    assert "core imports pkg.cli.b (cli is not below core)" in run.stdout
