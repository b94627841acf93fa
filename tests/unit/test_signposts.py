import pytest

from app.grading.signposts import signposted_items

FEATURES = "user_item_interaction_features"


@pytest.mark.parametrize(
    ("sentence", "item"),
    [
        ("Model: GBDT, fast and good on tabular data.", "model_choice_justified"),
        ("The main model would be a dual encoder trained on past email and reply pairs.", "model_choice_justified"),
        ("For the model, a pretrained image-text encoder fine-tuned on our own labels.", "model_choice_justified"),
        ("Features: sender reputation over 30 days, SPF and DKIM results, recipient count.", FEATURES),
        ("Features include debt-to-income ratio, recent credit inquiries and card utilization.", FEATURES),
        ("The business goal is lower processing cost per invoice and fewer payment errors.", "business_goal"),
        ("The lender's objective is profit from approved loans within the committee's risk limits.", "business_goal"),
        ("The label is an accepted invitation within seven days of the suggestion.", "label_definition"),
        ("Data sources: the CRM, the website analytics and an enrichment vendor.", "data_sources"),
        ("The training data would be two years of order lines aggregated by hour and wave.", "data_sources"),
        ("I'd frame it as retrieval over a fixed set of vetted responses.", "ml_task_framing"),
        ("Offline metrics: recall at 1% false positive rate and PR-AUC per merchant segment.", "offline_metrics"),
    ],
)
def test_a_sentence_that_names_and_fills_a_slot_signposts_its_item(sentence, item):
    assert item in signposted_items(sentence)


@pytest.mark.parametrize(
    ("sentence", "item"),
    [
        # A passive or a state describes the slot, it does not fill it.
        ("The model is retrained weekly and promoted only if it beats the current one.", "model_choice_justified"),
        ("Labels will be drawn by inspectors in an annotation tool.", "label_definition"),
        ("Those labels are noisy because agents close tickets that were never theirs.", "label_definition"),
        # Who makes the labels is how they are produced, not what they are.
        ("Labels come from our trust and safety reviewers, who follow a written policy.", "label_definition"),
        # The task restated is not the business goal.
        ("The goal is to predict which members will accept an invitation this week.", "business_goal"),
        # A signpost with nothing after it says nothing.
        ("The model is simple.", "model_choice_justified"),
        # The slot's word elsewhere in the sentence is not a signpost.
        ("We compare the new model with the old one on last month's traffic.", "model_choice_justified"),
    ],
)
def test_a_sentence_that_only_mentions_or_describes_a_slot_signposts_nothing(sentence, item):
    assert item not in signposted_items(sentence)


def test_a_plain_sentence_signposts_nothing():
    assert signposted_items("People talk to the speaker from across the kitchen and expect it to hear them.") == set()


@pytest.mark.parametrize(
    ("sentence", "item"),
    [
        (
            "Applicants want a fast decision in the app instead of waiting days for an underwriter.",
            "user_need_product_impact",
        ),
        (
            "Shoppers rely on star ratings to decide, and fake reviews make bad products look good.",
            "user_need_product_impact",
        ),
        ("Offline we'd use recall at 20 on invites accepted in the following week.", "offline_metrics"),
        ("It needs to be fast since chat is live, so under 50 ms per message.", "latency_realtime_vs_batch"),
        ("Real-time, has to return in <50 ms at checkout.", "latency_realtime_vs_batch"),
        ("A board comes every two seconds, so inference must finish in under one second.", "latency_realtime_vs_batch"),
        ("The classifier has to be cheap, a few milliseconds per message on CPU.", "latency_realtime_vs_batch"),
        ("Nobody needs the invoices in seconds, so processing can run asynchronously.", "latency_realtime_vs_batch"),
        ("Prices refresh often, so this is a micro-batch job over the city grid.", "latency_realtime_vs_batch"),
        ("Defective boards are about 0.5% of production, and some defect types are rarer.", "class_skew"),
        ("Maybe 3% of reviews are fake, so precision at the top of the list matters.", "class_skew"),
        ("Billing is about 70% of tickets while security is under 2% of them.", "class_skew"),
        ("Skew: maybe 1 in 50,000 logins is a takeover.", "class_skew"),
        ("More buying after search, so search conversion rate is basically the north star.", "business_goal"),
        ("The plant wants to cut the cost of defective boards that reach customers.", "business_goal"),
        ("What we really want is more riders completing trips in the evening peak.", "business_goal"),
        (
            "We set the threshold where expected profit is highest, trading approvals against losses.",
            "metric_tradeoffs",
        ),
        ("I'd model it as predicting for each notification the probability the user opens it.", "ml_task_framing"),
        ("Train a BERT classifier that labels each chat message as toxic or not toxic.", "ml_task_framing"),
        ("The publisher makes money from subscriptions, so the real goal is a daily reading habit.", "business_goal"),
    ],
)
def test_a_statement_that_fills_a_slot_without_naming_it_signposts_its_item(sentence, item):
    assert item in signposted_items(sentence)


@pytest.mark.parametrize(
    ("sentence", "item"),
    [
        ("Users click on about 3% of the suggestions they see in a session.", "user_need_product_impact"),
        ("Training uses the events within 30 days of each label, nothing older.", "latency_realtime_vs_batch"),
        ("Riders want a car within a few minutes, wherever they are in the city.", "latency_realtime_vs_batch"),
        ("The label is whether the user opens the notification within an hour.", "latency_realtime_vs_batch"),
        ("Train on a daily batch of new labels, keeping the last month.", "latency_realtime_vs_batch"),
        ("Billing and technical questions are about 70% of all the tickets we get.", "class_skew"),
        ("I'd downsample negatives to about 5% of the training set for speed.", "class_skew"),
        ("We keep a long-term holdout of 1% of users for three months.", "class_skew"),
        ("The model is the main part of the pipeline we retrain weekly.", "business_goal"),
        ("The threshold matters less than the labels.", "metric_tradeoffs"),
    ],
)
def test_a_statement_of_something_else_signposts_nothing(sentence, item):
    assert item not in signposted_items(sentence)
