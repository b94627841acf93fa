import pytest

from app.knowledge.chunking import (
    FrontMatterError,
    chunk_markdown,
    clean_heading,
    count_tokens,
    repair_text,
    split_front_matter,
)

GUIDE_LIKE = """# <a id="ml">\u00f0\u0178\u00a4\u2013 ML Concepts</a>

## <a id="rec">\u00f0\u0178\u017d\u00af Recommendation & Ranking</a>

### \u00f0\u0178\u00a7\u00aa Offline Metrics
- **Precision@K**: share of the top K that is relevant.
  *Example*: 3 relevant in the top 5 gives 60%.
- **NDCG**: rewards relevant items placed higher.
"""


def test_mojibake_headings_come_out_clean():
    chunks = chunk_markdown(GUIDE_LIKE, "guide.md")
    assert chunks[0].heading_path == ("ML Concepts", "Recommendation & Ranking", "Offline Metrics")
    assert chunks[0].heading == "ML Concepts > Recommendation & Ranking > Offline Metrics"
    assert "\u00f0" not in chunks[0].document


def test_repair_text_fixes_mojibake_and_drops_control_characters():
    assert repair_text("it\u00e2\u20ac\u2122s\x00 fine\x07") == "it's fine"


def test_clean_heading_strips_anchor_emoji_and_emphasis():
    assert clean_heading('<a id="x">\U0001f9ea **Offline** Metrics</a>') == "Offline Metrics"


def test_front_matter_becomes_metadata():
    text = (
        "---\ntopic: classification\nsteps: [4, 5]\nlevel: core\ntitle: Classification\n---\n"
        "# Classification\n\n## Accuracy\n\nShare of correct predictions."
    )
    chunk = chunk_markdown(text, "classification.md")[0]
    assert chunk.metadata["topic"] == "classification"
    assert chunk.metadata["level"] == "core"
    assert chunk.metadata["step_4"] is True and chunk.metadata["step_5"] is True
    assert "step_1" not in chunk.metadata
    assert chunk.metadata["source"] == "classification.md"
    assert chunk.heading == "Classification > Accuracy"


def test_malformed_front_matter_raises_with_line():
    with pytest.raises(FrontMatterError, match="line"):
        split_front_matter("---\ntopic: [unclosed\n---\nbody")


def test_bullets_are_never_split_across_chunks():
    bullets = "\n".join(
        f"- Item {i} has a long explanation that goes on for a while about metric {i} and why it matters.\n"
        f"  It continues on an indented line about item {i}."
        for i in range(40)
    )
    chunks = chunk_markdown(f"# Title\n\n## Section\n\n{bullets}\n", "b.md", max_tokens=120)
    assert len(chunks) > 1
    for chunk in chunks:
        body = chunk.text
        for line in body.split("\n"):
            if line.startswith("- Item"):
                i = line.split()[2]
                assert f"It continues on an indented line about item {i}." in body
        assert count_tokens(chunk.text) <= 120


def test_long_paragraph_splits_at_sentence_ends():
    sentences = [f"Sentence number {i} talks about drift and the KS test in some detail." for i in range(60)]
    chunks = chunk_markdown("# T\n\n" + " ".join(sentences), "p.md", max_tokens=100)
    assert len(chunks) > 3
    for chunk in chunks:
        assert chunk.text.endswith("detail.")
        assert chunk.text.startswith("Sentence number")


def test_small_sibling_sections_merge_under_parent():
    text = "# Training\n\n### Data Splits\nTrain, dev and test.\n\n### Training Modes\nOffline and online.\n"
    chunks = chunk_markdown(text, "t.md", min_tokens=50)
    assert len(chunks) == 1
    assert chunks[0].heading_path == ("Training",)
    assert "Data Splits:" in chunks[0].text and "Training Modes:" in chunks[0].text


def test_document_without_headings_still_chunks():
    chunks = chunk_markdown("Just some text.\n\nAnother paragraph.", "plain.md")
    assert len(chunks) == 1
    assert chunks[0].heading_path == ()
    assert chunks[0].document == "Just some text.\n\nAnother paragraph."


def test_content_hash_is_stable_and_content_sensitive():
    a = chunk_markdown("# A\n\ntext one", "x.md")[0]
    b = chunk_markdown("# A\n\ntext one", "x.md")[0]
    c = chunk_markdown("# A\n\ntext two", "x.md")[0]
    assert a.content_hash == b.content_hash != c.content_hash
