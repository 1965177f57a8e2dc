"""The code passes ruff (pyflakes, pycodestyle, bugbear, simplify, pyupgrade, import order, no
stale noqa; ruff.toml) and mypy --strict (functions/, devserver/, tests/support.py; mypy.ini),
and the core's rooms keep their rules: no import cycles, every import runs down the layers,
nothing the redirect imports reaches pydantic or Powertools, nothing in functions/ knows the
devserver."""

from __future__ import annotations

import ast
import re
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
def test_mypy_strict_finds_nothing_in_the_functions(target: str) -> None:
    result = subprocess.run([str(BIN / "mypy"), "--config-file", str(ROOT / "mypy.ini"), "--cache-dir", str(ROOT / ".mypy_cache"), target],
                            cwd=FUNCTIONS, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_finds_nothing_in_the_devserver_and_the_tests_support() -> None:
    result = subprocess.run([str(BIN / "mypy"), "--config-file", str(ROOT / "mypy.ini"), "--cache-dir", str(ROOT / ".mypy_cache"),
                             "devserver", "tests/support.py"], cwd=ROOT, capture_output=True, text=True)
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


# The core's rooms from the bottom up: a module imports only from its own room or a lower layer.
LAYERS = [{"errors", "clock", "instance"}, {"settings", "dynamodb"}, {"links"}, {"stats", "http", "keys"}, {"events"}, {"api"}]


def _room(module: str) -> str:
    """shortlink.links.store -> links; shortlink.clock -> clock; shortlink -> the package itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_every_import_in_the_core_runs_down_the_layers() -> None:
    rank = {room: level for level, rooms in enumerate(LAYERS) for room in rooms}
    rooms = {_room(name) for name in _graph()} - {""}
    assert rooms == set(rank), "LAYERS names every room of the core, and only those"
    upward = sorted(f"{module} -> {target}" for module, targets in _graph().items() for target in targets
                    if _room(target) and _room(module) != _room(target) and rank[_room(target)] >= rank[_room(module)])
    assert upward == []


def _code_words(path: Path) -> set[str]:
    """The names and string values a module's code uses (not its docstrings or comments)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    words: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            words.add(node.value)
        elif isinstance(node, ast.Name):
            words.add(node.id)
        elif isinstance(node, ast.Attribute):
            words.add(node.attr)
    return words


def test_nothing_in_the_functions_knows_the_devserver_or_a_loopback_host() -> None:
    """Local behaviour lives behind the devserver (its endpoints, its event bus, its block list)."""
    needles = ("devserver", "DYNAMODB_ENDPOINT", "EVENT_WEBHOOK_URL", "127.0.0.1", "localhost", "[::1]", "LOOPBACK")
    found = sorted(f"{path.relative_to(ROOT)}: {word!r}" for path in FUNCTIONS.rglob("*.py") for word in _code_words(path)
                   if any(needle in word for needle in needles))
    assert found == []


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


README = ROOT / "README.md"
_NAMED_FILE = re.compile(r"^[\w.-]+\.(?:py|html|json|yaml|toml|txt|md|js|css)$|^[\w.-]+/$")


def _layout() -> list[tuple[str, str]]:
    """(path, description) of each line of README's map of the tree."""
    text = README.read_text(encoding="utf-8")
    block = text.split("## Where things are", 1)[1].split("```", 2)[1]
    rows = []
    for line in block.strip("\n").splitlines():
        path, _, description = line.partition(" ")
        rows.append((path, description))
    return rows


def test_every_path_the_readme_names_exists_and_every_room_of_the_core_is_named() -> None:
    missing = []
    for path, description in _layout():
        if not (ROOT / path).exists():
            missing.append(path)
        folder = ROOT / path if path.endswith("/") else ROOT
        for word in re.findall(r"[\w./-]+", description):
            word = word.rstrip(",.;:")
            if _NAMED_FILE.match(word) and not ((folder / word).exists() or (ROOT / word).exists()):
                missing.append(f"{path} {word}")
    assert missing == []
    named = {path for path, _ in _layout()}
    rooms = {f"functions/shortlink/{p.name}/" for p in CORE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert rooms <= named, rooms - named
    modules = {p.name for p in CORE.glob("*.py") if p.name != "__init__.py"}
    mentioned = " ".join(description for path, description in _layout() if path == "functions/shortlink/")
    assert all(module in mentioned for module in modules), modules


def test_the_readme_is_an_entrance_and_points_only_inside_the_project() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 300
    assert "make run" in text and "make test" in text
    for page in re.findall(r"\]\((docs/[\w.-]+\.md)", text):
        assert (ROOT / page).exists(), page
    for document in [README, *(ROOT / "docs").glob("*.md")]:
        assert "../shared" not in document.read_text(encoding="utf-8"), document
