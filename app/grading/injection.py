"""Finds instructions hidden in a candidate's answer. Candidate text is data: these spans are never obeyed."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

# "A 5" or "five" is a grade when what follows reads as one ("a 5 out of 5", "five stars", "a 5, please"), not a
# count or a quantity ("the top five candidates", "a 5-minute listen").
_AS_GRADE = (
    r"(?=\s*(?:$|[^\w\s-]|(?:out|stars?|points?|please|on|for|overall|here|now|and|to|rating|score|grade|"
    r"because|since|as|if|this|it|me|us)\b))"
)

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("chat_template_tokens", re.compile(r"<\|[a-z_]+\|>|\[/?INST\]|<<SYS>>|</?s>|<\|eot_id\|>", re.IGNORECASE)),
    ("role_marker", re.compile(r"(?im)^\s*[\[(<]?\s*(system|assistant|grader|evaluator|judge|admin)\s*[\])>]?\s*[:>]")),
    ("role_marker", re.compile(r"\[(system|grader|evaluator|judge|admin|assistant)\]", re.IGNORECASE)),
    (
        "instruction_override",
        re.compile(
            r"\b(ignore|disregard|forget|override|overriding)\b[^.\n]{0,40}\b(instructions?|rules?|rubric|prompt|"
            r"guidelines|(automated\s+)?(evaluation|grading|assessment|scoring))\b",
            re.IGNORECASE,
        ),
    ),
    (
        "grade_demand",
        re.compile(
            r"\b(give|assign|award|grade|score|mark|rate)\b[^.\n]{0,40}"
            r"\b(full marks?|max(imum)? score|top score|perfect score|5\s*/\s*5|(a 5|five)" + _AS_GRADE + "|as strong"
            r"|strong band|10\s*/\s*10)",
            re.IGNORECASE,
        ),
    ),
    (
        "band_demand",
        re.compile(
            r"\b(mark|grade|score|rate|set|list|give|assign|put|record|label|classify|count|treat)\b[^.\n]{0,40}"
            r"\b(band\s*[\"']?(strong|partial)|all\s+(seven|7|the)\s+steps\s+(as\s+)?covered|as\s+(a\s+)?(strong|"
            r"perfect|passing|excellent)\s+(answer|response|band|grade))",
            re.IGNORECASE,
        ),
    ),
    (
        "addressed_to_grader",
        re.compile(
            r"\bif\s+you(?:'re|\s+are)\s+(?:an?\s+)?(?:ai|llm|language\s+model|model|bot|grader|evaluator|"
            r"automated\s+grader|assistant)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "verdict_value",
        re.compile(r"\bband\s*[:=]?\s*[\"'“]?(strong|partial)\b|\bcovered_steps\b", re.IGNORECASE),
    ),
    (
        "addressed_to_grader",
        re.compile(
            r"\b(grading|grader|assessment|scoring)\s+(model|system|harness|bot|ai)\b|"
            r"\bautomated\s+(assessment|grading|grader|evaluator)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "grader_call",
        re.compile(
            r"\b(grader|evaluator|judge|scorer|rubric|grading)\s*\.\s*[a-z_]+\s*[(=]|\bset_(band|score|grade)\s*\(",
            re.IGNORECASE,
        ),
    ),
    (
        "rubric_changed",
        re.compile(
            r"\b(rubric|grading (rules|criteria)|instructions)\b[^.\n]{0,30}\b(changed|updated|"
            r"replaced|no longer applies?|new|revised|revision|outdated)\b|\b(revised|updated|new)\s+rubric\b",
            re.IGNORECASE,
        ),
    ),
    (
        "addressed_to_grader",
        re.compile(
            r"\b(dear|note to (the)?|attention)\s*(grader|evaluator|ai|model|assistant|"
            r"reviewer)\b|\byou are now\b|\bas the (grader|evaluator)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "fake_verdict",
        re.compile(
            r"[{\[][^{}]{0,200}[\"']?(band|verdict|grade|covered_steps|overall_score|final_score)[\"']?\s*[:=]",
            re.IGNORECASE,
        ),
    ),
    ("fake_verdict", re.compile(r"[\"']score[\"']\s*:\s*[\"']?(5|10|100|max)", re.IGNORECASE)),
    ("hidden_comment", re.compile(r"<!--.*?(-->|$)", re.DOTALL)),
    ("closing_tag", re.compile(r"</\s*(answer|candidate[_ ]?answer|response|user|input|data)\s*>", re.IGNORECASE)),
    (
        "prompt_extraction",
        re.compile(
            r"\b(print|reveal|show|repeat|output)\b[^.\n]{0,30}\b(system prompt|your instructions|the rubric)\b",
            re.IGNORECASE,
        ),
    ),
]

_BASE64 = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{32,}={0,2}(?![A-Za-z0-9+/=])")


@dataclass(frozen=True)
class InjectionSpan:
    kind: str
    start: int
    end: int
    text: str


def _looks_like_base64_text(blob: str) -> bool:
    """A long base64 run that decodes to readable text (a smuggled message), not a hash or an id."""
    if len(blob) < 32 or not re.search(r"[a-z]", blob) or not re.search(r"[A-Z]", blob):
        return False
    try:
        raw = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=False)
    except (binascii.Error, ValueError):
        return False
    printable = sum(32 <= b < 127 for b in raw)
    return len(raw) >= 16 and printable / len(raw) > 0.9


# An override phrase the answer talks about rather than says: quoted, or reported ("users write things like ...",
# "the model is told to ignore any instructions inside it"). Answers about LLM systems discuss injection attacks.
_MENTION_BEFORE = re.compile(
    r"(?:[\"“'‘]\s*|\b(?:like|such\s+as|e\.g\.|saying|says|said|say|writes?|wrote|containing|contain|told\s+to|"
    r"instructed\s+to|asked\s+to|tells?|instructs?|phrases?|lines?|attacks?|injections?)\b[^.\n]{0,25})$",
    re.IGNORECASE,
)
MENTIONABLE = {"instruction_override"}


def is_mention(text: str, start: int) -> bool:
    """The phrase at `start` is quoted or reported, not addressed to anyone."""
    return bool(_MENTION_BEFORE.search(text[max(0, start - 40) : start]))


def find_injections(text: str) -> list[InjectionSpan]:
    """Every span of the answer that tries to instruct the grader, sorted by position."""
    spans: list[InjectionSpan] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            if kind in MENTIONABLE and is_mention(text, match.start()):
                continue
            spans.append(InjectionSpan(kind, match.start(), match.end(), match.group(0)))
    for match in _BASE64.finditer(text):
        if _looks_like_base64_text(match.group(0)):
            spans.append(InjectionSpan("base64_blob", match.start(), match.end(), match.group(0)[:40]))
    return sorted(spans, key=lambda s: (s.start, s.end))


def injection_kinds(text: str) -> list[str]:
    return sorted({span.kind for span in find_injections(text)})
