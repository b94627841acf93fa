"""The interview room in a real browser against the real app and the bundled model."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.settings import PROJECT_DIR
from tests.e2e.conftest import shot
from tests.served_app import Served

pytestmark = pytest.mark.e2e

REPLY_TIMEOUT_MS = 300_000  # one turn of the local model on two shared cores, with room to spare
FEEDBACK_TIMEOUT_MS = 600_000  # the model words the whole scorecard's feedback
ANSWER = (
    "The goal is to help people find content they enjoy so they come back; the business metric is weekly "
    "active users, and offline I would track recall@50 of the candidate stage."
)


def messages(page: Page):
    return page.locator("#mi-chat .message-row")


def start(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_role("button", name="Start", exact=True).click()
    # The opening question is the interviewer's first turn: on a loaded machine it can take longer than a click.
    expect(page.locator("#mi-tracker .mi-current")).to_contain_text("1.", timeout=REPLY_TIMEOUT_MS)
    expect(messages(page)).to_have_count(1)


def send(page: Page, text: str) -> None:
    count = messages(page).count()
    box = page.get_by_label("Your answer")
    box.fill(text)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(messages(page)).to_have_count(count + 2)
    expect(page.locator("#mi-chat")).not_to_contain_text("thinking", timeout=REPLY_TIMEOUT_MS)


def test_a_whole_mock_interview_hint_next_end_and_report(served: Served, page: Page) -> None:
    start(page, served.url)
    shot(page, "01-interview-started")
    box = page.get_by_label("Your answer")
    box.fill(ANSWER)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#mi-chat")).to_contain_text("thinking")  # the visible working state
    shot(page, "02-interviewer-thinking")
    expect(page.locator("#mi-chat")).not_to_contain_text("thinking", timeout=REPLY_TIMEOUT_MS)
    expect(messages(page)).to_have_count(3)
    reply = messages(page).nth(2).inner_text().strip()
    assert len(reply) > 10
    expect(page.locator("#mi-tracker")).to_contain_text(re.compile(r"\d+ of \d+ points covered"))
    shot(page, "03-reply-streamed")

    page.get_by_role("button", name="Hint", exact=True).click()
    expect(messages(page).last).to_contain_text("Hint:")
    page.get_by_role("button", name="Next step", exact=True).click()
    expect(page.locator("#mi-tracker .mi-current")).to_contain_text("2.")
    expect(page.locator("#mi-tracker .mi-done")).to_have_count(1)
    shot(page, "04-step-two")

    page.get_by_role("button", name="End interview", exact=True).click()
    final = page.locator("#mi-final")
    expect(final).to_contain_text("Overall", timeout=REPLY_TIMEOUT_MS)
    expect(final).to_contain_text("Model answer outline")
    expect(final).to_contain_text("Study plan")
    expect(final.locator("blockquote").first).to_contain_text("weekly active users")  # evidence, quoted
    shot(page, "05-scorecard")
    expect(page.locator("#mi-status")).not_to_contain_text("writing the feedback", timeout=FEEDBACK_TIMEOUT_MS)
    expect(final).to_contain_text("Feedback")
    shot(page, "05b-scorecard-with-feedback")

    with page.expect_download() as md_download:
        page.get_by_role("button", name="Download report (Markdown)").click()
    markdown = Path(md_download.value.path()).read_text(encoding="utf-8")
    assert "## Transcript" in markdown and "weekly active users" in markdown and "Overall" in markdown
    with page.expect_download() as json_download:
        page.get_by_role("button", name="Download report (JSON)").click()
    report = json.loads(Path(json_download.value.path()).read_text(encoding="utf-8"))
    assert report["status"] == "ended"
    assert [t["role"] for t in report["transcript"]][:3] == ["interviewer", "candidate", "interviewer"]
    assert report["transcript"][1]["content"] == ANSWER
    assert 1 <= report["report"]["scorecard"]["overall"] <= 5

    page.get_by_role("tab", name="History").click()
    expect(page.locator("#mi-history")).to_contain_text("ended")
    shot(page, "06-history")


def test_reload_resumes_the_interview(served: Served, page: Page) -> None:
    start(page, served.url)
    send(page, "We want to cut fraud losses while keeping false declines of good customers rare.")
    before = page.locator("#mi-chat").inner_text()
    page.reload()
    expect(page.locator("#mi-chat")).to_contain_text("false declines of good customers rare")
    expect(messages(page)).to_have_count(3)
    assert page.locator("#mi-chat").inner_text() == before
    expect(page.locator("#mi-tracker .mi-current")).to_contain_text("1.")
    shot(page, "07-resumed-after-reload")


def test_html_in_a_message_is_shown_not_run(served: Served, page: Page) -> None:
    start(page, served.url)
    payload = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script><b>loud</b>'
    send(page, payload)
    chat = page.locator("#mi-chat")
    expect(chat).to_contain_text("<script>window.pwned=2</script>")
    expect(chat).to_contain_text("<b>loud</b>")
    assert page.evaluate("window.pwned") is None
    assert chat.locator("img[src='x']").count() == 0 and chat.locator("b", has_text="loud").count() == 0
    shot(page, "08-html-inert")


def test_answer_review_tab(served: Served, page: Page) -> None:
    page.goto(served.url)
    page.get_by_role("tab", name="Answer review").click()
    page.get_by_label("Interview question").fill("Design a spam filter for a large email service.")
    page.get_by_label("Your answer", exact=True).last.fill(
        "I would optimise precision at a fixed recall because a false positive hides real mail. Labels come from "
        "user spam reports, and I would split by time to avoid leakage, then train gradient boosted trees."
    )
    page.get_by_role("button", name="Review my answer").click()
    expect(page.get_by_text(re.compile(r"Overall \d\.\d / 5"))).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    shot(page, "09-answer-review")


def test_concept_drill_in_the_room(served: Served, page: Page) -> None:
    page.goto(served.url)
    page.get_by_label("Concept drill").check()
    expect(page.get_by_label("Drill topic")).to_be_visible()
    page.get_by_role("button", name="Start", exact=True).click()
    expect(messages(page).first).to_contain_text("Concept drill")
    send(page, "It trades a little accuracy for a large gain in speed, which matters at serving time.")
    expect(messages(page)).to_have_count(3)
    shot(page, "10-concept-drill")


def test_narrow_window_keeps_every_control_reachable(served: Served, page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    start(page, served.url)
    for name in ("Send", "Hint", "Next step", "End interview"):
        button = page.get_by_role("button", name=name, exact=True)
        button.scroll_into_view_if_needed()
        expect(button).to_be_visible()
    page.get_by_label("Your answer").focus()
    page.keyboard.press("Tab")  # the next control after the answer box is the Send button
    assert page.evaluate("document.activeElement.textContent.trim()") == "Send"
    shot(page, "11-narrow-window")


def test_serving_off_loopback_without_a_login_is_refused(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from app.cli.main import main; main()", "serve", "--host", "0.0.0.0"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        env={"MOCKINTERVIEW_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"},
    )
    assert result.returncode == 2
    assert "without a login" in result.stderr and "Traceback" not in result.stderr


def test_a_login_guards_the_page_and_the_api(e2e_data_dir, served: Served, page: Page) -> None:
    guarded = Served(e2e_data_dir, "--auth", "ana:correct-horse")
    try:
        page.goto(guarded.url)
        expect(page.get_by_role("button", name=re.compile("Login", re.I))).to_be_visible()
        shot(page, "12-login")
        page.get_by_label(re.compile("username", re.I)).fill("ana")
        page.get_by_label(re.compile("password", re.I)).fill("wrong")
        page.get_by_role("button", name=re.compile("Login", re.I)).click()
        expect(page.get_by_text(re.compile("incorrect", re.I))).to_be_visible()
        page.get_by_label(re.compile("username", re.I)).fill("ana")  # a failed attempt clears the form
        page.get_by_label(re.compile("password", re.I)).fill("correct-horse")
        page.get_by_role("button", name=re.compile("Login", re.I)).click()
        expect(page.get_by_role("button", name="Start", exact=True)).to_be_visible(timeout=60_000)
        with socket.create_connection(("127.0.0.1", guarded.port)) as sock:
            sock.sendall(b"GET /gradio_api/info HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            status_line = sock.recv(200).split(b"\r\n", 1)[0]
        assert b" 401 " in status_line or b" 403 " in status_line
    finally:
        guarded.stop()
