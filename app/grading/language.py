"""Which language an answer is written in, as far as grading needs to know: English, or something to translate.

The rubric's phrasings and the embedding model are English. An answer in Spanish, in Chinese, or in Spanish with
English terms mixed in ("los failures están en los maintenance logs") is translated before it is graded. Three tests,
none of them a word list fitted to cases: the answer's English function words against the function words of the
common languages that write in Latin script, the share of its letters in other scripts, and for every other language
(Polish, Swahili, Turkish...), the share of its words that an English vocabulary of some 20,000 words does not know.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from app.knowledge.embeddings import english_vocabulary

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

_ENGLISH_WORDS = (
    "the a an of to and in is are was were be been for that this these those it its with on as by we i you they "
    "would will should could can at or from not no but which who what when where how have has had do does if then so "
    "than there their our my your me us them he she his her also into only just because about over under per"
)
ENGLISH = frozenset(_ENGLISH_WORDS.split())

# The most frequent function words of languages written in Latin script (Spanish, Portuguese, French, Italian,
# German, Dutch, and Hindi or Urdu written in Latin letters). A word that is also English ("a", "in") is left out.
_OTHER_WORDS = (
    # Spanish / Portuguese
    "el la los las de del que y en un una por para con es son lo se su sus al como pero más mas muy esta este "
    "está estos hay ser fue o ou os um uma do da dos das em no na nos nas não nao é são ao pelo pela para "
    "mais também tambem isso isto então entao porque cuando quando donde onde hacer fazer "
    # French
    "le les des du et est une pour dans qui que sur pas ne ce cette ces sont avec au aux par plus nous vous "
    "ils elle il c'est mais ou donc alors faut être etre très tres "
    # Italian
    "il di che è e per una sono della delle degli nel nella con non si anche come questo questa più perché "
    "quindi gli le ma "
    # German / Dutch
    "der die das und ist nicht ein eine zu den dem mit für auf im sich auch es wir ich wird werden sind von "
    "bei aus nach oder aber wenn dann noch nur wie sehr het een van en niet dat zijn voor op te met "
    # Hindi / Urdu in Latin letters
    "hai hain ke ka ki ko se mein aur ye yeh woh wo kya nahi nahin bhi toh hoga karte karna kar pe par"
)
OTHER = frozenset(_OTHER_WORDS.split()) - ENGLISH

NON_LATIN_SHARE = 0.2  # an answer with this share of its letters in another script (CJK, Cyrillic, ...)
MIN_WORDS = 12  # too few words to tell: treated as English
UNKNOWN_SHARE = 0.4  # share of words of three letters or more that are not English words. English answers in every
# case file stay at 0.26 or below (acronyms, model and library names), their paragraphs at 0.34 or below outside
# injected junk; answers in other languages, whole or mixed with English terms, are at 0.45 or above
VOCABULARY = english_vocabulary()


@dataclass(frozen=True)
class LanguageCheck:
    english_words: int  # English function words
    other_words: int  # function words of other Latin-script languages
    non_latin_share: float  # share of letters outside the Latin script
    unknown_share: float = 0.0  # share of words of three letters or more that are not English words

    @property
    def needs_translation(self) -> bool:
        """Another script, more foreign function words than English ones, or too many words English does not have:
        the answer is not in English."""
        return (
            self.non_latin_share >= NON_LATIN_SHARE
            or self.other_words > self.english_words
            or self.unknown_share >= UNKNOWN_SHARE
        )


def check_language(text: str) -> LanguageCheck:
    tokens = [t.lower() for t in _WORD.findall(text)]
    if len(tokens) < MIN_WORDS and not any(not _latin(c) for t in tokens for c in t):
        return LanguageCheck(len(tokens), 0, 0.0)
    return check_language_words(text)


def check_language_words(text: str) -> LanguageCheck:
    """The counts behind `check_language`, for text of any length."""
    written = _WORD.findall(text)
    tokens = [t.lower() for t in written]
    return LanguageCheck(
        english_words=sum(t in ENGLISH for t in tokens),
        other_words=sum(t in OTHER for t in tokens),
        non_latin_share=0.0 if text.isascii() else _non_latin_share(tokens),
        unknown_share=unknown_share([t.lower() for t in written if not _CODE.search(t)]),
    )


def _non_latin_share(tokens: list[str]) -> float:
    # A lone letter is a symbol of a formula ("π", "Σ", "r_i"), not a word of a language.
    letters = [c for t in tokens if sum(c.isalpha() for c in t) >= 2 for c in t if c.isalpha()]
    non_latin = sum(1 for c in letters if not _latin(c))
    return round(non_latin / len(letters), 3) if letters else 0.0


# A capital after a small letter ("pCTR", "LightGBM", a base64 run) marks a name or a code, not a word of a language.
_CODE = re.compile(r"[a-z][A-Z]")


def unknown_share(tokens: list[str]) -> float:
    """Share of the words of three letters or more (accents removed) missing from the English vocabulary."""
    if not VOCABULARY:
        return 0.0
    long = [_unaccented(t) for t in tokens if len(t) >= 3]
    return round(sum(t not in VOCABULARY for t in long) / len(long), 3) if long else 0.0


def _unaccented(word: str) -> str:
    if word.isascii():
        return word
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")


def _latin(char: str) -> bool:
    """Basic Latin and the Latin-1, Latin Extended blocks (accented letters of European languages)."""
    return ord(char) < 0x250


_PARAGRAPH_BREAK = re.compile(r"(\n\s*\n)")


def paragraphs_to_translate(text: str) -> list[int]:
    """Indices, in `split_paragraphs(text)`, of the parts to translate: all of them when the answer as a whole is
    not in English, else the paragraphs that are not (an English answer with a paragraph in Spanish) and, in a
    paragraph in English, its sentences that are not ("Los datos: historial de pedidos ... The label is ...")."""
    parts = split_paragraphs(text)
    texts = [i for i in range(0, len(parts), 2) if parts[i].strip()]
    if check_language(text).needs_translation:
        return texts
    return [i for i in texts if check_language(parts[i]).needs_translation or foreign_sentence(parts[i])]


FOREIGN_SENTENCE_WORDS = 6  # a sentence this long or longer can be told apart by its function words


def foreign_sentence(text: str) -> bool:
    """One sentence in another language: another script, or at least two different foreign function words, more of
    them than English ones, and as many words unknown to English as a paragraph in another language has. Neither
    alone is enough for one sentence: an English one can be mostly names and acronyms, or use "come" and "plus"."""
    tokens = [t.lower() for t in _WORD.findall(text) if len(t) >= 2]  # "P(y|x)" holds symbols, not Spanish "y"
    if len(tokens) < FOREIGN_SENTENCE_WORDS:
        return False
    other = [t for t in tokens if t in OTHER]
    english = sum(t in ENGLISH for t in tokens)
    # Two different foreign words at least (a chat template's "<|im_start|>" repeats German "im"), and words English
    # does not have: "come" and "plus" are English words too.
    mostly_foreign = len(set(other)) >= 2 and len(other) > english
    if not mostly_foreign and text.isascii():
        return False  # the counts below cannot tell it apart: no other script, too few foreign words
    found = check_language_words(text)
    return found.non_latin_share >= NON_LATIN_SHARE or (mostly_foreign and found.unknown_share >= UNKNOWN_SHARE)


_SENTENCE_BREAK = re.compile(r"(?<=[.!?])(\s+)(?=\S)")


def split_paragraphs(text: str) -> list[str]:
    """The text cut where a translation may start or stop: paragraphs at even indices, the blank-line separators
    between them at odd ones; a paragraph in English that holds a sentence in another language is cut into its
    sentences (the spaces between them at odd indices). Joined, they are the text."""
    parts: list[str] = []
    for index, part in enumerate(_PARAGRAPH_BREAK.split(text)):
        if index % 2 or check_language(part).needs_translation:
            parts.append(part)
            continue
        sentences = _SENTENCE_BREAK.split(part)
        parts.extend(sentences if any(foreign_sentence(s) for s in sentences[::2]) else [part])
    return parts


def query_in_other_language(text: str) -> bool:
    """A search query not written in English: mostly another script, or at least two foreign function words and
    more of them than English ones. Unlike an answer, a query is judged however short it is."""
    found = check_language_words(text)
    return found.non_latin_share >= NON_LATIN_SHARE or (
        found.other_words >= 2 and found.other_words > found.english_words
    )
