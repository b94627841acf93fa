import json
from pathlib import Path

import pytest

from app.evaluation import conversations as eval_conversations
from app.evaluation import evidence as eval_evidence
from app.evaluation import grading as eval_grading
from app.evaluation import retrieval as eval_retrieval
from app.evaluation.cases import CaseFileError
from app.knowledge.base import load_knowledge
from app.settings import PROJECT_DIR


def test_bad_line_is_named(tmp_path: Path):
    path = tmp_path / "cases.jsonl"
    path.write_text('{"id": "a", "query": "q", "relevant_terms": ["x"]}\n\n{"id": "b"}\n')
    with pytest.raises(CaseFileError, match=r"cases.jsonl:3: not a valid retrieval case"):
        eval_retrieval.load_cases(path)
    with pytest.raises(CaseFileError, match="not found"):
        eval_grading.load_cases(tmp_path / "missing.jsonl")


def test_the_project_case_files_load():
    grading = eval_grading.load_cases(PROJECT_DIR / "eval" / "cases" / "grading.jsonl")
    conversations = eval_conversations.load_cases(PROJECT_DIR / "eval" / "cases" / "conversations.jsonl")
    assert len(grading) >= 25 and {c.band for c in grading} == {"strong", "partial", "weak", "off_topic", "adversarial"}
    assert len(conversations) >= 8
    assert {
        "answer_seeker",
        "idk",
        "long_paste",
        "mixed_language",
        "off_topic",
        "strong",
        "empty",
        "prompt_extraction",
    } <= {c.kind for c in conversations}


def test_the_blind_sets_load_and_split_by_question_or_query():
    cases = PROJECT_DIR / "eval" / "cases"
    tune = eval_grading.load_cases(cases / "grading_blind.jsonl", "tune")
    test = eval_grading.load_cases(cases / "grading_blind.jsonl", "test")
    assert len(tune) + len(test) == len(eval_grading.load_cases(cases / "grading_blind.jsonl")) >= 160
    assert not {c.question for c in tune} & {c.question for c in test}  # no question in both halves
    assert len({c.question for c in tune} | {c.question for c in test}) >= 20
    assert {"concise_strong", "long_weak", "non_english", "off_topic_neighbour"} <= {c.kind for c in test}
    holdout = eval_grading.load_cases(cases / "grading_holdout.jsonl")
    halves = [eval_grading.load_cases(cases / "grading_holdout.jsonl", s) for s in ("tune", "test")]
    assert len(holdout) == sum(map(len, halves)) >= 80 and len({c.question for c in holdout}) >= 10
    assert not {c.question for c in halves[0]} & {c.question for c in halves[1]}
    assert not {c.question for c in holdout} & ({c.question for c in tune} | {c.question for c in test})
    fresh = eval_grading.load_cases(cases / "grading_fresh.jsonl")
    halves = [eval_grading.load_cases(cases / "grading_fresh.jsonl", s) for s in ("tune", "test")]
    assert len(fresh) == sum(map(len, halves)) >= 80 and len({c.question for c in fresh}) >= 10
    assert not {c.question for c in halves[0]} & {c.question for c in halves[1]}
    assert not {c.question for c in fresh} & ({c.question for c in holdout} | {c.question for c in tune})
    assert all({"off_topic_neighbour", "neighbour_long", "non_english"} <= {c.kind for c in h} for h in halves)
    length = [eval_grading.load_cases(cases / "grading_length.jsonl", s) for s in ("tune", "test")]
    assert all(len({c.question for c in h}) == 6 for h in length)
    assert not {c.question for c in length[0]} & {c.question for c in length[1]}
    for half in length:  # every question has its concise strong, long weak and partial answer
        kinds = {(c.question, c.kind) for c in half}
        assert all((c.question, k) in kinds for c in half for k in ("concise_strong", "long_weak", "partial"))
        assert all(len(c.answer.split()) <= 180 for c in half if c.kind == "concise_strong")
        assert all(len(c.answer.split()) >= 300 for c in half if c.kind == "long_weak")
    neighbour = [eval_grading.load_cases(cases / "grading_neighbour.jsonl", s) for s in ("tune", "test")]
    assert all(len({c.question for c in h}) == 4 and len(h) == 24 for h in neighbour)
    assert not {c.question for c in neighbour[0]} & {c.question for c in neighbour[1]}
    for half in neighbour:  # each question: a long strong answer, an outline, a concise one and a long neighbour
        kinds = {(c.question, c.kind) for c in half}
        assert all((c.question, k) in kinds for c in half for k in ("strong", "expert_outline", "neighbour_long"))
        assert all(len(c.answer.split()) >= 300 for c in half if c.kind == "neighbour_long")
    concept = [eval_grading.load_cases(cases / "grading_concept.jsonl", s) for s in ("tune", "test")]
    assert all(len({c.question for c in h}) == 40 and len(h) == 60 for h in concept)
    assert not {c.question for c in concept[0]} & {c.question for c in concept[1]}
    for half in concept:  # each concept question: a strong and a weak answer; each design question: a concise one
        assert sorted(c.kind for c in half).count("strong") == 20 == sorted(c.kind for c in half).count("weak")
        assert all(c.band == ("weak" if c.kind == "weak" else "strong") for c in half)
    generic = [eval_grading.load_cases(cases / "grading_generic.jsonl", s) for s in ("tune", "test")]
    assert all(len({c.question for c in h}) == 8 and len(h) == 32 for h in generic)
    assert not {c.question for c in generic[0]} & {c.question for c in generic[1]}
    for half in generic:  # each question: a strong and a partial answer, and two designs of a neighbouring task
        bands = sorted(c.band for c in half)
        assert bands.count("strong") == bands.count("partial") == 8 and bands.count("off_topic") == 16
        assert all((c.band == "off_topic") == (c.kind == "generic_opening_neighbour") for c in half)
    target = eval_grading.load_cases(cases / "grading_target.jsonl", "tune")
    assert len(target) == len(eval_grading.load_cases(cases / "grading_target.jsonl")) == 80
    kinds = {(c.question, c.kind) for c in target}
    assert len({c.question for c in target}) == 16
    assert all((c.question, k) in kinds for c in target for k in ("strong", "off_topic_neighbour", "neighbour_long"))
    assert all(c.band == "off_topic" and not c.covered_steps for c in target if "neighbour" in c.kind)
    queries = eval_retrieval.load_cases(cases / "retrieval_blind.jsonl")
    halves = [eval_retrieval.load_cases(cases / "retrieval_blind.jsonl", s) for s in ("tune", "test")]
    assert len(queries) >= 120 and sum(map(len, halves)) == len(queries) and all(any(c.hard for c in h) for h in halves)
    assert len(eval_conversations.load_cases(cases / "conversations_blind.jsonl")) >= 16


def test_the_evidence_sets_quote_their_answers_and_name_checklist_items():
    kb = load_knowledge(PROJECT_DIR / "knowledge")
    ids = {item.id for _step, item in kb.rubric.items()}
    cases = PROJECT_DIR / "eval" / "cases"
    blind = eval_evidence.load_cases(cases / "evidence_blind.jsonl")
    fresh = eval_evidence.load_cases(cases / "evidence_fresh.jsonl")
    plain = eval_evidence.load_cases(cases / "evidence_plain.jsonl")
    assert len(blind) >= 30 and len(fresh) >= 20 and len(plain) >= 20
    assert {c.split for c in fresh} == {"test"}  # nothing is fitted on it
    assert {c.split for c in plain} == {"tune"}  # the statement forms were read from it
    questions = [{c.question for c in group} for group in (blind, fresh, plain)]
    assert not questions[0] & questions[1] and not (questions[0] | questions[1]) & questions[2]
    for one in [*blind, *fresh, *plain]:
        assert set(one.items) <= ids, one.id
        assert all(quote in one.answer for quotes in one.items.values() for quote in quotes), one.id


def case(cid, question, band, kind="", answer="text"):
    return eval_grading.GradingCase(cid, question, answer, band, [], "", kind)


def test_crossed_answers_are_asked_under_the_next_two_questions():
    cases = [case("a", "Q1", "strong"), case("b", "Q1", "weak"), case("c", "Q2", "partial"), case("d", "Q3", "weak")]
    crossed = eval_grading.crossed(cases)
    assert [(c.id, c.question, c.band) for c in crossed] == [
        ("a@1", "Q2", "off_topic"), ("a@2", "Q3", "off_topic"), ("c@1", "Q3", "off_topic"), ("c@2", "Q1", "off_topic"),
    ]  # fmt: skip


def test_band_order_uses_the_plain_answer_of_each_band_where_kinds_are_labelled():
    cases = [
        case("s1", "Q", "strong", "concise_strong"),
        case("s2", "Q", "strong", "strong"),
        case("w1", "Q", "weak", "long_weak"),
        case("w2", "Q", "weak", "weak"),
        case("o", "Q", "off_topic", "off_topic_neighbour"),
    ]
    group = eval_grading.band_representatives(cases)["Q"]
    assert {band: c.id for band, c in group.items()} == {"strong": "s2", "weak": "w2", "off_topic": "o"}
    assert [(a.id, b.id) for a, b in eval_grading.length_pairs(cases)] == [("s1", "w1")]


def test_the_new_metrics_are_reported_and_none_when_there_is_nothing_to_measure():
    from app.grading.scorecard import Scorecard

    def grade(question, answer):
        band = "off_topic" if answer == "other" else "strong"
        overall = 4.0 if band == "strong" else 1.0
        return Scorecard.model_construct(overall=overall, band=band, covered_steps=[], flags=[])

    report = eval_grading.evaluate([case("a", "Q1", "strong", answer="other"), case("b", "Q2", "weak")], grade)
    assert report["crossed_off_topic_rate"] == 1.0 and report["length_robust_rate"] is None
    assert report["non_english_strong_rate"] is None


def test_the_red_flag_sentences_cover_every_wrong_claim_and_split_by_claim():
    from app.evaluation import red_flags as eval_red_flags
    from app.knowledge.base import load_knowledge

    path = PROJECT_DIR / "eval" / "cases" / "red_flags_blind.jsonl"
    halves = [eval_red_flags.load_cases(path, s) for s in ("tune", "test")]
    assert sum(map(len, halves)) == len(eval_red_flags.load_cases(path)) >= 130
    known = {flag.id for _, flag in load_knowledge(PROJECT_DIR / "knowledge").rubric.red_flags()}
    assert {c.flag_id for h in halves for c in h} == known  # every wrong claim of the rubric, and no other
    # A claim is in one half, unless it was written in many wordings: then each half has ten sentences of it.
    for flag_id in {c.flag_id for c in halves[0]} & {c.flag_id for c in halves[1]}:
        assert all(sum(1 for c in h if c.flag_id == flag_id) >= 10 for h in halves), flag_id
    for half in halves:
        for flag_id in {c.flag_id for c in half}:
            assert {c.label for c in half if c.flag_id == flag_id} == {"claims", "warns", "neutral"}


def test_red_flag_metrics_count_claims_found_and_warnings_left_alone(tmp_path: Path):
    from app.evaluation import red_flags as eval_red_flags

    path = tmp_path / "flags.jsonl"
    rows = [
        ("c1", "shuffle", "We shuffle the sales history and test on a random 20%.", "claims"),
        ("c2", "shuffle", "Random k-fold on the trip logs is fine.", "claims"),
        ("w1", "shuffle", "A random split would leak the future; the test month comes last.", "warns"),
        ("n1", "shuffle", "Online, a random half of users sees the new ranker.", "neutral"),
    ]
    path.write_text(
        "\n".join(json.dumps(dict(zip(("id", "flag_id", "sentence", "label"), r, strict=True))) for r in rows)
    )
    raised = {"c1": ["shuffle"], "c2": ["accuracy"], "w1": ["shuffle"], "n1": []}
    by_text = {r[2]: raised[r[0]] for r in rows}
    report = eval_red_flags.evaluate(eval_red_flags.load_cases(path), lambda text: by_text[text])
    assert report["claims_recall"] == 0.5  # c2 raised another claim's flag
    assert report["claims_any_flag"] == 1.0
    assert report["warns_clean"] == 0.0 and report["neutral_clean"] == 1.0
    assert report["precision"] == round(2 / 3, 4)  # of the flagged sentences, c1 and c2 state a wrong claim
    path.write_text(json.dumps({"id": "x", "flag_id": "f", "sentence": "s", "label": "agrees"}))
    with pytest.raises(CaseFileError, match="not a valid red-flag case"):
        eval_red_flags.load_cases(path)


def _expectation_case(tmp_path: Path, labels: list[dict]) -> Path:
    path = tmp_path / "ex.jsonl"
    row = {"id": "x-1", "question": "Design a feed.", "answer": "A. B.", "labels": labels, "split": "tune"}
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    return path


def test_expectation_metrics_count_shown_expectations_and_right_quotes(tmp_path: Path):
    from app.evaluation.expectations import Predicted, evaluate, load_cases

    labels = [
        {"expectation": "retention goal", "verdict": "met", "quote": "we optimise 7-day retention"},
        {"expectation": "position bias", "verdict": "partial", "quote": "shuffle a slice of traffic"},
        {"expectation": "baseline", "verdict": "not_met", "quote": ""},
        {"expectation": "cold start", "verdict": "met", "quote": "new videos get an exploration slot"},
    ]
    cases = load_cases(_expectation_case(tmp_path, labels), "tune")
    said = [
        Predicted("retention goal", "met", "So we optimise 7-day retention, not clicks."),  # holds the quote
        Predicted("position bias", "met", "We log everything."),  # shown, but the wrong sentence
        Predicted("baseline", "partial", "We log everything."),  # shown where people saw nothing
    ]  # cold start: not returned at all, so not shown
    report = evaluate(cases, lambda question, answer: said)
    assert report["precision"] == round(2 / 3, 4) and report["recall"] == round(2 / 3, 4)
    assert report["verdict_agreement"] == 0.25  # only the first verdict is the same
    assert report["quote_right"] == 0.5
    assert report["cases"][0] == {
        "id": "x-1",
        "missed": ["cold start"],
        "extra": ["baseline"],
        "wrong_quote": ["position bias"],
    }
    assert load_cases(_expectation_case(tmp_path, labels), "test") == []


def test_an_expectation_case_with_an_unknown_verdict_is_named(tmp_path: Path):
    from app.evaluation.expectations import load_cases

    path = _expectation_case(tmp_path, [{"expectation": "x", "verdict": "covered", "quote": ""}])
    with pytest.raises(CaseFileError, match=r"ex\.jsonl:1"):
        load_cases(path)


def test_the_expectation_answers_label_every_expectation_of_their_scenario_and_split_by_scenario():
    from app.evaluation.expectations import load_cases
    from app.knowledge.base import load_knowledge

    path = PROJECT_DIR / "eval" / "cases" / "expectations_blind.jsonl"
    scenarios = {s.prompt: s for s in load_knowledge(PROJECT_DIR / "knowledge").questions.scenarios}
    cases = load_cases(path)
    assert len(load_cases(path, "tune")) == len(load_cases(path, "test")) == 16
    halves: dict[str, set[str]] = {}
    for case in cases:
        scenario = scenarios[case.question]
        expected = [text for step in sorted(scenario.expectations) for text in scenario.expectations[step]]
        assert sorted(label.expectation for label in case.labels) == sorted(expected)
        assert all(label.quote in case.answer for label in case.labels if label.verdict != "not_met")
        halves.setdefault(scenario.id, set()).add(case.split)
    assert all(len(splits) == 1 for splits in halves.values())  # a scenario's answers stay in one half
