"""Builds the LLM backend from settings. The only module that knows which LLM library and server are used."""

from __future__ import annotations

import json
import logging
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
from langchain_openai import ChatOpenAI

from app.lifecycle import Lifecycle
from app.llm.backend import Capabilities, ChatBackend, LLMUnavailable
from app.llm.llama_server import ALIAS, LlamaServer
from app.llm.model_files import model_label, resolve_model
from app.settings import Settings, SettingsError

log = logging.getLogger(__name__)

OPENAI_HOSTS = ("api.openai.com",)
NO_KEY = "not-needed"  # local OpenAI-compatible servers ignore the key, but the client needs one


def _timeout(settings: Settings) -> httpx.Timeout:
    return httpx.Timeout(settings.llm_read_timeout_s, connect=settings.llm_connect_timeout_s)


def _structured_mode(settings: Settings, backend: str) -> str:
    if settings.llm_structured_output != "auto":
        return settings.llm_structured_output
    return "json_object_schema" if backend == "llama_cpp" else "json_schema"


def _chat_model(settings: Settings, base_url: str, api_key: str, model: str, stream_usage: bool) -> ChatOpenAI:
    return ChatOpenAI(
        model=model,
        base_url=base_url,
        api_key=api_key,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        timeout=_timeout(settings),
        max_retries=settings.llm_max_retries,
        stream_usage=stream_usage,
    )


def start_local_server(
    settings: Settings, show_progress: bool = False, lifecycle: Lifecycle | None = None
) -> LlamaServer:
    """Assemble (once) and verify the bundled model, then start the server and wait until it is ready."""
    model = resolve_model(settings.model_variant, settings.model_path, settings.models_dir, show_progress)
    server = LlamaServer(
        model,
        n_ctx=settings.n_ctx,
        n_threads=settings.n_threads,
        start_timeout_s=settings.server_start_timeout_s,
        lifecycle=lifecycle,
    )
    return server.start()


def local_backend(settings: Settings, server: LlamaServer) -> ChatBackend:
    """A backend over an already running embedded server; restarts it once when it dies, unless the app is
    shutting down or the server was stopped on purpose."""

    def recover() -> bool:
        if server.alive() or server.lifecycle.stopping or server.stopped:
            return False
        server.restart()
        return True

    return ChatBackend(
        chat_model=_chat_model(settings, server.base_url, NO_KEY, ALIAS, stream_usage=False),
        capabilities=Capabilities(
            backend="llama_cpp",
            model=model_label(settings.model_variant, settings.model_path),
            structured=_structured_mode(settings, "llama_cpp"),  # type: ignore[arg-type]
            prefix_cache=True,
        ),
        recover=recover,
        on_close=server.stop,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        legacy_max_tokens=True,
    )


def openai_backend(settings: Settings) -> ChatBackend:
    """Any OpenAI-compatible endpoint. A key is required by OpenAI itself, optional for local servers."""
    base_url = settings.llm_base_url or "https://api.openai.com/v1"
    host = urlparse(base_url).hostname or ""
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    official = host in OPENAI_HOSTS
    if not key and official:
        raise SettingsError("OPENAI_API_KEY is not set: export it to use the openai profile.")
    is_local_model = settings.llm_model == ALIAS
    return ChatBackend(
        chat_model=_chat_model(settings, base_url, key or NO_KEY, settings.llm_model, stream_usage=official),
        capabilities=Capabilities(
            backend="openai",
            model=settings.llm_model,
            structured=_structured_mode(settings, "openai"),  # type: ignore[arg-type]
            strong_grader=not is_local_model,
        ),
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        legacy_max_tokens=not official,
    )


def check_endpoint(settings: Settings) -> None:
    """Ask an OpenAI-compatible endpoint for its models, so a wrong URL or key is one clear sentence at start-up."""
    base_url = (settings.llm_base_url or "https://api.openai.com/v1").rstrip("/")
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        response = httpx.get(f"{base_url}/models", headers=headers, timeout=_timeout(settings))
    except httpx.TimeoutException as exc:
        raise LLMUnavailable(f"The model endpoint at {base_url} did not answer in time.") from exc
    except httpx.HTTPError as exc:
        raise LLMUnavailable(
            f"The model endpoint at {base_url} cannot be reached: check MOCKINTERVIEW_LLM_BASE_URL."
        ) from exc
    if response.status_code in (401, 403):
        if not key:
            raise LLMUnavailable(f"The model endpoint at {base_url} needs an API key: set OPENAI_API_KEY.")
        raise LLMUnavailable(f"The model endpoint at {base_url} rejected the API key: check OPENAI_API_KEY.")
    # Other answers (some servers have no /models) leave the judgement to the first real call.


def build_llm(
    settings: Settings, show_progress: bool = False, check: bool = True, lifecycle: Lifecycle | None = None
) -> ChatBackend:
    """The backend the settings ask for; the embedded server is started here and stopped by `close()`.

    With `check`, an OpenAI-compatible endpoint is asked once for its models, so a wrong URL or API key fails here.
    """
    if settings.llm_backend == "openai":
        backend = openai_backend(settings)
        if check:
            check_endpoint(settings)
        return backend
    return local_backend(settings, start_local_server(settings, show_progress, lifecycle))


RAW_TEXT = (
    "A feed ranking system retrieves a few thousand candidate videos per request, scores them with a model "
    "trained on watch time and explicit feedback, and re-ranks the top results for freshness and diversity. "
)


def measure_raw_speed(model: Path, n_threads: int, prompt_tokens: int = 128, gen_tokens: int = 16) -> dict[str, float]:
    """llama.cpp's own speed on this machine and model, with no server or app around it: prompt evaluation
    (prefill) and greedy generation in tokens per second, each the median of three runs."""
    from llama_cpp import Llama

    from app.llm.model_server import guard_amx

    guard_amx()  # measured as the server runs it
    llm = Llama(model_path=str(model), n_ctx=prompt_tokens + gen_tokens + 64, n_threads=n_threads, verbose=False)
    tokens = llm.tokenize((RAW_TEXT * 20).encode())[:prompt_tokens]
    llm.eval(tokens[:16])  # page the weights in before timing
    prefill, gen = [], []
    for _ in range(3):
        llm.reset()
        started = time.perf_counter()
        llm.eval(tokens)
        prefill.append(len(tokens) / (time.perf_counter() - started))
        started = time.perf_counter()
        for _ in range(gen_tokens):
            llm.eval([llm.sample(top_k=1, temp=0.0)])
        gen.append(gen_tokens / (time.perf_counter() - started))
    return {
        "raw_prefill_tok_s": round(statistics.median(prefill), 1),
        "raw_gen_tok_s": round(statistics.median(gen), 1),
    }


def print_raw_speed() -> None:
    """Entry point for a child process: `MODEL N_THREADS` in argv, one JSON object out."""
    print(json.dumps(measure_raw_speed(Path(sys.argv[1]), int(sys.argv[2]))), flush=True)
