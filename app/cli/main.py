"""The `mockinterview` command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from app.cli.logs import configure_logging
from app.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from app.container import Container
    from app.grading.scorecard import Grader
    from app.knowledge.retrieval import HybridRetriever, Searcher

app = typer.Typer(help="ML system design mock interviewer.", no_args_is_help=True, add_completion=False)
eval_app = typer.Typer(help="Measure retrieval and grading on labelled cases.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")

out = Console()
err = Console(stderr=True)


@contextmanager
def clean_errors() -> Iterator[None]:
    """Known failures end the command with one readable line and exit status 2, never a traceback."""
    from app.evaluation.cases import CaseFileError
    from app.knowledge.base import KnowledgeError
    from app.knowledge.embeddings import EmbeddingError
    from app.knowledge.store import StoreError
    from app.llm.backend import LLMError
    from app.llm.llama_server import ServerError
    from app.llm.model_files import ModelFileError

    known = (SettingsError, StoreError, EmbeddingError, CaseFileError, KnowledgeError, FileNotFoundError)
    try:
        yield
    except (*known, LLMError, ModelFileError, ServerError) as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", markup=True, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def settings_or_exit() -> Settings:
    try:
        settings = load_settings()
    except SettingsError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(2) from None
    configure_logging(settings.log_level)
    return settings


@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Markdown files or folders; default: the knowledge base.")
    ] = None,
    collection: Annotated[str | None, typer.Option(help="Collection name (3+ characters).")] = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Delete the Chroma folder (every collection) first, e.g. when corrupt.")
    ] = False,
) -> None:
    """Chunk, embed and store markdown; unchanged chunks are not embedded again."""
    settings = settings_or_exit()
    with clean_errors():
        from app.container import Container

        container = Container(settings)
        if rebuild:
            container.rebuild_store()
        report = container.ingest(paths or None, collection, progress=sys.stderr.isatty())
    out.print(
        f"{report.files} files, {report.chunks} chunks: {report.embedded} embedded, "
        f"{report.unchanged} unchanged, {report.deleted} removed in {report.seconds:.2f}s "
        f"-> collection {collection or settings.collection!r}",
        highlight=False,
    )
    for path, reason in report.skipped:
        err.print(f"skipped {path}: {reason}", markup=False, highlight=False)


def _grading_container(settings: Settings, translating: bool) -> Container:
    """The app's objects for an evaluation that grades; the model starts only when some text must be translated."""
    from app.container import Container

    container = Container(settings)
    if translating:
        container.llm = container.build_llm(show_progress=sys.stderr.isatty())
    return container


T = TypeVar("T")


def _half(loaded: list[T], cases: Path, split: str | None) -> list[T]:
    """The cases of the asked half, or a clear error when it has none."""
    if not loaded:
        raise SettingsError(f"{cases} has no cases in the {split!r} half.")
    return loaded


def _with_grader(
    settings: Settings, texts: list[str], translate: bool, run: Callable[[Grader], dict[str, Any]]
) -> dict[str, Any]:
    """Run an evaluation with the app's grader; the model starts only when some text is in another language and is
    to be translated (cached by content) before it is graded."""
    from app.grading.language import paragraphs_to_translate

    container = _grading_container(settings, translate and any(paragraphs_to_translate(t) for t in texts))
    try:
        return run(container.grader)
    finally:
        container.close()


def _retriever(container: Container, collection: str | None) -> HybridRetriever:
    """One collection's retriever; the bundled knowledge is ingested first when its store is empty or stale."""
    if collection in (None, container.settings.collection):
        report = container.ensure_knowledge(progress=sys.stderr.isatty())
        if report.embedded or report.deleted:
            err.print(f"knowledge base indexed: {report.embedded} chunks embedded", markup=False)
    retriever = container.retriever(collection)
    if retriever.store.count() == 0:
        raise SettingsError(f"Collection {retriever.store.name!r} is empty: run `mockinterview ingest` first.")
    return retriever


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option("-k", help="Number of results.")] = 5,
    collection: Annotated[str | None, typer.Option(help="Collection name.")] = None,
    topic: Annotated[str | None, typer.Option(help="Only this topic.")] = None,
    step: Annotated[int | None, typer.Option(help="Only knowledge for this framework step (1-7).")] = None,
) -> None:
    """Hybrid search of the knowledge base (and the collections in `search_collections`, unless one collection is
    named); prints ranked passages with heading paths and the collection each came from."""
    settings = settings_or_exit()
    with clean_errors():
        from app.container import Container

        container = Container(settings)
        searcher: Searcher = _retriever(container, collection)
        if collection is None:
            searcher = container.searcher()
        results = searcher.search(query, k, topic=topic, step=step)
    if not results:
        out.print("No results.")
        return
    for rank, r in enumerate(results, start=1):
        where = f"{r.collection}: {r.source}" if r.collection else r.source
        out.print(f"[bold]{rank}. {r.heading}[/bold]  ({where}, score {r.score:.4f})", highlight=False)
        body = r.text.split("\n\n", 1)[-1]
        out.print(body[:400] + ("..." if len(body) > 400 else ""), markup=False, highlight=False)
        out.print()


@eval_app.command("retrieval")
def eval_retrieval(
    cases: Annotated[Path, typer.Option(help="JSONL file of {id, query, relevant_terms, topic}.")],
    collection: Annotated[str | None, typer.Option(help="Collection name.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    split: Annotated[str | None, typer.Option(help="Only this half of a split case file: tune or test.")] = None,
    translate: Annotated[
        bool, typer.Option(help="Translate queries in other languages with the model, as the Knowledge tab does.")
    ] = True,
) -> None:
    """hit@5 and MRR@10 of retrieval on labelled queries (and on the hard ones, where the file marks them)."""
    settings = settings_or_exit()
    with clean_errors():
        from app.evaluation.retrieval import evaluate, load_cases
        from app.grading.language import query_in_other_language

        loaded = load_cases(cases, split)
        if not loaded:
            raise SettingsError(f"{cases} has no queries in the {split!r} half.")
        from app.container import Container

        container = Container(settings)
        searcher = container.translating(_retriever(container, collection))
        if translate and any(query_in_other_language(c.query) for c in loaded):
            container.llm = container.build_llm(show_progress=sys.stderr.isatty())
        try:
            report = evaluate(loaded, lambda q, k: [r.text for r in searcher.search(q, k)])
        finally:
            container.close()
    if as_json:
        print(json.dumps(report))
        return
    table = Table(title=f"Retrieval on {cases.name} ({report['n']} queries)")
    for col in ("topic", "n", "hit@5", "MRR@10"):
        table.add_column(col)
    for topic, row in sorted(report["by_topic"].items()):
        table.add_row(topic, str(row["n"]), f"{row['hit_at_5']:.2f}", f"{row['mrr_at_10']:.2f}")
    if "hard" in report:
        hard = report["hard"]
        table.add_row("hard queries", str(hard["n"]), f"{hard['hit_at_5']:.2f}", f"{hard['mrr_at_10']:.2f}")
    table.add_row("[bold]all[/bold]", str(report["n"]), f"{report['hit_at_5']:.3f}", f"{report['mrr_at_10']:.3f}")
    out.print(table)
    for miss in report["misses"]:
        out.print(f"miss {miss['id']} (rank {miss['rank']}): {miss['query']}", markup=False, highlight=False)


def read_answer(path: Path) -> str:
    """The answer file as text; a clear error for empty, binary or unreadable files."""
    if not path.is_file():
        raise FileNotFoundError(f"Answer file not found: {path}")
    data = path.read_bytes()
    if b"\x00" in data:
        raise SettingsError(f"{path} is a binary file, not a text answer.")
    text = data.decode("utf-8", errors="replace").strip()
    if not text:
        raise SettingsError(f"{path} is empty: write the answer in it first.")
    return text


def print_scorecard(card: object) -> None:
    from app.grading.scorecard import Scorecard

    assert isinstance(card, Scorecard)
    out.print(
        f"[bold]Overall {card.overall:.2f}/5 -- {card.band}[/bold]  (covered steps: {card.covered_steps or 'none'})"
    )
    if card.steps_not_reached:
        out.print(f"  steps not reached: {', '.join(map(str, card.steps_not_reached))} (they count as not shown)")
    for step in card.steps:
        shown = sum(1 for i in step.items if i.verdict != "missing")
        bar = "#" * round(step.score * 2) + "." * (8 - round(step.score * 2))
        out.print(
            f"  {step.step}. {step.name:<34} [{bar}] {step.score:.1f}/4  ({shown}/{len(step.items)} items)",
            highlight=False,
            markup=False,
        )
        for item in step.items:
            if item.verdict != "missing":
                out.print(f'       {item.verdict:<8} {item.id}: "{item.evidence[0]}"', markup=False, highlight=False)
    for flag in card.red_flags:
        out.print(f'  [red]red flag[/red] "{flag.quote}"', highlight=False)
        out.print(f"       {flag.why} (see {flag.section})", markup=False, highlight=False)
    if card.overclaims:
        count = len(card.overclaims)
        out.print(f"  [yellow]overclaims[/yellow] {count} sentences state as certain what a design weighs:")
        for quote in card.overclaims:
            out.print(f'       "{quote}"', markup=False, highlight=False)
    if card.waved_away:
        out.print("  [yellow]waved away[/yellow] decisions an interviewer would ask you to defend:")
        for quote in card.waved_away:
            out.print(f'       "{quote}"', markup=False, highlight=False)
    if card.expectations is not None and card.expectations.items:
        found = card.expectations
        source = f" (borrowed from {found.source})" if found.borrowed else ""
        out.print(f"  this question's checklist: {found.tally}{source}", markup=False)
        for e in found.items:
            mark = {"met": "met", "partial": "in part", "not_met": "not met"}[e.verdict]
            out.print(f"       {mark:<8} {e.text}", markup=False, highlight=False)
    if card.flags:
        out.print(f"  flags: {', '.join(card.flags)}", markup=False)
    if card.study:
        out.print(f"  study: {', '.join(card.study)}", markup=False)
    out.print()
    out.print(card.narrative, markup=False, highlight=False)


@app.command()
def review(
    question: Annotated[str, typer.Option(help="The interview question (or a scenario id).")],
    answer_file: Annotated[Path, typer.Option(help="A text file with the candidate's answer.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the scorecard as JSON.")] = False,
    narrative: Annotated[bool, typer.Option(help="Word the feedback with the LLM.")] = True,
) -> None:
    """Grade an answer against the framework checklist and print the scorecard. The model starts first when it
    is needed: to word the feedback, and to translate an answer written in another language before it is graded."""
    settings = settings_or_exit()
    with clean_errors():
        from app.container import Container
        from app.grading.feedback import refine, write_narrative
        from app.grading.language import paragraphs_to_translate
        from app.llm.backend import LLMError
        from app.llm.model_files import ModelFileError

        container = Container(settings)
        answer = read_answer(answer_file)[: settings.max_answer_chars]
        if not question.strip():
            raise SettingsError("The question is empty.")
        if narrative or paragraphs_to_translate(answer):
            try:
                container.llm = container.build_llm()
            except (LLMError, ModelFileError, RuntimeError) as exc:
                err.print(f"note: without the model, feedback is built from the ledger ({exc})", markup=False)
        try:
            card = container.grader.grade(question, answer)
            if narrative and container.llm is not None:
                card = refine(card, answer, container.llm, container.prompts)
                card = write_narrative(card, answer, container.llm, container.knowledge, container.prompts)
        finally:
            container.close()
    if as_json:
        print(card.model_dump_json(indent=2))
    else:
        print_scorecard(card)


@eval_app.command("grading")
def eval_grading(
    cases: Annotated[Path, typer.Option(help="JSONL file of {id, question, answer, band, covered_steps, notes}.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    no_narrative: Annotated[bool, typer.Option("--no-narrative", help="Skip the LLM narrative.")] = True,
    split: Annotated[str | None, typer.Option(help="Only this half of a split case file: tune or test.")] = None,
    translate: Annotated[
        bool, typer.Option(help="Translate answers in other languages with the model before grading.")
    ] = True,
) -> None:
    """Spearman, band ordering, injection resistance, step F1, crossed questions and length robustness of the
    grader on labelled answers."""
    settings = settings_or_exit()
    with clean_errors():
        from app.evaluation.grading import evaluate, load_cases

        loaded = _half(load_cases(cases, split), cases, split)
        report = _with_grader(settings, [c.answer for c in loaded], translate, lambda g: evaluate(loaded, g.grade))
    if as_json:
        print(json.dumps(report))
        return
    table = Table(title=f"Grading on {cases.name} ({report['n']} answers)")
    for col in ("id", "band", "predicted", "score", "steps", "flags"):
        table.add_column(col)
    for row in report["cases"]:
        table.add_row(
            row["id"],
            row["band"],
            row["predicted_band"],
            f"{row['score']:.2f}",
            ",".join(map(str, row["predicted_steps"])),
            ",".join(row["flags"]),
        )
    out.print(table)
    from app.evaluation.grading import METRIC_KEYS

    for key in METRIC_KEYS:
        out.print(f"{key:>22}: {report[key]}", highlight=False)


@eval_app.command("evidence")
def eval_evidence(
    cases: Annotated[Path, typer.Option(help="JSONL file of {id, question, answer, items: {item id: [sentences]}}.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    split: Annotated[str | None, typer.Option(help="Only this half of a split case file: tune or test.")] = None,
) -> None:
    """Item-level precision and recall of the grader's evidence, and how often its quote is a labelled sentence."""
    settings = settings_or_exit()
    with clean_errors():
        from app.container import Container
        from app.evaluation.evidence import evaluate, load_cases

        loaded = _half(load_cases(cases, split), cases, split)
        report = evaluate(loaded, Container(settings).grader.grade)
    if as_json:
        print(json.dumps(report))
        return
    for name in ("covered", "covered_or_partial"):
        figures = ", ".join(f"{k} {v}" for k, v in report[name].items())
        out.print(f"{name:>20}: {figures}", highlight=False)


@eval_app.command("red-flags")
def eval_red_flags(
    cases: Annotated[Path, typer.Option(help="JSONL file of {id, flag_id, sentence, label: claims|warns|neutral}.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    split: Annotated[str | None, typer.Option(help="Only this half of a split case file: tune or test.")] = None,
    translate: Annotated[
        bool, typer.Option(help="Translate sentences in other languages with the model before matching.")
    ] = True,
) -> None:
    """How many stated wrong claims are found, and how many warnings against them are wrongly flagged."""
    settings = settings_or_exit()
    with clean_errors():
        from app.evaluation.red_flags import evaluate, load_cases

        loaded = _half(load_cases(cases, split), cases, split)

        def run(grader: Grader) -> dict[str, Any]:
            return evaluate(loaded, lambda text: [f.flag_id for f in grader.wrong_claims(text)])

        report = _with_grader(settings, [c.sentence for c in loaded], translate, run)
    if as_json:
        print(json.dumps(report))
        return
    for row in report["cases"]:
        if not row["right"]:
            raised = ",".join(row["raised"]) or "nothing"
            out.print(f"{row['id']:>8} {row['label']:<8} {row['flag_id']}: raised {raised}", highlight=False)
    for key in ("n", "claims_recall", "claims_any_flag", "warns_clean", "neutral_clean", "precision"):
        out.print(f"{key:>16}: {report[key]}", highlight=False)


@eval_app.command("expectations")
def eval_expectations(
    cases: Annotated[Path, typer.Option(help="JSONL file of answers with every expectation labelled.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    split: Annotated[str | None, typer.Option(help="Only this half of a split case file: tune or test.")] = None,
    translate: Annotated[
        bool, typer.Option(help="Translate answers in other languages with the model before grading.")
    ] = True,
) -> None:
    """How well the question's own checklist on the scorecard matches people's labels: precision and recall of the
    expectations shown, verdict agreement and the quoted sentences."""
    settings = settings_or_exit()
    with clean_errors():
        from app.evaluation.expectations import Predicted, evaluate, load_cases

        loaded = _half(load_cases(cases, split), cases, split)

        def run(grader: Grader) -> dict[str, Any]:
            def check(question: str, answer: str) -> list[Predicted]:
                found = grader.grade(question, answer).expectations
                return [Predicted(e.text, e.verdict, e.evidence) for e in found.items] if found else []

            return evaluate(loaded, check)

        report = _with_grader(settings, [c.answer for c in loaded], translate, run)
    if as_json:
        print(json.dumps(report))
        return
    for row in report["cases"]:
        for kind in ("missed", "extra", "wrong_quote"):
            for text in row[kind]:
                out.print(f"{row['id']:>8} {kind:<11} {text}", markup=False, highlight=False)
    for key in ("n", "labels", "precision", "recall", "verdict_agreement", "quote_right"):
        out.print(f"{key:>18}: {report[key]}", highlight=False)


@eval_app.command("fit-evidence")
def eval_fit_evidence(
    cases: Annotated[
        list[Path],
        typer.Option(help="JSONL file of labelled evidence cases with a tune/test split; repeat to fit on several."),
    ],
) -> None:
    """Fit the evidence pair model on the tune halves and print its weights and both halves' precision and recall."""
    settings = settings_or_exit()
    with clean_errors():
        from app.container import Container
        from app.evaluation.evidence import load_cases
        from app.evaluation.fitting import fit_evidence

        loaded = [case for path in cases for case in load_cases(path)]
        try:
            report = fit_evidence(loaded, Container(settings).grader.index)
        except ValueError as exc:
            raise SettingsError(str(exc)) from exc
    print(json.dumps(report, indent=1))


@eval_app.command("conversations")
def eval_conversations(
    cases: Annotated[Path, typer.Option(help="JSONL file of {id, question, turns, kind, expect}.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Run scripted candidates through the real engine and model and check the interviewer's behaviour."""
    settings = settings_or_exit()
    with clean_errors():
        from app.container import Container
        from app.evaluation.conversations import evaluate, load_cases

        loaded = load_cases(cases)
        container = Container(settings)
        container.llm = container.build_llm(show_progress=sys.stderr.isatty())
        try:
            container.ensure_knowledge()
            report = evaluate(container.interviewer(), loaded)
        finally:
            container.close()
    if as_json:
        print(json.dumps(report))
        return
    out.print(f"{report['passed']} of {report['n']} conversations passed; median turn {report['turn_p50_s']}s")
    out.print(
        f"re-asks {report['reasks']} (rate {report['reask_rate']}), off-topic follows {report['off_topic_follows']}, "
        f"identical replies {report['identical_replies']}, distinct first follow-ups "
        f"{report['distinct_first_followups']} of {report['first_followups']}, grounded {report['grounded_rate']}"
    )
    for failure in report["failed"]:
        out.print(f"  {failure['id']}: {failure['check']}: {failure['detail']}", markup=False, highlight=False)


@app.command()
def interview(
    scenario: Annotated[str | None, typer.Option(help="Scenario id from knowledge/questions.yaml.")] = None,
    mode: Annotated[str, typer.Option(help="mock or drill.")] = "mock",
    domain: Annotated[
        str | None, typer.Option(help="Pick a scenario from this domain; with --mode drill, concepts of this topic.")
    ] = None,
    weak: Annotated[bool, typer.Option("--weak", help="Aim at your weakest steps or concepts.")] = False,
    resume: Annotated[str | None, typer.Option(help="Resume a session by id.")] = None,
    user: Annotated[str, typer.Option(help="Your name, when several people share this machine.")] = "local",
) -> None:
    """A mock interview or concept drill in the terminal: /hint, /next, /end, /resume ID, /quit."""
    settings = settings_or_exit()
    if mode not in ("mock", "drill"):
        err.print("error: --mode must be mock or drill", markup=False)
        raise typer.Exit(2)
    with clean_errors():
        from app.container import Container

        out.print("Starting the interviewer (the first start assembles the model)...")
        container = Container(settings)
        container.lifecycle.install_signal_handlers()
        engine = container.start(container.build_llm, progress=sys.stderr.isatty())
    try:
        if resume:
            session_id = resume
            turns = engine.repo.turns(session_id)
            if not turns:
                raise KeyError(f"no session {session_id!r}")
            out.print(f"[dim]Resuming {session_id}[/dim]")
            for turn in turns[-4:]:
                who = "interviewer" if turn.role == "interviewer" else "you"
                out.print(f"[bold]{who}>[/bold] {turn.content}", highlight=False)
        else:
            session_id, opening = engine.start(
                mode,
                scenario_id=scenario,
                domain=domain,
                aim_weak=weak,
                user=user,
                topic=domain if mode == "drill" else None,
            )
            out.print(f"[dim]session {session_id}[/dim]")
            out.print(f"[bold]interviewer>[/bold] {opening}", highlight=False)
        _interview_loop(engine, session_id)
    except KeyError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(2) from None
    finally:
        container.close()


def _interview_loop(engine: object, session_id: str) -> None:
    from app.interview.engine import Interviewer
    from app.llm.backend import LLMError

    assert isinstance(engine, Interviewer)
    while True:
        view = engine.view(session_id)
        if view.ended:
            report = engine.end(session_id)
            if report.scorecard is not None:
                print_scorecard(report.scorecard)
                out.print("\n[bold]Model answer outline[/bold]")
                for step, points in sorted(report.outline.items()):
                    out.print(f"  {step}. " + "; ".join(points), markup=False, highlight=False)
                out.print("[bold]Study plan[/bold]")
                for item in report.study_plan:
                    out.print(
                        f"  step {item.step} {item.name} ({item.score}/4): {', '.join(item.concepts)}", markup=False
                    )
            else:
                for concept, score in report.concept_scores.items():
                    out.print(f"  {concept}: {score}/4", markup=False)
            return
        clock = f"{int(view.seconds_left // 60)}:{int(view.seconds_left % 60):02d}" if view.mode == "mock" else ""
        status = f"step {view.step}/7 {view.step_name} {clock} ({view.covered}+{view.partial}/{view.total})"
        try:
            text = out.input(f"[dim]{status if view.mode == 'mock' else view.step_name}[/dim]\n[bold]you>[/bold] ")
        except (EOFError, KeyboardInterrupt):
            out.print(f"\nSaved. Resume with: mockinterview interview --resume {session_id}")
            return
        command = text.strip().lower()
        try:
            if command in ("/quit", "/exit"):
                out.print(f"Saved. Resume with: mockinterview interview --resume {session_id}")
                return
            if command == "/hint":
                out.print(f"[bold]interviewer>[/bold] {engine.hint(session_id)}", highlight=False)
                continue
            if command == "/next":
                out.print(f"[bold]interviewer>[/bold] {engine.next_step(session_id)}", highlight=False)
                continue
            if command == "/end":
                engine.end(session_id)
                continue
            if command.startswith("/resume "):
                session_id = text.split(maxsplit=1)[1].strip()
                engine.view(session_id)
                continue
            out.print("[bold]interviewer>[/bold] ", end="")
            for chunk in engine.respond(session_id, text):
                out.print(chunk, end="", markup=False, highlight=False)
            out.print()
        except (LLMError, KeyError) as exc:
            out.print(f"[red]{exc}[/red]")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind; default 127.0.0.1 (settings: host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port; default 7860 (settings: port).")] = None,
    auth: Annotated[
        str | None, typer.Option(help="Login as user:password; required to bind anything but loopback.")
    ] = None,
) -> None:
    """The web interview room: ingests if needed, starts the bundled model, serves the app and prints its URL."""
    settings = settings_or_exit()
    from app.web.access import login_for

    host = host or settings.host
    port = settings.port if port is None else port
    secret = settings.auth.get_secret_value() if settings.auth is not None else None
    with clean_errors():
        logins = login_for(host, auth or secret)
        from app.container import Container

        out.print("Preparing the knowledge base and starting the interviewer model (the first start assembles it)...")
        container = Container(settings)
        container.lifecycle.install_signal_handlers()
        engine = container.start(container.build_llm, progress=sys.stderr.isatty())
    try:
        room = container.room(engine)
        from app.web.ui import launch

        concurrency = 1 if settings.llm_backend == "llama_cpp" else 4
        launch(room, host=host, port=port, auth=logins, model_concurrency=concurrency, announce=out.print)
    finally:
        container.close()


@app.command()
def doctor(as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False) -> None:
    """Check the model file, the model server, a real generation, embeddings, Chroma and the database."""
    settings = settings_or_exit()
    from app.diagnostics.doctor import run_doctor

    report = run_doctor(settings)
    if as_json:
        print(json.dumps(report.as_dict()))
    else:
        mark = {True: "[green]ok[/green]", False: "[red]FAIL[/red]"}
        out.print(f"LLM ({report.model or report.llm_backend}): {mark[report.llm_ok]}")
        if report.llm_ok:
            out.print(
                f"  server start {report.server_start_s}s, first token {report.ttft_s}s, {report.gen_tok_s} tokens/s",
                highlight=False,
            )
        out.print(f"Embeddings (offline): {mark[report.embeddings_ok]}")
        out.print(f"Knowledge store (Chroma): {mark[report.store_ok]}")
        out.print(f"Session database: {mark[report.database_ok]}")
        for problem in report.problems:
            out.print(f"- {problem}", markup=False, highlight=False)
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def bench(
    turns: Annotated[int, typer.Option(min=1, max=50, help="Candidate turns of the scripted interview.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Time a scripted mock interview on the real engine and model, next to llama.cpp's own speed."""
    settings = settings_or_exit()
    with clean_errors():
        from app.diagnostics.bench import KEYS, run_bench
        from app.llm.backend import LLMError

        try:
            report = run_bench(turns, settings)
        except (LLMError, RuntimeError) as exc:  # model file, model server or raw measurement
            err.print(f"error: {exc}", markup=False, highlight=False)
            raise typer.Exit(2) from None
    if as_json:
        print(json.dumps(report))
        return
    table = Table(title=f"{turns} candidate turns")
    for col in ("turn", "action", "new prompt tok", "generated tok", "ttft s", "turn s", "LLM s", "overhead ms"):
        table.add_column(col)
    for t in report["turns"]:
        row = (t["new_prompt_tokens"], t["generated_tokens"], t["ttft_s"], t["turn_s"], t["llm_s"], t["overhead_ms"])
        table.add_row(str(t["turn"]), t["action"], *map(str, row))
    out.print(table)
    for key in KEYS:
        out.print(f"{key:>26}: {report[key]}", highlight=False)
    out.print(f"{'machine':>26}: {report['machine']}", highlight=False, markup=False)


def main() -> None:
    app()
