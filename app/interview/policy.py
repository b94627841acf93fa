"""The interviewer's decisions as pure functions: what the candidate asked for, what to do next, what may be said."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class Intent(StrEnum):
    EMPTY = "empty"
    HINT = "hint"
    ANSWER_REQUEST = "answer_request"
    NEXT = "next"
    END = "end"
    IDK = "idk"
    SYSTEM_PROBE = "system_probe"
    OFF_TOPIC = "off_topic"
    ANSWER = "answer"


_COMMANDS: list[tuple[Intent, re.Pattern[str]]] = [
    (Intent.END, re.compile(r"^\s*/?(end|finish|stop|quit)( (the )?interview)?\s*[.!]?\s*$", re.IGNORECASE)),
    (Intent.NEXT, re.compile(r"^\s*/?(next|next step|move on|skip|let'?s move on)\s*[.!]?\s*$", re.IGNORECASE)),
    (
        Intent.HINT,
        re.compile(
            r"^\s*/?(hint|give me a hint|can i (get|have) a hint\??|a hint,? please)\s*[.!?]?\s*$", re.IGNORECASE
        ),
    ),
]
_ANSWER_REQUEST = re.compile(
    r"\b(just )?(tell|give|show) me (the )?(answer|solution|right answer|correct answer|best (metric|model|approach))\b"
    r"|\bwhat(?:'s| is| are) the (right|correct|best|standard|ideal|expected) (answer|solution|\w+ (?:for|here))\b"
    r"|\bwhat(?:'s| is) the (right|correct|best) (answer|metric|model|approach)\b|\bjust (say|tell me) it\b"
    r"|\b(tell|give|show|list|name) (me|us) (the |a |your )?([\w-]+ ){0,3}(answer|solution|architecture|model|loss|"
    r"metric|features|approach|design)s?\b"
    r"|\b(give|tell) it to me\b|\bname it\b"
    r"|\bwhich [^.?!]{0,40}\b(is|are) the (correct|right|best) (one|ones|choice)\s*\?"
    r"|\b(a|the) (perfect|ideal|model|right) answer would (include|say|contain)\b",
    re.IGNORECASE,
)
_IDK = re.compile(
    r"\b(idk|i (really )?don'?t know|dont know|(i have )?no (idea|clue)|not sure|no sure|pass|dunno|i'?m stuck|"
    r"stuck|skip( this)?|i give up|(my )?mind'?s? (gone )?blank|can'?t think of anything|nothing comes to mind)\b",
    re.IGNORECASE,
)
# Words that may stand beside "I don't know" without making it an answer: "no idea tbh", "sorry, idk, pass".
_IDK_FILLERS = frozenset(
    [
        "tbh",
        "honestly",
        "sorry",
        "sry",
        "um",
        "umm",
        "uh",
        "uhh",
        "hmm",
        "er",
        "erm",
        "really",
        "just",
        "at",
        "all",
        "here",
        "on",
        "this",
        "one",
        "i",
        "really",
        "totally",
        "ngl",
        "so",
        "well",
        "ok",
        "okay",
        "yeah",
        "yes",
        "no",
        "mate",
        "though",
        "tho",
        "either",
        "completely",
        "right",
        "now",
        "lol",
        "haha",
        "again",
        "still",
    ]
)
_NO_WORDS = re.compile(r"^[\W_]*$")


def says_nothing_but_idk(text: str) -> bool:
    """Silence ("...", "?") or "I don't know" with nothing but filler beside it."""
    if _NO_WORDS.match(text):
        return True
    rest = _IDK.sub(" ", text)
    if rest == text:
        return False
    return all(w in _IDK_FILLERS for w in re.findall(r"[a-z']+", rest.lower()))


_SYSTEM_PROBE = re.compile(
    r"\b(system prompt|your (instructions|prompt|rules|rubric|configuration|setup)|hidden instructions|the rubric|"
    r"grading (criteria|rubric|weights)|ignore (all |your |the )?(previous |prior )?instructions|print your prompt|"
    r"repeat (the|your) prompt|repeat everything (above|before)|everything above this|i'?m (the|your) developer|"
    r"(debugging|testing) you|(format|schema|fields?) (that )?you (output|return|use) for|how (are|were) you (set up|"
    r"configured|instructed))\b",
    re.IGNORECASE,
)


def classify(text: str, *, on_topic: bool = True) -> Intent:
    """What a candidate message is, before any LLM sees it. `on_topic` comes from the caller's relevance check."""
    stripped = text.strip()
    if not stripped:
        return Intent.EMPTY
    for intent, pattern in _COMMANDS:
        if pattern.match(stripped):
            return intent
    if _SYSTEM_PROBE.search(stripped):
        return Intent.SYSTEM_PROBE
    if _ANSWER_REQUEST.search(stripped):
        return Intent.ANSWER_REQUEST
    if says_nothing_but_idk(stripped):
        return Intent.IDK
    if not on_topic:
        return Intent.OFF_TOPIC
    return Intent.ANSWER


Action = Literal[
    "followup", "depth_probe", "challenge", "advance", "scaffold", "redirect", "nudge", "offer_hint", "hint", "end"
]


@dataclass(frozen=True)
class Gap:
    item_id: str
    weight: int
    verdict: str  # "missing" or "partial"
    affinity: int = 0  # words the candidate's latest message shares with the item: what they are talking about


@dataclass(frozen=True)
class Decision:
    action: Action
    item_id: str | None = None
    flag_id: str | None = None
    reason: str = ""


COVERED_ENOUGH = 0.6
DEPTH_PER_STEP = 1  # depth probes on the candidate's own claims per step, before coverage probes take over


def decide(
    intent: Intent,
    *,
    coverage: float,
    gaps: list[Gap],
    new_flags: list[str],
    elapsed_s: float,
    budget_s: float,
    followups: int,
    max_followups: int,
    asked: list[str],
    depth_seed: bool = False,
    depth_used: int = DEPTH_PER_STEP,
) -> Decision:
    """The next move after a candidate message: challenge a wrong claim, probe deeper into a claim the candidate
    just made (`depth_seed`: a concept their message touched has a question not yet asked), probe the most
    important gap not yet covered nor asked (of equally important ones, the nearest to what they just said), or
    move on. Covered items are never in `gaps`."""
    simple: dict[Intent, Action] = {
        Intent.EMPTY: "nudge",
        Intent.END: "end",
        Intent.NEXT: "advance",
        Intent.HINT: "hint",
        Intent.ANSWER_REQUEST: "offer_hint",
        Intent.SYSTEM_PROBE: "redirect",
        Intent.OFF_TOPIC: "redirect",
        Intent.IDK: "scaffold",
    }
    if intent in simple:
        return Decision(simple[intent], reason=f"candidate message: {intent.value}")
    if new_flags:
        return Decision("challenge", flag_id=new_flags[0], reason="a wrong claim was just made")
    if coverage >= COVERED_ENOUGH:
        return Decision("advance", reason="step covered enough")
    if elapsed_s >= budget_s:
        return Decision("advance", reason="step time is up")
    if followups >= max_followups:
        return Decision("advance", reason="follow-up budget spent")
    if depth_seed and depth_used < DEPTH_PER_STEP:
        return Decision("depth_probe", reason="probe deeper into a claim the candidate just made")
    ranked = sorted(
        (g for g in gaps if g.verdict != "covered" and g.item_id not in asked),
        key=lambda g: (-g.weight, -min(g.affinity, AFFINITY_CAP), g.verdict != "missing", g.item_id),
    )
    if not ranked:
        return Decision("advance", reason="nothing left to probe")
    return Decision("followup", item_id=ranked[0].item_id, reason=f"probe {ranked[0].verdict} item")


AFFINITY_CAP = 3  # beyond a few shared words, closeness to the message no longer orders equally important gaps
FOLLOW_EVIDENCE = 3.0  # a message's own evidence in a later step (covered weight, less for partial) to follow it
LAST_DESIGN_STEP = 6  # the wrap-up is reached by the interview's own course, never by following


def followed_step(current: int, evidence: dict[int, float], open_steps: set[int]) -> int:
    """The step the conversation goes on in after a message: the candidate's own when they moved ahead. They moved
    ahead when the message's own evidence is largest in a later design step, at least one well-covered item's
    worth, and more than it shows for the current step; the conversation then goes to that step, or to the first
    open step after it when it is already covered."""
    here = evidence.get(current, 0.0)
    ahead = [(e, s) for s, e in evidence.items() if current < s <= LAST_DESIGN_STEP and e >= FOLLOW_EVIDENCE]
    if not ahead:
        return current
    best, target = max(ahead)
    if best <= here or best < max(evidence.values()):
        return current
    if target in open_steps:
        return target
    return next((s for s in range(target + 1, LAST_DESIGN_STEP + 1) if s in open_steps), current)


def next_open_step(current: int, open_steps: set[int]) -> int:
    """The step after `current` that still needs discussing; 8 when none is left. Steps the candidate ran past
    are not gone back to: their important gaps are revisited once instead (`gap_to_revisit`)."""
    return next((s for s in range(current + 1, 8) if s in open_steps), 8)


def gap_to_revisit(
    before: int, gaps_by_step: dict[int, list[Gap]], asked: list[str], min_weight: int = 3
) -> tuple[int, str] | None:
    """An important gap from a step before `before` that was never asked about: an interviewer comes back to it
    before moving on ("Before we get to serving: how would you split the data?")."""
    for step in sorted(gaps_by_step):
        if step >= before:
            break
        for gap in sorted(gaps_by_step[step], key=lambda g: (-g.weight, g.item_id)):
            if gap.weight >= min_weight and gap.verdict == "missing" and gap.item_id not in asked:
                return step, gap.item_id
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_message(text: str) -> str:
    """The text the engine works on: lone surrogates become U+FFFD and control characters go (tabs and newlines
    stay). The candidate's message itself is stored as it was typed."""
    if _SURROGATE.search(text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return _CONTROL.sub("", text)


def fallback_notice(reason: str) -> str:
    """The note shown with a question the LLM failed to word: what happened, and that nothing was lost."""
    return (
        f"(The language model did not answer: {reason} This question comes from the question bank; "
        "your answer is saved.)"
    )


def truncate_view(text: str, limit: int) -> tuple[str, bool]:
    """The part of a long message the interviewer answers; the whole message is still stored."""
    if len(text) <= limit:
        return text, False
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("\n"))
    return (cut[: end + 1] if end > limit * 0.6 else cut).rstrip(), True


_QUESTION_MARK = re.compile(r"\?")
_GENERIC_PRAISE = re.compile(
    r"^\W*(great|good|nice|excellent|awesome|perfect|wonderful|fantastic|brilliant|love it|well done)"
    r"( (answer|point|job|question|work|thinking|start|thought|one))?\s*[!.,:;-]",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")


def same_question(a: str, b: str, threshold: float = 0.8) -> bool:
    """Whether two questions are the same up to a few words (overlap of their word sets)."""
    first, second = set(re.findall(r"[a-z0-9]+", a.lower())), set(re.findall(r"[a-z0-9]+", b.lower()))
    if not first or not second:
        return False
    return len(first & second) / len(first | second) >= threshold


def reply_problems(
    reply: str, forbidden: list[str], secrets: list[str], max_chars: int = 320, earlier: Sequence[str] = ()
) -> list[str]:
    """Why an LLM-worded interviewer question cannot be shown (empty when it can). `earlier` holds what the
    interviewer already said in the session: a small model sometimes copies its previous question."""
    text = reply.strip()
    problems = []
    if not text:
        return ["empty"]
    if len(text) > max_chars:
        problems.append("too long")
    if len(_QUESTION_MARK.findall(text)) != 1:
        problems.append("not exactly one question")
    if len(_SENTENCE_END.findall(text)) > 2:
        problems.append("more than two sentences")
    lowered = f" {text.lower()} "
    leaked = [t for t in forbidden if t and re.search(rf"(?<![a-z0-9]){re.escape(t.lower())}(?![a-z0-9])", lowered)]
    if leaked:
        problems.append(f"gives away: {', '.join(leaked[:3])}")
    if any(secret.lower() in lowered for secret in secrets):
        problems.append("repeats the system prompt")
    if "<" in text and ">" in text:
        problems.append("contains markup")
    if _GENERIC_PRAISE.match(text):
        problems.append("generic praise")
    if any(same_question(text, said) for said in earlier):
        problems.append("repeats an earlier question")
    return problems


def clean_reply(reply: str) -> str:
    """Strip quotes, role labels and markdown the model sometimes adds."""
    text = re.sub(r"</?[a-z_]+>", " ", reply)  # echoed fence tags such as <candidate_answer>
    text = re.sub(r"^(interviewer|assistant|question)\s*:\s*", "", text.strip(), flags=re.IGNORECASE)
    text = " ".join(text.replace("**", "").split())
    return text.strip('"').strip()


def secret_snippets(prompt_text: str, words_per_snippet: int = 7) -> list[str]:
    """Distinctive runs of the system prompt that must never appear in a reply."""
    words = prompt_text.split()
    return [" ".join(words[i : i + words_per_snippet]) for i in range(0, max(len(words) - words_per_snippet, 0), 5)]
