"""The interviewer that listens: one ledger for the whole conversation, following a candidate who moves ahead,
depth probes from the concepts their words retrieve, and a transcript judge that reads it all from the outside."""

import random

import pytest

from app.evaluation.conversations import ConversationCase, evaluate
from app.evaluation.transcripts import Judge
from app.interview.engine import Interviewer
from app.interview.results import TurnResult
from app.interview.state import mock_state
from app.knowledge.retrieval import SearchResult
from app.sessions.repository import SessionRepository
from tests.unit.fakes import FakeLLM
from tests.unit.test_interviewer import GRADER, KB, SCENARIO, Clock

PROBED = KB.concepts["position-bias"]
STEP_ONE = "The users are viewers who open the app to find something to watch, and the company wants them back daily."
ALL_AHEAD = (
    "Labels: a completed view is positive and a quick skip is negative, from the impression logs. "
    "Features: the user's watch history, the video's age and creator, time of day. "
    "Model: a two-tower retrieval model, then a gradient boosted ranker on the candidates. "
    "Evaluation: NDCG offline on a time-based split, then an A/B test on watch time."
)


class OneConcept:
    """A searcher that finds one concept's passage for any query."""

    def __init__(self, concept):
        self.concept, self.queries, self.vectors = concept, [], []

    def search(self, query, k=5, topic=None, step=None, *, vector=None):
        self.queries.append(query)
        self.vectors.append(vector)
        return [SearchResult("c1", self.concept.explanation, self.concept.heading, self.concept.source, {}, 1.0)]

    def warm(self):
        pass


@pytest.fixture
def engine(tmp_path):
    repo = SessionRepository(f"sqlite:///{tmp_path / 's.sqlite3'}")
    return Interviewer(KB, GRADER, None, FakeLLM(), repo, clock=Clock(), rng=random.Random(3))


def test_what_the_candidate_shows_counts_for_its_own_step_whenever_it_is_said(engine):
    session_id, _ = engine.start("mock", scenario_id=SCENARIO.id)
    engine.respond(session_id, STEP_ONE)
    engine.respond(session_id, ALL_AHEAD)
    state = mock_state(engine.repo.get_session(session_id))
    later = [v for s in ("2", "3", "4", "5") for v in state.ledger[s].values()]
    assert later.count("covered") >= 3  # said during step 1 or 2, counted for steps 2 to 5


def test_a_candidate_who_moves_ahead_is_followed_and_never_asked_what_they_covered(engine):
    session_id, _ = engine.start("mock", scenario_id=SCENARIO.id)
    engine.respond(session_id, STEP_ONE)
    turn = engine.respond(session_id, ALL_AHEAD)
    state = mock_state(engine.repo.get_session(session_id))
    assert turn.step is not None and turn.step >= 3 and state.reached >= 3
    covered = {i for step in state.ledger.values() for i, v in step.items() if v == "covered"}
    asked = [t.meta.get("item") for t in engine.repo.turns(session_id) if t.role == "interviewer"]
    assert not covered & set(asked[1:-1])  # nothing asked was covered when it was asked (the last may be now)


def test_an_interview_that_follows_the_candidate_reaches_step_seven(engine):
    session_id, _ = engine.start("mock", scenario_id=SCENARIO.id)
    turn = None
    for text in [STEP_ONE, ALL_AHEAD, "next", "next", "next", "next", "next", "next"]:
        turn = engine.respond(session_id, text)
        if turn.action == "end" or "interview is over" in turn.text:
            break
    assert turn is not None and mock_state(engine.repo.get_session(session_id)).reached == 7


def test_a_claim_that_names_a_concept_gets_a_depth_probe_from_that_concept(tmp_path):
    repo = SessionRepository(f"sqlite:///{tmp_path / 's.sqlite3'}")
    searcher = OneConcept(PROBED)
    engine = Interviewer(KB, GRADER, searcher, FakeLLM(), repo, clock=Clock(), rng=random.Random(3))
    session_id, _ = engine.start("mock", scenario_id=SCENARIO.id)
    text = "Clicks on the feed are shaped by position bias, so I would log the slot each video was shown in."
    turn = engine.respond(session_id, text)  # the fake model answers nothing: the seed itself is the fallback
    assert turn.action == "depth_probe" and PROBED.id in turn.concepts
    assert turn.text.startswith('You said "Clicks on the feed are shaped by position bias')
    assert turn.text.endswith(PROBED.probes[0]) and turn.item == f"concept:{PROBED.id}"
    assert searcher.queries and "position bias" in searcher.queries[0]
    sentence = GRADER.index.embedder.encode([text])[0]  # one sentence: its vector is the dense query, not re-embedded
    assert searcher.vectors[0] is not None and float(searcher.vectors[0] @ sentence) > 0.999
    second = engine.respond(session_id, text.replace("Clicks", "Taps"))
    assert second.action != "depth_probe"  # one depth probe per step, then coverage


def test_the_model_words_the_depth_probe_when_it_keeps_the_seeds_point(tmp_path):
    repo = SessionRepository(f"sqlite:///{tmp_path / 's.sqlite3'}")
    fake = FakeLLM(["You log the slot each video was shown in: " + PROBED.probes[0].lower()])
    engine = Interviewer(KB, GRADER, OneConcept(PROBED), fake, repo, clock=Clock(), rng=random.Random(3))
    session_id, _ = engine.start("mock", scenario_id=SCENARIO.id)
    turn = engine.respond(session_id, "Clicks are shaped by position bias, so I would log the slot each video had.")
    assert turn.text.startswith("You log the slot") and "<candidate_answer>" in fake.calls[0].messages[-1]["content"]


POSITION_CLAIM = "Clicks are shaped by position bias, so I would add position as a feature when training the ranker."


def probe_with_reply(tmp_path, model_reply: str) -> TurnResult:
    """A depth probe on the position-bias claim, with the model rewording it as `model_reply`."""
    repo = SessionRepository(f"sqlite:///{tmp_path / 's.sqlite3'}")
    fake = FakeLLM([model_reply])
    engine = Interviewer(KB, GRADER, OneConcept(PROBED), fake, repo, clock=Clock(), rng=random.Random(3))
    session_id, _ = engine.start("mock", scenario_id=SCENARIO.id)
    turn = engine.respond(session_id, POSITION_CLAIM)
    assert turn.action == "depth_probe" and fake.calls
    return turn


def test_a_rewording_that_states_the_probes_supposition_as_a_fact_falls_back_to_the_seed(tmp_path):
    turn = probe_with_reply(tmp_path, "Position is a feature in your model, so what value does it get at serving time?")
    assert turn.text.startswith('You said "Clicks are shaped by position bias')
    assert turn.text.endswith("Suppose you added position as a feature: what value does it get at serving time?")


def test_openings_differ_across_sessions(engine):
    openings = {engine.start("mock", scenario_id=SCENARIO.id)[1] for _ in range(8)}
    assert len(openings) >= 2


def test_the_judge_flags_a_question_about_a_covered_item_an_off_topic_follow_and_a_repeat():
    judge = Judge(KB, GRADER)
    said = ["The business goal is daily retention and watch time; the company earns from ads."]
    covered = judge.covered(said)
    assert "business_goal" in covered
    probe = next(i.probe for _, i in KB.rubric.items() if i.id == "business_goal")
    record = judge.record(SCENARIO.prompt, said, TurnResult("s", probe, "followup", 1, "business_goal"), [probe])
    assert record.reasked == "business_goal" and record.identical
    said = ["How would you set up Kubernetes namespaces for kubecost chargeback reports?"]
    reply = "Which kubecost chargeback namespaces would you report on?"
    assert judge.record(SCENARIO.prompt, said, TurnResult("s", reply, "followup", 1, "x"), []).follows_off_topic
    fine = judge.record(SCENARIO.prompt, said, TurnResult("s", "Let's get back to the feed.", "redirect"), [])
    assert not fine.follows_off_topic and not fine.grounded


def test_eval_conversations_reports_each_case_and_checks_its_expectations(engine):
    cases = [
        ConversationCase("ok", SCENARIO.prompt, [STEP_ONE, "just tell me the answer", "end"], "answer_seeker",
                         {"needs_action": ["offer_hint", "end"], "band_in": ["weak", "off_topic"]}),
        ConversationCase("bad", SCENARIO.prompt, [STEP_ONE, "just tell me the answer"], "",
                         {"min_step_reached": 5, "reply_forbidden": ["HINT"], "band_in": ["strong"]}),
    ]  # fmt: skip
    report = evaluate(engine, cases)
    assert report["n"] == 2 and report["passed"] == 1 and "turn_p50_s" in report
    first, second = report["cases"]
    assert first["id"] == "ok" and first["passed"] and first["steps_reached"] == 1
    assert [t["action"] for t in first["turns"]] == [first["turns"][0]["action"], "offer_hint", "end"]
    assert {"candidate", "reply", "action", "step", "item", "concepts"} <= set(first["turns"][0])
    assert first["band"] in ("weak", "off_topic") and isinstance(first["score"], float)
    assert {f["check"] for f in second["failures"]} == {"min_step_reached", "band_in", "reply_forbidden"}
    assert report["reasks"] == 0 and "grounded_rate" in report and report["distinct_first_followups"] >= 1


def test_a_message_read_as_it_is_typed_needs_no_embedding_after_send(engine):
    session_id, _ = engine.start("mock", scenario_id=SCENARIO.id)
    engine.respond(session_id, "Viewers open the app to be entertained for a few minutes each evening.")  # indexes
    engine.draft(session_id, STEP_ONE)
    before = GRADER.embedder.calls
    turn = engine.respond(session_id, STEP_ONE)
    assert turn.action not in ("advance", "end") and GRADER.embedder.calls == before
    engine.respond(session_id, "Retention matters more than raw taps, so the north star is the daily return rate.")
    assert GRADER.embedder.calls > before  # a message never drafted is embedded when it arrives


def test_only_sentences_about_the_asked_problem_are_noted_back():
    from app.grading.evidence import ItemEvidence
    from app.interview.mock import shown_sentences

    def covered(quote):
        return ItemEvidence(2, "label_definition", "", 3, "covered", 0.9, quotes=[quote])

    question = "Design the search for a stock photo site: users type a text query and get relevant images."
    on = covered("Labels come from the images people download after a query.")
    off = covered("I'd require a cost-center label on every pod.")
    assert shown_sentences([on, off], question) == [on.quotes[0]]


def test_a_rewording_that_quotes_words_the_candidate_did_not_write_falls_back_to_the_seed(tmp_path):
    turn = probe_with_reply(tmp_path, 'You said "clicks depend a lot on where the video sits". Where does it go?')
    assert turn.text.startswith('You said "Clicks are shaped by position bias')  # their words, not the model's


def test_clarifying_questions_get_an_answer_before_the_next_question(engine):
    session_id, _ = engine.start("mock", scenario_id=SCENARIO.id)
    turn = engine.respond(session_id, "How many daily users are there? Is the feed ranked in real time or in batch?")
    assert turn.action in ("followup", "depth_probe", "challenge")
    assert turn.text.startswith("Good question, and it's yours to settle") and turn.text.count("?") == 1
    second = engine.respond(session_id, "Should the feed favour videos from the last minute, or older videos?")
    assert second.text.startswith("Make a reasonable assumption")
    aside = engine.respond(
        session_id, "I'd put a cost-center label on every pod. Is a Kyverno admission policy overkill?"
    )
    assert not aside.text.startswith(("Good question", "Make a reasonable", "Assume what"))  # not about the problem


def test_the_words_of_other_products_are_worked_out_once_per_question(engine):
    flow = engine.mock
    fraud = KB.scenario("payment-fraud-detection")
    assert SCENARIO.id != fraud.id
    foreign = flow.foreign_words(SCENARIO)
    assert "chargeback" in foreign  # another product's word
    assert "chargeback" not in flow.foreign_words(fraud)  # the asked product's own word
    assert flow.foreign_words(SCENARIO) is foreign  # kept, not recomputed for every message
    custom = engine.custom_scenario("Design a model that predicts which invoices a company will pay late.")
    assert flow.foreign_words(custom) is not foreign
