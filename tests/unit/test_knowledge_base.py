"""Checks on the knowledge base itself: valid YAML, complete concepts, references that resolve."""

import copy
from pathlib import Path

import pytest

from app.knowledge.base import (
    KnowledgeError,
    load_knowledge,
    load_yaml,
    parse_concepts,
    reference_problems,
    slugify,
    split_aliases,
)
from app.knowledge.tokens import tokenize
from app.settings import PROJECT_DIR

KNOWLEDGE = PROJECT_DIR / "knowledge"


@pytest.fixture(scope="module")
def kb():
    return load_knowledge(KNOWLEDGE)


def test_references_resolve_and_concepts_are_complete(kb):
    assert reference_problems(kb) == []


def test_a_choice_named_by_an_unknown_concept_is_a_broken_reference(kb):
    broken = copy.deepcopy(kb)
    item = broken.rubric.steps[3].checklist[0]
    item.named_by = ["no-such-concept"]
    assert reference_problems(broken) == [f"rubric item {item.id} is named by unknown concept no-such-concept"]


def test_sizes(kb):
    assert len(kb.questions.scenarios) >= 25
    assert len(kb.concepts) >= 100
    assert sum(1 for c in kb.concepts.values() if c.level == "advanced") >= 15
    assert [s.step for s in kb.rubric.steps] == [1, 2, 3, 4, 5, 6, 7]
    assert all(len(s.checklist) >= 3 for s in kb.rubric.steps)
    assert len(kb.rubric.red_flags()) >= 12


def test_every_concept_has_probes_and_red_flags(kb):
    for concept in kb.concepts.values():
        assert 2 <= len(concept.probes) <= 4, concept.id
        assert concept.red_flags, concept.id
        assert concept.explanation, concept.id
        assert all(p.rstrip().endswith("?") for p in concept.probes), concept.id


def test_budgets_match_the_framework(kb):
    budgets = {s.step: (s.minutes.min, s.minutes.max) for s in kb.rubric.steps}
    assert budgets == {1: (5, 7), 2: (5, 7), 3: (5, 7), 4: (5, 7), 5: (5, 5), 6: (5, 5), 7: (3, 5)}


def test_front_matter_is_complete():
    for path in KNOWLEDGE.glob("*.md"):
        if path.name == "README.md":
            continue
        text = path.read_text(encoding="utf-8")
        assert text.startswith("---\n"), path
        head = text.split("---", 2)[1]
        for key in ("topic:", "steps:", "level:"):
            assert key in head, f"{path.name} lacks {key}"


def test_malformed_yaml_names_file_and_line(tmp_path: Path):
    bad = tmp_path / "rubric.yaml"
    bad.write_text("steps:\n  - step: 1\n    name: [unclosed\n  - step: 2\n")
    with pytest.raises(KnowledgeError, match=r"rubric.yaml, line \d+"):
        load_yaml(bad)


def test_missing_knowledge_folder(tmp_path: Path):
    with pytest.raises(KnowledgeError, match="not found"):
        load_knowledge(tmp_path / "nope")


def test_parse_concept_sections():
    text = (
        "---\ntopic: x\nsteps: [5]\nlevel: core\n---\n# File\n\nIntro.\n\n## PR AUC\n\nExplains it.\n\n"
        "**When to use:** rare positives.\n\n**Tradeoffs:** noisy.\n\n**Key points:**\n- one\n- two\n\n"
        "**Probes:**\n- Why?\n- How?\n\n**Red flags:**\n- ROC is enough -- it hides false positives.\n"
    )
    (concept,) = parse_concepts(text, "f.md")
    assert concept.id == "pr-auc" and concept.steps == [5] and concept.heading == "File > PR AUC"
    assert concept.when_to_use == "rare positives."
    assert concept.key_points == ["one", "two"] and concept.probes == ["Why?", "How?"]
    assert concept.red_flags == ["ROC is enough -- it hides false positives."]


# Aliases that name two concepts on purpose (alias -> the concept ids that share it). None do today; an alias added
# to a second concept must be listed here, so a shared name is a decision, not an accident.
SHARED_ALIASES: dict[str, set[str]] = {}


def test_every_concept_has_aliases_that_point_to_it_alone(kb):
    owners: dict[tuple[str, ...], set[str]] = {}
    titles = {tuple(tokenize(c.title)): c.id for c in kb.concepts.values()}
    for concept in kb.concepts.values():
        assert len(concept.aliases) >= 5, concept.id
        for alias in concept.aliases:
            key = tuple(tokenize(alias))
            assert key, f"{concept.id}: alias {alias!r} is only stopwords"
            assert titles.get(key, concept.id) == concept.id, f"{alias!r} is another concept's title"
            owners.setdefault(key, set()).add(concept.id)
    shared = {" ".join(k): ids for k, ids in owners.items() if len(ids) > 1}
    declared = {" ".join(tokenize(a)): ids for a, ids in SHARED_ALIASES.items()}
    assert shared == declared


def test_aliases_are_parsed_from_their_own_line_and_stay_out_of_the_explanation():
    text = (
        "---\ntopic: x\nsteps: [5]\nlevel: core\n---\n# File\n\n## PR AUC\n\nExplains it.\n\n"
        "**Aliases:** area under the PR curve; AUPRC;  average precision ; AUPRC\n\n**When to use:** rare positives.\n"
    )
    (concept,) = parse_concepts(text, "f.md")
    assert concept.aliases == ["area under the PR curve", "AUPRC", "average precision"]
    assert concept.explanation == "Explains it." and concept.when_to_use == "rare positives."
    assert split_aliases(" ; ;") == []


def test_slugify():
    assert slugify("R-squared") == "r-squared"
    assert slugify("A/B testing and hypothesis tests") == "a-b-testing-and-hypothesis-tests"
