"""Heading-aware markdown chunking: front matter, text repair, whole bullets and sentences."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import ftfy
import yaml

CHUNKER_VERSION = "1"

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+")
_FENCE = re.compile(r"^\s*(```|~~~)")
_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")
_TOKEN = re.compile(r"\w+|[^\w\s]")


class FrontMatterError(ValueError):
    """The YAML front matter of a markdown file is malformed."""


@dataclass(frozen=True)
class Chunk:
    """One retrievable passage with its heading path and metadata."""

    text: str
    heading_path: tuple[str, ...]
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def heading(self) -> str:
        return " > ".join(self.heading_path)

    @property
    def document(self) -> str:
        """The text that is embedded and searched: heading path first, then the body."""
        return f"{self.heading}\n\n{self.text}" if self.heading_path else self.text

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(f"{CHUNKER_VERSION}\n{self.document}".encode()).hexdigest()


def count_tokens(text: str) -> int:
    """Approximate token count: words and punctuation marks."""
    return len(_TOKEN.findall(text))


def repair_text(text: str) -> str:
    """Fix mojibake and odd characters, normalise to NFC, drop NUL and control characters."""
    text = ftfy.fix_text(text)
    # A quote whose last byte was lost in transit cannot be decoded; show it as a plain quote.
    text = text.replace("\u00e2\u20ac", '"')
    text = unicodedata.normalize("NFC", text)
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")


def _is_mojibake_token(token: str) -> bool:
    """A word made only of the Latin-1/Latin-Extended debris that a mis-decoded emoji leaves behind."""
    if any(ch.isascii() and ch.isalnum() for ch in token):
        return False
    return any(0x80 <= ord(ch) <= 0x2FF or 0x2000 <= ord(ch) <= 0x206F for ch in token)


_TOKEN_RUN = re.compile(r"(?<!\S)\S{2,}(?!\S)[ \t]?")


def strip_mojibake_debris(text: str) -> str:
    """Drop words that are only the debris of mis-decoded emoji (ftfy cannot repair lost bytes)."""
    return _TOKEN_RUN.sub(lambda m: "" if _is_mojibake_token(m.group(0).strip()) else m.group(0), text)


def clean_heading(raw: str) -> str:
    """Heading text without HTML anchors, emoji (or their mojibake), symbols and markdown emphasis."""
    text = _HTML_TAG.sub("", raw)
    text = " ".join(t for t in text.split() if not _is_mojibake_token(t))
    text = text.replace("**", "").replace("__", "").replace("`", "")
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("So", "Sk", "Cn", "Co") or cat.startswith("C") or ch == "\ufe0f":
            continue
        kept.append(ch)
    return re.sub(r"\s+", " ", "".join(kept)).strip()


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Separate a leading `---` YAML block from the body."""
    if not text.startswith("---"):
        return {}, text
    lines = text.split("\n")
    for end in range(1, len(lines)):
        if lines[end].strip() == "---":
            raw = "\n".join(lines[1:end])
            try:
                data = yaml.safe_load(raw) or {}
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f" at line {mark.line + 2}" if mark is not None else ""
                problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
                raise FrontMatterError(f"malformed front matter{where}: {problem}") from exc
            if not isinstance(data, dict):
                raise FrontMatterError("front matter must be a mapping of keys to values")
            return data, "\n".join(lines[end + 1 :])
    return {}, text


@dataclass
class _Section:
    path: tuple[str, ...]
    level: int
    blocks: list[str]


def _blocks(lines: list[str]) -> list[str]:
    """Group lines into paragraphs, whole bullets (with their nested lines) and code fences."""
    blocks: list[str] = []
    current: list[str] = []
    in_fence = False
    in_bullet = False

    def flush() -> None:
        nonlocal current, in_bullet
        if any(line.strip() for line in current):
            blocks.append("\n".join(current).strip("\n"))
        current = []
        in_bullet = False

    for line in lines:
        if _FENCE.match(line):
            if in_fence:
                current.append(line)
                in_fence = False
                flush()
                continue
            flush()
            in_fence = True
            current.append(line)
            continue
        if in_fence:
            current.append(line)
            continue
        if not line.strip():
            if not in_bullet:
                flush()
            continue
        bullet = _BULLET.match(line)
        if bullet and len(bullet.group(1)) < 2:
            flush()
            in_bullet = True
            current.append(line)
        elif in_bullet and not line.startswith((" ", "\t")) and not bullet:
            flush()
            current.append(line)
        else:
            current.append(line)
    flush()
    return blocks


def _sections(body: str, title: str | None) -> list[_Section]:
    sections: list[_Section] = []
    stack: list[tuple[int, str]] = []
    lines: list[str] = []
    level = 0
    in_fence = False

    def close() -> None:
        path = tuple(name for _, name in stack) or ((title,) if title else ())
        blocks = _blocks(lines)
        sections.append(_Section(path, level, blocks))

    for line in body.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match:
            close()
            lines = []
            level = len(match.group(1))
            name = clean_heading(match.group(2))
            while stack and stack[-1][0] >= level:
                stack.pop()
            if name:
                stack.append((level, name))
            continue
        lines.append(line)
    close()
    return [s for s in sections if s.blocks or s.path]


def _split_long_block(block: str, max_tokens: int) -> list[str]:
    """Split a block that alone exceeds the limit at sentence ends, never inside a sentence."""
    if count_tokens(block) <= max_tokens:
        return [block]
    sentences = _SENTENCE_END.split(block)
    parts: list[str] = []
    current = ""
    for sentence in sentences:
        candidate = f"{current} {sentence}".strip() if current else sentence
        if current and count_tokens(candidate) > max_tokens:
            parts.append(current)
            current = sentence
        else:
            current = candidate
    if current:
        parts.append(current)
    return parts


def _balanced_groups(pieces: list[str], max_tokens: int) -> list[list[str]]:
    """Split consecutive pieces into the fewest groups within the limit, as even in size as possible."""
    sizes = [count_tokens(p) for p in pieces]
    total = sum(sizes)
    if total <= max_tokens or len(pieces) == 1:
        return [pieces]
    n = len(pieces)
    prefix = [0]
    for size in sizes:
        prefix.append(prefix[-1] + size)
    for k in range(-(-total // max_tokens), n + 1):
        # best[j][i]: smallest possible largest group when the first i pieces form j groups
        inf = float("inf")
        best = [[inf] * (n + 1) for _ in range(k + 1)]
        cut = [[0] * (n + 1) for _ in range(k + 1)]
        best[0][0] = 0
        for j in range(1, k + 1):
            for i in range(j, n + 1):
                for m in range(j - 1, i):
                    cost = max(best[j - 1][m], prefix[i] - prefix[m])
                    if cost < best[j][i]:
                        best[j][i], cut[j][i] = cost, m
        if best[k][n] <= max_tokens or k == n:
            bounds = []
            i = n
            for j in range(k, 0, -1):
                bounds.append((cut[j][i], i))
                i = cut[j][i]
            return [pieces[a:b] for a, b in reversed(bounds)]
    return [[p] for p in pieces]


def _common_path(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    common = []
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common.append(x)
    return tuple(common)


def chunk_markdown(
    text: str,
    source: str,
    *,
    min_tokens: int = 120,
    max_tokens: int = 350,
    extra_metadata: dict[str, Any] | None = None,
) -> list[Chunk]:
    """Split one markdown document into heading-aware chunks of about min..max tokens."""
    text = repair_text(text.replace("\r\n", "\n").replace("\r", "\n"))
    front, body = split_front_matter(text)
    body = strip_mojibake_debris(body)
    title = str(front.get("title")) if front.get("title") else None
    base_meta: dict[str, Any] = {"source": source}
    for key in ("topic", "level", "title"):
        if front.get(key) is not None:
            base_meta[key] = str(front[key])
    steps = front.get("steps") or []
    if isinstance(steps, list):
        for step in steps:
            if isinstance(step, int) and 1 <= step <= 7:
                base_meta[f"step_{step}"] = True
        base_meta["steps"] = ",".join(str(s) for s in steps if isinstance(s, int))
    base_meta.update(extra_metadata or {})

    units: list[tuple[tuple[str, ...], list[str], bool]] = []  # (path, parts, whole section?)
    for section in _sections(body, title):
        pieces = [part for block in section.blocks for part in _split_long_block(block, max_tokens)]
        if not pieces:
            continue
        groups = _balanced_groups(pieces, max_tokens)
        units.extend((section.path, group, len(groups) == 1) for group in groups)

    chunks: list[Chunk] = []
    cur: tuple[tuple[str, ...], list[str], int, bool] | None = None  # (path, parts, tokens, mergeable)
    for path, parts, whole in units:
        tokens = sum(count_tokens(p) for p in parts)
        if cur is not None:
            cur_path, cur_parts, cur_tokens, mergeable = cur
            common = _common_path(cur_path, path)
            if mergeable and whole and cur_tokens < min_tokens and cur_tokens + tokens <= max_tokens and common:
                # A small section merges with the next whole one under their shared parent heading.
                head = " > ".join(cur_path[len(common) :])
                if head and len(cur_parts) and not cur_parts[0].startswith(f"{head}:"):
                    cur_parts = [f"{head}:\n{cur_parts[0]}", *cur_parts[1:]]
                label = " > ".join(path[len(common) :])
                new_parts = [f"{label}:\n{parts[0]}" if label else parts[0], *parts[1:]]
                cur = (common, cur_parts + new_parts, cur_tokens + tokens, True)
                continue
            chunks.append(Chunk("\n\n".join(cur_parts), cur_path, dict(base_meta)))
        cur = (path, list(parts), tokens, whole)
    if cur is not None:
        chunks.append(Chunk("\n\n".join(cur[1]), cur[0], dict(base_meta)))

    for index, chunk in enumerate(chunks):
        chunk.metadata.update({"heading": chunk.heading, "chunk_index": index})
    return chunks
