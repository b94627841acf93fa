import pytest

from app.grading.scorecard import Grader
from app.grading.stance import dismisses, without_dismissals
from app.knowledge.base import load_knowledge
from app.settings import PROJECT_DIR
from tests.support import real_embedder

QUESTION = "Design a system that suggests duplicate questions to moderators of a Q&A site."


@pytest.mark.parametrize(
    ("sentence", "left"),
    [
        ("We can skip A/B testing here.", ""),
        ("To prove it works, there's no need for a controlled pilot.", "To prove it works"),
        ("No need for a pilot.", ""),
        (
            "Given all this, a well-built offline evaluation makes the A/B test redundant.",
            "Given all this, a well-built offline evaluation",
        ),
        ("A time-based split makes the k-fold estimate obsolete here.", "A time-based split"),
        (
            "This makes the position correction unnecessary; in fact, the logs are already randomized.",
            "in fact, the logs are already randomized.",
        ),
        (
            "Thirty seconds is a generous budget, so this is near-real-time and event-driven, "
            "but we don't need heroic latency tricks.",
            "Thirty seconds is a generous budget, so this is near-real-time and event-driven",
        ),
        (
            "Heatmaps for radiologists aren't needed, since the scores speak for themselves.",
            "since the scores speak for themselves.",
        ),
        ("No model is needed, which saves a lot of engineering time.", "which saves a lot of engineering time."),
        ("No ML needed.", ""),
    ],
)
def test_a_dismissing_clause_is_cut_and_the_rest_of_the_sentence_kept(sentence, left):
    assert dismisses(sentence)
    assert without_dismissals(sentence) == left


@pytest.mark.parametrize(
    "sentence",
    [
        "Features include the videos a user skipped in the first second and the ones they finished.",
        "A click followed by a bounce is a weak negative, and skipped results above a clicked one are negatives.",
        "We'd run a two-week A/B test on 5% of users with accepted suggestions as the primary metric.",
        "Human review is needed for every removal the model is unsure about.",
        "Even if offline NDCG goes up, I wouldn't skip the A/B test.",
        "I would never say monitoring is unnecessary for a fraud model.",
    ],
)
def test_a_sentence_that_dismisses_nothing_is_matched_whole(sentence):
    assert not dismisses(sentence)
    assert without_dismissals(sentence) == sentence


@pytest.fixture(scope="module")
def grader():
    return Grader(load_knowledge(PROJECT_DIR / "knowledge"), real_embedder())


def _verdict(card, item_id):
    return next(i for s in card.steps for i in s.items if i.id == item_id)


def test_waving_a_practice_away_is_not_evidence_of_doing_it(grader):
    base = (
        "I'd embed each new question with a sentence encoder and retrieve the 20 nearest past questions. "
        "A cross-encoder reranks them and we suggest the top three above a threshold. "
    )
    skipped = grader.grade(QUESTION, base + "We can skip the A/B test entirely.")
    ran = grader.grade(QUESTION, base + "We'd run an A/B test on 10% of new questions, measuring accepted suggestions.")
    assert _verdict(skipped, "ab_test_online_metrics").verdict == "missing"
    assert _verdict(ran, "ab_test_online_metrics").verdict == "covered"
    quoted = [q for s in skipped.steps for i in s.items for q in i.evidence]
    assert "We can skip the A/B test entirely." not in quoted
