"""The interviewer's questions in words: grounded in retrieved notes, worded by the LLM, validated, and replaced by
the knowledge base's own wording when that fails. Also keeps the model server's cache warm between turns."""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.grading.evidence import split_sentences
from app.interview.policy import clean_message, clean_reply, fallback_notice, reply_problems, secret_snippets
from app.interview.probes import keeps_supposition
from app.interview.read_ahead import ReadAhead
from app.interview.results import MockTurn
from app.interview.state import MockState, scenario_of
from app.knowledge.base import ChecklistItem, KnowledgeBase, Scenario, concept_for
from app.knowledge.embeddings import Embedder
from app.knowledge.retrieval import Searcher, SearchResult, blend_query
from app.knowledge.tokens import tokenize
from app.llm.backend import LLM, CallStats, LLMError, Message
from app.llm.prompts import Prompts, fence_candidate
from app.sessions.repository import SessionRepository

log = logging.getLogger(__name__)

NOTES_CHARS = 360  # reference notes per prompt: every character is prompt the model reads on that turn
CONTEXT_SENTENCES = 3  # the claim's last sentences that steer the notes' query
HISTORY_TURNS = 6  # sessions saved before `history_from` existed: the last this many messages
HISTORY_CHARS = 6000  # a step's conversation longer than this restarts from its last few messages
HISTORY_KEEP = 4  # messages kept when the conversation restarts


@dataclass
class Wording:
    kb: KnowledgeBase
    embedder: Embedder
    retriever: Searcher | None
    llm: LLM | None
    repo: SessionRepository
    prompts: Prompts
    _primer: threading.Thread | None = field(default=None, init=False, repr=False)  # a warm-up running now
    _pending: Warmup | None = field(default=None, init=False, repr=False)  # the next one to run
    _prime_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _turns: int = field(default=0, init=False, repr=False)  # turns begun: a warm-up asked for before one is stale

    def __post_init__(self) -> None:
        self.secrets = interviewer_secrets(self.prompts)
        self.concept_names = concept_names(self.kb)

    def system_prompt(self, scenario: Scenario) -> str:
        return system_prompt(scenario, self.prompts)

    def forbidden_terms(self, item: ChecklistItem, said: str) -> list[str]:
        """The item's technical terms (concept names, acronyms, metrics) the candidate has not used yet:
        naming them would give the answer away. Everyday words such as "labels" stay allowed."""
        said_lower = said.lower()
        return [
            t
            for t in item.key_terms
            if t.lower() not in said_lower
            and (t.lower() in self.concept_names or any(ch.isdigit() or ch in "-/@" for ch in t))
        ]

    def notes_for(self, claim: str, target: str) -> list[SearchResult]:
        """Reference passages on the target, in the light of the claim. The query's vector is blended from the
        claim's last sentences and the target, which the ledger and the rubric index have already embedded, so
        a turn does not run the embedding model again for its query."""
        if self.retriever is None:
            return []
        sentences = [s.text for s in split_sentences(claim)][-CONTEXT_SENTENCES:]
        vector = blend_query(self.embedder.encode(sentences), self.embedder.encode_one(target))
        return self.retriever.search(f"{claim[-400:]} {target}", k=2, vector=vector)

    def context(self, turn: MockTurn, claim: str, target: str) -> str:
        """The notes' text for a prompt; the target itself when there are none."""
        try:
            results = self.notes_for(claim, target)
        except Exception as exc:  # retrieval must never break a turn
            log.warning("retrieval failed: %s", exc)
            return target
        for result in results:
            concept = concept_for(self.kb, result.heading, result.source)
            name = concept.id if concept is not None else result.heading
            if name not in turn.concepts:
                turn.concepts.append(name)
        return trim_notes([r.text.split("\n\n", 1)[-1] for r in results], NOTES_CHARS) or target

    def history(self, session_id: str, state: MockState, *, current: bool = True) -> list[dict[str, str]]:
        """The step's conversation before the current message, exactly as the model saw it on earlier turns,
        so the server reuses its cache of that prefix. It only grows, until it restarts at a new step or when
        too long. With `current=False` there is no current message: every stored turn is history."""
        turns = self.repo.turns(session_id)
        if current:
            turns = turns[:-1]  # the current message is in the prompt that follows
        if state.history_from is None:
            return conversation(turns[-HISTORY_TURNS:])
        messages = conversation(turns[state.history_from :])
        if sum(len(m["content"]) for m in messages) > HISTORY_CHARS:
            state.history_from = restart_point(turns, state.history_from, HISTORY_KEEP)
            messages = conversation(turns[state.history_from :])
        return messages

    def word(
        self,
        turn: MockTurn,
        template: str,
        values: dict[str, str],
        *,
        fallback: str,
        forbidden: list[str],
        anchor: str | None = None,
        builds_on: str | None = None,
        asked_about: str = "",
    ) -> str:
        """One question worded by the LLM, validated; the knowledge base's own wording when that fails. With an
        `anchor` (the seed question it rewords), the reply must keep most of the seed's own words; with `builds_on`
        (the candidate's message), it must take up some of their words that neither the scenario nor what the
        question is `asked_about` already uses (echoing the target's own words builds on nothing they said).

        The call's record and any notice for the candidate (a failed call, a restarted model) go on the turn."""
        if self.llm is None:
            return fallback
        record = turn.record
        # The candidate's message comes first: the server has read it already when it read the draft as it was typed.
        turn.prompt = prompt = latest_message(turn.text) + self.prompts.render(template, **values)
        messages = [
            {"role": "system", "content": self.system_prompt(turn.scenario)},
            *self.history(record.id, turn.state),
            {"role": "user", "content": prompt},
        ]
        stats = CallStats()
        turn.calls.append(stats)
        try:
            reply = clean_reply("".join(self.llm.stream(messages, max_tokens=80, stats=stats)))
        except ReadAhead:
            return fallback  # the turn was worked out ahead of Send: its request is all that was wanted
        except LLMError as exc:
            log.warning("interviewer reply fell back to the knowledge base: %s", exc)
            turn.notices.extend([*stats.notices, fallback_notice(str(exc))])
            return fallback
        turn.notices.extend(stats.notices)
        earlier = [t.content for t in self.repo.turns(record.id) if t.role == "interviewer"]
        problems = reply_problems(reply, forbidden, self.secrets, earlier=earlier)
        if anchor is not None and not keeps_point(reply, anchor):
            problems.append("lost the seed question's point")
        if anchor is not None and not keeps_supposition(reply, anchor):
            problems.append("states the seed's supposition as a fact")
        if misquotes(reply, turn.written or turn.text):
            problems.append("quotes words the candidate did not write")
        if builds_on is not None and not takes_up(reply, builds_on, f"{turn.scenario.prompt} {asked_about}"):
            problems.append("does not build on the candidate's words")
        if problems:
            log.info("interviewer reply rejected (%s); using the knowledge base's wording", ", ".join(problems))
            return fallback
        return reply

    # ---------- the model server's cache ----------

    def prime(
        self, session_id: str, draft: str | None = None, ahead: Callable[[], list[Message] | None] | None = None
    ) -> None:
        """Have the model server read the start of the next turn's prompt in the background, while the candidate
        reads and types: the instructions and the step's conversation so far, and with a `draft`, the message as
        typed so far, which is how the next request starts. With `ahead` (the whole request the turn would make if
        the draft were sent now), the server reads all of it. The next turn then only evaluates what is new. Only
        for a server that keeps the last prompt's state. While a warm-up runs, the newest request waits for it and
        replaces any other waiting one; a turn that begins makes every waiting one stale."""
        if self.llm is None or not self.llm.capabilities.prefix_cache:
            return
        record = self.repo.get_session(session_id)
        if record is None or record.mode != "mock" or record.status == "ended":
            return
        state = MockState.model_validate(record.state)
        messages = [
            {"role": "system", "content": self.system_prompt(scenario_of(self.kb, record))},
            *self.history(session_id, state, current=False),
        ]
        if draft is not None:
            messages.append({"role": "user", "content": latest_message(draft)})
        with self._prime_lock:
            job = Warmup(messages, ahead, self._turns)
            if self._primer is not None:
                self._pending = job
                return
            self._primer = threading.Thread(target=self._run_prime, args=(job,), name="prime-cache", daemon=True)
            self._primer.start()

    def begin_turn(self) -> None:
        """A turn starts: warm-ups asked for before it would read a conversation that is no longer the next one."""
        with self._prime_lock:
            self._turns += 1
            self._pending = None

    def _run_prime(self, job: Warmup) -> None:
        while True:
            if job.turns == self._turns:  # else a turn began since: this is not the next conversation any more
                self._warm(job)
            with self._prime_lock:
                if self._pending is None:
                    self._primer = None
                    return
                job, self._pending = self._pending, None

    def _warm(self, job: Warmup) -> None:
        assert self.llm is not None
        messages = job.messages
        if job.ahead is not None:
            try:
                messages = job.ahead() or messages
            except Exception as exc:  # only a head start: the turn itself does the work again
                log.info("reading the next request ahead failed: %s", exc)
        if job.turns != self._turns:
            return  # a turn began while the request was worked out
        try:
            self.llm.generate(messages, max_tokens=1)
        except Exception as exc:  # only a head start: the turn itself reports real failures
            log.info("model cache warm-up failed: %s", exc)

    def wait_primed(self, timeout_s: float | None = None) -> float:
        """Wait for a warm-up in progress; returns the seconds waited."""
        started = time.perf_counter()
        primer = self._primer
        if primer is not None:
            primer.join(timeout_s)
        return time.perf_counter() - started


@dataclass(frozen=True)
class Warmup:
    """One warm-up of the model server's cache: the prompt's start, and what works out the whole next request."""

    messages: list[Message]
    ahead: Callable[[], list[Message] | None] | None
    turns: int  # the turn count when it was asked for


def latest_message(text: str) -> str:
    """How every worded request starts: the candidate's message, fenced as data."""
    return f"The candidate's latest message:\n{fence_candidate(text[-1500:])}\n\n"


def keeps_point(reply: str, seed: str, share: float = 0.5) -> bool:
    """Whether a reworded question keeps at least half of the seed's content words, and at least two."""
    seed_stems = {s for s in tokenize(seed) if len(s) > 3}
    needed = min(len(seed_stems), max(2, math.ceil(share * len(seed_stems))))
    return len(seed_stems & set(tokenize(reply))) >= needed


QUOTED = re.compile(r'["“]([^"“”]+)["”]')
QUOTE_MIN_WORDS = 4  # shorter quoted spans are names and terms, not the candidate's sentences


def plain(text: str) -> str:
    """Text reduced to its lowercase words, for comparing a quote with what was written."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def misquotes(reply: str, written: str) -> bool:
    """Whether a reply puts in quotation marks a phrase the candidate did not write (a paraphrase, or the wording of
    a translation of their message)."""
    theirs = plain(written)
    for span in QUOTED.findall(reply):
        words = plain(span.rstrip(" .…"))
        if len(words.split()) >= QUOTE_MIN_WORDS and words not in theirs:
            return True
    return False


def takes_up(reply: str, message: str, given: str) -> bool:
    """Whether a reply uses one of the candidate's own content words that the `given` text (the scenario, and what
    the question is about) does not already use."""
    theirs = {t for t in tokenize(message) if len(t) > 3} - set(tokenize(given))
    return bool(theirs & set(tokenize(reply)))


def trim_notes(passages: list[str], limit: int) -> str:
    """Whole sentences from the passages, best passage first, up to `limit` characters; a first sentence that is
    longer on its own is cut at a word."""
    kept: list[str] = []
    used = 0
    for passage in passages:
        for sentence in re.split(r"(?<=[.!?])\s+", " ".join(passage.split())):
            if not sentence:
                continue
            if used + len(sentence) + 1 > limit:
                if not kept:
                    kept.append(sentence[:limit].rsplit(" ", 1)[0] + " ...")
                return " ".join(kept)
            kept.append(sentence)
            used += len(sentence) + 1
    return " ".join(kept)


def system_prompt(scenario: Scenario, prompts: Prompts) -> str:
    """The interviewer's instructions for one session: the same on every turn, so the model server keeps them
    in its cache from the first turn to the last."""
    return prompts.render("interviewer_system", scenario=scenario.prompt).strip()


def interviewer_secrets(prompts: Prompts) -> list[str]:
    """Runs of the instructions (without the scenario, which replies may echo) that a reply must never repeat."""
    return secret_snippets(prompts.render("interviewer_system", scenario="").strip())


def concept_names(kb: KnowledgeBase) -> set[str]:
    """Names of the knowledge base's concepts and the abbreviations their explanations introduce."""
    names: set[str] = set()
    for concept in kb.concepts.values():
        names.add(concept.title.lower())
        for inner in re.findall(r"\(([^()]{2,40})\)", concept.explanation):
            for part in re.split(r",| or | and |;", inner):
                part = part.strip().lower()
                if part and not part.startswith(("e.g", "for example", "also", "the ")):
                    names.add(part)
        for word in re.findall(r"\b[A-Z][A-Za-z0-9@-]*[A-Z0-9][A-Za-z0-9@-]*\b", concept.explanation):
            names.add(word.lower())  # acronyms and names such as NDCG, PR-AUC, LightGBM
    return names


def conversation(turns: list[Any]) -> list[dict[str, str]]:
    """Chat messages for stored turns. A reply the LLM worded follows the prompt it was worded from (which holds
    the candidate's message); any other reply follows the candidate's message, fenced as data."""
    messages: list[dict[str, str]] = []
    for position, turn in enumerate(turns):
        if turn.role == "interviewer":
            notice = turn.meta.get("notice")
            content = turn.content.removeprefix(f"{notice}\n\n") if notice else turn.content
            messages.append({"role": "assistant", "content": content})
            continue
        following = turns[position + 1] if position + 1 < len(turns) else None
        prompt = following.meta.get("prompt") if following is not None else None
        fenced = fence_candidate(clean_message(turn.content[:1500]))
        content = prompt if isinstance(prompt, str) and prompt else fenced
        messages.append({"role": "user", "content": content})
    return messages


def restart_point(turns: list[Any], start: int, keep: int) -> int:
    """Where a conversation that grew too long starts again: its last `keep` messages, from a candidate's."""
    point = max(start, len(turns) - keep)
    while point < len(turns) and turns[point].role != "candidate":
        point += 1
    return min(point, len(turns))
