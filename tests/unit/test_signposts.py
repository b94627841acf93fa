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
        # What is predicted, and for which unit, in plain words.
        ("For every open ticket I'd give a probability that it gets escalated within a day.", "ml_task_framing"),
        ("We predict, for each warehouse, the number of pallets arriving tomorrow.", "ml_task_framing"),
        ("Then rank each hotel by how likely the guest is to book it tonight.", "ml_task_framing"),
        ("Target: kWh used by each household over the next 24 hours.", "ml_task_framing"),
        # Which examples are positive; offline measures stated as who was caught; a heading with "=".
        ("A shipment is positive if the customer files a damage claim within 14 days.", "label_definition"),
        ("Positive = the viewer watched at least half of the episode.", "label_definition"),
        ("Offline: MAE in minutes on the last two months.", "offline_metrics"),
        ("Of the tenants who actually left, how many were in our top 5% each month?", "offline_metrics"),
        ("I'd count how many of the real defaults land in the riskiest decile.", "offline_metrics"),
        ("Error in euros on the held-out weeks is what I'd look at first.", "offline_metrics"),
        # Where and how often the model runs.
        ("Scores are recomputed nightly and written to the CRM.", "serving_mode"),
        ("The model sits behind a small REST service next to checkout.", "serving_mode"),
        ("It has to run on the line itself, next to the camera, not in the cloud.", "serving_mode"),
        # Segments, baselines, sources and what the organisation cares about, in plain words.
        ("I'd check the error separately for weekday and weekend shifts.", "segment_analysis"),
        ("Recall per language, since the Polish traffic is small.", "segment_analysis"),
        ("The current hand-written rules are the bar the model has to beat.", "baseline_first"),
        ("The first version would just be last week's count for the same hour.", "baseline_first"),
        ("Every dispatcher action is logged with a timestamp.", "data_sources"),
        ("The signals come from the meter readings and the billing system.", "data_sources"),
        ("The hospital already has six years of discharge records.", "data_sources"),
        ("The clinic cares about empty chairs more than anything.", "business_goal"),
        ("For the insurer it's about paying out less on claims that should never be paid.", "business_goal"),
        ("So yeah, the nurses can only call about thirty patients a day.", "user_need_product_impact"),
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
        # A prediction without its unit, a count without a prediction, a topic only named.
        ("Predicting demand is hard in general.", "ml_task_framing"),
        ("For each store we keep the last 90 days of sales.", "ml_task_framing"),
        ("Reviews were mostly positive about the new layout.", "label_definition"),
        ("Monitoring is important, especially every week.", "serving_mode"),
        ("We should think about segments too.", "segment_analysis"),
        ("Data quality matters a lot.", "data_sources"),
        ("Start with the business goal.", "baseline_first"),
    ],
)
def test_a_statement_of_something_else_signposts_nothing(sentence, item):
    assert item not in signposted_items(sentence)
