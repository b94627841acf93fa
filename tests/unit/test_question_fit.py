"""Question fit: the contrasts that tell an answer to the asked question from an answer to another one."""

import numpy as np

from app.grading.topic import DIFFERENT_QUESTION, QuestionFit, Rival, best_rival


def fit(**values: float) -> QuestionFit:
    base = dict(asked=0.6, scenario_margin=-0.2, concept_margin=-0.1, echo=0.5, aboutness=0.4)
    return QuestionFit(**{**base, **values}, rival=None, subject=())


def test_an_answer_that_fits_the_asked_question_best_is_on_it():
    assert fit().probability < DIFFERENT_QUESTION and not fit().different_question


def test_an_answer_that_fits_a_rival_better_and_echoes_little_of_the_question_is_not():
    other = fit(asked=0.2, scenario_margin=0.3, concept_margin=0.2, echo=0.05, aboutness=0.0)
    assert other.different_question


def test_each_contrast_moves_the_judgement_the_right_way():
    start = fit(asked=0.4, scenario_margin=0.0, concept_margin=0.0, echo=0.3, aboutness=0.2).probability
    assert fit(asked=0.5, scenario_margin=0.0, concept_margin=0.0, echo=0.3, aboutness=0.2).probability < start
    assert fit(asked=0.4, scenario_margin=0.1, concept_margin=0.0, echo=0.3, aboutness=0.2).probability > start
    assert fit(asked=0.4, scenario_margin=0.0, concept_margin=0.1, echo=0.3, aboutness=0.2).probability > start
    assert fit(asked=0.4, scenario_margin=0.0, concept_margin=0.0, echo=0.5, aboutness=0.2).probability < start
    assert fit(asked=0.4, scenario_margin=0.0, concept_margin=0.0, echo=0.3, aboutness=0.4).probability < start


def test_a_paraphrase_of_the_asked_question_is_never_a_rival():
    question = np.array([1.0, 0.0])
    answer = np.array([0.0, 1.0])
    rivals = [Rival("scenario", "same", "same question"), Rival("scenario", "other", "another question")]
    matrix = np.array([[0.99, 0.14], [0.3, 0.8]])
    fit_value, index = best_rival(rivals, matrix, question, answer, [False, False])
    assert index == 1 and fit_value == 0.8


def test_a_rival_that_names_the_asked_questions_subject_is_not_a_rival():
    question = np.array([1.0, 0.0])
    answer = np.array([0.0, 1.0])
    rivals = [Rival("concept", "fraud-drift", "drift in a fraud model"), Rival("scenario", "feed", "a video feed")]
    matrix = np.array([[0.3, 0.95], [0.2, 0.6]])
    fit_value, index = best_rival(rivals, matrix, question, answer, [True, False])
    assert index == 1 and fit_value == 0.6


def test_the_feedback_names_a_bank_question_only_when_the_answer_fits_it():
    from app.grading.scorecard import answers_instead

    rival = Rival("concept", "multi-objective", "How would you rank a feed that balances clicks and watch time? More.")
    subject = ("seed", "lookalike", "audience", "campaign", "advertiser")
    # Closer to a bank question than to the asked one, yet far from both: a problem the bank does not have.
    near = QuestionFit(
        asked=0.42,
        scenario_margin=0.05,
        concept_margin=0.1,
        echo=0.3,
        aboutness=0.26,
        rival=rival,
        subject=subject,
        named=subject,
    )
    assert not near.different_question
    assert answers_instead(near) == "a problem about seed, lookalike, audience, campaign"
    fits = QuestionFit(
        asked=0.2, scenario_margin=0.3, concept_margin=0.3, echo=0.05, aboutness=0.0, rival=rival, subject=subject
    )
    assert fits.different_question
    assert answers_instead(fits) == "How would you rank a feed that balances clicks and watch time?"


def test_the_feedback_names_only_words_the_answer_keeps_coming_back_to():
    from app.grading.scorecard import answers_instead

    # Rare words used once ("won", "straight") say nothing of what an answer is about.
    fit = QuestionFit(
        asked=0.6,
        scenario_margin=-0.2,
        concept_margin=-0.2,
        echo=0.3,
        aboutness=0.0,
        rival=None,
        subject=("artificially", "straight", "won", "gender"),
        named=("gender",),
    )
    assert answers_instead(fit) == "another problem than the one asked"
    # A bank question whose expectations the answer meets better than the asked one's is named instead.
    rival_list = "Design the fraud model for card payments. It must answer in 100 ms."
    assert answers_instead(fit, rival_list) == "Design the fraud model for card payments."


def test_a_close_rival_is_not_taken_over_what_the_answer_meets_of_its_own_question():
    from app.grading.scorecard import own_list_holds

    assert own_list_holds(0.38, 0.125, "scenario")
    assert not own_list_holds(0.38, 0.3, "scenario")  # the rival's list is met about as well
    assert not own_list_holds(0.1, 0.0, "scenario")  # meets neither well: the wording decides
    assert not own_list_holds(0.38, None, "scenario")  # the rival has no list to compare
    assert not own_list_holds(0.5, 0.0, "concept")  # a concept's few key points are too coarse to outweigh it alone


def test_a_concept_answer_meeting_its_key_points_on_point_throughout_is_not_taken_for_a_close_concept():
    from app.grading.scorecard import own_list_holds

    # An A/B testing answer whose words sit closer to the bandits question: 3 of 8 key points, 5 of 7 sentences on it.
    assert own_list_holds(0.375, 0.125, "concept", on_point=0.714)
    assert not own_list_holds(0.375, 0.125, "concept", on_point=0.2)  # mostly about something else
    assert not own_list_holds(0.125, 0.0, "concept", on_point=0.9)  # too few key points met
    assert not own_list_holds(0.375, 0.375, "concept", on_point=0.9)  # the close concept's points met as well
    assert not own_list_holds(0.375, None, "concept", on_point=0.9)
