"""`mockinterview doctor`: checks everything a user needs, each check independent of the others."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from app.settings import Settings

log = logging.getLogger(__name__)

PING = [
    {"role": "system", "content": "You are a mock interviewer. Reply with one short question."},
    {"role": "user", "content": "Ask me one question about monitoring a deployed model."},
]


@dataclass
class DoctorReport:
    ok: bool = False
    llm_ok: bool = False
    llm_backend: str = ""
    model: str = ""
    ttft_s: float | None = None
    gen_tok_s: float | None = None
    embeddings_ok: bool = False
    store_ok: bool = False
    database_ok: bool = False
    server_start_s: float | None = None
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check_llm(settings: Settings, report: DoctorReport) -> None:
    from app.llm.backend import CallStats, LLMError
    from app.llm.factory import build_llm, local_backend, start_local_server
    from app.llm.model_files import ModelFileError
    from app.settings import SettingsError

    report.llm_backend = settings.llm_backend
    try:
        if settings.llm_backend == "llama_cpp":
            server = start_local_server(settings, show_progress=True)
            report.server_start_s = round(server.started_in_s or 0.0, 2)
            llm = local_backend(settings, server)
        else:
            llm = build_llm(settings)
    except (ModelFileError, SettingsError, LLMError, RuntimeError) as exc:
        report.problems.append(f"LLM: {exc}")
        return
    report.model = llm.capabilities.label
    try:
        stats = CallStats()
        text = "".join(llm.stream(PING, max_tokens=48, stats=stats))
        if not text.strip():
            report.problems.append("LLM: the model returned an empty reply.")
            return
        report.ttft_s = round(stats.ttft_s or 0.0, 3)
        tokens = stats.completion_tokens or max(stats.chunks, 1)
        gen_time = max(stats.total_s - (stats.ttft_s or 0.0), 1e-6)
        report.gen_tok_s = round(max(tokens - 1, 1) / gen_time, 1)
        report.llm_ok = True
    except LLMError as exc:
        report.problems.append(f"LLM: {exc}")
    finally:
        llm.close()


def run_doctor(settings: Settings, check_llm: bool = True) -> DoctorReport:
    from app.container import Container

    report = DoctorReport()
    container = Container(settings)
    try:
        vector = container.embedder.encode(["offline embedding check"])
        report.embeddings_ok = vector.shape == (1, 384)
    except Exception as exc:
        report.problems.append(f"Embeddings: {exc}")
    try:
        count = container.store().count()
        report.store_ok = True
        if count == 0:
            report.problems.append("Knowledge store is empty: run `mockinterview ingest`.")
            report.store_ok = False
    except Exception as exc:
        report.problems.append(f"Chroma: {exc}")
    try:
        from app.sessions.database import check_writable

        check_writable(settings.sqlite_url, str(time.time()))
        report.database_ok = True
    except Exception as exc:
        report.problems.append(f"Database: {exc}")
    if check_llm:
        _check_llm(settings, report)
    report.ok = report.embeddings_ok and report.store_ok and report.database_ok and (report.llm_ok or not check_llm)
    return report
