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
# Statements that fill a slot without naming it: who wants what or what the product costs them, "Offline we'd use
# ...", a time budget or a cadence, a skewed base rate, a threshold chosen, the model one builds and what it predicts.
_STATEMENTS: dict[str, re.Pattern[str]] = {
    "user_need_product_impact": re.compile(
        r"^\s*(?:(?:the|our|most|many|new|existing|their)\s+)?(?:[\w'-]+\s+){0,2}?(?:" + _PEOPLE + r")\s+"
        r"(?:(?:currently|often|usually|really|mostly|just|also|all)\s+)?(?:want|wants|need|needs|expect|expects|"
        r"rely\s+on|relies\s+on|care\s+about|cares\s+about|hate|hates|struggle|struggles)\b|"
        # ... or who they are and what it costs them: "clerks key in every invoice by hand", "reps can only call 100".
        r"^\s*(?:(?:the|our|most|many|new|existing|their)\s+)?(?:[\w'-]+\s+){0,2}?(?:" + _PEOPLE + r")\b"
        r"(?:(?!,\s*so\s+(?:it|this|the|we|i)\b)[^.;]){0,100}?"
        r"\b(?:by\s+hand|manually|can\s+only|can't|cannot|have\s+to|has\s+to|give\s+up|gives\s+up|never\s+come\s+back|"
        r"stop\s+using|waste|wastes|wait|waits|(?:so\s+)?they\s+(?:need|want))\b|"
        # ... or people named by what they do ("cardholders", "recruiters") and what they want.
        r"^\s*(?:(?:the|our|most|many|new|existing|their)\s+)?(?:[\w'-]+\s+){0,2}?[a-z]+(?:ers|ors|ists|ants|ents)\s+"
        r"(?:(?:currently|often|usually|really|mostly|just|also|all)\s+)?(?:want|wants|expect|expects|rely\s+on|"
        r"care\s+about|hate|struggle)\b",
        re.IGNORECASE,
    ),
    # The goal named after the copula ("conversion rate is basically the north star"), what "we want", or what the
    # organisation wants to change ("the plant wants to cut the cost of ...").
    "business_goal": re.compile(
        r"\b(?:is|are|would\s+be|will\s+be|becomes?)\s+(?:\w+\s+){0,2}?(?:the|our|my)\s+(?:(?:real|main|primary|"
        r"ultimate|overall|actual|true)\s+)?(?:north[- ]star|(?:business\s+)?(?:goal|objective))\b|"
        r"^\s*(?:so\s+|and\s+)?what\s+(?:we|the\s+business|the\s+company)\s+(?:really\s+|actually\s+|ultimately\s+)?"
        r"(?:want|wants|care\s+about|cares\s+about|need|needs)\b|"
        r"^\s*(?:the|our)\s+(?:company|business|plant|bank|platform|store|retailer|hospital|insurer|lender|marketplace|"
        r"publisher|site|app|utility|airline|operator|carrier)\s+(?:(?:mainly|mostly|really|ultimately)\s+)?(?:wants|"
        r"needs|aims|hopes)\s+to\s+(?:cut|reduce|increase|grow|raise|lower|maximi[sz]e|minimi[sz]e|improve|keep|avoid|"
        r"stop|catch|save)\b",
        re.IGNORECASE,
    ),
    "offline_metrics": re.compile(r"^\s*offline,?\s+(?:i|we|i'd|we'd|i'll|we'll|the)\b", re.IGNORECASE),
    "latency_realtime_vs_batch": re.compile(
        # A time budget ("under 50 ms", "<50 ms", "in under one second", "a few milliseconds"; not hours, which are
        # label windows as often: "opens it within an hour") ...
        r"(?:(?:\b(?:in|under|within|below|less\s+than|at\s+most|budget\s+of)|<)\s*(?:(?:about|roughly|around)\s+)?"
        r"(?:~?\d[\d,.]*\s*(?:ms|milliseconds?|seconds?|secs?|s|minutes?|mins?)|(?:one|two|a\s+few|a)\s+"
        r"(?:milliseconds?|seconds?))\b|"
        r"\b(?:\d[\d,.]*\s*ms|milliseconds)\b|"
        # ... or a cadence: a batch job on a schedule, work done asynchronously, per request or not.
        r"\b(?:nightly|daily|weekly|hourly|micro-?)[- ]?batch\b(?!\s+of\b)|\basynchronous(?:ly)?\b|"
        r"\bper-request\s+(?:scoring|serving|inference)\b)",
        re.IGNORECASE,
    ),
    # A base rate far from even: "defective boards are about 0.5% of production", "3% of reviews are fake",
    # "duplicates are maybe 1 in 500 pairs".
    "class_skew": re.compile(
        r"(?:\b(?:is|are|runs?|make\s+up|makes\s+up|represents?|accounts?\s+for)\s+(?:\w+\s+){0,3}?"
        r"~?(?P<share>\d+(?:\.\d+)?)\s*%|"
        r"^\s*(?:(?:maybe|about|around|roughly|only|just|under|less\s+than)\s+){0,2}(?P<lead>\d+(?:\.\d+)?)\s*%\s+of\s+"
        r"[\w\s-]{1,40}?\s+(?:is|are|were|was|turns?\s+out)\b|"
        r"\b1\s+in\s+(?P<one_in>\d[\d,]*)\b)",
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
_FIGURES = frozenset({"class_skew", "latency_realtime_vs_batch"})  # statements that state a figure
SKEWED_SHARE = 10.0  # a class under this percentage of the data is a skewed one


def skewed(match: re.Match[str]) -> bool:
    """The base rate a class-skew statement states is far from even: under a tenth ("3%", "1 in 500")."""
    share = match.group("share") or match.group("lead")
    if share:
        return float(share) < SKEWED_SHARE
    one_in = int((match.group("one_in") or "0").replace(",", ""))
    return one_in > 0 and 100 / one_in < SKEWED_SHARE


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
        # A figure is content of its own: "only about 1% of claims are found fraudulent", "return in <50 ms".
        least = MIN_CONTENT_WORDS if item in _FIGURES else MIN_CONTENT_WORDS + 2
        if _content(sentence) < least:
            continue
        matches = list(statement.finditer(sentence))
        if matches and (item != "class_skew" or any(skewed(m) for m in matches)):
            found.add(item)
    if framing_phrases(sentence):
        found.add("ml_task_framing")
    return found
