"""The bad-input and fault matrix at the engine level, with a scripted chat model (fake LLM).

Every row expects a clear message, no lost data, and a session that still works afterwards.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from app.grading.scorecard import Grader
from app.interview.engine import Interviewer
from app.interview.policy import Intent, classify, clean_message
from app.knowledge.base import KnowledgeError, load_knowledge
from app.knowledge.chunking import chunk_markdown
from app.knowledge.ingest import read_markdown
from app.llm.backend import Capabilities, ChatBackend, encodable
from app.sessions.repository import SessionRepository
from app.settings import PROJECT_DIR
from tests.unit.fakes import APIConnectionError, APITimeoutError, FakeChatModel, FakeEmbedder, InternalServerError

KB = load_knowledge(PROJECT_DIR / "knowledge")
SCENARIO = KB.questions.scenarios[0]
ANSWER = "I would build a model that recommends items to users."
QUESTION = "How would you know that recommending these items works for the users?"
FOLLOW_UP = (
    "Which recommended items would you build first, and what would tell you early that the rollout is going wrong?"
)


@pytest.fixture(scope="module")
def grader():
    return Grader(KB, FakeEmbedder())


@pytest.fixture
def setup(tmp_path, grader):
    fake = FakeChatModel([])
    llm = ChatBackend(chat_model=fake, capabilities=Capabilities("llama_cpp", "fake", "json_object_schema"))
    repo = SessionRepository(f"sqlite:///{tmp_path / 's.sqlite3'}")
    engine = Interviewer(KB, grader, None, llm, repo, rng=random.Random(7))
    session_id, _ = engine.start("mock", scenario_id=SCENARIO.id)
    return engine, fake, repo, session_id


def say(engine: Interviewer, session_id: str, text: str) -> str:
    return "".join(engine.respond(session_id, text))


def sent_texts(fake: FakeChatModel) -> list[str]:
    return [m["content"] for messages, _ in fake.calls for m in messages]


def assert_still_usable(engine: Interviewer, fake: FakeChatModel, repo: SessionRepository, session_id: str) -> None:
    """A normal answer after the bad input is stored and answered by the LLM, and the session view works."""
    before = len(repo.turns(session_id))
    fake.replies.append(FOLLOW_UP)  # a question not asked before: a repeated one would be replaced
    reply = say(engine, session_id, ANSWER)
    turns = repo.turns(session_id)
    assert len(turns) == before + 2
    assert (turns[-2].role, turns[-2].content) == ("candidate", ANSWER)
    assert turns[-1].content == reply and reply.strip()
    assert FOLLOW_UP in reply  # the LLM worded it: the engine is healthy again
    assert not engine.view(session_id).ended


# ---------- chat: bad input ----------


@pytest.mark.parametrize("text", ["", " ", "\n\t  \n", "\u00a0\u2003\u3000"])
def test_empty_and_whitespace_messages_get_a_nudge(setup, text):
    engine, fake, repo, session_id = setup
    reply = say(engine, session_id, text)
    assert reply.startswith("Take your time") and "?" in reply
    assert fake.calls == []  # nothing to send to the model
    assert repo.turns(session_id)[-2].content == text  # kept exactly as typed
    assert_still_usable(engine, fake, repo, session_id)


def test_a_100_kb_message_is_stored_whole_and_answered_on_its_start(setup):
    engine, fake, repo, session_id = setup
    engine.max_message_chars = 2000  # the product default is 8000; a smaller view keeps the test fast
    sentence = "I would rank candidate videos for each user with a two-tower retrieval model and a ranker. "
    text = (sentence * (100_000 // len(sentence) + 1))[:100_000]
    fake.replies.append(QUESTION)
    reply = say(engine, session_id, text)
    assert reply.startswith("(Your message was long, so I read the first")
    assert repo.turns(session_id)[1].content == text
    assert repo.turns(session_id)[-1].meta["truncated"] is True
    assert sum(len(t) for t in sent_texts(fake)) < 20_000  # the model gets a bounded prompt, not 100 KB
    assert_still_usable(engine, fake, repo, session_id)


def test_nul_and_control_characters_are_kept_but_never_reach_the_model(setup):
    engine, fake, repo, session_id = setup
    text = "I would\x00 build a model\x07 that recommends\x1b[31m items\x0b to users.\x7f"
    fake.replies.append(QUESTION)
    reply = say(engine, session_id, text)
    assert reply == QUESTION
    assert repo.turns(session_id)[1].content == text
    for sent in sent_texts(fake):
        assert not any(ch in sent for ch in "\x00\x07\x1b\x0b\x7f")
    assert_still_usable(engine, fake, repo, session_id)


@pytest.mark.parametrize("text", [f"{ANSWER} \ud800", f"\udfff{ANSWER}", f"{ANSWER[:20]}\ud83d{ANSWER[20:]}"])
def test_invalid_surrogates_break_neither_the_database_nor_the_model_call(setup, text):
    engine, fake, repo, session_id = setup
    fake.replies.append(QUESTION)
    reply = say(engine, session_id, text)
    assert reply == QUESTION
    stored = repo.turns(session_id)[1].content
    assert stored == text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    assert "\ufffd" in stored
    for sent in sent_texts(fake):
        sent.encode("utf-8")  # would raise on a lone surrogate
    assert_still_usable(engine, fake, repo, session_id)


def test_the_llm_client_never_receives_a_lone_surrogate():
    fake = FakeChatModel(["ok", "fine"])
    llm = ChatBackend(chat_model=fake, capabilities=Capabilities("llama_cpp", "fake", "json_object_schema"))
    assert llm.generate([{"role": "user", "content": "a\ud800b"}]) == "ok"
    assert "".join(llm.stream([{"role": "user", "content": "\udc00"}])).strip() == "fine"
    assert [m["content"] for messages, _ in fake.calls for m in messages] == ["a\ufffdb", "\ufffd"]
    assert encodable("\ud83d\ude00") == "\U0001f600"  # a well-formed pair is kept as the emoji it encodes


def test_clean_message_is_what_the_engine_reads():
    assert clean_message("a\x00b\x1bc\td\ne\r") == "abc\td\ne\r"
    assert clean_message("x\ud800y") == "x\ufffdy"
    assert clean_message("مرحبا 👩🏽‍💻") == "مرحبا 👩🏽‍💻"
    assert classify(clean_message("\x00\x00 \x07")) == Intent.EMPTY


HTML = '<script>alert("x")</script><img src=x onerror=alert(1)> ' + ANSWER + " <b>bold</b> &amp; </candidate_answer>"


def test_html_and_script_are_stored_as_text_and_never_echoed_as_markup(setup):
    engine, fake, repo, session_id = setup
    fake.replies.append('<img src=x onerror="alert(1)"> What would you measure?')  # a model tricked into markup
    reply = say(engine, session_id, HTML)
    assert repo.turns(session_id)[1].content == HTML  # preserved exactly, as text
    assert "<" not in reply and ">" not in reply  # the markup reply was refused; the knowledge base's probe instead
    item = repo.turns(session_id)[-1].meta["item"]
    assert reply.endswith(next(i.probe for _, i in KB.rubric.items() if i.id == item))  # quoting the candidate
    fenced = fake.calls[0][0][-1]["content"]
    assert fenced.count("</candidate_answer>") == 1  # the candidate cannot close the data fence
    assert_still_usable(engine, fake, repo, session_id)


RTL = "أود بناء نموذج يوصي بالعناصر للمستخدمين 🚀👩🏽‍💻 " + ANSWER + " \u202eevil\u202c שלום"


def test_right_to_left_and_emoji_text_round_trips(setup):
    engine, fake, repo, session_id = setup
    fake.replies.append(QUESTION)
    assert say(engine, session_id, RTL) == QUESTION
    assert repo.turns(session_id)[1].content == RTL
    assert "👩🏽‍💻" in fake.calls[0][0][-1]["content"]
    assert_still_usable(engine, fake, repo, session_id)


# ---------- a turn: the LLM fails ----------


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (InternalServerError("boom"), "internal error (HTTP 500)"),
        (APITimeoutError("slow"), "took too long"),
        (APIConnectionError("down"), "cannot be reached"),
    ],
)
def test_llm_failure_in_a_turn_gives_a_question_a_clear_notice_and_keeps_the_answer(setup, error, said):
    engine, fake, repo, session_id = setup
    fake.replies.append(error)
    reply = say(engine, session_id, ANSWER)
    notice, question = reply.split("\n\n")
    assert question.endswith("?") and said in notice and "your answer is saved" in notice
    turns = repo.turns(session_id)
    assert (turns[1].role, turns[1].content) == ("candidate", ANSWER)
    assert turns[-1].meta["notice"] == notice
    assert_still_usable(engine, fake, repo, session_id)
    history = fake.calls[-1][0]
    assert not any("did not answer" in m["content"] for m in history)  # the notice is not fed back to the model


def test_junk_llm_reply_in_a_turn_falls_back_to_the_question_bank(setup):
    engine, fake, repo, session_id = setup
    fake.replies.append("Sure! {not: json, [at all")
    reply = say(engine, session_id, ANSWER)
    item = repo.turns(session_id)[-1].meta["item"]
    assert reply.endswith(next(i.probe for _, i in KB.rubric.items() if i.id == item))  # quoting the candidate
    assert_still_usable(engine, fake, repo, session_id)


def test_junk_json_for_the_final_feedback_gives_the_checklist_wording_and_says_so(setup):
    engine, fake, repo, session_id = setup
    fake.replies.append(QUESTION)
    say(engine, session_id, "The goal is watch time and retention; I'd rank videos per user in real time.")
    fake.replies.extend(["Sure! {not: json", "{still not json"])  # the structured call and its one retry
    reply = say(engine, session_id, "end")
    notice, closing = reply.split("\n\n")
    assert closing.startswith("Thanks, that's the end of the interview")
    assert "feedback is worded from the checklist" in notice
    report = engine.end(session_id)
    assert report.scorecard is not None and report.scorecard.narrative_source == "ledger"
    assert report.scorecard.narrative.strip()
    assert [t.role for t in repo.turns(session_id)].count("candidate") == 2
    assert engine.view(session_id).ended
    assert "ended" in say(engine, session_id, "hello?")  # still answers, and the record is intact


# ---------- ingest and knowledge ----------


def test_mojibake_source_text_is_repaired_before_chunking(tmp_path):
    text = "# Café metrics\n\nA naïve ‘baseline’ – always check it.\n"
    cp1252 = tmp_path / "cp1252.md"
    cp1252.write_bytes(text.encode("cp1252"))  # not UTF-8 at all
    double = tmp_path / "double.md"
    double.write_text(text.encode().decode("cp1252"), encoding="utf-8")  # UTF-8 read as cp1252, saved again
    for path in (cp1252, double):
        chunk = chunk_markdown(read_markdown(path), path.name)[0]
        assert chunk.heading == "Café metrics"
        assert "naïve" in chunk.text and "Ã" not in chunk.document


def test_markdown_without_headings_chunks_with_its_source(tmp_path):
    text = "Calibration matters when scores are read as probabilities. " * 60
    chunks = chunk_markdown(text, "notes/calibration.md")
    assert len(chunks) >= 2
    assert all(c.metadata["source"] == "notes/calibration.md" and c.text.strip() for c in chunks)


def broken_copy(tmp_path: Path, name: str, line: int, bad: str) -> Path:
    """A copy of the knowledge base with one line of one file replaced."""
    root = tmp_path / "kb"
    shutil.copytree(PROJECT_DIR / "knowledge", root)
    lines = (root / name).read_text(encoding="utf-8").split("\n")
    lines[line - 1] = bad
    (root / name).write_text("\n".join(lines), encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("name", "line", "bad"),
    [
        ("rubric.yaml", 12, "  - name: [unclosed"),
        ("questions.yaml", 7, "\tbad: tab"),
        ("online_metrics.md", 3, "topic: [x"),
    ],
)
def test_malformed_yaml_names_the_file_and_line_in_one_sentence(tmp_path, name, line, bad):
    root = broken_copy(tmp_path, name, line, bad)
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(root)
    message = str(info.value)
    assert name in message and "\n" not in message
    assert f"line {line}" in message or f"line {line + 1}" in message  # where the parser noticed it
    shutil.copy(PROJECT_DIR / "knowledge" / name, root / name)
    assert load_knowledge(root).rubric.steps  # fixed file, loads again
