"""The web interview room (Gradio): the only module that imports gradio. Every action goes through app.web.room.Room."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr
import pandas as pd

from app.web.report import escape_text
from app.web.room import ALL_TOPICS, RANDOM, Room, RoomError, Snapshot, friendly

log = logging.getLogger(__name__)

THINKING = "_The interviewer is thinking…_"
MODES = [("Mock interview", "mock"), ("Concept drill", "drill")]
HISTORY_HEADERS = ["Date", "Mode", "Question", "Score (1-5)", "Status", "Session"]

CSS = """
.mi-tracker ol { list-style: none; padding-left: 0; margin: 0 0 .5rem 0; }
.mi-step { padding: .2rem .4rem; border-radius: 6px; }
.mi-current { font-weight: 600; background: var(--color-accent-soft); }
.mi-done { opacity: .75; }
.mi-pending { opacity: .55; }
.mi-sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
.mi-clock { padding: .3rem .5rem; border-radius: 6px; }
.mi-green { background: #e6f4ea; color: #1e4620; }
.mi-amber { background: #fff4ce; color: #5c4300; }
.mi-red { background: #fde7e9; color: #7a1020; }
.mi-move { font-weight: 600; }
#mi-status:empty { display: none; }
"""

# Keeps the step clock ticking in the page between server updates; colours follow the same thresholds as the server.
CLOCK_JS = """
const tick = () => {
  const el = element.querySelector('.mi-clock');
  if (!el) return;
  if (element.miStamp !== el.dataset.stamp) { element.miStamp = el.dataset.stamp; element.miT0 = Date.now(); }
  const left = Math.max(0, Number(el.dataset.left) - (Date.now() - element.miT0) / 1000);
  const budget = Number(el.dataset.budget);
  const s = Math.floor(left);
  const b = el.querySelector('b');
  if (b) b.textContent = Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
  const state = left <= 0 ? 'red' : (left <= budget * 0.25 ? 'amber' : 'green');
  el.classList.remove('mi-green', 'mi-amber', 'mi-red');
  el.classList.add('mi-' + state);
  const move = element.querySelector('.mi-move');
  if (move) move.hidden = state !== 'red';
};
if (!element.miTimer) element.miTimer = setInterval(tick, 1000);
"""


def user_of(request: gr.Request | None) -> str:
    """The signed-in user, or `local` when the app runs without a login."""
    return (request.username if request is not None else None) or "local"


def build_ui(room: Room, *, model_concurrency: int = 1) -> gr.Blocks:
    """The Blocks app: interview room, history and progress, answer review, and a small HTTP API."""
    model_group: dict[str, Any] = {"concurrency_id": "model", "concurrency_limit": model_concurrency}
    with gr.Blocks(title="ML system design mock interviewer") as demo:
        sid = gr.BrowserState(None, storage_key="mockinterview-session")
        pending = gr.State("")  # the message on its way from the box to the interviewer
        gr.Markdown("# ML system design mock interviewer")
        gr.Markdown(f"Model in use: **{room.backend_label}** · your answers stay on this server.")
        with gr.Tabs() as tabs:
            with gr.Tab("Interview room", id="room"):
                with gr.Accordion("New session", open=True) as start_panel:
                    with gr.Row():
                        mode = gr.Radio(MODES, value="mock", label="Mode")
                        scenario = gr.Dropdown(room.scenario_choices(), value=RANDOM, label="Scenario")
                        topic = gr.Dropdown(room.topic_choices(), value=ALL_TOPICS, label="Drill topic", visible=False)
                    own_question = gr.Textbox(
                        label="Or practise your own question (optional)",
                        lines=1,
                        max_length=room.engine.max_message_chars,
                    )
                    start_btn = gr.Button("Start", variant="primary", elem_id="mi-start")
                title = gr.Markdown("")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=300):
                        chat = gr.Chatbot(
                            label="Interview",
                            height=460,
                            feedback_options=None,
                            sanitize_html=True,
                            buttons=["copy"],
                            placeholder="Choose a mode and press Start.",
                            elem_id="mi-chat",
                        )
                        message = gr.Textbox(
                            label="Your answer",
                            placeholder="Type your answer. Shift+Enter (or the Send button) sends it.",
                            lines=3,
                            max_lines=12,
                            elem_id="mi-message",
                        )
                        with gr.Row():
                            send_btn = gr.Button("Send", variant="primary", min_width=80)
                            hint_btn = gr.Button("Hint", min_width=80)
                            next_btn = gr.Button("Next step", min_width=80)
                            end_btn = gr.Button("End interview", variant="stop", min_width=80)
                        status = gr.Markdown("", elem_id="mi-status")
                    with gr.Column(scale=1, min_width=240):
                        tracker = gr.HTML("", js_on_load=CLOCK_JS, elem_id="mi-tracker")
                final = gr.Markdown("", visible=False, elem_id="mi-final")
                scores = gr.BarPlot(
                    x="step", y="score", y_lim=[0, 4], label="Score per step (0-4)", visible=False, sort=None
                )
                with gr.Row():
                    download_md = gr.DownloadButton("Download report (Markdown)", visible=False, size="sm")
                    download_json = gr.DownloadButton("Download report (JSON)", visible=False, size="sm")
            with gr.Tab("History", id="history") as history_tab:
                history = gr.Dataframe(
                    headers=HISTORY_HEADERS, interactive=False, wrap=True, label="Past sessions", elem_id="mi-history"
                )
                with gr.Row():
                    resume_pick = gr.Dropdown([], label="Session to resume or look at", scale=3)
                    resume_btn = gr.Button("Resume", scale=1)
                    refresh_btn = gr.Button("Refresh", scale=1)
                mastery = gr.ScatterPlot(  # points: a first session is visible too
                    x="time", y="score", color="step", y_lim=[0, 4], label="Mastery per step over time (0-4)"
                )
            with gr.Tab("Answer review", id="review"):
                review_question = gr.Textbox(label="Interview question", lines=2)
                review_answer = gr.Textbox(label="Your answer", lines=12, max_lines=30)
                review_btn = gr.Button("Review my answer", variant="primary")
                review_out = gr.Markdown("")

        room_outputs = [sid, chat, tracker, title, final, scores, download_md, download_json, status, start_panel]

        def show(snap: Snapshot | None, note: str = "") -> dict[Any, Any]:
            """Every room component for one session (or for none)."""
            if snap is None:
                return {
                    sid: None,
                    chat: [],
                    tracker: "",
                    title: "",
                    final: gr.update(value="", visible=False),
                    scores: gr.update(visible=False),
                    download_md: gr.update(visible=False),
                    download_json: gr.update(visible=False),
                    status: note,
                    start_panel: gr.update(open=True),
                }
            md_file, json_file = room.report_files(snap.session_id)
            return {
                sid: snap.session_id,
                chat: snap.messages,
                tracker: snap.tracker,
                title: f"**{'Concept drill' if snap.mode == 'drill' else snap.title}**",
                final: gr.update(value=snap.final, visible=bool(snap.final)),
                scores: gr.update(
                    value=pd.DataFrame(snap.step_scores, columns=["step", "score"]) if snap.step_scores else None,
                    visible=bool(snap.step_scores),
                ),
                download_md: gr.update(value=str(md_file), visible=True),
                download_json: gr.update(value=str(json_file), visible=True),
                status: note,
                start_panel: gr.update(open=snap.ended),
            }

        def safe_show(session_id: Any, request: gr.Request | None, note: str = "") -> dict[Any, Any]:
            try:
                record = room.owned(session_id, user_of(request))
                return show(room.snapshot(record.id) if record else None, note)
            except Exception as exc:  # the page must always render
                log.exception("could not show session %s", session_id)
                return {status: friendly(exc)}

        def on_load(session_id: Any, request: gr.Request) -> dict[Any, Any]:
            return safe_show(session_id, request)

        def on_mode(chosen: str) -> tuple[Any, Any, Any]:
            drill = chosen == "drill"
            return gr.update(visible=not drill), gr.update(visible=drill), gr.update(visible=not drill)

        def on_start(chosen: str, scenario_id: str, topic_id: str, question: str, request: gr.Request) -> dict:
            try:
                new_id = room.start(user_of(request), chosen, scenario_id or RANDOM, question or "", topic_id)
            except Exception as exc:
                log.exception("could not start a session")
                return {status: friendly(exc)}
            return safe_show(new_id, request)

        def on_echo(text: str, session_id: Any, history_now: list, request: gr.Request) -> dict[Any, Any]:
            """Show the message at once, with the thinking line, even while the model serves someone else."""
            if room.owned(session_id, user_of(request)) is None:
                return {pending: "", status: "Start an interview first, then type your answer."}
            shown = [*(history_now or []), {"role": "user", "content": escape_text(text)}]
            return {message: "", pending: text, chat: [*shown, {"role": "assistant", "content": THINKING}], status: ""}

        def on_reply(text: str, session_id: Any, history_now: list, request: gr.Request) -> Iterator[dict[Any, Any]]:
            record = room.owned(session_id, user_of(request))
            if record is None or not text:
                yield {pending: ""}
                return
            shown = [m for m in (history_now or []) if m.get("content") != THINKING]
            reply = ""
            try:
                for piece in room.say(record.id, text):
                    reply += piece
                    yield {chat: [*shown, {"role": "assistant", "content": escape_text(reply)}]}
            except Exception as exc:
                if not isinstance(exc, RoomError):
                    log.exception("turn failed in session %s", record.id)
                update = safe_show(record.id, request, friendly(exc))
                if not _stored(room, record.id, text):
                    update[message] = text  # nothing is lost: the text goes back into the box
                yield {**update, pending: ""}
                return
            yield {**safe_show(record.id, request), pending: ""}

        def action(name: str) -> Any:
            def run(session_id: Any, request: gr.Request) -> dict[Any, Any]:
                record = room.owned(session_id, user_of(request))
                if record is None:
                    return {status: "Start an interview first."}
                try:
                    getattr(room, name)(record.id)
                except Exception as exc:
                    if not isinstance(exc, RoomError):
                        log.exception("%s failed in session %s", name, record.id)
                    return safe_show(record.id, request, friendly(exc))
                return safe_show(record.id, request)

            return run

        def narrate(session_id: Any, request: gr.Request) -> Iterator[dict[Any, Any]]:
            record = room.owned(session_id, user_of(request))
            if record is None or record.mode != "mock" or record.status != "ended":
                return
            yield {status: "Your scorecard is ready. The interviewer is now writing the feedback…"}
            try:
                room.narrate(record.id)
            except Exception:
                log.exception("feedback wording failed in session %s", record.id)
                yield {status: "The feedback below is the scorecard's own summary."}
                return
            yield safe_show(record.id, request)

        def on_history(request: gr.Request) -> tuple[Any, Any, Any]:
            user = user_of(request)
            rows = room.history(user)
            table = [
                [r.date, r.mode, r.title, "" if r.score is None else f"{r.score:.1f}", r.status, r.session_id]
                for r in rows
            ]
            choices = [
                (f"{r.date} · {r.title} · {r.status}", r.session_id) for r in rows if r.mode in ("mock", "drill")
            ]
            points = pd.DataFrame(room.mastery_points(user), columns=["time", "step", "score"])
            points["time"] = pd.to_datetime(points["time"])
            return (
                pd.DataFrame(table, columns=HISTORY_HEADERS),
                gr.update(choices=choices, value=choices[0][1] if choices else None),
                points,
            )

        def on_resume(picked: str | None, request: gr.Request) -> dict[Any, Any]:
            update = safe_show(picked, request, "" if picked else "Pick a session first.")
            update[tabs] = gr.Tabs(selected="room")
            return update

        def on_review(question: str, answer: str, request: gr.Request) -> str:
            try:
                return room.review(user_of(request), question or "", answer or "")
            except Exception as exc:
                if not isinstance(exc, RoomError):
                    log.exception("review failed")
                return f"**{friendly(exc)}**"

        demo.load(on_load, [sid], room_outputs, api_visibility="private")
        mode.change(on_mode, [mode], [scenario, topic, own_question], api_visibility="private")
        start_btn.click(on_start, [mode, scenario, topic, own_question], room_outputs, api_visibility="private")
        for trigger in (message.submit, send_btn.click):
            trigger(
                on_echo, [message, sid, chat], [message, pending, chat, status], api_visibility="private", queue=False
            ).then(
                on_reply,
                [pending, sid, chat],
                [*room_outputs, message, pending],
                api_visibility="private",
                **model_group,
            )
        hint_btn.click(action("hint"), [sid], room_outputs, api_visibility="private")
        next_btn.click(action("next_step"), [sid], room_outputs, api_visibility="private")
        end_btn.click(action("end"), [sid], room_outputs, api_visibility="private").then(
            narrate, [sid], room_outputs, api_visibility="private", **model_group
        )
        history_outputs = [history, resume_pick, mastery]
        history_tab.select(on_history, None, history_outputs, api_visibility="private")
        refresh_btn.click(on_history, None, history_outputs, api_visibility="private")
        resume_btn.click(on_resume, [resume_pick], [*room_outputs, tabs], api_visibility="private")
        review_btn.click(on_review, [review_question, review_answer], [review_out], api_visibility="private")
        _api(room, model_group)
    return demo


def _api(room: Room, model_group: dict[str, Any]) -> None:
    """Named HTTP endpoints (usable with gradio_client) over the same room: start, say, turns, end."""

    def start(mode: str = "mock", scenario: str = RANDOM, question: str = "", request: gr.Request = None) -> str:
        """Open a session; returns its id."""
        return room.start(user_of(request), mode, scenario, question)

    def say(session_id: str, text: str, request: gr.Request = None) -> str:
        """The interviewer's whole reply to one message."""
        record = room.owned(session_id, user_of(request))
        if record is None:
            raise gr.Error("No such session for this user.")
        try:
            return "".join(room.say(record.id, text))
        except RoomError as exc:
            raise gr.Error(str(exc)) from None

    def turns(session_id: str, request: gr.Request = None) -> list[dict[str, str]]:
        """The stored transcript of a session."""
        record = room.owned(session_id, user_of(request))
        if record is None:
            raise gr.Error("No such session for this user.")
        return [{"role": t.role, "content": t.content} for t in room.engine.repo.turns(record.id)]

    def end(session_id: str, request: gr.Request = None) -> dict[str, Any]:
        """End the session; returns the final report."""
        record = room.owned(session_id, user_of(request))
        if record is None:
            raise gr.Error("No such session for this user.")
        return room.end(record.id).model_dump(mode="json")

    gr.api(start, api_name="start")
    gr.api(say, api_name="say", **model_group)
    gr.api(turns, api_name="turns")
    gr.api(end, api_name="end", **model_group)


def _stored(room: Room, session_id: str, text: str) -> bool:
    """Whether the candidate's message made it into the database."""
    try:
        turns = room.engine.repo.turns(session_id)
    except Exception:
        return False
    return any(t.role == "candidate" and t.content == text for t in turns[-3:])


def launch(
    room: Room,
    *,
    host: str,
    port: int,
    auth: list[tuple[str, str]],
    model_concurrency: int = 1,
    announce: Callable[[str], Any] = print,
) -> None:
    """Serve the app until interrupted; announces the address to open once the page is ready."""
    demo = build_ui(room, model_concurrency=model_concurrency)
    demo.queue(default_concurrency_limit=4, max_size=64)
    _, local_url, _ = demo.launch(
        server_name=host,
        server_port=port or None,
        auth=auth or None,
        auth_message="Sign in to the mock interviewer." if auth else None,
        show_error=False,
        quiet=True,
        footer_links=["api"],
        css=CSS,
        prevent_thread_lock=True,
    )
    announce(f"Ready: open {local_url} in your browser (Ctrl-C stops the app).")
    try:
        demo.block_thread()
    finally:
        demo.close()
