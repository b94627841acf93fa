"""The Knowledge tab in a real browser against the real app: search, read a concept, and open one from a scorecard."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from app.knowledge.base import load_knowledge
from app.settings import PROJECT_DIR
from tests.e2e.conftest import shot
from tests.served_app import Served

pytestmark = pytest.mark.e2e

KB = load_knowledge(PROJECT_DIR / "knowledge")
BATCH = KB.concepts["batch-inference"]
SCORECARD_TIMEOUT_MS = 120_000  # ending an interview scores it at once, without the model


def knowledge_tab(page: Page):
    return page.get_by_role("tab", name="Knowledge")


def expect_studied(page: Page, title: str) -> None:
    """The Knowledge tab is in front, with that concept in the reader and none of its interviewer-only text."""
    expect(knowledge_tab(page)).to_have_attribute("aria-selected", "true")
    reader = page.locator("#mi-kb-reader")
    expect(reader.get_by_role("heading", name=title, exact=True)).to_be_visible()
    expect(reader).to_contain_text("Key points")
    concept = next(c for c in KB.concepts.values() if c.title == title)
    text = reader.inner_text()
    assert not any(secret[:40] in text for secret in [*concept.probes, *concept.red_flags])
    assert "Probes" not in text and "Red flags" not in text


def test_search_ranks_passages_and_opens_a_whole_concept(served: Served, page: Page) -> None:
    page.goto(served.url)
    knowledge_tab(page).click()
    results = page.locator("#mi-kb-results")
    page.get_by_label("Search the knowledge base").fill("   ")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(results).to_contain_text("Type a few words")

    page.get_by_label("Search the knowledge base").fill("precompute predictions nightly for every user")
    page.get_by_label("Search the knowledge base").press("Enter")
    expect(results).to_contain_text("Inference > Batch inference")
    expect(results.locator("ol > li")).to_have_count(8)
    expect(results.locator("ol > li").first).to_contain_text(re.compile(r"\S+ > \S+"))  # a heading path
    shot(page, "20-knowledge-search")

    page.get_by_role("radio", name=re.compile(r"\d+\. Inference > Batch inference")).check()
    expect_studied(page, BATCH.title)
    reader = page.locator("#mi-kb-reader")
    expect(reader).to_contain_text(BATCH.explanation[:50])
    expect(reader).to_contain_text(BATCH.key_points[0])
    shot(page, "21-knowledge-concept")


def test_a_study_plan_item_opens_in_the_knowledge_tab(served: Served, page: Page) -> None:
    page.goto(served.url)
    page.get_by_role("button", name="Start", exact=True).click()
    expect(page.locator("#mi-chat .message-row")).to_have_count(1)
    page.get_by_role("button", name="End interview", exact=True).click()
    expect(page.locator("#mi-final")).to_contain_text("Study plan", timeout=SCORECARD_TIMEOUT_MS)
    picker = page.get_by_label("Study plan: concepts to read")
    expect(picker).to_be_visible()
    label = picker.input_value()
    title = re.sub(r" \([^()]*\)$", "", label)
    assert title in {c.title for c in KB.concepts.values()}
    shot(page, "22-study-plan")

    page.get_by_role("button", name="Open in Knowledge").click()
    expect_studied(page, title)
    shot(page, "23-study-item-opened")

    page.get_by_role("tab", name="Interview room").click()  # the button works again once the tab was left
    page.get_by_role("button", name="Open in Knowledge").click()
    expect_studied(page, title)


def test_a_concept_link_opens_that_concept(served: Served, page: Page) -> None:
    page.goto(f"{served.url}?concept={BATCH.id}")
    expect_studied(page, BATCH.title)
