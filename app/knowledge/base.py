"""Loads the knowledge base: concept sections, the rubric and the question bank, validated."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError

from app.knowledge.chunking import FrontMatterError, clean_heading, repair_text, split_front_matter

STEP_IDS = range(1, 8)


class KnowledgeError(ValueError):
    """The knowledge base is malformed; the message names the file (and line when known)."""


def slugify(text: str) -> str:
    """Concept id from a heading: lowercase, runs of other characters become '-'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# ---------- concept files ----------


@dataclass
class Concept:
    id: str
    title: str
    topic: str
    level: str
    steps: list[int]
    source: str
    explanation: str
    when_to_use: str = ""
    tradeoffs: str = ""
    key_points: list[str] = field(default_factory=list)
    probes: list[str] = field(default_factory=list)
    red_flags: list[str] = field(default_factory=list)
    file_title: str = ""
    aliases: list[str] = field(default_factory=list)  # other names, abbreviations, and the symptoms people describe

    @property
    def heading(self) -> str:
        """The heading path retrieval shows for this concept."""
        return f"{self.file_title} > {self.title}" if self.file_title else self.title


_LABEL = re.compile(r"^\*\*(When to use|Tradeoffs|Key points|Probes|Red flags|Aliases):\*\*\s*(.*)$", re.IGNORECASE)


def split_aliases(text: str) -> list[str]:
    """The names on an `**Aliases:**` line: separated by semicolons, trimmed, first occurrence kept."""
    names = [" ".join(name.split()) for name in text.split(";")]
    return list(dict.fromkeys(name for name in names if name))


def _parse_section(lines: list[str]) -> dict[str, Any]:
    parts: dict[str, Any] = {
        "explanation": [],
        "when to use": [],
        "tradeoffs": [],
        "key points": [],
        "probes": [],
        "red flags": [],
        "aliases": [],
    }
    current = "explanation"
    for line in lines:
        label = _LABEL.match(line.strip())
        if label:
            current = label.group(1).lower()
            if label.group(2):
                parts[current].append(label.group(2))
            continue
        stripped = line.strip()
        if not stripped:
            continue
        if current in ("key points", "probes", "red flags"):
            if stripped.startswith(("- ", "* ")):
                parts[current].append(stripped[2:].strip())
            elif parts[current]:
                parts[current][-1] += " " + stripped
        else:
            parts[current].append(stripped)
    return parts


def parse_concepts(text: str, source: str) -> list[Concept]:
    """Concept sections (`## ` headings) of one knowledge file."""
    try:
        front, body = split_front_matter(repair_text(text))
    except FrontMatterError as exc:
        raise KnowledgeError(f"{source}: {exc}") from exc
    file_title = ""
    concepts: list[Concept] = []
    heading: str | None = None
    lines: list[str] = []

    def close() -> None:
        if heading is None:
            return
        parts = _parse_section(lines)
        concepts.append(
            Concept(
                id=slugify(heading),
                title=heading,
                topic=str(front.get("topic", "")),
                level=str(front.get("level", "core")),
                steps=[int(s) for s in front.get("steps", []) or []],
                source=source,
                explanation=" ".join(parts["explanation"]),
                when_to_use=" ".join(parts["when to use"]),
                tradeoffs=" ".join(parts["tradeoffs"]),
                key_points=parts["key points"],
                probes=parts["probes"],
                red_flags=parts["red flags"],
                file_title=file_title,
                aliases=split_aliases(" ".join(parts["aliases"])),
            )
        )

    for line in body.split("\n"):
        if line.startswith("# "):
            file_title = clean_heading(line[2:])
            continue
        if line.startswith("## "):
            close()
            heading, lines = clean_heading(line[3:]), []
            continue
        lines.append(line)
    close()
    return concepts


# ---------- rubric ----------


class ChecklistItem(BaseModel):
    id: str
    description: str
    weight: int = Field(2, ge=1, le=3)
    examples: list[str] = Field(default_factory=list)
    key_terms: list[str] = Field(default_factory=list)
    concepts: list[str] = Field(default_factory=list)
    named_by: list[str] = Field(
        default_factory=list, description="concepts whose name, in a sentence, makes the choice this item asks for"
    )
    probe: str
    hint_area: str = ""


class RedFlag(BaseModel):
    id: str
    claim: str
    why: str
    concept: str
    examples: list[str] = Field(default_factory=list)
    key_terms: list[str] = Field(default_factory=list)
    cues: list[str] = Field(default_factory=list)  # case-insensitive regular expressions of the claim's wording
    challenge: str = ""
    general: bool = False  # a catch-all, checked after the specific flags so that a sentence gets the specific one


class Minutes(BaseModel):
    min: int = Field(ge=1)
    max: int = Field(ge=1)


class Step(BaseModel):
    step: int = Field(ge=1, le=7)
    id: str
    name: str
    minutes: Minutes
    goal: str = ""
    opening_question: str
    openings: list[str] = Field(default_factory=list)  # other ways to open the step, so sessions differ
    scaffold: str = ""
    scaffolds: list[str] = Field(default_factory=list)  # more concrete scaffolds, used in order after `scaffold`
    checklist: list[ChecklistItem]
    red_flags: list[RedFlag] = Field(default_factory=list)


class Rubric(BaseModel):
    version: int = 1
    steps: list[Step]

    def step(self, number: int) -> Step:
        return next(s for s in self.steps if s.step == number)

    def items(self) -> list[tuple[Step, ChecklistItem]]:
        return [(s, i) for s in self.steps for i in s.checklist]

    def red_flags(self) -> list[tuple[Step, RedFlag]]:
        return [(s, f) for s in self.steps for f in s.red_flags]


# ---------- question bank ----------


class Scenario(BaseModel):
    id: str
    title: str
    domain: str
    prompt: str
    ml_task: str = ""
    key_terms: list[str] = Field(default_factory=list)
    concepts: list[str] = Field(default_factory=list)
    expectations: dict[int, list[str]]


class Drill(BaseModel):
    id: str
    concept: str
    question: str
    followup: str = ""


class QuestionBank(BaseModel):
    scenarios: list[Scenario]
    drills: list[Drill] = Field(default_factory=list)


# ---------- loading ----------


def load_yaml(path: Path) -> Any:
    """Parse a YAML file; errors name the file and the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise KnowledgeError(f"{path}: file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeError(f"{path}: cannot be read ({exc})") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise KnowledgeError(f"{path}{where}: malformed YAML: {problem}") from exc


def _validated(model: type[BaseModel], data: Any, path: Path) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise KnowledgeError(f"{path}: invalid entry at {loc}: {first['msg']}") from exc


@dataclass
class KnowledgeBase:
    concepts: dict[str, Concept]
    rubric: Rubric
    questions: QuestionBank

    def scenario(self, scenario_id: str) -> Scenario:
        for scenario in self.questions.scenarios:
            if scenario.id == scenario_id:
                return scenario
        raise KeyError(scenario_id)


def load_concepts(knowledge_dir: Path) -> dict[str, Concept]:
    concepts: dict[str, Concept] = {}
    for path in sorted(knowledge_dir.glob("*.md")):
        if path.name == "README.md":
            continue
        for concept in parse_concepts(path.read_text(encoding="utf-8"), path.name):
            if concept.id in concepts:
                raise KnowledgeError(f"{path}: concept id {concept.id!r} also in {concepts[concept.id].source}")
            concepts[concept.id] = concept
    return concepts


def load_knowledge(knowledge_dir: Path) -> KnowledgeBase:
    """Load and validate the whole knowledge base."""
    if not knowledge_dir.is_dir():
        raise KnowledgeError(f"{knowledge_dir}: knowledge folder not found")
    rubric = _validated(Rubric, load_yaml(knowledge_dir / "rubric.yaml"), knowledge_dir / "rubric.yaml")
    questions = _validated(QuestionBank, load_yaml(knowledge_dir / "questions.yaml"), knowledge_dir / "questions.yaml")
    return KnowledgeBase(load_concepts(knowledge_dir), rubric, questions)


def reference_problems(kb: KnowledgeBase) -> list[str]:
    """Broken cross-references and incomplete concepts, as sentences (empty when all is well)."""
    problems: list[str] = []
    ids = set(kb.concepts)
    for concept in kb.concepts.values():
        if len(concept.probes) < 2:
            problems.append(f"concept {concept.id} has {len(concept.probes)} probes (needs 2-4)")
        if not concept.red_flags:
            problems.append(f"concept {concept.id} has no red flags")
        if not concept.key_points:
            problems.append(f"concept {concept.id} has no key points")
    numbers = sorted(s.step for s in kb.rubric.steps)
    if numbers != list(STEP_IDS):
        problems.append(f"rubric steps are {numbers}, expected 1-7")
    seen: set[str] = set()
    for _step, item in kb.rubric.items():
        if item.id in seen:
            problems.append(f"rubric item id {item.id} is repeated")
        seen.add(item.id)
        problems.extend(f"rubric item {item.id} links unknown concept {c}" for c in item.concepts if c not in ids)
        problems.extend(f"rubric item {item.id} is named by unknown concept {c}" for c in item.named_by if c not in ids)
    for _step, flag in kb.rubric.red_flags():
        if flag.id in seen:
            problems.append(f"red flag id {flag.id} is repeated")
        seen.add(flag.id)
        if flag.concept not in ids:
            problems.append(f"red flag {flag.id} links unknown concept {flag.concept}")
    scenario_ids: set[str] = set()
    for scenario in kb.questions.scenarios:
        if scenario.id in scenario_ids:
            problems.append(f"scenario id {scenario.id} is repeated")
        scenario_ids.add(scenario.id)
        problems.extend(f"scenario {scenario.id} links unknown concept {c}" for c in scenario.concepts if c not in ids)
        missing = [n for n in STEP_IDS if not scenario.expectations.get(n)]
        if missing:
            problems.append(f"scenario {scenario.id} has no expectations for steps {missing}")
    drilled = set()
    for drill in kb.questions.drills:
        if drill.concept not in ids:
            problems.append(f"drill {drill.id} links unknown concept {drill.concept}")
        drilled.add(drill.concept)
    problems.extend(f"concept {c} has no drill question" for c in sorted(ids - drilled))
    return problems


def concept_for(kb: KnowledgeBase, heading: str, source: str = "") -> Concept | None:
    """The concept a passage belongs to: the one whose `## ` heading starts the passage's heading path (its id is
    that heading's slug), in the same file when the source is known. None for a file's introduction or a passage
    that is not in the knowledge base."""
    parts = [part.strip() for part in heading.split(" > ") if part.strip()]
    for part in parts[:2]:  # a file's title comes first when it has one
        concept = kb.concepts.get(slugify(part))
        if concept is None or (source and PurePosixPath(concept.source).name != PurePosixPath(source).name):
            continue
        path = concept.heading.split(" > ")
        if parts[: len(path)] == path:
            return concept
    return None
