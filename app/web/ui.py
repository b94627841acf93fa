"""The web interview room (Gradio): the only module that imports gradio. Every action goes through app.web.room.Room."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd

from app.web.knowledge import (
    EMPTY_QUERY,
    clean_query,
    concept_markdown,
    result_choices,
    results_markdown,
    unknown_concept,
)
from app.web.report import escape_text
from app.web.room import ALL_TOPICS, RANDOM, Room, RoomError, Snapshot, friendly

log = logging.getLogger(__name__)

THINKING = "_The interviewer is thinking…_"
MODES = [("Mock interview", "mock"), ("Concept drill", "drill")]
HISTORY_HEADERS = ["Date", "Mode", "Question", "Score (1-5)", "Status", "Session"]
KNOWLEDGE_TAB = "knowledge"
CONCEPT_PARAM = "concept"  # ?concept=<id> opens that concept in the Knowledge tab
SEARCH_FAILED = "The knowledge base could not be searched just now; try again in a moment."

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


@dataclass(frozen=True)
class RoomView:
    """The components the room's handlers update (Gradio components in the app; any hashable keys in tests)."""

    sid: Any
    chat: Any
    tracker: Any
    title: Any
    final: Any
    scores: Any
    download_md: Any
    download_json: Any
    status: Any
    start_panel: Any
    message: Any
    pending: Any
    tabs: Any
    study_row: Any
    study: Any

    @property
    def outputs(self) -> list[Any]:
        """Everything a session's display sets."""
        return [self.sid, self.chat, self.tracker, self.title, self.final, self.scores, self.download_md,
                self.download_json, self.status, self.start_panel, self.study_row, self.study]  # fmt: skip


def study_update(choices: list[tuple[str, str]]) -> tuple[Any, Any]:
    """The study picker next to a scorecard: shown with its concepts (the first one chosen), hidden without any."""
    return gr.update(visible=bool(choices)), gr.update(choices=choices, value=choices[0][1] if choices else None)


class RoomHandlers:
    """What each button, box and tab of the web room does: methods over the room service, with no layout here, so
    they can be tested in-process against a fake room."""

    def __init__(self, room: Room, view: RoomView) -> None:
        self.room = room
        self.v = view

    def show(self, snap: Snapshot | None, note: str = "") -> dict[Any, Any]:
        """Every room component for one session (or for none)."""
        v = self.v
        if snap is None:
            return {
                v.sid: None,
                v.chat: [],
                v.tracker: "",
                v.title: "",
                v.final: gr.update(value="", visible=False),
                v.scores: gr.update(visible=False),
                v.download_md: gr.update(visible=False),
                v.download_json: gr.update(visible=False),
                v.status: note,
                v.start_panel: gr.update(open=True),
                v.study_row: gr.update(visible=False),
            }
        md_file, json_file = self.room.report_files(snap.session_id)
        study_row, study = study_update(snap.study)
        return {
            v.sid: snap.session_id,
            v.chat: snap.messages,
            v.tracker: snap.tracker,
            v.title: f"**{'Concept drill' if snap.mode == 'drill' else snap.title}**",
            v.final: gr.update(value=snap.final, visible=bool(snap.final)),
            v.scores: gr.update(
                value=pd.DataFrame(snap.step_scores, columns=["step", "score"]) if snap.step_scores else None,
                visible=bool(snap.step_scores),
            ),
            v.download_md: gr.update(value=str(md_file), visible=True),
            v.download_json: gr.update(value=str(json_file), visible=True),
            v.status: note,
            v.start_panel: gr.update(open=snap.ended),
            v.study_row: study_row,
            v.study: study,
        }

    def safe_show(self, session_id: Any, request: gr.Request | None, note: str = "") -> dict[Any, Any]:
        try:
            record = self.room.owned(session_id, user_of(request))
            return self.show(self.room.snapshot(record.id) if record else None, note)
        except Exception as exc:  # the page must always render
            log.exception("could not show session %s", session_id)
            return {self.v.status: friendly(exc)}

    def on_load(self, session_id: Any, request: gr.Request) -> dict[Any, Any]:
        return self.safe_show(session_id, request)

    @staticmethod
    def on_mode(chosen: str) -> tuple[Any, Any, Any]:
        drill = chosen == "drill"
        return gr.update(visible=not drill), gr.update(visible=drill), gr.update(visible=not drill)

    def on_start(self, chosen: str, scenario_id: str, topic_id: str, question: str, request: gr.Request) -> dict:
        try:
            new_id = self.room.start(user_of(request), chosen, scenario_id or RANDOM, question or "", topic_id)
        except Exception as exc:
            log.exception("could not start a session")
            return {self.v.status: friendly(exc)}
        return self.safe_show(new_id, request)

    def on_echo(self, text: str, session_id: Any, history_now: list, request: gr.Request) -> dict[Any, Any]:
        """Show the message at once, with the thinking line, even while the model serves someone else."""
        v = self.v
        if self.room.owned(session_id, user_of(request)) is None:
            return {v.pending: "", v.status: "Start an interview first, then type your answer."}
        shown = [*(history_now or []), {"role": "user", "content": escape_text(text)}]
        return {v.message: "", v.pending: text, v.chat: [*shown, {"role": "assistant", "content": THINKING}],
                v.status: ""}  # fmt: skip

    def on_draft(self, text: str, session_id: Any, request: gr.Request) -> None:
        """The message as it is typed: the model server reads it ahead, so the reply after Send comes sooner."""
        try:
            self.room.draft(session_id, user_of(request), text or "")
        except Exception:  # only a head start; the turn itself reports real problems
            log.info("draft read-ahead failed", exc_info=True)

    def on_reply(self, text: str, session_id: Any, history_now: list, request: gr.Request) -> Iterator[dict[Any, Any]]:
        v = self.v
        record = self.room.owned(session_id, user_of(request))
        if record is None or not text:
            yield {v.pending: ""}
            return
        shown = [m for m in (history_now or []) if m.get("content") != THINKING]
        reply = ""
        try:
            for piece in self.room.say(record.id, text):
                reply += piece
                yield {v.chat: [*shown, {"role": "assistant", "content": escape_text(reply)}]}
        except Exception as exc:
            if not isinstance(exc, RoomError):
                log.exception("turn failed in session %s", record.id)
            update = self.safe_show(record.id, request, friendly(exc))
            if not self.room.has_message(record.id, text):
                update[v.message] = text  # nothing is lost: the text goes back into the box
            yield {**update, v.pending: ""}
            return
        yield {**self.safe_show(record.id, request), v.pending: ""}

    def action(self, name: str) -> Callable[[Any, gr.Request], dict[Any, Any]]:
        """The handler of a session button: hint, next_step or end."""

        def run(session_id: Any, request: gr.Request) -> dict[Any, Any]:
            record = self.room.owned(session_id, user_of(request))
            if record is None:
                return {self.v.status: "Start an interview first."}
            try:
                getattr(self.room, name)(record.id)
            except Exception as exc:
                if not isinstance(exc, RoomError):
                    log.exception("%s failed in session %s", name, record.id)
                return self.safe_show(record.id, request, friendly(exc))
            return self.safe_show(record.id, request)

        return run

    def narrate(self, session_id: Any, request: gr.Request) -> Iterator[dict[Any, Any]]:
        record = self.room.owned(session_id, user_of(request))
        if record is None or record.mode != "mock" or record.status != "ended":
            return
        yield {self.v.status: "Your scorecard is ready. The interviewer is now writing the feedback…"}
        try:
            self.room.narrate(record.id)
        except Exception:
            log.exception("feedback wording failed in session %s", record.id)
            yield {self.v.status: "The feedback below is the scorecard's own summary."}
            return
        yield self.safe_show(record.id, request)

    def on_history(self, request: gr.Request) -> tuple[Any, Any, Any]:
        user = user_of(request)
        rows = self.room.history(user)
        table = [
            [r.date, r.mode, r.title, "" if r.score is None else f"{r.score:.1f}", r.status, r.session_id] for r in rows
        ]
        choices = [(f"{r.date} · {r.title} · {r.status}", r.session_id) for r in rows if r.mode in ("mock", "drill")]
        points = pd.DataFrame(self.room.mastery_points(user), columns=["time", "step", "score"])
        points["time"] = pd.to_datetime(points["time"])
        return (
            pd.DataFrame(table, columns=HISTORY_HEADERS),
            gr.update(choices=choices, value=choices[0][1] if choices else None),
            points,
        )

    def on_resume(self, picked: str | None, request: gr.Request) -> dict[Any, Any]:
        update = self.safe_show(picked, request, "" if picked else "Pick a session first.")
        update[self.v.tabs] = gr.Tabs(selected="room")
        return update

    def on_review(self, question: str, answer: str, request: gr.Request) -> tuple[str, Any, Any]:
        """The scorecard of a pasted answer, and the picker of the concepts it asks to study."""
        try:
            reviewed = self.room.review(user_of(request), question or "", answer or "")
        except Exception as exc:
            if not isinstance(exc, RoomError):
                log.exception("review failed")
            return (f"**{friendly(exc)}**", *study_update([]))
        return (reviewed.markdown, *study_update(reviewed.study))


@dataclass(frozen=True)
class KnowledgeView:
    """The components the Knowledge tab's handlers update (Gradio components in the app; any keys in tests)."""

    tabs: Any
    results: Any
    hits: Any
    concept: Any
    reader: Any


class KnowledgeHandlers:
    """The Knowledge tab: search the knowledge base, read a whole concept, and open one from a study plan or a
    `?concept=<id>` link. Probes and red flags are never shown (see app.web.knowledge)."""

    def __init__(self, room: Room, view: KnowledgeView) -> None:
        self.room = room
        self.v = view

    def on_search(self, text: str | None) -> dict[Any, Any]:
        """Ranked passages with their heading paths, and a choice of the concepts they belong to."""
        v = self.v
        query = clean_query(text)
        if not query:
            return {v.results: EMPTY_QUERY, v.hits: gr.update(choices=[], value=None, visible=False)}
        try:
            results = self.room.search(query)
        except Exception as exc:
            if not isinstance(exc, RoomError):
                log.exception("knowledge search failed")
            note = str(exc) if isinstance(exc, RoomError) else SEARCH_FAILED
            return {v.results: note, v.hits: gr.update(choices=[], value=None, visible=False)}
        choices = result_choices(results, self.room.kb)
        return {
            v.results: results_markdown(query, results, self.room.kb),
            v.hits: gr.update(choices=choices, value=None, visible=bool(choices)),
        }

    def on_open(self, concept_id: Any) -> dict[Any, Any]:
        """A whole concept in the reader (an unknown id gets one sentence)."""
        v = self.v
        if not concept_id:
            return {v.reader: ""}
        concept = self.room.concept(concept_id)
        if concept is None:
            return {v.reader: unknown_concept(str(concept_id))}
        return {v.reader: concept_markdown(concept), v.concept: gr.update(value=concept.id)}

    def on_study(self, concept_id: Any) -> dict[Any, Any]:
        """Open a study-plan concept: the Knowledge tab comes to the front with the concept in the reader."""
        if not concept_id:
            return {self.v.reader: gr.update()}  # nothing changes (Gradio needs one output in a dict)
        return {**self.on_open(concept_id), self.v.tabs: gr.Tabs(selected=KNOWLEDGE_TAB)}

    def on_link(self, request: gr.Request) -> dict[Any, Any]:
        """A page opened as `?concept=<id>` starts on that concept in the Knowledge tab."""
        params = getattr(request, "query_params", None) or {}
        concept_id = params.get(CONCEPT_PARAM)
        return self.on_study(concept_id.strip() if isinstance(concept_id, str) else None)


def study_picker(elem_id: str) -> tuple[Any, Any, Any]:
    """A row under a scorecard: its study concepts, and a button that opens the chosen one in the Knowledge tab."""
    with gr.Row(visible=False, equal_height=True) as row:
        pick = gr.Dropdown([], label="Study plan: concepts to read", scale=3, elem_id=elem_id)
        button = gr.Button("Open in Knowledge", scale=1, elem_id=f"{elem_id}-open")
    return row, pick, button


def build_ui(room: Room, *, model_concurrency: int = 1) -> gr.Blocks:
    """The Blocks app: interview room, history and progress, answer review, the knowledge base to study, and a
    small HTTP API."""
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
                        max_length=room.max_message_chars,
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
                study_row, study, study_btn = study_picker("mi-study")
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
                review_out = gr.Markdown("", elem_id="mi-review")
                review_study_row, review_study, review_study_btn = study_picker("mi-review-study")
            with gr.Tab("Knowledge", id=KNOWLEDGE_TAB):
                with gr.Row(equal_height=True):
                    kb_query = gr.Textbox(
                        label="Search the knowledge base",
                        placeholder="For example: when to pick PR-AUC over ROC-AUC",
                        lines=1,
                        max_lines=1,
                        scale=4,
                        elem_id="mi-kb-query",
                    )
                    kb_search_btn = gr.Button("Search", variant="primary", scale=1, elem_id="mi-kb-search")
                kb_results = gr.Markdown("", elem_id="mi-kb-results")
                kb_hits = gr.Radio([], label="Read a result in full", visible=False, elem_id="mi-kb-hits")
                kb_concept = gr.Dropdown(
                    room.concept_choices(), value=None, label="Or pick a concept", elem_id="mi-kb-concept"
                )
                kb_reader = gr.Markdown("", elem_id="mi-kb-reader")

        view = RoomView(sid, chat, tracker, title, final, scores, download_md, download_json, status, start_panel,
                        message, pending, tabs, study_row, study)  # fmt: skip
        h = RoomHandlers(room, view)
        demo.load(h.on_load, [sid], view.outputs, api_visibility="private")
        mode.change(h.on_mode, [mode], [scenario, topic, own_question], api_visibility="private")
        start_btn.click(h.on_start, [mode, scenario, topic, own_question], view.outputs, api_visibility="private")
        message.input(
            h.on_draft, [message, sid], None, api_visibility="private", queue=False, trigger_mode="always_last",
            show_progress="hidden",
        )  # fmt: skip
        for trigger in (message.submit, send_btn.click):
            trigger(
                h.on_echo, [message, sid, chat], [message, pending, chat, status], api_visibility="private", queue=False
            ).then(
                h.on_reply,
                [pending, sid, chat],
                [*view.outputs, message, pending],
                api_visibility="private",
                **model_group,
            )
        hint_btn.click(h.action("hint"), [sid], view.outputs, api_visibility="private")
        next_btn.click(h.action("next_step"), [sid], view.outputs, api_visibility="private")
        end_btn.click(h.action("end"), [sid], view.outputs, api_visibility="private").then(
            h.narrate, [sid], view.outputs, api_visibility="private", **model_group
        )
        history_outputs = [history, resume_pick, mastery]
        history_tab.select(h.on_history, None, history_outputs, api_visibility="private")
        refresh_btn.click(h.on_history, None, history_outputs, api_visibility="private")
        resume_btn.click(h.on_resume, [resume_pick], [*view.outputs, tabs], api_visibility="private")
        review_btn.click(
            h.on_review,
            [review_question, review_answer],
            [review_out, review_study_row, review_study],
            api_visibility="private",
        )
        k = KnowledgeHandlers(room, KnowledgeView(tabs, kb_results, kb_hits, kb_concept, kb_reader))
        for trigger in (kb_query.submit, kb_search_btn.click):
            trigger(k.on_search, [kb_query], [kb_results, kb_hits], api_visibility="private")
        reader_outputs = [kb_reader, kb_concept]
        kb_hits.input(k.on_open, [kb_hits], reader_outputs, api_visibility="private")
        kb_concept.input(k.on_open, [kb_concept], reader_outputs, api_visibility="private")
        for picker, button in ((study, study_btn), (review_study, review_study_btn)):
            button.click(k.on_study, [picker], [*reader_outputs, tabs], api_visibility="private")
        demo.load(k.on_link, None, [*reader_outputs, tabs], api_visibility="private")
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
        return [{"role": t.role, "content": t.content} for t in room.transcript(record.id)]

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


def not_a_cancelled_task(record: logging.LogRecord) -> bool:
    """False for the web server's report of a task cancelled while the app stops (a normal stop, not an error)."""
    text = record.getMessage().rstrip()
    cancelled = isinstance(record.exc_info, tuple) and isinstance(record.exc_info[1], asyncio.CancelledError)
    return not (cancelled or text.endswith("CancelledError"))


QUEUE_IDLE_POLL_S = 0.02
QUEUE_PROGRESS_POLL_S = 0.1


def calm_queue(demo: gr.Blocks) -> None:
    """Gradio's queue looks for new work every millisecond while it has none (8% of a core with nobody connected);
    every 20 ms is as quick for a person and leaves the machine idle. Progress is checked every 100 ms (10 ms)."""
    queue = getattr(demo, "_queue", None)
    if queue is None:
        return
    if isinstance(getattr(queue, "sleep_when_free", None), float):
        queue.sleep_when_free = max(queue.sleep_when_free, QUEUE_IDLE_POLL_S)
    if isinstance(getattr(queue, "progress_update_sleep_when_free", None), float):
        queue.progress_update_sleep_when_free = max(queue.progress_update_sleep_when_free, QUEUE_PROGRESS_POLL_S)


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
    # The web server's tasks are cancelled on the way out; it would log that as an error with a traceback.
    logging.getLogger("uvicorn.error").addFilter(not_a_cancelled_task)
    demo = build_ui(room, model_concurrency=model_concurrency)
    demo.queue(default_concurrency_limit=4, max_size=64)
    calm_queue(demo)
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
        while demo.is_running:
            time.sleep(0.1)
    finally:
        # Gradio's own stop waits up to 5 s for open connections (a browser's event stream): don't.
        server = getattr(demo, "server", None)
        if server is not None:
            server.force_exit = server.should_exit = True
        demo.close()
