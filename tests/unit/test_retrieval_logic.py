from app.evaluation.retrieval import RetrievalCase, evaluate, is_relevant
from app.knowledge.retrieval import chroma_where, matches_filter, reciprocal_rank_fusion
from app.knowledge.tokens import Speller, tokenize


def test_rrf_rewards_agreement():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "a", "d"]], k=60)
    assert [i for i, _ in fused][:2] == ["a", "b"] or [i for i, _ in fused][:2] == ["b", "a"]
    scores = dict(fused)
    assert scores["a"] == scores["b"] == 1 / 61 + 1 / 62
    assert scores["c"] == 1 / 63 and scores["d"] == 1 / 63
    assert fused[-1][1] < fused[0][1]


def test_rrf_single_list_keeps_order():
    assert [i for i, _ in reciprocal_rank_fusion([["x", "y", "z"]])] == ["x", "y", "z"]


def test_relevance_is_whole_term_and_case_insensitive():
    assert is_relevant("We use ndcg@10 here", ["NDCG"])
    assert not is_relevant("NDCGX is not it", ["NDCG"])
    assert is_relevant("Check the R-squared value", ["R-squared"])
    assert not is_relevant("precision-recall AUCs", ["precision-recall auc"])
    assert is_relevant("A/B tests (p-value < 0.05)", ["p-value"])


def test_evaluate_computes_hit_and_mrr():
    cases = [
        RetrievalCase("1", "q1", ["alpha"], "t1"),
        RetrievalCase("2", "q2", ["beta"], "t1"),
        RetrievalCase("3", "q3", ["gamma"], "t2"),
    ]
    corpus = {
        "q1": ["alpha here"],
        "q2": ["no", "no", "no", "no", "no", "beta at six"],
        "q3": ["nothing"] * 10,
    }
    report = evaluate(cases, lambda q, k: corpus[q][:k])
    assert report["n"] == 3
    assert report["hit_at_5"] == round(1 / 3, 4)
    assert report["mrr_at_10"] == round((1 + 1 / 6) / 3, 4)
    assert report["by_topic"]["t2"] == {"n": 1, "hit_at_5": 0.0, "mrr_at_10": 0.0}
    assert [m["id"] for m in report["misses"]] == ["2", "3"]


def test_filters():
    meta = {"topic": "training", "step_4": True}
    assert matches_filter(meta, "training", 4)
    assert not matches_filter(meta, "training", 5)
    assert not matches_filter(meta, "nlp", None)
    assert chroma_where(None, None) is None
    assert chroma_where("nlp", 3) == {"$and": [{"topic": "nlp"}, {"step_3": True}]}


def test_tokenize_stems_and_drops_stopwords():
    assert tokenize("The ranking metrics") == tokenize("rank metric")


def test_speller_fixes_typos_against_vocabulary():
    speller = Speller({"imputation", "regularization", "bm25"})
    assert speller.correct_text("Regularizaton, and imputaton?") == "regularization, and imputation?"
    assert speller.correct("bm25") == "bm25"
    assert speller.correct("zzzzzz") == "zzzzzz"


def test_blended_query_is_a_unit_vector_weighted_towards_the_target():
    import numpy as np

    from app.knowledge.retrieval import blend_query

    target = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    claim = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], dtype=np.float32)
    blended = blend_query(claim, target)
    assert abs(float(np.linalg.norm(blended)) - 1.0) < 1e-6
    assert blended[0] > blended[1] > 0 and blended[1] == blended[2]  # sentences count equally
    assert np.allclose(blend_query(claim, target, claim_weight=0.0), target)
    leaning = blend_query(claim, target, claim_weight=0.7)
    assert leaning[1] > blended[1]
    assert np.allclose(blend_query(np.zeros((0, 3), dtype=np.float32), target), target)
