import pytest
from pydantic import BaseModel

from app.llm.backend import (
    RESTARTED,
    CallStats,
    Capabilities,
    ChatBackend,
    LLMTimeout,
    LLMUnavailable,
    StructuredOutputError,
    describe_error,
    extract_json,
    response_format,
)
from tests.unit.fakes import APIConnectionError, APITimeoutError, FakeChatModel, InternalServerError

LOCAL = Capabilities(backend="llama_cpp", model="test-model", structured="json_object_schema")
MSGS = [{"role": "system", "content": "You interview."}, {"role": "user", "content": "Hello"}]


class Verdict(BaseModel):
    covered: bool
    quote: str


def backend(*replies, caps=LOCAL, recover=None):
    fake = FakeChatModel(list(replies))
    return ChatBackend(chat_model=fake, capabilities=caps, recover=recover, temperature=0.1, max_tokens=50), fake


def test_generate_passes_messages_and_settings():
    llm, fake = backend("What is the business goal?")
    stats = CallStats()
    assert llm.generate(MSGS, stats=stats) == "What is the business goal?"
    messages, kwargs = fake.calls[0]
    assert messages == MSGS
    assert kwargs == {"max_tokens": 50, "temperature": 0.1}
    assert stats.prompt_tokens == 11 and stats.completion_tokens == 7


def test_stream_yields_pieces_and_times_first_token():
    llm, _ = backend("one two three")
    stats = CallStats()
    pieces = list(llm.stream(MSGS, max_tokens=20, stats=stats))
    assert len(pieces) == 3 and "".join(pieces).strip() == "one two three"
    assert stats.ttft_s is not None and stats.chunks == 3 and stats.kind == "stream"


def test_structured_output_uses_schema_constrained_json_object_on_llama_cpp():
    llm, fake = backend('```json\n{"covered": true, "quote": "PR-AUC"}\n```')
    verdict = llm.structured(MSGS, Verdict)
    assert verdict == Verdict(covered=True, quote="PR-AUC")
    fmt = fake.calls[0][1]["response_format"]
    assert fmt["type"] == "json_object" and fmt["schema"]["properties"]["quote"]["type"] == "string"


def test_structured_output_uses_json_schema_on_openai():
    caps = Capabilities(backend="openai", model="gpt", structured="json_schema")
    llm, fake = backend('{"covered": false, "quote": ""}', caps=caps)
    llm.structured(MSGS, Verdict)
    fmt = fake.calls[0][1]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "Verdict"


def test_structured_output_retries_once_with_the_reason():
    llm, fake = backend('{"covered": "maybe"}', '{"covered": true, "quote": "x"}')
    assert llm.structured(MSGS, Verdict).covered is True
    retry_messages = fake.calls[1][0]
    assert retry_messages[:2] == MSGS
    assert retry_messages[2] == {"role": "assistant", "content": '{"covered": "maybe"}'}
    assert "not valid" in retry_messages[3]["content"]


def test_structured_output_gives_a_typed_error_after_the_retry():
    llm, fake = backend("not json at all", "still not json")
    with pytest.raises(StructuredOutputError):
        llm.structured(MSGS, Verdict)
    assert len(fake.calls) == 2


def test_dead_local_server_is_restarted_once_and_the_user_is_told():
    restarts = []
    llm, _ = backend(
        APIConnectionError("refused"), "Back again?", "And now?", recover=lambda: restarts.append(1) or True
    )
    stats, later = CallStats(), CallStats()
    assert llm.generate(MSGS, stats=stats) == "Back again?"
    assert restarts == [1]
    assert stats.notices == [RESTARTED] == ["The local model stopped unexpectedly and was restarted."]
    assert llm.generate(MSGS, stats=later) == "And now?"
    assert later.notices == []  # the notice belongs to the call that saw the restart, not to every later one
    assert not hasattr(llm, "notices") and not hasattr(llm, "last") and not hasattr(llm, "calls")


def test_connection_failure_without_recovery_is_one_readable_sentence():
    llm, _ = backend(APIConnectionError("Connection refused to 127.0.0.1:1234 secret-key-123"))
    with pytest.raises(LLMUnavailable) as info:
        llm.generate(MSGS)
    assert str(info.value) == "The model server cannot be reached."


def test_stream_failure_maps_to_typed_errors():
    llm, _ = backend(APITimeoutError("read timeout"))
    with pytest.raises(LLMTimeout):
        list(llm.stream(MSGS))


def test_describe_error_never_shows_library_details():
    assert "HTTP 500" in str(describe_error(InternalServerError("boom sk-live-abc")))
    assert "sk-live" not in str(describe_error(InternalServerError("boom sk-live-abc")))
    assert str(describe_error(ValueError("x"))) == "The model call failed unexpectedly."


def test_response_format_modes():
    assert response_format(Verdict, "prompt_only") is None
    assert response_format(Verdict, "json_object_schema")["schema"]["required"] == ["covered", "quote"]


def test_extract_json_from_prose():
    assert extract_json('Sure! {"a": 1} hope that helps') == '{"a": 1}'


def test_capability_label():
    assert LOCAL.label == "local: test-model"
    assert Capabilities(backend="openai", model="gpt-4o-mini", structured="json_schema").label == "openai: gpt-4o-mini"


def test_llama_cpp_servers_get_max_tokens_in_the_body():
    fake = FakeChatModel(["ok"])
    llm = ChatBackend(chat_model=fake, capabilities=LOCAL, max_tokens=40, legacy_max_tokens=True)
    llm.generate(MSGS, max_tokens=12)
    assert fake.calls[0][1]["extra_body"] == {"max_tokens": 12}


class LengthFinishReasonError(Exception):
    pass


def test_structured_output_cut_off_is_retried_with_a_larger_budget():
    llm, fake = backend(LengthFinishReasonError("length"), '{"covered": true, "quote": "q"}')
    assert llm.structured(MSGS, Verdict, max_tokens=20).quote == "q"
    assert [call[1]["max_tokens"] for call in fake.calls] == [20, 40]


def test_structured_output_cut_off_without_growing_is_an_error_after_one_call():
    from app.llm.backend import OutputTruncated

    llm, fake = backend(LengthFinishReasonError("length"), '{"covered": true, "quote": "q"}')
    with pytest.raises(OutputTruncated):
        llm.structured(MSGS, Verdict, max_tokens=20, grow=False)
    assert len(fake.calls) == 1


def test_a_raw_line_break_inside_a_json_string_is_read_as_one():
    llm, fake = backend('{"covered": true, "quote": "first line\nsecond line"}')  # a raw line break, not "\\n"
    assert llm.structured(MSGS, Verdict).quote == "first line\nsecond line"
    assert len(fake.calls) == 1


def test_closing_a_stream_early_stops_cleanly():
    llm, fake = backend("one two three four five")
    stats = CallStats()
    stream = llm.stream(MSGS, stats=stats)
    assert next(stream).strip() == "one"
    stream.close()  # the user left: no error, no further reads
    assert len(fake.calls) == 1 and stats.chunks == 1


def test_server_log_gives_the_tokens_each_request_evaluated_and_generated():
    from app.llm.llama_server import ServerEval, parse_server_log

    log = """INFO:     127.0.0.1:38190 - "GET /v1/models HTTP/1.1" 200 OK
llama_perf_context_print:        load time =       0.60 ms
llama_perf_context_print: prompt eval time =       0.15 ms /   245 tokens (    0.00 ms per token, ...)
llama_perf_context_print:        eval time =    5451.01 ms /    32 runs   (  170.34 ms per token, ...)
llama_perf_context_print:       total time =   11774.71 ms /   277 tokens
INFO:     127.0.0.1:38206 - "POST /v1/chat/completions HTTP/1.1" 200 OK
Llama.generate: 245 prefix-match hit, remaining 19 prompt tokens to eval
llama_perf_context_print: prompt eval time =     620.38 ms /    19 tokens (   32.65 ms per token, ...)
llama_perf_context_print:        eval time =    3175.56 ms /    39 runs   (   81.42 ms per token, ...)
"""
    assert parse_server_log(log) == [ServerEval(245, 33), ServerEval(19, 40)]
    assert parse_server_log("INFO: started\n") == []


def test_every_call_fills_the_record_its_caller_passed():
    llm, _ = backend("What is the goal?", "one two three", '{"covered": true, "quote": "x"}')
    calls = [CallStats(), CallStats(), CallStats()]
    llm.generate(MSGS, stats=calls[0])
    assert "".join(llm.stream(MSGS, stats=calls[1])).strip() == "one two three"
    llm.structured(MSGS, Verdict, stats=calls[2])
    assert [c.kind for c in calls] == ["generate", "stream", "structured"]
    assert all(c.total_s > 0 for c in calls)
    stream_call = calls[1]
    assert stream_call.ttft_s is not None and stream_call.total_s >= stream_call.ttft_s and stream_call.chunks >= 1


def test_a_server_that_cannot_be_restarted_says_why_in_the_error():
    def give_up() -> bool:
        raise RuntimeError("The local model crashed 3 times in a row soon after starting (SIGSEGV).")

    llm, _ = backend(APIConnectionError("refused"), recover=give_up)
    with pytest.raises(LLMUnavailable, match=r"could not be restarted\. The local model crashed 3 times"):
        llm.generate(MSGS)
