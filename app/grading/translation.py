"""English translations of answers written in other languages, made by the model at temperature 0 and cached by
content, so an answer is translated once and graded the same way every time."""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

from app.grading.language import check_language
from app.llm.backend import LLM, LLMError
from app.llm.prompts import Prompts, fence_candidate

log = logging.getLogger(__name__)

MAX_PARAGRAPH_CHARS = 1800  # longer paragraphs are translated in pieces, sentence-aligned
_PARAGRAPHS = re.compile(r"\n\s*\n")
# The model sometimes announces its output ("Here is the translation of the text into plain English:", "Here are the
# English translations of the given text:").
_PREAMBLE = re.compile(
    r"^\s*(?:(?:here\s+(?:is|are)|here's|below\s+(?:is|are))\s+(?:the|an?|my)?\s*(?:[\w\s-]{0,40}?)\btranslations?\b"
    r"[^\n:]{0,80}:|(?:english\s+)?translations?\s*:)\s*",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])")


class TranslationCache:
    """One file per translated text, named by the hash of the model, the prompt and the text."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get(self, key: str) -> str | None:
        path = self.folder / f"{key}.txt"
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def put(self, key: str, text: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f"{key}.tmp"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(self.folder / f"{key}.txt")


def pieces(text: str) -> list[str]:
    """Paragraphs, with long ones cut at sentence ends, so each call stays short."""
    out: list[str] = []
    for paragraph in _PARAGRAPHS.split(text.strip()):
        if len(paragraph) <= MAX_PARAGRAPH_CHARS:
            out.append(paragraph)
            continue
        current = ""
        for sentence in _SENTENCE_END.split(paragraph):
            if current and len(current) + len(sentence) > MAX_PARAGRAPH_CHARS:
                out.append(current)
                current = ""
            current = f"{current} {sentence}".strip()
        if current:
            out.append(current)
    return [p for p in out if p.strip()]


def without_preamble(translation: str) -> str:
    """The translation without a line announcing it."""
    return _PREAMBLE.sub("", translation, count=1).strip()


def usable_translation(source: str, translation: str) -> bool:
    """English, not empty, and of a length a translation can have (not a summary, not a runaway)."""
    text = translation.strip()
    if not text or check_language(text).needs_translation:
        return False
    ratio = len(text) / max(len(source), 1)
    floor = 0.3 if check_language(source).non_latin_share else 0.5
    return floor <= ratio <= 4.0


class Translator:
    """Translates an answer into English with the model at temperature 0; None when the model cannot."""

    def __init__(self, llm: LLM, prompts: Prompts, cache: TranslationCache) -> None:
        self.llm = llm
        self.prompts = prompts
        self.cache = cache

    def key(self, text: str) -> str:
        template = self.prompts.template("grading_translate")
        material = "\x00".join([self.llm.capabilities.label, template, text])
        return hashlib.sha256(material.encode("utf-8")).hexdigest()

    def __call__(self, text: str) -> str | None:
        key = self.key(text)
        cached = self.cache.get(key)
        if cached is not None:
            return "\n\n".join(p for p in (without_preamble(p) for p in cached.split("\n\n")) if p)
        translated: list[str] = []
        for piece in pieces(text):
            prompt = self.prompts.render("grading_translate", answer=fence_candidate(piece))
            try:
                out = self.llm.generate(
                    [{"role": "user", "content": prompt}], max_tokens=min(1500, 60 + len(piece)), temperature=0.0
                )
            except LLMError as exc:
                log.warning("translation failed: %s", exc)
                return None
            out = without_preamble(out.strip().removeprefix("```").removesuffix("```").strip())
            if not usable_translation(piece, out):
                log.warning("translation rejected for a piece of %d characters", len(piece))
                return None
            translated.append(out)
        result = "\n\n".join(translated)
        self.cache.put(key, result)
        return result
