"""What the interviewer says to a message that is not an answer: a request for the answer, an off-topic subject, a
silent or stuck candidate, an empty message. Pure functions of the session's counters, so no two such replies in
a row are the same and each scaffold is more concrete than the one before."""

from __future__ import annotations

import re

from app.knowledge.base import ChecklistItem, Scenario, Step

_WHY_NOT = [
    "I won't give you the answer: in a real interview your reasoning is what gets judged, so it has to be yours.",
    "I'll keep the answer to myself, because working it out aloud is the skill this practice is here to build.",
    "Handing you the answer would leave nothing of yours to grade, and your reasoning is what this is about.",
]
_HINT_OFFER = [
    "If you'd like a pointer, type 'hint'.",
    "A hint is there whenever you want one: type 'hint'.",
    "Type 'hint' and I'll point you in a direction without giving it away.",
]
_REDIRECT = [
    "That's outside this interview, so I'll leave it there.",
    "I'll set that aside; it isn't part of this question.",
    "Let's not go down that path today.",
]
_EXTRACTION = [
    "I can't share how I'm set up, so let's keep to the interview.",
    "That stays with me. Let's get back to the design.",
    "I'll keep my notes to myself. Back to the question.",
]
_ASSUME = [
    "Good question, and it's yours to settle: state the assumption you'd make.",
    "Make a reasonable assumption there and say it out loud.",
    "Assume what seems realistic and tell me what you assumed.",
]
_QUESTION_LEADS = ["Our question is:", "We're working on this:", "Back to the question:"]
_NUDGE = ["Take your time.", "No rush.", "Whenever you're ready."]
_SCAFFOLD_LEADS = ["Let's come at it from another side.", "Let's make it smaller.", "Here's a more concrete way in."]


def asks_back(text: str) -> bool:
    """Whether a message is mostly the candidate's own questions about the problem and ends in one ("How many
    discharges a day?"), rather than a rhetorical question they answer themselves ("Why trees? They're fast.")."""
    sentences = [s.strip() for s in re.split(r"(?<=[.!?？。])\s*", text.strip()) if s.strip()]
    questions = [s for s in sentences if s.endswith(("?", "？"))]
    return bool(questions) and sentences[-1] == questions[-1] and 2 * len(questions) >= len(sentences)


def assumption_lead(count: int) -> str:
    """What an interviewer says to a candidate's clarifying questions: the call is theirs, so they assume and say."""
    return pick(_ASSUME, count)


def pick(options: list[str], count: int) -> str:
    """The option for the `count`-th time (0-based), cycling."""
    return options[count % len(options)]


def pick_slow(options: list[str], count: int, inner: int) -> str:
    """The option that changes once every `inner` times: paired with `pick` over `inner` options, the pair does not
    repeat for `inner * len(options)` times."""
    return options[(count // inner) % len(options)]


def first_sentence(text: str, limit: int = 160) -> str:
    """The first sentence of a scenario, cut at a word if long: how the interviewer names the question."""
    sentence = re.split(r"(?<=[.!?])\s+", " ".join(text.split()), maxsplit=1)[0]
    if len(sentence) <= limit:
        return sentence.rstrip(".!?")
    return sentence[:limit].rsplit(" ", 1)[0] + "..."


def answer_request(count: int, question: str) -> str:
    """Why the interviewer won't give the answer, a hint offer, and the question still open."""
    return f"{pick(_WHY_NOT, count)} {pick_slow(_HINT_OFFER, count, len(_WHY_NOT))} {question}"


def off_topic(count: int, scenario: Scenario, question: str) -> str:
    """A redirect that names the interview's question and does not engage the subject at all."""
    named = first_sentence(scenario.prompt)
    lead = pick_slow(_QUESTION_LEADS, count, len(_REDIRECT))
    return f"{pick(_REDIRECT, count)} {lead} {named}{'' if named.endswith('...') else '.'} {question}"


def extraction(count: int, question: str) -> str:
    return f"{pick(_EXTRACTION, count)} {question}"


def nudge(count: int, question: str) -> str:
    return f"{pick(_NUDGE, count)} {question}"


def scaffold(count: int, step: Step, gaps: list[ChecklistItem]) -> str:
    """The `count`-th scaffold in a step (0-based): the step's own scaffolds first, each more concrete, then the
    most important open items' hint areas turned into small questions."""
    written = [s for s in [step.scaffold, *step.scaffolds] if s]
    if count < len(written):
        return written[count]
    extra = count - len(written)
    if gaps:
        item = gaps[extra % len(gaps)]
        lead = pick(_SCAFFOLD_LEADS, extra)
        return f"{lead} {item.hint_area or step.goal} {item.probe}"
    return f"{pick(_SCAFFOLD_LEADS, extra)} {step.opening_question}"
