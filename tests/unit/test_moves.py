"""Replies to messages that are not answers, and depth probes, as pure functions of the session's counters."""

from app.interview import meta
from app.interview.probes import (
    as_supposition,
    best_sentence,
    keeps_supposition,
    lower_first,
    pick_seed,
    short_quote,
)
from app.interview.wording import keeps_point
from app.knowledge.base import load_knowledge
from app.settings import PROJECT_DIR

KB = load_knowledge(PROJECT_DIR / "knowledge")
SCENARIO = KB.questions.scenarios[0]


def test_asking_for_the_answer_gets_a_reason_and_a_hint_offer_each_time_worded_differently():
    replies = [meta.answer_request(n, "What would you optimize?") for n in range(9)]
    assert len(set(replies)) == 9
    for reply in replies:
        assert "hint" in reply and reply.endswith("What would you optimize?") and reply.count("?") == 1
        assert any(word in reply for word in ("reasoning", "working it out", "grade"))


def test_an_off_topic_redirect_names_the_interviews_question_and_never_the_subject():
    reply = meta.off_topic(0, SCENARIO, "Which labels would you use?")
    assert meta.first_sentence(SCENARIO.prompt)[:40] in reply
    assert len({meta.off_topic(n, SCENARIO, "Which labels would you use?") for n in range(9)}) == 9


def test_scaffolds_differ_every_time_and_end_in_the_open_items_own_questions():
    step = KB.rubric.step(2)
    items = sorted(step.checklist, key=lambda i: -i.weight)
    replies = [meta.scaffold(n, step, items) for n in range(6)]
    assert len(set(replies)) == 6
    assert replies[0] == step.scaffold and replies[1:3] == step.scaffolds
    assert items[0].probe in replies[3] and items[1].probe in replies[4]


def test_nudges_and_extraction_redirects_do_not_repeat_in_a_row():
    assert meta.nudge(0, "Q?") != meta.nudge(1, "Q?")
    assert meta.extraction(0, "Q?") != meta.extraction(1, "Q?")


def test_every_step_has_other_openings_and_graduated_scaffolds():
    for step in KB.rubric.steps:
        assert len({step.opening_question, *step.openings}) >= 3
        assert len({step.scaffold, *step.scaffolds}) >= 3


def concept(concept_id):
    return KB.concepts[concept_id]


def test_a_depth_probe_is_seeded_from_a_concept_the_candidate_named_and_quotes_them():
    named, other = KB.concepts["position-bias"], KB.concepts["delayed-labels"]
    text = "We store every impression. Clicks depend on position bias, so we log how often each slot is examined."
    seed = pick_seed(text, [other, named], named.steps[0], [], [])
    assert seed is not None  # the other concept is not named by any sentence
    assert seed.concept_id == named.id and seed.question == named.probes[0]  # the probe that fits the talk best
    assert seed.quote == "Clicks depend on position bias, so we log how often each slot is examined"
    assert pick_seed(text, [named], named.steps[0], [named.id], []) is None  # probed once already
    asked = pick_seed(text + " Position is a feature at serving time.", [named], named.steps[0], [], [named.probes[0]])
    assert asked is not None and asked.question == as_supposition(named.probes[1])
    assert asked.question.startswith("Suppose you added position as a feature: what value")


def test_a_concept_the_candidate_did_not_name_is_not_probed():
    named = next(c for c in KB.concepts.values() if c.probes)
    assert best_sentence("Totally unrelated words here about lunch.", named)[1] == 0
    assert pick_seed("Totally unrelated words here about lunch.", [named], 1, [], []) is None


def test_quotes_are_short_and_a_reworded_probe_must_keep_its_point():
    assert short_quote("one two three.") == "one two three"
    assert short_quote(" ".join(str(n) for n in range(30))).endswith("...")
    seed = "How would you use the randomized slice when you train the ranker?"
    assert keeps_point("You keep a randomized slice: how would it help when you train the ranker?", seed)
    assert not keeps_point("What is the business objective of this system?", seed)


def test_a_coverage_probe_builds_on_the_candidates_own_words_or_quotes_them():
    from app.interview.questions import bridge_quote
    from app.interview.wording import takes_up

    scenario = "Design the ranking of a short-video feed."
    message = "Labels come from completed views. I'd train a ranker on them."
    assert takes_up("Completed views as labels: which ones would you treat as negatives?", message, scenario)
    assert not takes_up("What is the business objective of this system?", message, scenario)
    assert not takes_up("How would you rank the feed?", "The feed should rank videos.", scenario)  # scenario words
    deploy = "Deployment: we score posts in real time and monitor the model daily."
    target = f"{scenario} Rollout and rollback: how would you safely release a new model?"
    assert not takes_up("What is the best way to safely release a new model?", deploy, target)  # the target's words
    assert takes_up("You monitor it daily: what would make you roll the new model back?", deploy, target)
    assert bridge_quote(message, "labels from completed purchases") == "Labels come from completed views"
    assert bridge_quote("Are labels from completed views enough?", "labels from completed purchases") == ""
    assert bridge_quote(message, "latency budget in milliseconds") == ""
    assert short_quote('<b>bold</b> and "quoted" <script>') == "bold and 'quoted'"


def test_words_that_name_many_concepts_name_none():
    from app.interview.probes import common_naming_words

    common = common_naming_words(KB)
    assert {"model", "data"} <= common and "bias" not in common
    named = KB.concepts["position-bias"]
    text = "We train the model on data from the feed, and we score every video for the user each time."
    assert pick_seed(text, [named], 1, [], [], common) is None


def test_the_probe_that_fits_the_conversation_is_chosen_and_one_set_elsewhere_is_not():
    from app.interview.probes import best_probe

    probes = ["For a search product, would more time on the results page be good news?", "Which label would you use?"]
    assert best_probe(probes, "We rank videos; the label is a completed view.") == probes[1]
    assert best_probe(probes[:1], "We rank videos; the label is a completed view.") is None
    news = "We rank the news feed by time spent, and the results page of the feed shows good and bad posts."
    assert best_probe(probes[:1], news) is None  # its words fit, but it is set in a search product
    assert best_probe(probes[:1], "Our search product ranks results; time on the page is the metric.") == probes[0]


def test_a_probe_that_sets_up_a_situation_is_asked_as_a_supposition():
    probe = "Validation loss starts rising after 400 rounds. What is happening and what do you do?"
    seed = as_supposition(probe)
    assert seed == "Suppose validation loss starts rising after 400 rounds: what is happening and what do you do?"
    assert as_supposition("KS p-values are below 0.001. What do you do?").startswith("Suppose KS p-values")  # acronym
    assert lower_first("A/B results are flat") == "A/B results are flat" and lower_first("I'd retrain") == "I'd retrain"
    # The article is not an acronym: "Suppose a false negative costs $500", not "Suppose A false negative".
    article = as_supposition(
        "A false negative costs $500 and a false positive costs $5. How do you pick the threshold?"
    )
    assert (
        article == "Suppose a false negative costs $500 and a false positive costs $5: how do you pick the threshold?"
    )
    plain = "How would you split a 200 ms latency budget across the stages?"
    assert as_supposition(plain) == plain
    # A rewording that states the supposition as a fact about the candidate's system is refused.
    assert not keeps_supposition("Why does your validation loss start rising after 400 rounds?", seed)
    assert keeps_supposition("If your validation loss started rising after 400 rounds, what would you do?", seed)
    assert keeps_supposition("Which stage gets most of the 200 ms?", plain)


def test_a_situation_from_another_product_is_not_supposed_of_the_candidates_system():
    from app.interview.probes import best_probe

    credit = "Your credit model only knows outcomes for people you approved. How do you evaluate it on everyone?"
    jobs = "We recommend jobs to members; applies and recruiter replies are the labels, and we evaluate offline first."
    assert best_probe([credit], jobs) is None  # nothing of a credit model in a job recommender
    lending = "Our credit model scores loan applicants; we only know outcomes for the people we approved."
    assert best_probe([credit], lending) == credit
    plain = "How would you evaluate it on everyone who applies?"
    assert best_probe([plain], "We evaluate everyone who applies to a job.") == plain  # no situation: no such check
    assert best_probe([credit], "") is None


def test_a_situation_naming_another_products_word_is_not_supposed_even_when_its_other_words_fit():
    from app.interview.probes import best_probe, product_words, scenario_words

    products = product_words(KB)
    assert {"chargeback", "advertis", "pedestrian"} <= products  # words of one product each
    assert not {"model", "data", "label", "later", "train", "week"} & products  # the vocabulary of ML itself
    delayed = "Chargebacks arrive up to 90 days later. How would you train a model that must adapt weekly?"
    hospital = (
        "Is the readmission score needed at discharge time or can it come a day later? We retrain the model weekly."
    )
    eta = KB.scenario("ride-eta-prediction")  # a scenario that is not about payments
    foreign = products - scenario_words(eta)
    assert best_probe([delayed], hospital) == delayed  # half its situation's words are said...
    assert best_probe([delayed], hospital, foreign) is None  # ...but chargebacks are another product's
    fraud = KB.scenario("payment-fraud-detection")
    assert best_probe([delayed], hospital, products - scenario_words(fraud)) == delayed  # the asked product's own word
    said = f"{hospital} Chargebacks come late too."
    assert best_probe([delayed], said, foreign) == delayed  # or the candidate named it


def test_only_the_candidates_own_words_are_quoted_back_to_them():
    from app.interview.questions import their_words
    from app.interview.wording import misquotes

    written = "Model: pehle ek simple baseline. Data ko time se split karenge, last 2 weeks test ke liye, random nahi."
    translation = "Split data by time; use last 2 weeks for testing, no randomization"
    assert not their_words(translation, written)  # the model's translation is not what they said
    assert their_words("Data ko time se split karenge, last 2 weeks test...", written)
    assert their_words("Labels come from completed views", "Labels come from completed views. I'd train a ranker.")
    assert misquotes(f'You said "{translation}". Why that model?', written)
    assert misquotes("You said “the label is a completed view”: why?", "Labels come from completed views.")
    assert not misquotes('You said "last 2 weeks test ke liye": why?', written)
    assert not misquotes('What does "random nahi" protect against?', written)  # a short term, not a sentence


def test_a_candidates_clarifying_questions_are_told_to_assume_and_say_so():
    assert meta.asks_back("Before I start: how many discharges a day? Is the score needed at discharge time?")
    assert meta.asks_back("Primero quiero entender el objetivo. Is it RevPAR that we maximize, or occupancy?")
    assert not meta.asks_back("Why gradient boosted trees? They are fast and handle missing values.")  # rhetorical
    assert not meta.asks_back("I'll assume EHR data. The label is a readmission. Can we see other hospitals?")
    assert not meta.asks_back("I would use gradient boosted trees.")
    leads = [meta.assumption_lead(n) for n in range(3)]
    assert len(set(leads)) == 3 and all("?" not in lead for lead in leads)


def test_a_quote_from_a_translated_message_is_given_in_the_candidates_own_sentence():
    from app.interview.questions import in_their_words

    written = "Model: pehle ek simple baseline. Data ko time se split karenge, last 2 weeks test ke liye, random nahi."
    english = "Model: first a simple baseline. Split data by time; use last 2 weeks for testing, no randomization."
    quote = short_quote("Split data by time; use last 2 weeks for testing, no randomization")
    assert (
        in_their_words(quote, english, written)
        == "Data ko time se split karenge, last 2 weeks test ke liye, random nahi"
    )
    assert in_their_words("Model: first a simple baseline", english, written) == "Model: pehle ek simple baseline"
    english_merged = "Model: a baseline first, then split data by time with the last 2 weeks for testing."
    assert in_their_words("then split data by time", english_merged, written) == ""  # sentences not one for one
    assert in_their_words("Labels come from views", "Labels come from views.", "Labels come from views.") == (
        "Labels come from views"
    )


def test_a_hesitant_point_is_not_mistaken_for_a_question():
    from app.interview.questions import bridge_quote, is_question

    assert is_question("And should we worry about fairness across insurance types?")
    assert is_question("How many discharges a day?") and is_question("Okay, do we have EHR data?")
    assert not is_question("I guess we'd need invoices where someone already typed in the correct fields?")
    assert not is_question("Like OCR?") and not is_question("We log the slot.")
    hesitant = "I guess we'd label invoices with the fields someone already typed in? Sorry, I'm new to this."
    assert bridge_quote(hesitant, "labels from fields typed in by people") == (
        "I guess we'd label invoices with the fields someone already typed in"
    )
