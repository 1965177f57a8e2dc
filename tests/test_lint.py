"""The code passes ruff (pyflakes, pycodestyle, bugbear, simplify, pyupgrade; ruff.toml), mypy
(strict for functions/; mypy.ini), and the core's rooms keep their rules: no import cycles,
and nothing the redirect imports reaches pydantic or Powertools."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"
CORE = FUNCTIONS / "shortlink"
BIN = Path(sys.executable).parent


def test_ruff_finds_nothing() -> None:
    result = subprocess.run([str(BIN / "ruff"), "check", "--output-format", "concise", "."],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# Every function's module is called `app`, so each is checked on its own.
@pytest.mark.parametrize("target", ["shortlink", *sorted(f"{p.parent.name}/app.py" for p in FUNCTIONS.glob("*/app.py"))])
def test_mypy_strict_finds_nothing(target: str) -> None:
    result = subprocess.run([str(BIN / "mypy"), "--config-file", str(ROOT / "mypy.ini"), "--cache-dir", str(ROOT / ".mypy_cache"), target],
                            cwd=FUNCTIONS, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _module_name(path: Path) -> str:
    parts = path.relative_to(FUNCTIONS).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The modules one file imports (relative imports resolved; packages as their module)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in CORE.rglob("*.py")}
    return {name: {m for m in _imports(path) if m in files and m != name} for name, path in files.items()}


def test_the_core_has_no_import_cycles() -> None:
    graph = _graph()
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        assert name not in trail, " -> ".join([*trail, name])
        if name in done:
            return
        for target in sorted(graph[name]):
            if not target.startswith(name + "."):  # a package may import its own modules
                visit(target, [*trail, name])
        done.add(name)

    for module in sorted(graph):
        visit(module, [])


def test_only_the_api_room_imports_pydantic_or_powertools_and_the_redirect_reaches_neither() -> None:
    heavy = ("pydantic", "aws_lambda_powertools")
    for path in CORE.rglob("*.py"):
        if _module_name(path).startswith("shortlink.api"):
            continue
        assert not any(m.startswith(heavy) for m in _imports(path)), path
    reached: set[str] = set()
    todo = {m for m in _imports(FUNCTIONS / "redirect" / "app.py") if m.startswith("shortlink")}
    graph = _graph()
    while todo:
        name = todo.pop()
        if name in graph and name not in reached:
            reached.add(name)
            todo |= graph[name]
    assert reached and not any(m.startswith("shortlink.api") for m in reached), sorted(reached)
    probe = ("import sys, importlib.util\n"
             f"spec = importlib.util.spec_from_file_location('app', {str(FUNCTIONS / 'redirect' / 'app.py')!r})\n"
             "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'aws_lambda_powertools')))\n")
    run = subprocess.run([sys.executable, "-c", probe], env={"PYTHONPATH": str(FUNCTIONS)}, capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip() == "[]", run.stdout + run.stderr


def _sleeps(path: Path) -> list[int]:
    """Lines of a module that call sleep (time.sleep or a bare sleep)."""
    return [node.lineno for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == "sleep"]


def test_tests_wait_through_eventually_never_a_fixed_sleep() -> None:
    """A pause only hopes that something happened; tests ask until it has (support.eventually) or
    ask the devserver (Devserver.drain)."""
    sleeping = [f"{path.relative_to(ROOT)}:{line}" for path in (ROOT / "tests").rglob("*.py") if path.name != "support.py"
                for line in _sleeps(path)]
    assert sleeping == []
    assert _sleeps(ROOT / "tests" / "support.py"), "eventually() is where the tests wait"
