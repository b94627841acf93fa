from app.grading.overclaim import OVERCLAIM_RATE, OVERCLAIM_SENTENCES, Overclaims, overclaiming


def test_certainty_words_mark_a_sentence_and_hedged_ones_do_not():
    assert overclaiming("Deep models always win on this kind of data.")
    assert overclaiming("There is no need for a holdout.")
    assert overclaiming("The platform guarantees consistency.")
    assert overclaiming("Monitoring isn't really necessary here.")
    assert not overclaiming("This is not always true for sparse features.")
    assert not overclaiming("It almost certainly drifts after a holiday.")
    assert not overclaiming("We retrain weekly and compare against last month's model.")


def test_overclaiming_is_a_habit_only_when_dense_enough():
    confident = [
        "Gradient boosting always wins here.",
        "There is no need for a baseline.",
        "The feature store guarantees consistency.",
        "We log features and labels.",
    ]
    habit = Overclaims.of(confident)
    assert len(habit.quotes) == OVERCLAIM_SENTENCES and habit.rate >= OVERCLAIM_RATE and habit.throughout
    # The same three sentences in a long, careful answer are a slip, not a habit.
    careful = confident + ["We compare the candidate against the current model on a held-out month."] * 60
    assert not Overclaims.of(careful).throughout
    # Two such sentences are never a habit, however short the answer.
    assert not Overclaims.of(confident[:2]).throughout
    assert not Overclaims.of([]).throughout and Overclaims.of([]).rate == 0.0
