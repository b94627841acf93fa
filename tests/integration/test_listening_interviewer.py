"""Scripted candidates from the blind conversation set through the real engine and bundled model, read by the
transcript judge: followed when they move ahead, never asked again what they covered, told why not and offered a
hint when they ask for the answer, and brought back to the question without the off-topic subject being engaged."""

from dataclasses import replace

import pytest

from app.container import Container
from app.evaluation.conversations import evaluate, load_cases
from app.llm.factory import build_llm
from app.settings import PROJECT_DIR, load_settings
from tests.support import real_embedder

pytestmark = pytest.mark.integration

CASES = PROJECT_DIR / "eval" / "cases" / "conversations_blind.jsonl"


def test_blind_candidates_pass_their_own_expectations_with_the_real_model(tmp_path):
    # A strong candidate who moves ahead (all seven turns), then an off-topic candidate and an answer seeker, each
    # cut to the turns that show the behaviour asserted below (the rest of their scripts repeats it).
    wanted = {"cb-01": 7, "cb-08": 3, "cb-09": 4}
    cases = [replace(c, turns=c.turns[: wanted[c.id]]) for c in load_cases(CASES) if c.id in wanted]
    assert len(cases) == 3 and len(cases[0].turns) == 7
    settings = load_settings(data_dir=tmp_path / "data")
    container = Container(settings, llm=build_llm(settings), embedder=real_embedder())
    try:
        container.ensure_knowledge()
        report = evaluate(container.interviewer(), cases)
    finally:
        container.close()
    by_id = {c["id"]: c for c in report["cases"]}
    assert report["reasks"] == 0 and report["identical_replies"] == 0
    assert by_id["cb-08"]["off_topic_follows"] == 0
    assert by_id["cb-01"]["steps_reached"] >= 6 and by_id["cb-01"]["band"] == "strong"
    seeker = [t for t in by_id["cb-09"]["turns"] if t["action"] == "offer_hint"]
    assert seeker and all("hint" in t["reply"] for t in seeker)
    redirects = [t["reply"] for t in by_id["cb-08"]["turns"] if t["action"] == "redirect"]
    assert redirects and all("stock photo" in r.lower() and "kube" not in r.lower() for r in redirects)
