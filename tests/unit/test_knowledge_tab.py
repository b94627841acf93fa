"""The Knowledge tab: mapping passages to concepts, the renderings of results and concepts (never a probe or a red
flag), the room's search, and the tab's handlers, with the real knowledge base and a scripted retriever."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from app.grading.scorecard import Grader
from app.interview.engine import Interviewer
from app.knowledge.base import Concept, load_knowledge, slugify
from app.knowledge.chunking import chunk_markdown
from app.knowledge.retrieval import SearchResult
from app.sessions.repository import SessionRepository
from app.settings import PROJECT_DIR
from app.web.knowledge import (
    EMPTY_QUERY,
    MAX_QUERY_CHARS,
    SNIPPET_CHARS,
    clean_query,
    collection_of,
    concept_for,
    concept_markdown,
    public_text,
    result_choices,
    results_markdown,
    snippet,
    study_choices,
    study_concepts,
)
from app.web.room import Room, RoomError
from app.web.ui import KNOWLEDGE_TAB, KnowledgeHandlers, KnowledgeView
from tests.unit.fakes import FakeEmbedder, FakeLLM

KB = load_knowledge(PROJECT_DIR / "knowledge")
GRADER = Grader(KB, FakeEmbedder())
VIEW = KnowledgeView(*[f"<{name}>" for name in KnowledgeView.__dataclass_fields__])
BATCH = KB.concepts["batch-inference"]
CHUNKS = [
    chunk
    for path in sorted((PROJECT_DIR / "knowledge").glob("*.md"))
    if path.name != "README.md"
    for chunk in chunk_markdown(path.read_text(encoding="utf-8"), path.name)
]


def passage(concept: Concept, text: str | None = None, **metadata: Any) -> SearchResult:
    """A search result as the retriever returns it: the document starts with the heading path."""
    body = text if text is not None else concept.explanation
    meta = {"source": concept.source, "topic": concept.topic, "heading": concept.heading, **metadata}
    return SearchResult(concept.id, f"{concept.heading}\n\n{body}", concept.heading, concept.source, meta, 0.03)


@dataclass
class ScriptedRetriever:
    """The retriever's search, with fixed results (or an exception to raise); queries are recorded."""

    results: list[Any] = field(default_factory=list)
    fail: Exception | None = None
    queries: list[tuple[str, int]] = field(default_factory=list)

    def search(self, query: str, k: int = 5) -> list[Any]:
        self.queries.append((query, k))
        if self.fail is not None:
            raise self.fail
        return self.results[:k]


def make_room(tmp_path: Path, retriever: Any) -> Room:
    repo = SessionRepository(f"sqlite:///{tmp_path / 's.sqlite3'}")
    engine = Interviewer(KB, GRADER, retriever, FakeLLM(), repo, rng=random.Random(3))
    return Room(engine, "local: fake", reports_dir=tmp_path / "reports")


# ---------- a passage's concept ----------


def test_a_passage_maps_to_the_concept_of_its_heading():
    found = concept_for(KB, "Inference > Batch inference", "inference.md")
    assert found is BATCH and found.id == slugify("Batch inference") and BATCH.heading == "Inference > Batch inference"
    assert concept_for(KB, "Inference > Batch inference > Costs", "inference.md") is BATCH  # a subsection
    assert concept_for(KB, "Inference > Batch inference", "knowledge/inference.md") is BATCH  # a source with a folder
    assert concept_for(KB, "Inference > Batch inference") is BATCH  # source unknown


@pytest.mark.parametrize(
    ("heading", "source"),
    [
        ("Inference", "inference.md"),  # the file's introduction
        ("Inference > Batch inference", "training.md"),  # the same name in another file
        ("My notes > Batch inference", "notes.md"),  # a heading path that is not the concept's
        ("My notes > Something else", "notes.md"),
        ("", ""),
    ],
)
def test_passages_outside_a_concept_map_to_none(heading, source):
    assert concept_for(KB, heading, source) is None


def test_every_concept_passage_of_the_knowledge_base_maps_back_to_its_concept():
    for chunk in CHUNKS:
        concept = concept_for(KB, chunk.heading, chunk.metadata["source"])
        if len(chunk.heading_path) >= 2:
            assert concept is not None and concept.heading == " > ".join(chunk.heading_path[:2]), chunk.heading
        else:
            assert concept is None


# ---------- results ----------


def test_results_are_ranked_with_heading_path_topic_and_snippet():
    results = [passage(BATCH), passage(KB.concepts["real-time-inference"])]
    text = results_markdown("batch scoring", results, KB)
    assert text.startswith("**2 results for “batch scoring”**")
    assert "1. **Inference &gt; Batch inference** · _inference_" in text
    assert "2. **Inference &gt; Real\\-time inference**" in text
    assert text.index("Batch inference") < text.index("Real\\-time inference")
    assert snippet(BATCH.explanation)[:40] in text


def test_a_collection_is_shown_whether_an_attribute_or_metadata():
    in_metadata = passage(BATCH, collection="notes")
    as_attribute = SimpleNamespace(**{**vars(passage(BATCH)), "collection": "notes"})
    assert collection_of(in_metadata) == collection_of(as_attribute) == "notes"
    assert collection_of(passage(BATCH)) is None
    assert "· from notes" in results_markdown("q", [in_metadata], KB)
    assert "from" not in results_markdown("q", [passage(BATCH)], KB).split("\n")[2]


def test_empty_and_fruitless_searches_get_one_sentence():
    assert results_markdown("", [], KB) == EMPTY_QUERY
    assert results_markdown("zzqx", [], KB).startswith("Nothing in the knowledge base matches “zzqx”")


def test_queries_are_trimmed_and_long_ones_cut_on_a_word():
    assert clean_query("   \n\t ") == "" and clean_query(None) == ""
    assert clean_query("  batch   inference \n") == "batch inference"
    long = clean_query("word " * 500)
    assert len(long) <= MAX_QUERY_CHARS and long.endswith("word")
    assert clean_query("x" * 1000) == "x" * MAX_QUERY_CHARS


def test_a_snippet_is_short_on_whole_words_and_escaped():
    text = snippet(BATCH.explanation)
    plain = text.replace("\\", "")
    assert len(plain) <= SNIPPET_CHARS + 1 and plain.endswith("…")
    assert BATCH.explanation.startswith(plain[:-1])
    assert BATCH.explanation[len(plain) - 1] == " "  # cut between words
    assert snippet("<b>bold</b> *x*") == "&lt;b&gt;bold&lt;/b&gt; \\*x\\*"


def test_a_snippet_never_shows_probes_or_red_flags():
    text = '**Probes:**\n\n- Ask this?\n\n- And that?\n\n**Red flags:**\n\n- "Wrong" -- why\n\nNext part:\nKept.'
    assert public_text(text) == "Next part:\nKept."
    assert public_text("Heading > Path\n\nBody", "Heading > Path") == "Body"
    secrets = {line[:40] for c in KB.concepts.values() for line in [*c.probes, *c.red_flags]}
    for chunk in CHUNKS:
        shown = public_text(chunk.document, chunk.heading)
        assert not any(secret in shown for secret in secrets), chunk.heading


def test_result_choices_name_each_concept_once_in_rank_order():
    intro = SearchResult("i", "Inference\n\nIntro", "Inference", "inference.md", {"source": "inference.md"}, 0.1)
    results = [passage(BATCH), intro, passage(BATCH, "more"), passage(KB.concepts["real-time-inference"])]
    assert result_choices(results, KB) == [
        ("1. Inference > Batch inference", "batch-inference"),
        ("4. Inference > Real-time inference", "real-time-inference"),
    ]


# ---------- the reader ----------


def test_a_concept_shows_everything_a_candidate_studies():
    text = concept_markdown(BATCH)
    assert text.startswith("## Batch inference\n") and "_Topic: inference · Inference_" in text
    for part in ("### When to use", "### Tradeoffs", "### Key points", BATCH.key_points[0], BATCH.tradeoffs[:40]):
        assert part in text
    assert BATCH.explanation[:60] in text


def test_aliases_are_shown_when_the_concept_has_some():
    with_aliases = Concept(**{**vars(BATCH), "aliases": ["offline inference", "batch scoring"]})
    assert "**Also called:** offline inference, batch scoring" in concept_markdown(with_aliases)
    assert "Also called" not in concept_markdown(Concept(**{**vars(BATCH), "aliases": []}))


def test_no_concept_ever_shows_its_probes_or_red_flags():
    for concept in KB.concepts.values():
        text = concept_markdown(concept)
        assert "Probes" not in text and "Red flags" not in text
        for secret in [*concept.probes, *concept.red_flags]:
            assert secret[:40] not in text, (concept.id, secret)


def test_authored_html_is_shown_as_text():
    concept = Concept(**{**vars(BATCH), "explanation": "<script>x()</script> and `code`"})
    assert "&lt;script&gt;x()&lt;/script&gt; and `code`" in concept_markdown(concept)


# ---------- study concepts ----------


def test_study_concepts_come_from_the_study_list_the_plan_and_drill_scores():
    card = SimpleNamespace(study=["feedback-loops", "batch-inference"])
    plan = [SimpleNamespace(concepts=["batch-inference", "delayed-labels"])]
    report = SimpleNamespace(scorecard=card, study_plan=plan, concept_scores={})
    assert study_concepts(report) == ["feedback-loops", "batch-inference", "delayed-labels"]
    assert study_concepts(card) == ["feedback-loops", "batch-inference"]  # a review's bare scorecard
    drill = SimpleNamespace(scorecard=None, study_plan=[], concept_scores={"batch-inference": 3.0, "ndcg": 1.0})
    assert study_concepts(drill) == ["ndcg", "batch-inference"]  # weakest first
    assert study_choices(KB, ["batch-inference", "no-such-concept"]) == [
        ("Batch inference (inference)", "batch-inference")
    ]


# ---------- the room service ----------


def test_the_room_searches_with_the_engines_retriever(tmp_path):
    retriever = ScriptedRetriever([passage(BATCH)])
    room = make_room(tmp_path, retriever)
    assert room.search("batch scoring") == [passage(BATCH)] and retriever.queries == [("batch scoring", 8)]
    assert room.concept("batch-inference") is BATCH and room.concept("nope") is None and room.concept(None) is None
    assert ("Batch inference (inference)", "batch-inference") in room.concept_choices()
    with pytest.raises(RoomError, match="not available"):
        make_room(tmp_path, None).search("anything")


# ---------- the tab's handlers ----------


def knowledge(tmp_path: Path, **retriever: Any) -> tuple[KnowledgeHandlers, ScriptedRetriever]:
    scripted = ScriptedRetriever(**retriever)
    return KnowledgeHandlers(make_room(tmp_path, scripted), VIEW), scripted


def test_a_search_lists_results_and_offers_their_concepts(tmp_path):
    h, _ = knowledge(tmp_path, results=[passage(BATCH)])
    update = h.on_search("  batch   scoring ")
    assert "**Inference &gt; Batch inference**" in update[VIEW.results]
    hits = update[VIEW.hits]
    assert hits["visible"] and hits["choices"] == [("1. Inference > Batch inference", "batch-inference")]


@pytest.mark.parametrize("query", ["", "   \n ", None])
def test_an_empty_search_asks_for_words_and_never_searches(tmp_path, query):
    h, scripted = knowledge(tmp_path, results=[passage(BATCH)])
    update = h.on_search(query)
    assert update[VIEW.results] == EMPTY_QUERY and not update[VIEW.hits]["visible"] and scripted.queries == []


def test_a_long_query_is_cut_and_a_fruitless_one_says_so(tmp_path):
    h, scripted = knowledge(tmp_path)
    update = h.on_search("drift " * 2000)
    assert len(scripted.queries[0][0]) <= MAX_QUERY_CHARS
    assert update[VIEW.results].startswith("Nothing in the knowledge base matches")
    assert not update[VIEW.hits]["visible"]


def test_a_failing_search_is_one_calm_sentence(tmp_path):
    h, _ = knowledge(tmp_path, fail=RuntimeError("chroma is down"))
    update = h.on_search("drift")
    assert update[VIEW.results].startswith("The knowledge base could not be searched") and "chroma" not in str(update)


def test_opening_a_concept_reads_it_without_its_probes(tmp_path):
    h, _ = knowledge(tmp_path)
    update = h.on_open("batch-inference")
    assert update[VIEW.reader] == concept_markdown(BATCH) and update[VIEW.concept]["value"] == "batch-inference"
    assert BATCH.probes[0] not in update[VIEW.reader]
    assert h.on_open("no-such-thing")[VIEW.reader].startswith("No concept called")
    assert h.on_open(None) == {VIEW.reader: ""}


def test_a_study_item_brings_the_knowledge_tab_to_the_front(tmp_path):
    h, _ = knowledge(tmp_path)
    update = h.on_study("batch-inference")
    assert update[VIEW.tabs].selected == KNOWLEDGE_TAB and update[VIEW.reader].startswith("## Batch inference")
    assert h.on_study(None) == {VIEW.reader: {"__type__": "update"}}  # nothing changes


def test_a_concept_link_opens_the_concept_on_load(tmp_path):
    h, _ = knowledge(tmp_path)
    update = h.on_link(SimpleNamespace(query_params={"concept": "batch-inference"}))
    assert update[VIEW.tabs].selected == KNOWLEDGE_TAB and update[VIEW.concept]["value"] == "batch-inference"
    assert h.on_link(SimpleNamespace(query_params={})) == h.on_link(None) == {VIEW.reader: {"__type__": "update"}}
