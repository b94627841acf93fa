"""Word tokens for lexical search and evidence matching: lowercase, stopwords out, Snowball stems."""

from __future__ import annotations

import difflib
import re

import Stemmer

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_ANY_WORD = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+)?")

STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "i'd",
        "i'll",
        "i'm",
        "i've",
        "it's",
        "we'd",
        "we'll",
        "we're",
        "we've",
        "that's",
        "there's",
        "what's",
        "let's",
    ]
)

STEMMER = Stemmer.Stemmer("english", 65536)  # stateless for callers; keeps its own cache of recent words


def words(text: str) -> list[str]:
    """Lowercase word tokens, stopwords included."""
    return _WORD.findall(text.lower())


def stem(word: str) -> str:
    return str(STEMMER.stemWord(word))


def tokenize(text: str) -> list[str]:
    """Stemmed content tokens."""
    return [stem(w) for w in words(text) if w not in STOPWORDS]


class Speller:
    """Maps unknown query words to the closest known word of the corpus (typo tolerance)."""

    def __init__(self, vocabulary: set[str]) -> None:
        self.vocabulary = vocabulary
        self._by_first: dict[str, list[str]] = {}
        for word in vocabulary:
            self._by_first.setdefault(word[:1], []).append(word)

    def correct(self, word: str) -> str:
        if word in self.vocabulary or len(word) < 5 or not word.isalpha():
            return word
        pool = self._by_first.get(word[:1], [])
        close = difflib.get_close_matches(word, pool, n=1, cutoff=0.84)
        return close[0] if close else word

    def correct_text(self, text: str) -> str:
        """The text with misspelled words replaced in place; everything else is kept as written."""

        def fix(match: re.Match[str]) -> str:
            word = match.group(0)
            fixed = self.correct(word.lower())
            return word if fixed == word.lower() else fixed

        return _ANY_WORD.sub(fix, text)
