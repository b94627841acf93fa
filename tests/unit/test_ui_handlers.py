"""The web room's handlers, in-process against a fake room: what each button does to the screen, and that no
message is lost when a turn fails."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from app.web.room import BUSY_MESSAGE, HistoryRow, Reviewed, RoomError, Snapshot
from app.web.ui import THINKING, RoomHandlers, RoomView

VIEW = RoomView(*[f"<{name}>" for name in RoomView.__dataclass_fields__])
ANA = SimpleNamespace(username="ana")


@dataclass
class FakeRoom:
    """The room service's methods the handlers call, scripted; every call is recorded."""

    sessions: dict[str, SimpleNamespace] = field(default_factory=dict)
    replies: list[str] = field(default_factory=list)
    fail_say: Exception | None = None
    fail_narrate: bool = False
    stored: set[str] = field(default_factory=set)
    calls: list[tuple[str, Any]] = field(default_factory=list)

    def owned(self, session_id: Any, user: str) -> SimpleNamespace | None:
        record = self.sessions.get(session_id)
        return record if record is not None and record.user == user else None

    def snapshot(self, session_id: str) -> Snapshot:
        record = self.sessions[session_id]
        return Snapshot(session_id, record.mode, "Video feed", [{"role": "assistant", "content": "Q?"}], "<ol/>",
                        record.status == "ended")  # fmt: skip

    def report_files(self, session_id: str) -> tuple[Path, Path]:
        return Path(f"/tmp/{session_id}.md"), Path(f"/tmp/{session_id}.json")

    def start(self, user: str, mode: str, choice: str, question: str, topic: str) -> str:
        if question == "boom":
            raise RoomError("Your question is too long; keep it under 10 characters.")
        self.sessions["s2"] = SimpleNamespace(id="s2", user=user, mode=mode, status="active")
        return "s2"

    def say(self, session_id: str, text: str) -> Any:
        self.calls.append(("say", text))
        if self.fail_say is not None:
            raise self.fail_say
        yield from self.replies

    def has_message(self, session_id: str, text: str) -> bool:
        return text in self.stored

    def hint(self, session_id: str) -> str:
        self.calls.append(("hint", session_id))
        return "Hint: think about the users."

    def narrate(self, session_id: str) -> None:
        self.calls.append(("narrate", session_id))
        if self.fail_narrate:
            raise RuntimeError("model down")

    def history(self, user: str) -> list[HistoryRow]:
        return [HistoryRow("s1", "2026-12-01 10:00", "mock", "Video feed", 3.2, "ended")]

    def mastery_points(self, user: str) -> list[dict[str, Any]]:
        return [{"time": "2026-12-01T10:00:00", "step": "1. Clarify", "score": 2.0}]

    def review(self, user: str, question: str, answer: str) -> Reviewed:
        if not answer:
            raise RoomError("Paste an answer to review.")
        return Reviewed("**Overall 3.0/5**", [("Batch inference (inference)", "batch-inference")])


def handlers(**room: Any) -> tuple[RoomHandlers, FakeRoom]:
    fake = FakeRoom(**room)
    fake.sessions["s1"] = SimpleNamespace(id="s1", user="ana", mode="mock", status="active")
    return RoomHandlers(fake, VIEW), fake  # type: ignore[arg-type]


def test_a_message_shows_at_once_with_the_thinking_line_and_the_box_empties():
    h, _ = handlers()
    update = h.on_echo("My <b>answer</b>", "s1", [{"role": "assistant", "content": "Q?"}], ANA)
    assert update[VIEW.message] == "" and update[VIEW.pending] == "My <b>answer</b>"
    shown = update[VIEW.chat]
    assert shown[-2] == {"role": "user", "content": "My &lt;b&gt;answer&lt;/b&gt;"}  # displayed, never run
    assert shown[-1]["content"] == THINKING


def test_without_a_session_the_candidate_is_told_to_start_one():
    h, fake = handlers()
    assert h.on_echo("hello", None, [], ANA)[VIEW.status].startswith("Start an interview first")
    assert h.on_echo("hello", "s1", [], SimpleNamespace(username="bo"))[VIEW.pending] == ""  # not bo's session
    assert h.action("hint")(None, ANA) == {VIEW.status: "Start an interview first."}
    assert fake.calls == []


def test_the_reply_streams_in_pieces_then_the_whole_screen_refreshes():
    h, _ = handlers(replies=["What ", "is the <goal>?"])
    updates = list(h.on_reply("text", "s1", [{"role": "assistant", "content": THINKING}], ANA))
    assert [u[VIEW.chat][-1]["content"] for u in updates[:2]] == ["What ", "What is the &lt;goal&gt;?"]
    assert all(m["content"] != THINKING for m in updates[0][VIEW.chat])
    final = updates[-1]
    assert final[VIEW.pending] == "" and final[VIEW.sid] == "s1" and final[VIEW.status] == ""


def test_a_failed_turn_says_why_and_gives_back_a_message_that_was_not_stored():
    h, _ = handlers(fail_say=RoomError(BUSY_MESSAGE))
    final = list(h.on_reply("my answer", "s1", [], ANA))[-1]
    assert final[VIEW.status] == BUSY_MESSAGE and final[VIEW.message] == "my answer" and final[VIEW.pending] == ""


def test_a_failed_turn_whose_message_was_stored_does_not_give_it_back():
    h, _ = handlers(fail_say=RuntimeError("disk full"), stored={"my answer"})
    final = list(h.on_reply("my answer", "s1", [], ANA))[-1]
    assert VIEW.message not in final and "saved" in final[VIEW.status]  # one calm sentence, no trace


def test_buttons_call_the_room_and_refresh_the_screen():
    h, fake = handlers()
    update = h.action("hint")("s1", ANA)
    assert fake.calls == [("hint", "s1")] and update[VIEW.sid] == "s1"


def test_start_opens_the_new_session_or_says_what_is_wrong():
    h, _ = handlers()
    assert h.on_start("mock", "random", "all", "", ANA)[VIEW.sid] == "s2"
    refused = h.on_start("mock", "random", "all", "boom", ANA)
    assert refused == {VIEW.status: "Your question is too long; keep it under 10 characters."}


def test_feedback_wording_says_when_it_starts_and_falls_back_calmly():
    h, fake = handlers()
    fake.sessions["s1"].status = "ended"
    updates = list(h.narrate("s1", ANA))
    assert "writing the feedback" in updates[0][VIEW.status] and updates[-1][VIEW.sid] == "s1"
    fake.fail_narrate = True
    updates = list(h.narrate("s1", ANA))
    assert updates[-1] == {VIEW.status: "The feedback below is the scorecard's own summary."}
    fake.sessions["s1"].mode = "drill"
    assert list(h.narrate("s1", ANA)) == []  # only mock interviews get worded feedback


def test_history_lists_sessions_and_resume_opens_the_room_tab():
    h, _ = handlers()
    table, picker, points = h.on_history(ANA)
    assert list(table["Session"]) == ["s1"] and picker["value"] == "s1" and len(points) == 1
    update = h.on_resume("s1", ANA)
    assert update[VIEW.sid] == "s1" and update[VIEW.tabs] is not None


def test_review_shows_the_scorecard_or_one_sentence():
    h, _ = handlers()
    card, row, picker = h.on_review("Q?", "An answer", ANA)
    assert card == "**Overall 3.0/5**" and row["visible"] and picker["value"] == "batch-inference"
    card, row, picker = h.on_review("Q?", "", ANA)
    assert card == "**Paste an answer to review.**" and not row["visible"]


def test_the_queue_waits_longer_between_checks_when_idle():
    import gradio as gr

    from app.web.ui import QUEUE_IDLE_POLL_S, QUEUE_PROGRESS_POLL_S, calm_queue

    with gr.Blocks() as demo:
        gr.Textbox()
    demo.queue()
    assert demo._queue.sleep_when_free < QUEUE_IDLE_POLL_S  # Gradio's own: 1 ms
    calm_queue(demo)
    assert demo._queue.sleep_when_free == QUEUE_IDLE_POLL_S
    assert demo._queue.progress_update_sleep_when_free == QUEUE_PROGRESS_POLL_S
    calm_queue(gr.Blocks())  # no queue yet: nothing to change, no error
