"""Signposts: a sentence that names the slot of the design it fills ("Model: GBDT, fast and good on tabular", "The
business goal is fewer payment errors", "Features include debt-to-income ratio ...", "I'd frame it as learning to
rank").

Candidates often label what they are about to say, and the label is the plainest evidence of what a terse sentence
is for: a small embedding scores "Model: GBDT" far from every phrasing of the model-choice item. A signpost is one
feature of the evidence pair model (`app.grading.evidence`); its weight is fitted on the labelled cases on top of
the others (`app.evaluation.fitting.fit_in_stages`), so it raises an item only as far as those cases show signposts
to be right, and the sentence's own words and meaning still count.

The grammar is the slot's name as a heading ("Features: ..."), as the subject of a copula ("the main model would
be ...", "labels are ..."), or after "for" ("For the model, ..."), followed by real content. A passive or a state
("the model is retrained weekly", "those labels are noisy") describes the slot; it does not fill it.
"""

from __future__ import annotations

import re

from app.grading.relevance import framing_phrases
from app.knowledge.tokens import STOPWORDS, words

# The names a candidate gives each checklist item's slot.
SLOT_NAMES: dict[str, str] = {
    "business_goal": r"(?:business\s+)?(?:goal|objective|aim)s?|business\s+(?:metric|kpi)s?|north[- ]star"
    r"(?:\s+metric)?",
    "ml_task_framing": r"(?:ml\s+)?(?:problem|task)|framing|formulation",
    "model_choice_justified": r"model|architecture",
    "user_item_interaction_features": r"features?|feature\s+set",
    "data_sources": r"(?:training\s+)?data(?:\s+sources?)?",
    "label_definition": r"labels?|training\s+target",
    "offline_metrics": r"offline\s+(?:metrics?|evaluation)|evaluation",
    "metric_tradeoffs": r"thresholds?|operating\s+points?",
    "ab_test_online_metrics": r"online\s+(?:metrics?|evaluation|tests?)|a/b\s+tests?",
    "serving_mode": r"serving|inference",
    "drift_monitoring_alerting": r"monitoring",
    "rollout_rollback": r"roll-?out|launch",
    "retraining_versioning": r"retraining",
    "data_splits": r"(?:data\s+)?splits?",
    "loss_function": r"loss(?:\s+function)?",
    "baseline_first": r"baseline",
    "latency_realtime_vs_batch": r"latency(?:\s+budget)?",
}

# Where a statement can start: the sentence's start, or a clause after ";" or ", so".
_LEAD = (
    r"(?:^|[;:]\s+|,\s+(?:so|and|but)\s+)\s*"
    r"(?:(?:so|and|then|now|first|second|third|next|finally|overall|here)[,:]?\s+)?"
)
_DETERMINER = r"(?:(?:the|my|our|its|their|a|an)\s+)?"
_MODIFIERS = r"(?P<mods>(?:[\w'-]+\s+){0,2}?)"  # "main", "real business", "lender's"
_COPULA = r"(?:is|are|would\s+be|will\s+be|includes?|:)"


def _patterns(slot: str) -> list[re.Pattern[str]]:
    return [
        re.compile(r"^\s*(?P<mods>)(?:" + slot + r")\s*[:\u2014]\s+", re.IGNORECASE),
        re.compile(_LEAD + _DETERMINER + _MODIFIERS + r"(?:" + slot + r")\s*" + _COPULA + r"\s+", re.IGNORECASE),
        re.compile(_LEAD + r"(?P<mods>)for\s+(?:the\s+)?(?:" + slot + r")s?,\s+", re.IGNORECASE),
    ]


_PATTERNS = {item: _patterns(slot) for item, slot in SLOT_NAMES.items()}

_PEOPLE = (
    r"users?|customers?|people|members?|readers?|shoppers?|buyers?|sellers?|drivers?|riders?|viewers?|listeners?|"
    r"players?|patients?|clerks?|agents?|reps?|applicants?|merchants?|hosts?|guests?|advertisers?|creators?|"
    r"students?|employees?|operators?|analysts?|doctors?|nurses?|moderators?|reviewers?|travell?ers?|subscribers?"
)
# Statements that fill a slot without naming it: who wants what, "Offline we'd use ...", a time budget, a
# threshold chosen, the model one builds and what it predicts.
_STATEMENTS: dict[str, re.Pattern[str]] = {
    "user_need_product_impact": re.compile(
        r"^\s*(?:(?:the|our|most|many|new|existing|their)\s+)?(?:[\w'-]+\s+){0,2}?(?:" + _PEOPLE + r")\s+"
        r"(?:(?:currently|often|usually|really|mostly|just|also|all)\s+)?(?:want|wants|need|needs|expect|expects|"
        r"rely\s+on|relies\s+on|care\s+about|cares\s+about|hate|hates|struggle|struggles)\b",
        re.IGNORECASE,
    ),
    "offline_metrics": re.compile(r"^\s*offline,?\s+(?:i|we|i'd|we'd|i'll|we'll|the)\b", re.IGNORECASE),
    "latency_realtime_vs_batch": re.compile(
        r"\b(?:under|within|below|less\s+than|at\s+most|<)\s*~?\d[\d,.]*\s*(?:ms|milliseconds?|seconds?|secs?|"
        r"s|minutes?|mins?)\b",
        re.IGNORECASE,
    ),
    "metric_tradeoffs": re.compile(
        r"(?:^\s*(?:thresholds?|cut-?offs?|operating\s+points?)\s*:|\b(?:pick|set|choose|tune|place)\s+"
        r"(?:the\s+|a\s+|two\s+|our\s+)?(?:thresholds?|cut-?offs?|operating\s+points?)\b)",
        re.IGNORECASE,
    ),
    "ml_task_framing": re.compile(
        r"(?:\b(?:i'd|i\s+would|we'd|we\s+would)\s+(?:set\s+(?:it|this)\s+up|model\s+(?:it|this))\s+as\b|"
        r"^\s*(?:it's|it\s+is|this\s+is)\s+(?:an?\s+)?(?:[\w-]+\s+){0,3}?(?:prediction|classification|ranking|"
        r"regression|detection|forecasting|retrieval)\s*[:,]|"
        r"\b(?:build|train)\s+an?\s+(?:[\w-]+\s+){0,3}?(?:classifier|regressor|ranker|model|detector)\s+"
        r"(?:that|which|to)\s+(?:predicts?|labels?|classif(?:y|ies)|scores?|ranks?|detects?|flags?|estimates?))",
        re.IGNORECASE,
    ),
}
# "The goal is to predict ...": the task restated, not what the business wants.
_TASK_RESTATED = re.compile(
    r"^\s*(?:to\s+)?(?:predict|classify|detect|rank|forecast|estimate|score|build|design|decide|identify|flag|find|"
    r"pick|choose|recommend|route|match)\b",
    re.IGNORECASE,
)
# A passive or a state after the copula: "is retrained weekly", "will be drawn by inspectors", "are noisy".
_DESCRIBED = re.compile(
    r"^\s*(?:(?:also|then|only|usually|often|always|never|not|still|mostly)\s+)*(?:\w+ed|drawn|built|done|made|kept|"
    r"written|known|given|taken|chosen|seen|shown|run|noisy|sparse|scarce|expensive|cheap|slow|late|delayed|"
    r"available|missing|limited|biased|imbalanced|skewed|rare)\b",
    re.IGNORECASE,
)
MIN_CONTENT_WORDS = 3  # what follows the signpost must say something


def _content(text: str) -> int:
    return sum(1 for w in words(text) if w not in STOPWORDS and len(w) > 2)


def signposted_items(sentence: str) -> set[str]:
    """The checklist items whose slot the sentence names and fills."""
    found: set[str] = set()
    for item, patterns in _PATTERNS.items():
        for form, pattern in enumerate(patterns):
            match = pattern.search(sentence)
            if match is None or any(w in STOPWORDS for w in words(match.group("mods") or "")):
                continue
            rest = sentence[match.end() :]
            if (form == 1 and _DESCRIBED.search(rest)) or _content(rest) < MIN_CONTENT_WORDS:
                continue
            if item == "business_goal" and _TASK_RESTATED.search(rest):
                continue
            found.add(item)
            break
    for item, statement in _STATEMENTS.items():
        if statement.search(sentence) and _content(sentence) >= MIN_CONTENT_WORDS + 2:
            found.add(item)
    if framing_phrases(sentence):
        found.add("ml_task_framing")
    return found
