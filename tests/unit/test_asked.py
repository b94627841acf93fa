"""What a custom question asks for: a whole design or an account of one concept, and the names it calls concepts by."""

import pytest

from app.grading.asked import ConceptNames, asks_for_design, the_ask


@pytest.mark.parametrize(
    "question",
    [
        "Design the ranking system behind a travel site's hotel search results page.",
        "How would you build a system that counts products on supermarket shelves from phone photos?",
        "Walk me through the ML system for reading handwritten amounts off scanned bank checks.",
        "We get thousands of contracts a week and want the parties pulled out. What would you build, end to end?",
        "Build me a system that decides which breaking-news push alerts to send to each user.",
        "Marketing has asked us for 'a churn model'. What ML solution would you actually propose?",
        "Autocomplete has to feel instant: 20 ms per keystroke at 60k requests a second. How would you approach it?",
        "An energy company runs 4,000 wind turbines. Architect the failure prediction for its crews.",
    ],
)
def test_a_question_that_asks_to_design_build_or_walk_through_a_system_asks_for_a_design(question):
    assert asks_for_design(question)


@pytest.mark.parametrize(
    "question",
    [
        "Only about 1 in 1,000 parts has a defect. How would you deal with the class imbalance when training?",
        "Your positive class is about 0.1% of the data. Walk me through how you would train and evaluate it.",
        "What privacy measures would you build into a recommender that uses browsing history?",
        "What does point-in-time correctness mean when you build training data from event logs?",
        "Concept question, no full system design needed. How would you choose negatives for a two-tower model?",
        "Can you explain how knowledge distillation works for an on-device intent classifier?",
    ],
)
def test_a_question_about_one_practice_asks_for_no_design(question):
    assert not asks_for_design(question)


def test_a_name_of_several_words_is_found_by_its_word_stems_in_order():
    names = ConceptNames(["Class imbalance", "class weights", "undersampling majority class"])
    assert names.named_in("Would you use class weighting or undersample? Class weights seem simpler.")
    assert names.named_in("How do you handle the imbalanced class... I mean the class imbalance here?")
    assert not names.named_in("The weights of each class are learned.")


def test_a_one_word_name_is_found_only_as_that_very_word():
    # Stemmed, "Transformers" would be named by "transformed copies", "productionization" by "production".
    assert not ConceptNames(["Transformers", "BERT"]).named_in("We enlarge the set with transformed copies.")
    assert not ConceptNames(["productionization"]).named_in("The model runs in production.")
    assert ConceptNames(["Transformers", "BERT"]).named_in("Would a fine-tuned BERT beat TF-IDF here?")
    assert ConceptNames(["Mean reciprocal rank", "MRR"]).named_in("What is MRR, and when does it mislead?")


@pytest.mark.parametrize(
    ("question", "ask"),
    [
        (
            "We run 300 robots in a warehouse. Design an ML system that ranks which pending orders to release next. "
            "It must run every 30 seconds.",
            "Design an ML system that ranks which pending orders to release next.",
        ),
        (
            "A clinic network books 12,000 appointments a day. The operations team wants a no-show risk score for "
            "each appointment. Design the system.",
            "The operations team wants a no-show risk score for each appointment.",
        ),
        (
            "Our churn model has an AUC of 0.82. What does that number tell a product manager?",
            "What does that number tell a product manager?",
        ),
        (
            "Design a duplicate-question detector for a Q&A site.",
            "Design a duplicate-question detector for a Q&A site.",
        ),
        ("", ""),
    ],
)
def test_the_ask_is_the_sentence_that_says_what_is_asked_in_words_of_its_own(question, ask):
    assert the_ask(question) == ask
