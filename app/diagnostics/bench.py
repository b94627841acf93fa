"""`mockinterview bench`: the cost of a turn on the embedded default, next to llama.cpp's own speed."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from app.settings import Settings, load_settings

SCENARIO = "video-recommendation-feed"
GRADE_RUNS = 5

# A scripted candidate: realistic answers, a few of them thin, in the order an interview asks for them.
SCRIPT = [
    "The goal is to keep people coming back to the feed, so I would optimise long-term engagement rather than "
    "raw taps. The north star online would be watch time per daily user, with guardrails on reports, hides and "
    "uninstalls. For whom: the viewers first, but creators need exposure too.",
    "At 150 million daily users and tens of millions of videos we cannot score everything, so it is a retrieval "
    "plus ranking problem. The whole request needs to come back in roughly 200 ms, and new uploads have to be "
    "eligible within minutes.",
    "Labels would come from implicit feedback: watch fraction, completion, skips within two seconds, likes, shares "
    "and follows. A positive could be watching more than half of the video; a quick skip is a negative.",
    "The impression logs are biased by what the old system showed and where it showed it, so I would log the "
    "position and add some randomised exploration traffic. New videos have no history, so they need a boost.",
    "For features I would use the user's recent watch history as an embedding, video content embeddings from "
    "frames, audio and caption, and creator features such as follower count and upload frequency.",
    "I would also add interaction counts between the user and the creator over the last day, week and month, and "
    "context such as time of day and device, all computed point in time to avoid leakage.",
    "First a popularity baseline per region. Then a two-tower model for candidate retrieval with an approximate "
    "nearest neighbour index, and a multi-task ranker that predicts completion, like and share.",
    "I would train with a time-based split, sample negatives from the impressions that were skipped, and combine "
    "the heads with weights that we tune online against watch time.",
    "Offline I would measure recall at K for retrieval and NDCG for the ranker, split by new versus returning users "
    "and new versus established creators, because averages hide the cold-start segments.",
    "Then an A/B test on watch time and seven-day retention, with diversity and report rate as guardrails, run for "
    "at least two weeks so that novelty effects wear off.",
    "I would precompute item embeddings into an ANN index that refreshes every few minutes, rank online, and roll "
    "out behind a canary. Monitoring covers engagement, feature drift and how fresh the index is.",
    "To sum up: two stages, retrieval then a multi-task ranker, judged by NDCG offline and watch time online. "
    "The main tradeoffs are relevance against diversity and short-term engagement against well-being.",
]

KEYS = (
    "ttft_p50_s",
    "turn_p50_s",
    "overhead_p50_ms",
    "late_vs_early_turn_ratio",
    "retrieval_p50_ms",
    "grade_p50_ms",
    "ingest_cold_s",
    "ingest_warm_s",
    "cold_start_s",
    "rss_peak_mb",
    "raw_prefill_tok_s",
    "raw_gen_tok_s",
    "model_bound_fraction",
)


@dataclass
class TurnRecord:
    """What one candidate message cost."""

    turn: int
    action: str
    step: int
    llm_calls: int
    new_prompt_tokens: int
    generated_tokens: int
    ttft_s: float  # message sent to first reply text shown
    llm_ttft_s: float | None  # request sent to the model's first token
    turn_s: float
    llm_s: float
    overhead_ms: float
    retrieval_ms: float
    warmup_wait_s: float  # before the message: the model server still reading the conversation so far


# ---------- pure summaries ----------


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def late_vs_early_ratio(values: Sequence[float]) -> float | None:
    """Median of turns 7-10 over median of turns 1-4; with fewer than 8 turns, the last half over the first half."""
    if len(values) < 2:
        return None
    if len(values) >= 8:
        early, late = values[:4], values[6:10]
    else:
        half = len(values) // 2
        early, late = values[:half], values[-half:]
    base = statistics.median(early)
    return round(statistics.median(late) / base, 3) if base > 0 else None


def llm_turn_ratio(turns: Sequence[TurnRecord]) -> float | None:
    """The same ratio over the turns whose reply the model worded: turns that only move to the next step cost no
    model time and would otherwise decide the ratio by where they fall."""
    early = [t.ttft_s for t in turns if t.llm_calls and t.turn <= 4]
    late = [t.ttft_s for t in turns if t.llm_calls and 7 <= t.turn <= 10]
    if not early or not late:
        return late_vs_early_ratio([t.ttft_s for t in turns if t.llm_calls])
    base = statistics.median(early)
    return round(statistics.median(late) / base, 3) if base > 0 else None


def model_bound_fraction(turns: Sequence[TurnRecord]) -> float:
    """The share of all turn time spent inside model calls."""
    total = sum(t.turn_s for t in turns)
    return round(sum(t.llm_s for t in turns) / total, 3) if total > 0 else 0.0


def _p50(values: Sequence[float], digits: int) -> float | None:
    middle = percentile(values, 50)
    return None if middle is None else round(middle, digits)


def summarise(turns: Sequence[TurnRecord], retrieval_ms: Sequence[float]) -> dict[str, Any]:
    """The per-turn summary keys of the bench."""
    return {
        "ttft_p50_s": _p50([t.ttft_s for t in turns], 3),
        "turn_p50_s": _p50([t.turn_s for t in turns], 3),
        "overhead_p50_ms": _p50([t.overhead_ms for t in turns], 1),
        "late_vs_early_turn_ratio": late_vs_early_ratio([t.ttft_s for t in turns]),
        "late_vs_early_llm_turn_ratio": llm_turn_ratio(turns),
        "retrieval_p50_ms": _p50(retrieval_ms, 1),
        "model_bound_fraction": model_bound_fraction(turns),
        "llm_ttft_p50_s": _p50([t.llm_ttft_s for t in turns if t.llm_ttft_s is not None], 3),
        "new_prompt_tokens_p50": _p50([t.new_prompt_tokens for t in turns if t.llm_calls], 1),
    }


# ---------- measuring ----------


def peak_rss_mb(pid: int | str = "self") -> float:
    """Peak resident memory of a process (VmHWM), in MB; 0 when it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class _Stopwatch:
    """Durations of calls to a wrapped function, in milliseconds."""

    def __init__(self) -> None:
        self.ms: list[float] = []

    def wrap(self, function: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.ms.append((time.perf_counter() - started) * 1000)

        return timed


COLD_START = textwrap.dedent(
    """
    import sys
    from app.llm.factory import build_llm
    from app.container import Container
    from app.settings import load_settings
    container = Container(load_settings(data_dir=sys.argv[1], model_path=sys.argv[2]))
    engine = container.start(lambda: build_llm(container.settings))
    try:
        engine.start("mock", scenario_id=sys.argv[3])
        print("ready", flush=True)
    finally:
        container.close()
    """
)


def cold_start_seconds(data_dir: Path, model: Path) -> float:
    """Process start to an engine with a session open and the model server ready, in a fresh process."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", COLD_START, str(data_dir), str(model), SCENARIO],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline().strip()
    elapsed = time.perf_counter() - started
    child.wait(timeout=120)
    if line != "ready":
        raise RuntimeError(f"the cold-start process failed (exit code {child.returncode})")
    return round(elapsed, 2)


RAW_SPEED = "from app.llm.factory import print_raw_speed; print_raw_speed()"


def raw_speed(model: Path, n_threads: int) -> dict[str, float]:
    """llama.cpp measured directly, in its own process so that its memory is not counted as the app's."""
    result = subprocess.run(
        [sys.executable, "-c", RAW_SPEED, str(model), str(n_threads)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the raw llama.cpp measurement failed: {result.stderr.strip()[-300:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def _drain(reply: Iterator[str]) -> tuple[str, float]:
    """The whole reply and the time its first piece arrived (perf_counter)."""
    first = 0.0
    pieces = []
    for piece in reply:
        if not first:
            first = time.perf_counter()
        pieces.append(piece)
    return "".join(pieces), first


def run_turns(engine: Any, server: Any, turns: int, retrieval: _Stopwatch, *, pause: bool = True) -> list[TurnRecord]:
    """Drive the scripted candidate through a mock interview and time each message. With `pause`, the candidate
    sends once the model server has read their finished message; without, they send right after the last key."""
    session_id, _ = engine.start("mock", scenario_id=SCENARIO)
    records = []
    for number in range(1, turns + 1):
        text = SCRIPT[(number - 1) % len(SCRIPT)]
        # The candidate reads the question and types: never quicker than the model server's warm-up of the
        # conversation so far (a few seconds at most; people need far longer), so the turn does not queue behind it.
        waited = engine.wait_primed(timeout_s=120)
        engine.draft(session_id, text)  # as the web room sends the message while it is typed
        if pause:
            waited += engine.wait_primed(timeout_s=120)
        evals_before, searches_before = len(server.evals()), len(retrieval.ms)
        started = time.perf_counter()
        result = engine.respond(session_id, text)
        _, first = _drain(iter(result))
        ended = time.perf_counter()
        calls = result.calls
        streams = [c for c in calls if c.kind == "stream"]
        evals = server.evals()[evals_before:]
        llm_s = result.llm_seconds
        turn_s = ended - started
        records.append(
            TurnRecord(
                turn=number,
                action=result.action,
                step=result.step or 0,
                llm_calls=len(calls),
                new_prompt_tokens=sum(e.prompt_tokens for e in evals),
                generated_tokens=sum(e.generated_tokens for e in evals) or sum(c.chunks for c in calls),
                ttft_s=round(first - started, 3),
                llm_ttft_s=round(streams[0].ttft_s, 3) if streams and streams[0].ttft_s is not None else None,
                turn_s=round(turn_s, 3),
                llm_s=round(llm_s, 3),
                overhead_ms=round((turn_s - llm_s) * 1000, 1),
                retrieval_ms=round(sum(retrieval.ms[searches_before:]), 1),
                warmup_wait_s=round(waited, 3),
            )
        )
        engine.view(session_id)  # what a UI asks for after every reply
    return records


def grade_ms(engine: Any) -> float:
    """Median time of the scorecard (ledger, no narrative) over the answers the scripted candidate gave."""
    answers = "\n".join(SCRIPT)
    scenario = engine.kb.scenario(SCENARIO)
    timings = []
    for _ in range(GRADE_RUNS):
        started = time.perf_counter()
        engine.grader.grade(scenario.prompt, answers)
        timings.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(timings), 1)


def run_bench(turns: int = 10, base: Settings | None = None) -> dict[str, Any]:
    """Every bench key, measured in a fresh temporary data directory with the already assembled model."""
    from app.container import Container
    from app.llm.factory import local_backend, start_local_server
    from app.llm.model_files import resolve_model

    base = base or load_settings()
    where = machine()
    model = resolve_model(base.model_variant, base.model_path, base.models_dir)
    with tempfile.TemporaryDirectory(prefix="mockinterview-bench-") as tmp:
        settings = load_settings(data_dir=Path(tmp), model_path=model, n_threads=base.n_threads)
        threads = settings.n_threads or os.cpu_count() or 2
        result: dict[str, Any] = {}
        container = Container(settings)
        started = time.perf_counter()
        container.ingest()
        result["ingest_cold_s"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        container.ingest()
        result["ingest_warm_s"] = round(time.perf_counter() - started, 2)
        result["cold_start_s"] = cold_start_seconds(settings.data_dir, model)
        server = start_local_server(settings)
        container.llm = local_backend(settings, server)
        try:
            engine = container.interviewer()
            retrieval = _Stopwatch()
            # A turn's whole retrieval step: the query vector, dense and BM25 search, fusion and the notes' text; and
            # the search for the concepts a message touches, which seeds depth probes.
            engine.wording.context = retrieval.wrap(engine.wording.context)  # type: ignore[method-assign]
            engine.mock.touched = retrieval.wrap(engine.mock.touched)  # type: ignore[method-assign]
            records = run_turns(engine, server, turns, retrieval)
            result["grade_p50_ms"] = grade_ms(engine)
            result.update(summarise(records, retrieval.ms))
            # The same candidate pressing Send the moment they stop typing: the turn waits for the server to finish
            # reading their message, or reads the rest itself.
            at_once = run_turns(engine, server, turns, _Stopwatch(), pause=False)
            result["ttft_send_at_once_p50_s"] = _p50([t.ttft_s for t in at_once], 3)
            result["new_prompt_tokens_send_at_once_p50"] = _p50(
                [t.new_prompt_tokens for t in at_once if t.llm_calls], 1
            )
            result["rss_peak_mb"] = round(peak_rss_mb() + peak_rss_mb(server.pid or 0), 1)
        finally:
            container.close()
        result.update(raw_speed(model, threads))
    ordered = {key: result.get(key) for key in KEYS}
    ordered.update({k: v for k, v in result.items() if k not in ordered})
    ordered["machine"] = where
    ordered["turns"] = [asdict(r) for r in records]
    return ordered


def machine() -> dict[str, Any]:
    """The hardware and load the figures were measured on."""
    model_name = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model_name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu": model_name or platform.processor(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
    }
