"""The package keeps its shape: each third-party library behind the one module that owns it, and no objects kept
in module-level caches (the composition root owns every long-lived object)."""

import ast
import re
from pathlib import Path

import pytest

from app.settings import PROJECT_DIR

APP = PROJECT_DIR / "app"
SUBPACKAGES = {"knowledge", "llm", "grading", "interview", "sessions", "web", "cli", "evaluation", "diagnostics"}
OWNERS = {  # library -> the only places in app/ that may import it
    "gradio": ("web/",),
    "chromadb": ("knowledge/store.py",),
    "langchain_openai": ("llm/factory.py",),
    "langchain_core": ("llm/factory.py",),
    "llama_cpp": ("llm/factory.py", "llm/model_server.py"),  # the factory, and the model server process it starts
}


def modules() -> list[Path]:
    return sorted(p for p in APP.rglob("*.py") if "__pycache__" not in p.parts)


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_the_top_level_holds_only_settings_the_composition_root_and_the_lifecycle():
    top = {p.name for p in APP.glob("*.py")}
    assert top == {"__init__.py", "__main__.py", "settings.py", "container.py", "lifecycle.py"}
    assert {p.name for p in APP.iterdir() if p.is_dir() and p.name != "__pycache__"} == SUBPACKAGES


@pytest.mark.parametrize("library", sorted(OWNERS))
def test_each_library_is_imported_only_by_its_owner(library):
    offenders = [
        str(p.relative_to(APP))
        for p in modules()
        if library in imported(p) and not str(p.relative_to(APP)).startswith(OWNERS[library])
    ]
    assert offenders == []


def test_no_module_level_cache_or_registry():
    problems = []
    for path in modules():
        tree = ast.parse(path.read_text())
        for node in tree.body:
            decorated = node.decorator_list if isinstance(node, ast.FunctionDef) else []
            if any("cache" in ast.unparse(d) for d in decorated):
                problems.append(f"{path.relative_to(APP)}: cached function {node.name}")
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                value = node.value
                target = ast.unparse(node.targets[0] if isinstance(node, ast.Assign) else node.target)
                if re.fullmatch(r"[A-Z0-9_]+|__\w+__", target):
                    continue  # constants by convention
                empty = value is not None and re.search(r"\b(dict|set|list|defaultdict)\(\)", ast.unparse(value))
                if isinstance(value, (ast.Dict, ast.Set, ast.List)) or empty:
                    problems.append(f"{path.relative_to(APP)}: module-level {target}")
    assert problems == []
