"""The Knowledge tab's renderings: search results and whole concepts for a candidate to study.

Everything here is pure: passages and concepts in, strings out. A concept's probes and red flags are for the
interviewer, so nothing here shows them: the reader leaves them out, and a passage's snippet drops their blocks.
"""

from __future__ import annotations

import html
import re
from typing import Any, Protocol

from app.knowledge.base import Concept, KnowledgeBase, concept_for
from app.web.report import escape_text

MAX_QUERY_CHARS = 300  # a search reads at most this much of the query
SNIPPET_CHARS = 250
SEARCH_RESULTS = 8
EMPTY_QUERY = "Type a few words to search the knowledge base, for example _batch inference_ or _PR-AUC_."
_HIDDEN_LABEL = re.compile(r"^\*\*(Probes|Red flags):\*\*", re.IGNORECASE)
_BULLET = re.compile(r"^\s*([-*+]|\d+[.)])\s+")


class Passage(Protocol):
    """What the tab reads of a search result (`app.knowledge.retrieval.SearchResult` fits)."""

    @property
    def text(self) -> str: ...

    @property
    def heading(self) -> str: ...

    @property
    def source(self) -> str: ...

    @property
    def metadata(self) -> dict[str, Any]: ...


def clean_query(text: str | None, limit: int = MAX_QUERY_CHARS) -> str:
    """The query to search for: whitespace collapsed, cut to `limit` characters on a word boundary."""
    query = " ".join((text or "").split())
    if len(query) <= limit:
        return query
    cut = query[:limit]
    return cut.rsplit(" ", 1)[0] if " " in cut else cut


def collection_of(result: Passage) -> str | None:
    """The collection a passage came from, when the retriever says so."""
    name = getattr(result, "collection", None) or (getattr(result, "metadata", None) or {}).get("collection")
    return str(name) if name else None


def public_text(text: str, heading: str = "") -> str:
    """A passage's text for the candidate: without the heading line that starts it, and without any probes or red
    flags blocks."""
    if heading and text.startswith(heading):
        text = text[len(heading) :]
    kept: list[str] = []
    hidden = False
    for block in re.split(r"\n\s*\n", text.strip()):
        if _HIDDEN_LABEL.match(block.strip()):
            hidden = True
            continue
        if hidden and _BULLET.match(block):
            continue
        hidden = False
        kept.append(block)
    return "\n\n".join(kept)


def snippet(text: str, heading: str = "", limit: int = SNIPPET_CHARS) -> str:
    """The start of a passage as one line of plain text, cut on a whole word (escaped for Markdown)."""
    plain = re.sub(r"\*\*|`", "", public_text(text, heading))
    plain = " ".join(_BULLET.sub("", line) for line in plain.splitlines())
    plain = " ".join(plain.split())
    if len(plain) > limit:
        cut = plain[: limit + 1]
        plain = (cut.rsplit(" ", 1)[0] if " " in cut else plain[:limit]).rstrip(" ,;:-") + "…"
    return escape_text(plain)


def topic_label(topic: str) -> str:
    return topic.replace("_", " ")


def result_markdown(rank: int, result: Passage, kb: KnowledgeBase) -> str:
    """One ranked result: heading path, topic, collection, then a short snippet."""
    concept = concept_for(kb, result.heading, result.source)
    topic = str((result.metadata or {}).get("topic") or (concept.topic if concept else ""))
    where = [f"_{escape_text(topic_label(topic))}_"] if topic else []
    collection = collection_of(result)
    if collection:
        where.append(f"from {escape_text(collection)}")
    heading = escape_text(result.heading or result.source or "Passage")
    head = f"{rank}. **{heading}**" + (f" · {' · '.join(where)}" if where else "")
    return f"{head}  \n   {snippet(result.text, result.heading)}"


def results_markdown(query: str, results: list[Passage], kb: KnowledgeBase) -> str:
    """The ranked results of a search, or one sentence when nothing matched."""
    if not query:
        return EMPTY_QUERY
    if not results:
        return f"Nothing in the knowledge base matches “{escape_text(query)}”. Try other words or a shorter query."
    rows = [result_markdown(rank, r, kb) for rank, r in enumerate(results, start=1)]
    count = f"{len(results)} result{'s' if len(results) != 1 else ''}"
    return f"**{count} for “{escape_text(query)}”**\n\n" + "\n\n".join(rows)


def result_choices(results: list[Passage], kb: KnowledgeBase) -> list[tuple[str, str]]:
    """(label, concept id) for each result that belongs to a concept, once per concept, in rank order."""
    choices: dict[str, str] = {}
    for rank, result in enumerate(results, start=1):
        concept = concept_for(kb, result.heading, result.source)
        if concept is not None and concept.id not in choices:
            choices[concept.id] = f"{rank}. {result.heading}"
    return [(label, concept_id) for concept_id, label in choices.items()]


def concept_choices(kb: KnowledgeBase) -> list[tuple[str, str]]:
    """(label, id) for every concept, by topic then title."""
    ordered = sorted(kb.concepts.values(), key=lambda c: (c.topic, c.title.lower()))
    return [(f"{c.title} ({topic_label(c.topic)})", c.id) for c in ordered]


def _authored(text: str) -> str:
    """Knowledge-base prose as Markdown: its emphasis and code kept, any HTML shown as text."""
    return html.escape(text, quote=False)


def concept_markdown(concept: Concept) -> str:
    """A whole concept for study: title, topic, aliases, explanation, when to use, tradeoffs and key points. Its
    probes and red flags are for the interviewer and never shown."""
    where = f" · {_authored(concept.file_title)}" if concept.file_title else ""
    lines = [f"## {_authored(concept.title)}", "", f"_Topic: {_authored(topic_label(concept.topic))}{where}_", ""]
    aliases = [a for a in getattr(concept, "aliases", None) or [] if a.strip()]
    if aliases:
        lines += [f"**Also called:** {_authored(', '.join(aliases))}", ""]
    lines += [_authored(concept.explanation), ""]
    if concept.when_to_use:
        lines += ["### When to use", "", _authored(concept.when_to_use), ""]
    if concept.tradeoffs:
        lines += ["### Tradeoffs", "", _authored(concept.tradeoffs), ""]
    if concept.key_points:
        lines += ["### Key points", "", *[f"- {_authored(p)}" for p in concept.key_points], ""]
    return "\n".join(lines).strip() + "\n"


def unknown_concept(concept_id: str) -> str:
    return f"No concept called “{escape_text(concept_id[:80])}” in the knowledge base; search for it above instead."


def study_concepts(report: Any) -> list[str]:
    """The concept ids an ended session asks the candidate to study, in the order the report lists them: the
    scorecard's study list and the study plan's concepts (a drill: its concepts, weakest first)."""
    card = getattr(report, "scorecard", report)
    ids = list(getattr(card, "study", None) or [])
    for item in getattr(report, "study_plan", None) or []:
        ids += item.concepts
    scores = getattr(report, "concept_scores", None) or {}
    ids += sorted(scores, key=lambda c: scores[c])
    return list(dict.fromkeys(ids))


def study_choices(kb: KnowledgeBase, ids: list[str]) -> list[tuple[str, str]]:
    """(label, id) for the study concepts the knowledge base has."""
    return [(f"{kb.concepts[c].title} ({topic_label(kb.concepts[c].topic)})", c) for c in ids if c in kb.concepts]
