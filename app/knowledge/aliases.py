"""Concept aliases: other names, abbreviations and the symptoms people describe a concept by.

A query that contains one of a concept's aliases (as a run of stemmed words, stopwords aside) is expanded with the
concept's title, so "ks test" reaches the Kolmogorov-Smirnov section and "predictions are hours old" reaches batch
inference, whatever words the passage itself uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.knowledge.tokens import tokenize

MAX_EXPANSIONS = 3  # titles added to one query: more would drown the query's own words


@dataclass(frozen=True)
class Alias:
    tokens: tuple[str, ...]
    title: str


def contains(tokens: list[str], run: tuple[str, ...]) -> bool:
    """Whether `run` occurs contiguously in `tokens`."""
    n = len(run)
    return any(tuple(tokens[i : i + n]) == run for i in range(len(tokens) - n + 1))


class AliasTable:
    """Aliases of every concept, as stemmed token runs, matched against queries."""

    def __init__(self, entries: Iterable[tuple[str, list[str]]]) -> None:
        aliases: list[Alias] = []
        for title, names in entries:
            for name in [title, *names]:
                tokens = tuple(tokenize(name))
                if tokens:
                    aliases.append(Alias(tokens, title))
        # Longest runs first: "mean absolute error" wins over "error".
        self.aliases = sorted(aliases, key=lambda a: (-len(a.tokens), a.title))
        self._by_first: dict[str, list[Alias]] = {}
        for alias in self.aliases:
            self._by_first.setdefault(alias.tokens[0], []).append(alias)

    def __len__(self) -> int:
        return len(self.aliases)

    def titles_in(self, query: str) -> list[str]:
        """The titles of concepts an alias of which the query contains, longest match first, at most a few. A
        concept named by its own title in the query needs no expansion and is skipped."""
        tokens = tokenize(query)
        if not tokens:
            return []
        named = {a.title for a in self.aliases if a.tokens == tuple(tokenize(a.title)) and contains(tokens, a.tokens)}
        found: list[str] = []
        for alias in self.aliases:
            if alias.title in named or alias.title in found:
                continue
            if contains(tokens, alias.tokens):
                found.append(alias.title)
                if len(found) >= MAX_EXPANSIONS:
                    break
        return found

    def named(self, text: str) -> list[str]:
        """The titles of every concept the text names, by its title or an alias, in table order."""
        tokens = tokenize(text)
        found = {
            alias
            for start, token in enumerate(tokens)
            for alias in self._by_first.get(token, ())
            if tuple(tokens[start : start + len(alias.tokens)]) == alias.tokens
        }
        return list(dict.fromkeys(a.title for a in self.aliases if a in found))

    def expand(self, query: str) -> str:
        """The query followed by the titles of the concepts its aliases name."""
        titles = self.titles_in(query)
        return " ".join([query, *titles]) if titles else query
