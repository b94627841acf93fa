import numpy as np

from app.evaluation.retrieval import RetrievalCase, evaluate, is_relevant
from app.grading.language import query_in_other_language
from app.knowledge.aliases import AliasTable
from app.knowledge.retrieval import (
    FederatedRetriever,
    SearchResult,
    TranslatingSearcher,
    chroma_where,
    field_tokens,
    matches_filter,
    reciprocal_rank_fusion,
)
from app.knowledge.store import StoredChunk
from app.knowledge.tokens import Speller, tokenize
from app.settings import Settings


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


def alias_table() -> AliasTable:
    return AliasTable(
        [
            ("Kolmogorov-Smirnov test", ["KS test", "compare two distributions"]),
            ("Mean absolute error", ["MAE", "average absolute miss"]),
            ("Batch inference", ["precomputed predictions", "predictions are hours old"]),
            ("Caching", ["cache", "recompute the same result"]),
        ]
    )


def test_an_alias_in_the_query_adds_its_concepts_title():
    table = alias_table()
    assert table.titles_in("ks test on a feature") == ["Kolmogorov-Smirnov test"]
    assert table.expand("our predictions are hours old") == "our predictions are hours old Batch inference"
    # Stems and stopwords: "recomputing the same results" still names caching.
    assert table.titles_in("we keep recomputing the same results") == ["Caching"]


def test_a_query_without_an_alias_or_already_naming_the_concept_is_left_alone():
    table = alias_table()
    assert table.expand("how do I pick a learning rate") == "how do I pick a learning rate"
    assert table.titles_in("mean absolute error versus MAE") == []
    assert table.titles_in("") == []


def test_alias_expansion_is_capped():
    table = AliasTable([(f"Concept {n}", [f"word{n}"]) for n in range(6)])
    assert len(table.titles_in(" ".join(f"word{n}" for n in range(6)))) == 3


def test_named_lists_every_concept_a_text_names_in_table_order():
    table = alias_table()
    text = "The MAE stays flat while predictions are hours old, so cache them."
    assert sorted(table.named(text)) == ["Batch inference", "Caching", "Mean absolute error"]
    assert table.named("") == [] and table.named("nothing here") == []


def test_field_boost_repeats_the_heading_and_alias_line():
    text = "Inference > Batch\n\nBody text.\n\n**Aliases:** precomputed scores"
    chunk = StoredChunk("c1", text, {"heading": "Batch"})
    plain = field_tokens(chunk, 0)
    boosted = field_tokens(chunk, 2)
    assert plain == tokenize(chunk.document)
    assert boosted[len(plain) :] == tokenize("Batch precomputed scores") * 2


class OneCollection:
    """A collection's retriever that returns fixed passages."""

    def __init__(self, name: str, ids: list[str]) -> None:
        self.name, self.ids, self.warmed = name, ids, False

    def search(self, query, k=5, topic=None, step=None, *, vector=None):
        return [SearchResult(i, f"text {i}", i, "f.md", {}, 1.0, collection=self.name) for i in self.ids[:k]]

    def warm(self):
        self.warmed = True


def test_federated_search_fuses_collections_and_names_each_results_collection():
    knowledge = OneCollection("knowledge", ["a", "b", "c"])
    notes = OneCollection("notes", ["a", "n2"])  # the same id in another collection is another passage
    federated = FederatedRetriever([knowledge, notes])
    results = federated.search("drift", k=4)
    assert [(r.collection, r.id) for r in results][:2] in (
        [("knowledge", "a"), ("notes", "a")],
        [("notes", "a"), ("knowledge", "a")],
    )
    assert {(r.collection, r.id) for r in results} == {
        ("knowledge", "a"),
        ("notes", "a"),
        ("knowledge", "b"),
        ("notes", "n2"),
    }
    assert federated.search("   ") == []
    federated.warm()
    assert knowledge.warmed and notes.warmed


def test_search_collections_setting_reads_a_comma_separated_list():
    assert Settings(search_collections="notes, team ,notes,").search_collections == ["notes", "team"]
    assert Settings().search_collections == []


def test_a_query_in_another_language_is_searched_in_english():
    asked: list[str] = []
    inner = OneCollection("knowledge", ["a"])
    inner.search = lambda query, k=5, topic=None, step=None, *, vector=None: asked.append(query) or []  # type: ignore[method-assign]
    searcher = TranslatingSearcher(inner, query_in_other_language, lambda q: "how do I fill missing values")
    searcher.search("Wie gehe ich mit fehlenden Werten um?")
    searcher.search("how do I fill missing values in a time series")
    searcher.search("Wie gehe ich mit fehlenden Werten um?", vector=np.zeros(3))  # a composed query stays as it is
    assert asked == [
        "how do I fill missing values",
        "how do I fill missing values in a time series",
        "Wie gehe ich mit fehlenden Werten um?",
    ]


def test_without_a_translation_the_query_is_searched_as_written():
    asked: list[str] = []
    inner = OneCollection("knowledge", [])
    inner.search = lambda query, k=5, topic=None, step=None, *, vector=None: asked.append(query) or []  # type: ignore[method-assign]
    TranslatingSearcher(inner, query_in_other_language, lambda q: None).search("¿Qué modelo uso para el precio?")
    assert asked == ["¿Qué modelo uso para el precio?"]


def test_short_queries_in_other_languages_are_recognised_and_english_ones_are_not():
    assert query_in_other_language("PR-AUC o ROC-AUC para clases raras")
    assert query_in_other_language("如何处理类别不平衡")
    assert query_in_other_language("modelo de churn con la data de los users")
    assert not query_in_other_language("ks test")
    assert not query_in_other_language("the same users ask for the same top-10 list")
    assert not query_in_other_language("a/b test para")  # one foreign word is not enough
