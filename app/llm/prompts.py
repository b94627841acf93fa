"""Prompt templates from `prompts/`, rendered with named placeholders; a missing value fails loudly."""

from __future__ import annotations

import string
from pathlib import Path

from app.settings import resource_dir


class PromptError(KeyError):
    """A template is missing, or a placeholder has no value."""


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


class Prompts:
    """The prompt templates of one folder (by default the ones the app ships)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or resource_dir("prompts")

    def template(self, name: str) -> str:
        path = self.folder / f"{name}.md"
        if not path.is_file():
            raise PromptError(f"prompt template not found: {path}")
        return path.read_text(encoding="utf-8")

    def render(self, name: str, **values: object) -> str:
        return fill(name, self.template(name), values)


def fill(name: str, template: str, values: dict[str, object]) -> str:
    """Fill a template; every placeholder must be given, and no unknown value is accepted."""
    needed = placeholders(template)
    missing = needed - values.keys()
    if missing:
        raise PromptError(f"prompt {name!r} is missing values for: {', '.join(sorted(missing))}")
    unknown = values.keys() - needed
    if unknown:
        raise PromptError(f"prompt {name!r} has no placeholder for: {', '.join(sorted(unknown))}")
    return template.format(**values)


def fence_candidate(text: str, label: str = "candidate_answer") -> str:
    """The candidate's words as fenced data: tags inside the text are neutralised so the fence cannot be closed."""
    cleaned = text.replace(f"</{label}>", f"</ {label}>").replace(f"<{label}>", f"< {label}>")
    return f"<{label}>\n{cleaned}\n</{label}>"
